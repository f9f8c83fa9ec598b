"""The import flow: pick or drop a file, see what was detected and why, adjust columns, start.

Every file name, header and cell goes on the page as text. The view edits an `ImportDraft` and starts
the import through the import `JobHandle`; it never builds protocol messages itself. The columns table
(names, types, rules, date order) is `views/columns.py`. It works the same while another tab holds the
engine: this tab's worker sends the picked file and every request there.

The preview is a first look (the first 64 KB) while the worker checks the whole file: a progress bar
says how far (`#scan-status`); when the check replies, the columns the user did not set take the
whole-file types and evidence in place. Start works all along (before the check ends the import job
checks the file itself). Null tokens found in columns (NA, NULL, ...) are listed with where they were
found, each switchable.

Picking works from the first paint: a file chosen while the engine still starts waits, with the status
"Preparing…" (`#preview-status[data-state=preparing]`), and is previewed once the engine is ready; one
chosen (or dropped) before this view existed is taken from the input (or from static/js/start-engine.mjs).
"""

from ui import dom
from ui import format as fmt
from ui.client import ImportDraft
from ui.client.imports import NULL_MARKER_CHOICES
from ui.client.rules import explain_options_error
from ui.views.columns import ColumnsTable

DELIMITERS = ((",", "comma ( , )"), (";", "semicolon ( ; )"), ("\t", "tab"), ("|", "pipe ( | )"))
QUOTES = (('"', 'double quote ( " )'), ("'", "single quote ( ' )"))
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "cp1252", "latin-1", "iso8859-15", "mac-roman")


