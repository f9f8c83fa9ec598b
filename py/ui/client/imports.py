"""The import draft: what `file.preview` detected, the user's edits, and the `import.start` parameters.

Role: the import view edits a draft and never builds protocol dicts itself. The preview result's
`sniff.options` (the importer's ImportOptions as JSON) is the base; column settings and the table name
are edited on a copy; `params()` gives what `import.start` takes.
"""

SETTINGS = (("encoding", "Encoding"), ("delimiter", "Delimiter"), ("quotechar", "Quote"),
            ("has_header", "Header row"), ("line_ending", "Line endings"), ("decimal_comma", "Decimal comma"))
OVERRIDABLE = ("encoding", "delimiter", "quotechar", "has_header")
TYPES = ("text", "integer", "real", "boolean", "date", "datetime")
COLUMN_FIELDS = ("name", "type", "skip", "required", "unique", "date_format")


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

    def set_table(self, name):
        self.options["table"] = name.strip()

    def set_column(self, index, field, value):
        """Change one setting of column `index` (name, type, skip, required, unique, date_format)."""
        if field not in COLUMN_FIELDS:
            raise KeyError(field)
        spec = self.columns[index]
        spec[field] = value.strip() if field == "name" else value
        if field == "type" and value not in ("date", "datetime"):
            spec["date_format"] = None
        elif field == "type":
            alternatives = self.guess(index).get("date_format")
            spec["date_format"] = alternatives if self.guess(index).get("type") == value else None

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
        return found

    def params(self, force=False):
        """The parameters of `import.start`."""
        return {"source_id": self.source_id, "options": _copy(self.options), "force": bool(force)}


def _spec_from_guess(index, guess):
    return {"source": index, "name": guess.get("name") or guess.get("header") or "column_" + str(index + 1),
            "type": guess.get("type") or "text", "date_format": guess.get("date_format"), "skip": False,
            "required": False, "unique": False}


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
