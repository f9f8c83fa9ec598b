"""The importer's error tree: every failure the import can raise, each with a message saying what to do.

Role: file-level problems (the whole file cannot be read as a CSV table), option problems and staging
problems are raised as subclasses of `ImporterError`. Row-level problems are never raised: they become
rejects with reasons (see `validate.py`). Messages are meant to be shown to the user as they are.
"""

from __future__ import annotations


class ImporterError(Exception):
    """Base of every importer error; `message` is what to show, `hint` what to do next."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


class FileFormatError(ImporterError):
    """The file as a whole cannot be read as a CSV table with the chosen settings."""


class EmptyFileError(FileFormatError):
    """The file has no bytes, or only blank lines."""

    def __init__(self) -> None:
        super().__init__("The file is empty.", hint="Pick a CSV file that has at least one data row.")


class HeaderOnlyError(FileFormatError):
    """The file has a header row and no data rows."""

    def __init__(self) -> None:
        super().__init__(
            "The file has a header row but no data rows.",
            hint="Pick the full export, or untick 'first row is a header' if that row is data.",
        )


class BinaryFileError(FileFormatError):
    """The bytes are not text (an image, a zip, an Excel workbook...)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            f"This is not a text file ({what}).",
            hint="Export or save the data as CSV (comma-separated values) and pick that file.",
        )


class EncodingError(FileFormatError):
    """The bytes at `offset` cannot be decoded with `encoding`."""

    def __init__(self, encoding: str, offset: int, suggestion: str = "") -> None:
        self.encoding = encoding
        self.offset = offset
        tip = f" (it looks like {suggestion})" if suggestion else ""
        super().__init__(
            f"The file is not valid {encoding}: the bytes at offset {offset:,} cannot be decoded.",
            hint=f"Choose the file's real encoding{tip} and import again.",
        )


class UnterminatedQuoteError(FileFormatError):
    """A quoted field opened at `row` never closes before the end of the file."""

    def __init__(self, row: int, quotechar: str = '"') -> None:
        self.row = row
        super().__init__(
            f"Row {row}: a field opens with {quotechar} and is never closed before the end of the file.",
            hint="Fix the quote in that row, or choose a different quote character (or none).",
        )


class FieldTooLongError(FileFormatError):
    """A quoted field that runs over several lines passed the csv module's field limit (`limit` characters):
    the rows after it cannot be told apart from the field, so the import stops at `row`."""

    def __init__(self, row: int, lines: int, limit: int, quotechar: str = '"') -> None:
        self.row = row
        self.lines = lines
        self.limit = limit
        super().__init__(
            f"Row {row}: a quoted field runs over {lines:,} lines and passes {limit:,} characters without its "
            f"closing {quotechar}; a field may hold at most {limit:,} characters.",
            hint=f"This is usually a quote left open in row {row}: fix it, or choose a different quote character "
                 "(or none).",
        )


class TooManyColumnsError(FileFormatError):
    """A row has more columns than SQLite can store in one table."""

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            f"The file has {count:,} columns; a table can hold at most {limit:,}.",
            hint="Split the file into narrower files, or check that the delimiter is right.",
        )


class LineTooLongError(FileFormatError):
    """One line (or one quoted record) is longer than the reader's safety limit."""

    def __init__(self, offset: int, limit: int) -> None:
        self.offset = offset
        self.limit = limit
        super().__init__(
            f"The record starting at byte {offset:,} is longer than {limit:,} bytes without a line break.",
            hint="Check the quote character and the delimiter; this is usually an unclosed quote.",
        )


class OptionsError(ImporterError):
    """The import options do not fit the file (a column spec points past the last column...)."""


class TableExistsError(ImporterError):
    """The target table exists and the options ask neither to replace nor to append."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(
            f"A table named '{table}' already exists.",
            hint="Choose another name, or choose to replace it or to append to it.",
        )


class TableGoneError(ImporterError):
    """The table an import filled no longer exists, so its rejected rows cannot go into it."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(
            f"The table '{table}' no longer exists, so fixed rows cannot be inserted into it.",
            hint="Import the file again (or redo the import) to make the table, then fix its rejected rows.",
        )


class StagingError(ImporterError):
    """The file could not be copied into the staging area."""


class SourceMissingError(StagingError):
    """The picked file is no longer readable (the page was reloaded before staging finished)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"The file '{name}' is no longer available: the page was reloaded before it was fully copied.",
            hint="Pick the same file again: the page offers to resume the import where its copy stopped.",
        )


class StagedCopyDamagedError(StagingError):
    """The app's copy of the file does not match the picked file's sha256, and the file is not open here."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"The copy of '{name}' kept in this browser's storage is damaged: it no longer matches the file "
            "that was picked.",
            hint="Pick the same file again: the import copies it afresh and continues where it stopped.",
        )