class ImportView:
    """The Import screen."""

    def __init__(self, client, job, notices, on_start=None):
        """`on_start()` runs on each Start the user presses (a user gesture: the page asks for persistent
        storage then)."""
        self._on_start = on_start
        self._client = client
        self._job = job
        self._notices = notices
        self._file = None
        self._draft = None
        self._force = False
        self._form_bound = False
        self._starting = False
        self._read_with = None
        self._stop_scan = None
        self._waiting = None  # a file picked before the engine was ready
        self._scan_render = dom.Throttle(self._render_scan, 150)
        self._input = dom.find("#file-input")
        self._status = dom.find("#preview-status")
        self._panel = dom.find("#preview")
        self._table_name = dom.find("#table-name")
        self._start = dom.find("#start-import")
        self._start_error = dom.find("#start-error")
        self._zone = dom.find("#dropzone")
        self._columns = ColumnsTable(dom.find("#columns-table"), self._check)
        dom.listen(self._input, "change", self._picked)
        zone = self._zone
        dom.listen(zone, "dragover", self._drag_over)
        dom.listen(zone, "dragleave", lambda e: zone.classList.remove("dragging"))
        dom.listen(zone, "drop", self._dropped)
        dom.listen(dom.find("#start-form"), "submit", self._submit)
        dom.listen(self._table_name, "input", self._table_changed)
        dom.listen(dom.find("#if-exists"), "change", self._if_exists_changed)
        dom.listen(dom.find("#preview-cancel"), "click", lambda e: self.reset())
        client.on("engine:status", lambda data: self._engine_changed())
        client.on_ready(self._engine_ready)
        self._engine_changed()
        early = _early_file(self._input)
        if early is not None:
            self.preview(early)

    # -- an engine of another version ----------------------------------------------------------------
    @property
    def _blocked(self):
        return "import.start" in self._client.refused

    def _engine_changed(self):
        """Turn picking, dropping and Start off while the engine comes from another version than the page
        (and on again). A follower tab imports like any other: its worker sends the work to the engine."""
        blocked = self._blocked
        refused = self._client.refused.get("import.start")
        if refused is not None:
            dom.set_text(dom.find("#import-blocked"), refused.message)
        self._input.disabled = blocked
        dom.show(dom.find("#import-blocked"), blocked)
        if blocked:
            self._zone.classList.add("disabled")
            self._input.setAttribute("aria-describedby", "import-blocked")
        else:
            self._zone.classList.remove("disabled")
            self._input.removeAttribute("aria-describedby")
        self._sync_start()
        if self._waiting is not None and not self._client.engine.ready:
            self._wait_for_engine(self._waiting)  # e.g. the engine failed to start: say so

    def _sync_start(self):
        if self._blocked or self._starting:
            self._start.setAttribute("disabled", "")
        else:
            self._start.removeAttribute("disabled")

    # -- picking ---------------------------------------------------------------------------------
    def _picked(self, event):
        files = self._input.files
        if files.length:
            self.preview(files.item(0))

    def _drag_over(self, event):
        event.preventDefault()
        event.currentTarget.classList.add("dragging")

    def _dropped(self, event):
        event.preventDefault()
        event.currentTarget.classList.remove("dragging")
        files = event.dataTransfer.files
        if files.length:
            self.preview(files.item(0))

    def preview(self, file, overrides=None):
        """Ask the engine to read the start of `file` (again, with `overrides`) and show the result; before
        the engine is ready, keep the file and say it waits (previewed by `_engine_ready`)."""
        if not self._client.engine.ready:
            self._wait_for_engine(file)
            return
        self._waiting = None
        self._file = file
        if self._client.engine.data.get("importer") == "loading":  # the worker answers once it is loaded
            self._status.setAttribute("data-state", "preparing")
            self._say("Preparing the importer… " + str(file.name) + " will be previewed as soon as it is ready.")
        else:
            self._status.removeAttribute("data-state")
            self._say("Reading " + str(file.name) + "…")
        params = {}
        sent = None
        previous = None
        if overrides is not None and self._draft is not None:
            params = {"source_id": self._draft.source_id, "overrides": overrides}
            previous = self._draft
        else:
            sent = file
        self._client.call("file.preview", params, sent).then(
            lambda result: self._previewed(result, previous), self._preview_failed)

    def _wait_for_engine(self, file):
        self._waiting = file
        self._file = file
        dom.show(self._panel, False)
        self._status.setAttribute("data-state", "preparing")
        if self._client.engine.state == "error":
            self._say(str(file.name) + " will be read once the engine starts. " + self._client.engine.message,
                      alert=True)
        else:
            self._say("Preparing the engine… " + str(file.name) + " will be previewed as soon as it is ready.")

    def _engine_ready(self):
        """The engine is ready: preview the file that waited for it, if any."""
        waiting = self._waiting
        if waiting is not None:
            self.preview(waiting)

    def reset(self):
        """Back to an empty picker."""
        self._waiting = None
        self._status.removeAttribute("data-state")
        self._follow(None)
        self._draft = None
        self._file = None
        self._input.value = ""
        dom.show(self._panel, False)
        self._say("")

    def _preview_failed(self, error):
        self._status.removeAttribute("data-state")
        dom.show(self._panel, False)
        self._say(error.message, alert=True)

    def _previewed(self, result, previous=None):
        self._follow(None)
        self._draft = ImportDraft(result)
        self._draft.keep_edits(previous)
        self._status.removeAttribute("data-state")
        self._say("")
        dom.set_text(self._start_error, "")
        dom.show(dom.find("#duplicate"), False)
        draft = self._draft
        dom.set_text(dom.find("#preview-file"), draft.name + " · " + fmt.size(draft.size))
        self._render_settings()
        self._table_name.value = draft.table
        dom.find("#if-exists").value = draft.if_exists
        self._check()
        dom.fill(dom.find("#preview-table"))
        dom.show(self._panel, True)
        self._render_scan()
        self._follow(draft)
        # Each part in its own task: one long task would stall the page (bench/ui.py watches for them).
        dom.later(lambda: self._columns.render(self._draft))
        dom.later(self._render_sample)
        self._force = False
        if draft.source_id:
            self._client.call("file.earlier_imports", {"source_id": draft.source_id}).then(
                self._earlier, lambda error: None)

    # -- the whole-file check ----------------------------------------------------------------------
    def _follow(self, draft):
        """Follow the whole-file scan of `draft` (None: stop following the current one)."""
        if self._stop_scan is not None:
            self._stop_scan()
            self._stop_scan = None
        if draft is not None and draft.scanning:
            self._stop_scan = draft.follow_scan(self._client, self._scan_changed)

    def _scan_changed(self, draft):
        if draft is not self._draft:
            return
        if draft.scanning:
            self._scan_render()
            return
        self._render_scan()
        self._columns.refresh(draft)
        self._render_tokens()
        dom.later(self._render_sample)
        self._check()

    def _scan_box(self):
        """The first-look label and the progress of the whole-file check, made once under the file name."""
        box = dom.find("#scan-status")
        if box is None:
            box = dom.h("div", {"id": "scan-status", "class": "scan-status", "data-testid": "scan-status"},
                        dom.h("span", {"id": "scan-text", "class": "scan-text"}),
                        dom.h("progress", {"id": "scan-progress", "data-testid": "scan-progress", "max": "100"}),
                        dom.h("span", {"id": "scan-said", "class": "visually-hidden", "role": "status"}))
            title = dom.find("#preview-file")
            title.parentNode.insertBefore(box, title.nextSibling)
        return box

    def _render_scan(self):
        draft = self._draft
        if draft is None:
            return
        box = self._scan_box()
        box.setAttribute("data-state", draft.scan_state)
        text = draft.scan_label()
        dom.set_text(dom.find("#scan-text"), text)
        bar = dom.find("#scan-progress")
        dom.show(bar, draft.scanning)
        percent = draft.scan_percent()
        if draft.scanning:
            bar.value = percent
            bar.setAttribute("aria-label", "Checking the whole of " + draft.name + ": " + str(percent) + "%")
        # Said once, when the check ends (5 updates a second would drown a screen reader).
        dom.set_text(dom.find("#scan-said"), "" if draft.scanning else text)
        if draft.scan_state == "failed":
            box.classList.add("error")
        else:
            box.classList.remove("error")

    # -- detected settings -------------------------------------------------------------------------
    def _render_settings(self):
        form = dom.find("#overrides")
        rows = []
        for key, label, value, evidence, overridden in self._draft.settings():
            control = self._setting_control(key, value)
            why = dom.h("p", {"class": "evidence", "id": "why-" + key,
                              "text": _why(evidence, overridden)})
            if control is None:
                shown = "yes" if value is True else "no" if value is False else _visible(value)
                rows.append(dom.h("div", {"class": "setting"}, dom.h("span", {"class": "label", "text": label}),
                                  dom.h("span", {"class": "value", "text": shown}), why))
            else:
                control.setAttribute("aria-describedby", "why-" + key)
                rows.append(dom.h("div", {"class": "setting"},
                                  dom.h("label", {"for": "set-" + key, "text": label}), control, why))
        rows.append(dom.h("div", {"id": "null-tokens", "class": "setting tokens"}))
        rows.append(self._markers_control())
        rows.append(dom.h("div", {"class": "setting"},
                          dom.h("button", {"type": "submit", "text": "Read again with these settings"})))
        dom.fill(form, rows)
        self._render_tokens()
        self._read_with = self._chosen_settings()
        if not self._form_bound:
            self._form_bound = True
            dom.listen(form, "submit", self._reread)
            dom.listen(form, "change", lambda e: self._check())

    def _render_tokens(self):
        """The null tokens found in columns (NA, NULL, NaN, ...), each with where and how often, on by
        default; switching one off makes it a value in every column."""
        draft = self._draft
        holder = dom.find("#null-tokens")
        if holder is None or draft is None:
            return
        where = "the file" if draft.scan_state == "done" else "the first rows"
        tokens = draft.null_tokens()
        items = []
        for number, entry in enumerate(tokens):
            token, on, places = entry
            node_id = "null-token-" + str(number)
            box = dom.h("input", {"type": "checkbox", "id": node_id, "data-testid": "null-token",
                                  "data-token": token, "checked": on})
            why = dom.h("span", {"class": "token-why", "text": draft.tokens_evidence(token, places)})
            dom.listen(box, "change", self._token_switcher(token, box, why, places))
            items.append(dom.h("label", {"class": "token", "for": node_id}, box,
                               dom.h("span", None, dom.h("span", {"class": "token-name", "text": token}), ": ", why)))
        note = ("Found in " + where + " among numbers, yes/no words or dates; on: read as NULL there. "
                "Switch one off to keep it as a value (text, or a reject in a typed column).")
        if not tokens:
            note = "None found in " + where + "."
        dom.fill(holder, dom.h("fieldset", {"class": "markers", "aria-describedby": "why-null-tokens"},
                               dom.h("legend", {"text": "Null tokens found"}),
                               dom.h("div", {"class": "token-list"}, items),
                               dom.h("p", {"class": "evidence", "id": "why-null-tokens", "text": note})))

    def _token_switcher(self, token, box, why, places):
        def switched(event):
            draft = self._draft
            if draft is None:
                return
            draft.set_null_token(token, bool(box.checked))
            dom.set_text(why, draft.tokens_evidence(token, places))
            self._columns.refresh(draft)
            self._render_sample()
            self._check()

        return switched

    def _markers_control(self):
        """Checkboxes for the extra values read as NULL (NA, NULL, N/A), with how often the sample has each."""
        draft = self._draft
        markers = list(NULL_MARKER_CHOICES)
        for marker in draft.null_markers:
            if marker not in markers:
                markers.append(marker)
        boxes = []
        seen = []
        for number, marker in enumerate(markers):
            box = dom.h("input", {"type": "checkbox", "id": "set-null-" + str(number), "value": marker,
                                  "data-marker": marker, "checked": marker in draft.null_markers})
            boxes.append(dom.h("label", {"class": "inline", "for": "set-null-" + str(number)}, box, marker))
            count = draft.marker_count(marker)
            if count:
                seen.append("'" + marker + "' " + fmt.count(count) + (" time" if count == 1 else " times"))
        why = "Empty unquoted fields are always NULL. "
        why += ("In the first rows: " + ", ".join(seen) + ".") if seen else "None of these is in the first rows."
        if draft.null_markers:
            why = "Your choice. " + why
        return dom.h("fieldset", {"class": "setting markers", "aria-describedby": "why-null_markers"},
                     dom.h("legend", {"text": "Also read as NULL"}), dom.h("div", {"class": "choices"}, boxes),
                     dom.h("p", {"class": "evidence", "id": "why-null_markers", "text": why}))

    def _setting_control(self, key, value):
        if key == "encoding":
            names = list(ENCODINGS)
            if value not in names:
                names.insert(0, value)
            return _select("set-" + key, [(n, n) for n in names], value)
        if key == "delimiter":
            choices = list(DELIMITERS)
            if value not in [c[0] for c in choices]:
                choices.insert(0, (value, _visible(value)))
            return _select("set-" + key, choices, value)
        if key == "quotechar":
            return _select("set-" + key, list(QUOTES), value)
        if key in ("has_header", "decimal_comma"):
            return dom.h("input", {"type": "checkbox", "id": "set-" + key, "checked": bool(value)})
        return None

    def _chosen_settings(self):
        """The reading settings as the form holds them now (what "Read again" sends as overrides)."""
        chosen = {}
        for key in ("encoding", "delimiter", "quotechar"):
            node = dom.find("#set-" + key)
            if node is not None:
                chosen[key] = node.value
        for key in ("has_header", "decimal_comma"):
            node = dom.find("#set-" + key)
            if node is not None:
                chosen[key] = bool(node.checked)
        markers = []
        boxes = dom.document.querySelectorAll("#overrides input[data-marker]")
        for index in range(boxes.length):
            box = boxes.item(index)
            if box.checked:
                markers.append(box.getAttribute("data-marker"))
        chosen["null_markers"] = markers
        return chosen

    def _settings_changed(self):
        if self._read_with is None:
            return False
        chosen = self._chosen_settings()
        return any(chosen[key] != self._read_with.get(key) for key in chosen)

    def _overrides(self):
        """What "Read again" fixes: the settings the user changed now or fixed before (the rest stays
        detected, with its evidence)."""
        chosen = self._chosen_settings()
        fixed = {}
        for key, _, _, _, overridden in self._draft.settings():
            if overridden:
                fixed[key] = True
        overrides = {}
        for key in chosen:
            if fixed.get(key) or chosen[key] != self._read_with.get(key) or (key == "null_markers" and chosen[key]):
                overrides[key] = chosen[key]
        return overrides

    def _reread(self, event):
        event.preventDefault()
        self.preview(self._file, self._overrides())

    # -- sample ------------------------------------------------------------------------------------
    def _render_sample(self):
        draft = self._draft
        head = dom.h("thead", None, dom.h("tr", None, [dom.h("th", {"scope": "col", "text": c.get("name") or ""})
                                                        for c in draft.columns]))
        body = dom.h("tbody")
        width = len(draft.columns)
        for row in draft.preview:
            cells = []
            for i in range(width):
                value = row[i] if i < len(row) else None
                if value is None or draft.is_null(value, i):
                    cells.append(dom.h("td", {"class": "null", "text": "NULL"}))
                else:
                    cells.append(dom.h("td", {"text": value}))
            body.appendChild(dom.h("tr", None, cells))
        dom.fill(dom.find("#preview-table"), head, body)

    # -- starting ----------------------------------------------------------------------------------
    def _if_exists_changed(self, event):
        if self._draft is not None:
            self._draft.set_if_exists(dom.find("#if-exists").value)

    def _table_changed(self, event):
        if self._draft is not None:
            self._draft.set_table(self._table_name.value)
            self._check()

    def _check(self):
        problems = self._draft.problems() if self._draft else []
        if self._draft is not None and self._settings_changed():
            problems.append("You changed how the file is read: press 'Read again with these settings' to see "
                            "the result before starting.")
        dom.fill(dom.find("#problems"), [dom.h("li", {"text": p}) for p in problems])
        if problems:
            self._start.setAttribute("aria-disabled", "true")
        else:
            self._start.removeAttribute("aria-disabled")
        return problems

    def _submit(self, event):
        event.preventDefault()
        if self._draft is None or self._check():
            return
        if self._on_start is not None:
            self._on_start()
        self.start(force=self._force)

    def start(self, force=False):
        """Start importing the draft (`force`: even when the same import was done before)."""
        self._starting = True
        self._sync_start()
        dom.set_text(self._start_error, "")
        self._say("Starting the import…")
        self._job.trigger(self._draft.params(force=force)).then(self._started, self._start_failed)

    def _started(self, result):
        self._starting = False
        self._sync_start()
        if result.get("created", True):
            self.reset()
            self._say("Import started. Its progress is shown above.")
            return
        self._offer_earlier(result.get("run_id"), "This file was already imported with the same settings.")

    def _start_failed(self, error):
        self._starting = False
        self._sync_start()
        self._say("")
        text = error.message
        if error.code == "bad-params" and self._draft is not None:
            text = explain_options_error(text, self._draft.columns)
        dom.set_text(self._start_error, text)

    def _earlier(self, result):
        runs = result.get("runs") or []
        if runs and self._draft is not None:
            run = runs[0]
            self._offer_earlier(run.get("id"), "This file was imported before (" + str(run.get("status")) + ", " +
                                fmt.when(run.get("created_at"), dom.now()) + ").",
                                resumable=run.get("status") in ("failed", "cancelled"))

    def _offer_earlier(self, run_id, text, resumable=False):
        box = dom.find("#duplicate")
        again = dom.h("button", {"type": "button", "text": "Import anyway"})
        dom.listen(again, "click", lambda e: self._import_anyway())
        parts = [dom.h("span", {"text": text + " "}),
                 dom.h("a", {"href": "#run=" + str(run_id), "text": "Open the earlier run"}), " "]
        if resumable:
            resume = dom.h("button", {"type": "button", "text": "Resume it with this file",
                                      "data-testid": "resume-import"})
            dom.listen(resume, "click", lambda e: self._resume(run_id))
            parts.append(resume)
            parts.append(" ")
        parts.append(again)
        dom.fill(box, *parts)
        dom.show(box, True)
        self._say("")

    def _resume(self, run_id):
        """Continue the earlier import from its checkpoints, reading this (same) file where it stopped."""
        dom.show(dom.find("#duplicate"), False)
        self._say("Resuming the import…")

        def resumed(run):
            self.reset()
            self._say("Import resumed. Its progress is shown above.")

        self._client.call("import.resume", {"source_id": self._draft.source_id, "run_id": run_id}).then(
            resumed, self._start_failed)

    def _import_anyway(self):
        self._force = True
        dom.show(dom.find("#duplicate"), False)
        if not self._check():
            self.start(force=True)

    def _say(self, text, alert=False):
        dom.set_text(self._status, text)
        if alert:
            self._status.classList.add("error")
        else:
            self._status.classList.remove("error")


def _early_file(file_input):
    """A file picked or dropped before the UI was up: the input's own, else the one static/js/start-engine.mjs
    kept from a drop on the page (taken once); None without either."""
    files = file_input.files
    if files is not None and files.length:
        return files.item(0)
    take = getattr(dom.window, "takeEarlyDrop", None)
    dropped = take() if take is not None else None
    return dropped if dropped is not None and hasattr(dropped, "name") else None


def _select(node_id, choices, value):
    select = dom.h("select", {"id": node_id} if node_id else None)
    for option_value, label in choices:
        select.appendChild(dom.h("option", {"value": option_value, "text": label,
                                            "selected": option_value == value}))
    return select


def _why(evidence, overridden):
    """The evidence line of a setting; a setting the user fixed says so once."""
    if not overridden:
        return evidence
    if not evidence or "chosen by you" in evidence:
        return "Your choice."
    return "Your choice. " + evidence


def _visible(value):
    """A delimiter or quote shown so it can be seen: tab as 'tab', a space as 'space'."""
    names = {"\t": "tab", " ": "space", "\n": "LF", "\r\n": "CRLF", "\r": "CR"}
    return names.get(value, str(value))

