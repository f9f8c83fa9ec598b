"""The rejects workbench of one import run (`RejectsWorkbench`): its rejected rows page by page, cell edits
kept until they are checked or inserted, and the fixes, each a `fix-rejects` run on the engine.

A fix is durable: the engine runs it in chunks that commit with their checkpoint, so a reload in the middle
neither loses nor doubles a row; this handle follows the fix run by its events (another tab's fixes too)
and reloads the rows when one ends.
"""

from ui.client.observable import PagedQuery

FIX_JOB = "fix-rejects"
_ENDED = ("run:complete", "run:fail", "run:cancel")


class RejectsWorkbench(PagedQuery):
    """`rows` [{row_number, values, reasons}] of this page, `fields` (names), `edits` {row: values} not yet
    inserted, `checked` {row: reasons} from the last check, `selected` row numbers, `fix` (the latest fix
    run: {run_id, status, output, error}), `message` (what the last action did)."""

    _method = "runs.rejects"

    def __init__(self, client, run_id, page_size=25):
        super().__init__(client, page_size)
        self.run_id = run_id
        self.rows = []
        self.fields = []
        self.table = None
        self.edits = {}
        self.checked = {}
        self.selected = set()
        self.fix = None
        self.message = ""
        self._offs = [client.on("*", self._on_event), client.on_ready(self.start)]

    def start(self):
        """Load the field names and the first page (on ready; again after a take-over)."""
        self._client.call("rejects.fields", {"run_id": self.run_id}).then(self._fields, self._no_fields)
        self.refresh()

    def close(self):
        for off in self._offs:
            off()
        self._offs = []

    # -- editing -----------------------------------------------------------------------------------
    def values_of(self, row_number):
        """The values shown for a row: its edit if any, else what is stored."""
        if row_number in self.edits:
            return self.edits[row_number]
        for row in self.rows:
            if row.get("row_number") == row_number:
                return list(row.get("values") or [])
        return []

    def edit(self, row_number, field, value):
        """Change one cell of a rejected row (kept here until Check or Insert)."""
        values = list(self.values_of(row_number))
        while len(values) <= field:
            values.append("")
        values[field] = value
        self.edits[row_number] = values
        self.checked.pop(row_number, None)
        self._changed()

    def select(self, row_number, on):
        if on:
            self.selected.add(row_number)
        else:
            self.selected.discard(row_number)
        self._changed()

    def reasons_of(self, row_number):
        """The reasons shown for a row: from the last check of its edit, else the stored ones."""
        if row_number in self.checked:
            return self.checked[row_number]
        for row in self.rows:
            if row.get("row_number") == row_number:
                return list(row.get("reasons") or [])
        return []

    # -- actions -----------------------------------------------------------------------------------
    def check(self):
        """Check the edited rows with the run's own columns and rules; the reasons show inline."""
        rows = self._edited_rows()
        if not rows:
            self._say("Edit a cell first: Check looks at the rows you changed.")
            return None
        call = self._client.call("rejects.check", {"run_id": self.run_id, "rows": rows})
        call.then(self._checked, self._failed)
        return call

    def insert_fixed(self):
        """Insert every rejected row that passes now (with the edits made here) into the run's table."""
        return self._start_fix({"action": "insert", "rows": self._edited_rows()})

    def set_field(self, field, value):
        """Set one field of the selected rejects (all, if none is selected) to `value` (None: NULL)."""
        return self._start_fix({"action": "save", "only": self._only(),
                                "bulk": {"field": field, "op": "set", "value": value}})

    def replace_in_field(self, field, find, replace):
        """Replace `find` by `replace` within one field of the selected rejects (all, if none selected)."""
        return self._start_fix({"action": "save", "only": self._only(),
                                "bulk": {"field": field, "op": "replace", "find": find, "replace": replace}})

    def discard(self):
        """Drop the selected rejects for good (they will not be imported)."""
        if not self.selected:
            self._say("Select the rejected rows to discard first.")
            return None
        return self._start_fix({"action": "discard", "only": self._only()})

    # -- internals ---------------------------------------------------------------------------------
    def _params(self):
        return {"run_id": self.run_id}

    def _take(self, result):
        self.rows = list(result.get("rows") or [])
        self.total = result.get("total") or 0

    def _fields(self, result):
        self.fields = list(result.get("fields") or [])
        self.table = result.get("table")
        self._changed()

    def _no_fields(self, error):
        self.fields = []
        self._changed()

    def _edited_rows(self):
        return [{"row_number": n, "values": v} for n, v in sorted(self.edits.items())]

    def _only(self):
        return sorted(self.selected) if self.selected else None

    def _checked(self, result):
        for row in result.get("rows") or []:
            self.checked[row.get("row_number")] = list(row.get("reasons") or [])
        passing = sum(1 for row in result.get("rows") or [] if not row.get("reasons"))
        self._say(str(passing) + " of " + str(len(result.get("rows") or [])) + " edited rows would be inserted now.")

    def _start_fix(self, params):
        params["run_id"] = self.run_id
        self.fix = {"run_id": None, "status": "starting", "output": None, "error": None}
        self._changed()
        call = self._client.call("rejects.fix", params)
        call.then(self._fix_started, self._fix_refused)
        return call

    def _fix_started(self, result):
        self.fix = {"run_id": result.get("run_id"), "status": "running", "output": None, "error": None}
        self._changed()

    def _fix_refused(self, error):
        self.fix = None
        self.error = error
        self._changed()

    def _on_event(self, event):
        if event.get("job") != FIX_JOB or event.get("type") not in _ENDED:
            return
        mine = self.fix is not None and event.get("run_id") == self.fix.get("run_id")
        if mine:
            ended = {"run:complete": "completed", "run:fail": "failed", "run:cancel": "cancelled"}[event["type"]]
            self.fix = {"run_id": event.get("run_id"), "status": ended, "output": event.get("output"),
                        "error": event.get("error") or ""}
            if ended == "completed":
                self.edits = {}
                self.checked = {}
                self.selected = set()
                self._say(_outcome(event.get("output") or {}))
            else:
                self._say("The fix " + ended + (": " + str(event.get("error")) if event.get("error") else "."))
        if self._client.engine.ready:
            self.refresh()  # a fix here or in another tab changed the rejects

    def _say(self, text):
        self.message = text
        self._changed()


def _outcome(output):
    parts = []
    if output.get("inserted"):
        parts.append(str(output["inserted"]) + " inserted into the table")
    if output.get("still_rejected"):
        parts.append(str(output["still_rejected"]) + " still rejected (edits kept)")
    if output.get("discarded"):
        parts.append(str(output["discarded"]) + " discarded")
    return "Done: " + (", ".join(parts) if parts else "nothing to change") + "."
