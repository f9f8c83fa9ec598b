"""The import draft: what `file.preview` detected, the user's edits, and the `import.start` parameters.

Role: the import view edits a draft and never builds protocol dicts itself. The preview result's
`sniff.options` (the importer's ImportOptions as JSON) is the base; column settings, rules and the table
name are edited on a copy; `params()` gives what `import.start` takes. Reading the file again with other
settings makes a new draft; `keep_edits()` carries the user's column edits over to it.
"""

from ui.client.rules import DATE_TYPES, bound_value, date_order, read_date, rule_errors

SETTINGS = (("encoding", "Encoding"), ("delimiter", "Delimiter"), ("quotechar", "Quote"),
            ("has_header", "Header row"), ("line_ending", "Line endings"), ("decimal_comma", "Decimal comma"))
OVERRIDABLE = ("encoding", "delimiter", "quotechar", "has_header", "decimal_comma", "null_markers")
TYPES = ("text", "integer", "real", "boolean", "date", "datetime")
COLUMN_FIELDS = ("name", "type", "skip", "required", "unique", "date_format", "min", "max", "regex", "email")
NULL_MARKER_CHOICES = ("NA", "NULL", "N/A")


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

    def keep_edits(self, previous):
        """Carry the user's edits of `previous` (the draft before reading again) over to this one: the
        table name, and each column's edited fields when the file still has the same number of columns."""
        if previous is None:
            return
        if previous._table_edited:
            self.set_table(previous.table)
        if len(previous.columns) != len(self.columns):
            return
        for index, fields in enumerate(previous._edited):
            for field in fields:
                self.set_column(index, field, previous.columns[index].get(field))
            if "type" in fields or "date_format" in fields:
                self.columns[index]["date_format"] = previous.columns[index].get("date_format")

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

    def is_null(self, value):
        """True when a preview cell is read as NULL (a null marker)."""
        return value in self.options["null_markers"]

    def marker_count(self, marker):
        """How many preview cells are exactly `marker`."""
        return sum(1 for row in self.preview for value in row if value == marker)

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
        """The parameters of `import.start`."""
        return {"source_id": self.source_id, "options": _copy(self.options), "force": bool(force)}


def _spec_from_guess(index, guess):
    return {"source": index, "name": guess.get("name") or guess.get("header") or "column_" + str(index + 1),
            "type": guess.get("type") or "text", "date_format": guess.get("date_format"), "skip": False,
            "required": False, "unique": False, "min": None, "max": None, "regex": None,
            "email": bool(guess.get("email"))}


def _title(text):
    return text[:1].upper() + text[1:]


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
