"""The import draft: what `file.preview` detected, the user's edits, and the `import.start` parameters.

Role: the import view edits a draft and never builds protocol dicts itself. The preview result's
`sniff.options` (the importer's ImportOptions as JSON) is the base; column settings, rules and the table
name are edited on a copy; `params()` gives what `import.start` takes. Reading the file again with other
settings makes a new draft; `keep_edits()` carries the user's column edits over to it.

The preview is a first look (the first 64 KB): its types, date formats and null markers are
`provisional` (the import job re-infers them over the whole file) until the worker's whole-file scan
replies (`file.scan`): `apply_scan()` then gives every column the user did not set its whole-file type,
date format, null markers and evidence. Null tokens found in columns (NA, NULL, ...) are on by default
and switched per token (`set_null_token`); a column the user set sends `provisional: false`.
"""

from ui import format as numbers
from ui.client.rules import DATE_TYPES, bound_value, date_order, read_date, rule_errors

SETTINGS = (("encoding", "Encoding"), ("delimiter", "Delimiter"), ("quotechar", "Quote"),
            ("has_header", "Header row"), ("line_ending", "Line endings"), ("decimal_comma", "Decimal comma"))
OVERRIDABLE = ("encoding", "delimiter", "quotechar", "has_header", "decimal_comma", "null_markers")
TYPES = ("text", "integer", "real", "boolean", "date", "datetime")
COLUMN_FIELDS = ("name", "type", "skip", "required", "unique", "date_format", "min", "max", "regex", "email")
NULL_MARKER_CHOICES = ("NA", "NULL", "N/A")
FIRST_LOOK = "the first 64 KB"
PINNED = ("type", "date_format", "email")
"""Edited fields that make a column the user's choice: sent `provisional: false`, kept by the scan."""
SCAN_STATES = ("scanning", "done", "failed")


class ImportDraft:
    """One previewed file and the settings the user chose for it."""

    def __init__(self, preview):
        sniff = preview.get("sniff") or {}
        self.source_id = preview.get("source_id")
        self.name = preview.get("name") or ""
        self.size = preview.get("size")
        self.duplicate_of = preview.get("duplicate_of")
        self.sniff = sniff
        self.preview = list(preview.get("preview") or sniff.get("preview") or [])
        self.guesses = list(preview.get("columns") or sniff.get("columns") or [])
        base = sniff.get("options") or preview.get("options") or {}
        self.options = _copy(base)
        if not self.options.get("columns"):
            self.options["columns"] = [_spec_from_guess(i, g) for i, g in enumerate(self.guesses)]
        if not self.options.get("table"):
            self.options["table"] = preview.get("table_name") or ""
        elif preview.get("table_name"):
            self.options["table"] = preview["table_name"]
        self.options["null_markers"] = list(self.options.get("null_markers") or [])
        self._edited = [[] for _ in self.columns]
        self._table_edited = False
        # Per column: its null markers with every token switched on (the spec holds those switched on).
        self._markers = [list(spec.get("null_markers") or []) for spec in self.columns]
        self._tokens_off = []
        # The whole-file scan: a small (complete) file is whole at first look.
        self.sample_rows = sniff.get("sample_rows")
        self.scan_state = "done" if sniff.get("complete") else "scanning"
        self.scan_rows = self.sample_rows if sniff.get("complete") else None
        self.scan_bytes_done = 0
        self.scan_bytes_total = self.size
        self.scan_error = ""

    @property
    def columns(self):
        """The column specs being edited: [{source, name, type, skip, required, unique, ...}]."""
        return self.options["columns"]

    @property
    def table(self):
        return self.options.get("table") or ""

    def settings(self):
        """The detected settings as [(key, label, value, evidence, overridden)], in display order."""
        shown = []
        for key, label in SETTINGS:
            detected = self.sniff.get(key)
            if isinstance(detected, dict):
                shown.append((key, label, detected.get("value"), detected.get("evidence") or "",
                              bool(detected.get("overridden"))))
        return shown

    def guess(self, index):
        """The inference result for column `index` ({type, evidence, ambiguous, alternatives, ...})."""
        return self.guesses[index] if 0 <= index < len(self.guesses) else {}

    def label(self, index):
        """'column 2 (age)': how controls and messages name column `index`."""
        header = self.guess(index).get("header")
        return "column " + str(index + 1) + (" (" + header + ")" if header else "")

    def set_table(self, name):
        self.options["table"] = name.strip()
        self._table_edited = True

    @property
    def if_exists(self):
        return self.options.get("if_exists") or "fail"

    def set_if_exists(self, choice):
        """What to do when the table exists: "fail" (ask for another name), "append" or "replace"."""
        if choice in ("fail", "append", "replace"):
            self.options["if_exists"] = choice

    def set_column(self, index, field, value):
        """Change one setting of column `index` (one of COLUMN_FIELDS; min/max/regex: blank clears)."""
        if field not in COLUMN_FIELDS:
            raise KeyError(field)
        spec = self.columns[index]
        if field == "name":
            value = value.strip()
        elif field in ("min", "max"):
            value = bound_value(value)
        elif field == "regex":
            value = value if value else None
        spec[field] = value
        if field == "type" and value not in DATE_TYPES:
            spec["date_format"] = None
        elif field == "type":
            alternatives = self.guess(index).get("date_format")
            spec["date_format"] = alternatives if self.guess(index).get("type") == value else None
        if field not in self._edited[index]:
            self._edited[index].append(field)

    def pinned(self, index):
        """True when the user set column `index`'s type, date format or email rule (kept by the scan)."""
        return any(field in self._edited[index] for field in PINNED)

    def keep_edits(self, previous):
        """Carry the user's edits of `previous` (the draft before reading again) over to this one: the
        table name, and each column's edited fields when the file still has the same number of columns."""
        if previous is None:
            return
        if previous._table_edited:
            self.set_table(previous.table)
        self.set_if_exists(previous.if_exists)
        if len(previous.columns) != len(self.columns):
            return
        for index, fields in enumerate(previous._edited):
            for field in fields:
                self.set_column(index, field, previous.columns[index].get(field))
            if "type" in fields or "date_format" in fields:
                self.columns[index]["date_format"] = previous.columns[index].get("date_format")
        for token in previous._tokens_off:
            self.set_null_token(token, False)

    def rule_errors(self, index):
        """What is wrong with the rules of column `index`, as [(field, sentence)]."""
        return rule_errors(self.columns[index])

    def rules_summary(self, index):
        """The rules set on column `index`, in a few words ('min 0, max 120, email'), or ''."""
        spec = self.columns[index]
        shown = []
        for field, word in (("min", "min "), ("max", "max "), ("regex", "pattern "), ("email", "email")):
            value = spec.get(field)
            if value is True:
                shown.append(word)
            elif value not in (None, False, ""):
                shown.append(word + str(value))
        return ", ".join(shown)

    def date_choices(self, index):
        """The readings to choose from for an ambiguous date column, as [(format, order, example)]:
        ('DD/MM/YYYY', 'day first', '01/02/2024 is 1 Feb 2024'). Empty when there is nothing to settle."""
        guess = self.guess(index)
        spec = self.columns[index]
        if not guess.get("ambiguous") or not guess.get("alternatives") or spec.get("type") != guess.get("type"):
            return []
        sample = ""
        for row in self.preview:
            value = row[index] if index < len(row) else None
            if value and not self.is_null(value):
                sample = value
                break
        formats = [guess.get("date_format")]
        formats.extend(guess.get("alternatives"))
        choices = []
        for fmt in formats:
            reading = read_date(sample, fmt) if sample else None
            example = sample + " is " + reading if reading else ""
            choices.append((fmt, date_order(fmt), example))
        return choices

    # -- null markers ------------------------------------------------------------------------------
    @property
    def null_markers(self):
        """The extra values read as NULL, as the worker last applied them."""
        return list(self.options["null_markers"])

    def is_null(self, value, index=None):
        """True when a preview cell is read as NULL: a marker of every column, or of column `index`."""
        if value in self.options["null_markers"]:
            return True
        return index is not None and 0 <= index < len(self.columns) and value in (
            self.columns[index].get("null_markers") or ())

    def marker_count(self, marker):
        """How many preview cells are exactly `marker`."""
        return sum(1 for row in self.preview for value in row if value == marker)

    # -- null tokens found in columns (NA, NULL, NaN, ...) ------------------------------------------
    def null_tokens(self):
        """The null tokens proposed in some column, most frequent first, as [(token, on, [(index, count)])]:
        ('NA', True, [(4, 8255), (6, 8713)]) means NA is read as NULL in columns 4 and 6, found there
        8,255 and 8,713 times (in the first look, or in the whole file once the scan has replied)."""
        found = {}
        order = []
        for index in range(len(self.columns)):
            counts = self.guess(index).get("null_counts") or {}
            for token in self._markers[index]:
                if token not in found:
                    found[token] = []
                    order.append(token)
                found[token].append((index, int(counts.get(token) or 0)))
        totals = [(-sum(c for _, c in found[t]), t) for t in order]
        totals.sort()
        return [(t, t not in self._tokens_off, found[t]) for _, t in totals]

    def set_null_token(self, token, on):
        """Switch `token` on (read as NULL where it was found) or off (a value in every column)."""
        if on and token in self._tokens_off:
            self._tokens_off.remove(token)
        elif not on and token not in self._tokens_off:
            self._tokens_off.append(token)
        for index in range(len(self.columns)):
            self._apply_markers(index)

    def token_is_on(self, token):
        return token not in self._tokens_off

    def tokens_evidence(self, token, places):
        """'NULL in dep_time (8,255), arr_time (8,713)': where `token` was found, by column header."""
        shown = [self.header(i) + " (" + numbers.count(n) + ")" for i, n in places]
        listed = ", ".join(shown[:4])
        if len(shown) > 4:
            listed += " and " + numbers.plural(len(shown) - 4, "more column")
        if self.token_is_on(token):
            return "NULL in " + listed
        return "not NULL (your choice): a value in " + listed

    def header(self, index):
        """Column `index` as the file names it (its header, else its name)."""
        guess = self.guess(index)
        return guess.get("header") or self.columns[index].get("name") or "column " + str(index + 1)

    def evidence(self, index):
        """Why column `index` has its type, and what a switched-off null token there becomes."""
        guess = self.guess(index)
        text = guess.get("evidence") or ""
        off = [t for t in self._tokens_off if t in self._markers[index]]
        if not off:
            return text
        kind = self.columns[index].get("type") or "text"
        counts = guess.get("null_counts") or {}
        cut = text.rfind("; ")
        if text.endswith(" read as NULL") and cut > 0:  # the worker's "; 3 'NA' read as NULL": say it again
            text = text[:cut]
            still = ["'" + t + "'" for t in self._markers[index] if t not in off]
            if still:
                text += "; " + ", ".join(still) + " read as NULL"
        notes = []
        for token in off:
            n = int(counts.get(token) or 0)
            if kind == "text":
                fate = "its " + numbers.plural(n, "cell") + (" imports" if n == 1 else " import") + " as text"
            else:
                fate = numbers.plural(n, "row") + (" is" if n == 1 else " are") + " rejected ('" + token + \
                    "' is not " + _a(kind) + ")"
            notes.append("'" + token + "' is not NULL (your choice), so " + fate + ".")
        return (text + ". " if text else "") + " ".join(notes)

    def _apply_markers(self, index):
        spec = self.columns[index]
        markers = [t for t in self._markers[index] if t not in self._tokens_off]
        if markers or "null_markers" in spec:
            spec["null_markers"] = markers

    # -- the whole-file scan ---------------------------------------------------------------------
    @property
    def scanning(self):
        return self.scan_state == "scanning"

    def scan_progress(self, data):
        """Take one `file:scan` event; returns True when it was about this draft's running scan."""
        if not self.scanning or data.get("source_id") != self.source_id:
            return False
        self.scan_bytes_done = int(data.get("bytes_done") or 0)
        self.scan_bytes_total = int(data.get("bytes_total") or self.size or 0)
        self.scan_rows = data.get("rows")
        return True

    def scan_percent(self):
        """How far the scan got, 0-99 while it runs (100 once done)."""
        if not self.scanning:
            return 100
        total = self.scan_bytes_total or 0
        if total <= 0:
            return 0
        return max(0, min(99, self.scan_bytes_done * 100 // total))

    def apply_scan(self, result):
        """Merge the whole-file scan (`file.scan`'s reply): every column the user did not set takes the
        whole-file type, date format, null markers and email rule; every column's evidence becomes the
        whole file's, and every column is then `provisional: false`. Returns False for another source."""
        if not isinstance(result, dict) or result.get("source_id") != self.source_id:
            return False
        scanned = result.get("columns") or []
        if len(scanned) != len(self.columns):
            self.scan_failed("The whole-file check found " + str(len(scanned)) + " columns, not " +
                             str(len(self.columns)) + ": read the file again.")
            return True
        for index, whole in enumerate(scanned):
            guess = _copy(self.guess(index))
            guess.update(_copy(whole))
            self.guesses[index] = guess
            spec = self.columns[index]
            edited = self._edited[index]
            if "type" not in edited:
                before = spec.get("type")
                spec["type"] = whole.get("type") or "text"
                if "date_format" not in edited or spec["type"] != before:  # a chosen day/month order stays
                    spec["date_format"] = whole.get("date_format")
                self._markers[index] = list(whole.get("null_markers") or [])
            if "email" not in edited:
                spec["email"] = bool(whole.get("email"))
            self._apply_markers(index)
            spec["provisional"] = False
        self.scan_state = "done"
        self.scan_rows = result.get("rows")
        self.scan_bytes_done = self.scan_bytes_total = result.get("bytes") or self.size
        return True

    def follow_scan(self, client, on_change):
        """Ask `client` for this file's whole-file scan (`file.scan`) and follow it: `on_change(draft)` after
        each `file:scan` progress event of this source and when the scan replies or fails. Returns a
        function that stops following (when the draft is replaced): a later reply then changes nothing."""
        following = [True]
        off = client.on("file:scan", lambda data: following[0] and self.scan_progress(data) and on_change(self))

        def stop():
            following[0] = False
            off()

        def replied(result):
            if following[0] and self.apply_scan(result):
                on_change(self)
            stop()

        def failed(error):
            if following[0] and self.scan_failed(error):
                on_change(self)
            stop()

        client.call("file.scan", {"source_id": self.source_id}).then(replied, failed)
        return stop

    def scan_failed(self, error):
        """The scan could not finish (`error`: an RpcError or a sentence). A superseded scan (the file was
        read again) is ignored: returns False. The columns stay a first look; the import checks the file."""
        code = getattr(error, "code", None)
        if code == "superseded" or not self.scanning:
            return False
        self.scan_state = "failed"
        self.scan_error = getattr(error, "message", None) or str(error)
        return True

    def scan_label(self):
        """'First look: the first 64 KB (716 rows). Checking the whole file… 45%' / 'Checked all 336,776
        rows.' / the first look and why the whole file could not be checked."""
        first = "First look: " + FIRST_LOOK
        if self.sample_rows is not None:
            first += " (" + numbers.plural(self.sample_rows, "row") + ")"
        if self.scan_state == "done":
            rows = self.scan_rows if self.scan_rows is not None else self.sample_rows
            return "Checked all " + numbers.plural(rows or 0, "row") + ": the types hold for the whole file."
        if self.scan_state == "failed":
            return (first + ". " + self.scan_error + " The import checks the whole file again before it "
                    "writes a row.")
        return first + ". Checking the whole file… " + str(self.scan_percent()) + "%"

    def problems(self):
        """What must be fixed before the import can start, as sentences (empty: ready)."""
        found = []
        if not self.table:
            found.append("Give the table a name.")
        kept = [c for c in self.columns if not c.get("skip")]
        if not kept:
            found.append("Keep at least one column (every column is skipped).")
        seen = {}
        for spec in kept:
            name = spec.get("name") or ""
            if not name:
                found.append("Column " + str(spec.get("source", 0) + 1) + " needs a name.")
                continue
            key = name.lower()
            if key in seen:
                found.append("Two columns are named '" + name + "': rename one of them.")
            seen[key] = True
        for index, spec in enumerate(self.columns):
            if not spec.get("skip"):
                for _, sentence in self.rule_errors(index):
                    found.append(_title(self.label(index)) + ": " + sentence)
        return found

    def params(self, force=False):
        """The parameters of `import.start`. A column the user set (type, date format, email rule, or a
        null token switched off there) is sent `provisional: false`, so the job keeps it as it is; the
        rest stay provisional until the scan has replied (the job then scans the file itself)."""
        options = _copy(self.options)
        for index, spec in enumerate(options["columns"]):
            if self.pinned(index) or any(t in self._markers[index] for t in self._tokens_off):
                spec["provisional"] = False
        return {"source_id": self.source_id, "options": options, "force": bool(force)}


def _spec_from_guess(index, guess):
    return {"source": index, "name": guess.get("name") or guess.get("header") or "column_" + str(index + 1),
            "type": guess.get("type") or "text", "date_format": guess.get("date_format"), "skip": False,
            "required": False, "unique": False, "min": None, "max": None, "regex": None,
            "email": bool(guess.get("email")), "null_markers": list(guess.get("null_markers") or []),
            "provisional": not guess.get("whole_file")}


def _a(kind):
    """'an integer', 'a date'."""
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _title(text):
    return text[:1].upper() + text[1:]


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
