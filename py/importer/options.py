"""Import options: how to read the file and what to do with each column, as pydantic models.

Role: `sniff()` fills an `ImportOptions` with detected defaults; the UI lets the user edit it; the import
job takes it as part of its typed input (so it is stored with the run and replayed on resume).
Validation here catches options that cannot work before anything is written.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from importer.formats import DATE_FORMATS, DATETIME_FORMATS, ColumnType
from importer.infer import ColumnGuess
from importer.names import column_name_problem, sql_fold, table_name_problem
from importer.patterns import pattern_risk, risk_sentence

MAX_COLUMNS = 2000
NULL_MARKER_CHOICES = ("NA", "NULL", "N/A")
_DATE_NAMES = {f.name for f in DATE_FORMATS}
_DATETIME_NAMES = {f.name for f in DATETIME_FORMATS}
_NOT_FILE_ENCODINGS = {"idna", "punycode", "undefined"}


def codec_and_bom(encoding: str) -> tuple[str, bytes]:
    """Return (codec to decode the body with, byte-order mark to skip when the file starts with it).

    UTF-32 marks are checked before UTF-16 ones by the sniffer (FF FE 00 00 starts with FF FE).
    Raises LookupError for an unknown or non-text encoding (options validation turns it into a message).
    """
    name = text_encoding(encoding)
    if name in ("utf-8", "utf-8-sig"):
        return "utf-8", codecs.BOM_UTF8
    if name in ("utf-32", "utf-32-le"):
        return "utf-32-le", codecs.BOM_UTF32_LE
    if name == "utf-32-be":
        return "utf-32-be", codecs.BOM_UTF32_BE
    if name in ("utf-16", "utf-16-le"):
        return "utf-16-le", codecs.BOM_UTF16_LE
    if name == "utf-16-be":
        return "utf-16-be", codecs.BOM_UTF16_BE
    return name, b""


def text_encoding(encoding: str) -> str:
    """Return the codec name of `encoding` if it decodes bytes into text.

    Raises LookupError (with a sentence) for an unknown name and for codecs that are not text encodings:
    bytes-to-bytes (base64, zlib, hex, bz2, uu, quopri), text-to-text (rot13) and those that decode host
    names or nothing at all (idna, punycode, undefined).
    """
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise LookupError(f"unknown encoding {encoding!r}: pick one like utf-8, utf-16-le, cp1252") from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise LookupError(f"{encoding!r} is not a text encoding: pick one like utf-8, utf-16-le, cp1252")
    return info.name


class ColumnSpec(BaseModel):
    """What to do with one source column: its name and type in the table, and the rules a value must meet.

    `source` is the 0-based position in the file. `min`/`max` bound numbers (and ISO dates, as text);
    `regex` must match the whole value as written in the file (any type; one that can take exponential time
    is refused, see patterns.py); `email` checks a plausible address
    (text columns only); `unique` is within the import and the table.
    `null_markers` are values that mean NULL in this column, whatever they would parse as (on top of
    `ImportOptions.null_markers`, which apply to every column). `provisional` says the type, date format
    and null markers are a first look from the sample: the import job confirms or widens them over the
    whole file before it writes a row. A type the user chose is not provisional and is kept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use: see WARM_UP

    source: int = Field(ge=0)
    name: str = Field(min_length=1, max_length=128)
    type: ColumnType = ColumnType.TEXT
    date_format: str | None = None
    skip: bool = False
    required: bool = False
    unique: bool = False
    min: float | str | None = None
    max: float | str | None = None
    regex: str | None = None
    email: bool = False
    null_markers: list[str] = Field(default_factory=list, max_length=64)
    provisional: bool = False

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        problem = column_name_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"the pattern {value!r} is not a valid regular expression ({exc})") from exc
            why = pattern_risk(value)
            if why is not None:  # Python's re cannot be interrupted: refuse what may never finish
                raise ValueError(risk_sentence(value, why))
        return value

    @model_validator(mode="after")
    def _email_is_for_text(self) -> ColumnSpec:
        if self.email and self.type is not ColumnType.TEXT:
            raise ValueError(
                f"the email rule is for text columns, and column {self.name!r} is {self.type.value}: "
                "clear the email rule or import the column as text"
            )
        return self

    @model_validator(mode="after")
    def _date_format_fits_type(self) -> ColumnSpec:
        names = {ColumnType.DATE: _DATE_NAMES, ColumnType.DATETIME: _DATETIME_NAMES}.get(self.type)
        if names is None:
            return self
        if self.date_format is None:
            fmt = "YYYY-MM-DD" if self.type is ColumnType.DATE else "YYYY-MM-DD HH:MM:SS"
            object.__setattr__(self, "date_format", fmt)
        elif self.date_format not in names:
            raise ValueError(f"date format {self.date_format!r} is not one of {sorted(names)}")
        return self

    @classmethod
    def from_guess(cls, source: int, name: str, guess: ColumnGuess) -> ColumnSpec:
        """Return the default spec for a column from its inferred type.

        The email rule is suggested only from a whole-file guess: on a first look, a later value that is
        not an address would otherwise be rejected by a rule the user never chose.
        """
        return cls(source=source, name=name, type=guess.type, date_format=guess.date_format,
                   email=guess.email and guess.whole_file, null_markers=list(guess.null_markers),
                   provisional=not guess.whole_file)

    def markers(self, shared: Sequence[str] = ()) -> frozenset[str]:
        """Return every value that means NULL in this column: its own markers and the `shared` ones."""
        return frozenset(shared) | frozenset(self.null_markers)


class ImportOptions(BaseModel):
    """How to read the file and where to put it.

    Empty unquoted fields are NULL and a quoted "" is empty text (on Python >= 3.12; 3.11 reads both as
    NULL); `null_markers` adds values read as NULL (offer `NULL_MARKER_CHOICES`). `table` None derives the
    name from the file name (never an existing table); a named existing table is an error unless
    `if_exists` is "replace" or "append". `batch_rows` None computes the batch size. `columns` empty means
    "sniff the staged file and use the defaults"; so do None reading settings (encoding, delimiter,
    quotechar, has_header, decimal_comma): the job detects them on the staged copy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use: see WARM_UP

    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    quotechar: str | None = Field(default=None, max_length=1)
    has_header: bool | None = None
    null_markers: list[str] = Field(default_factory=list)
    decimal_comma: bool | None = None
    table: str | None = Field(default=None, min_length=1, max_length=128)
    if_exists: Literal["fail", "replace", "append"] = "fail"
    batch_rows: int | None = Field(default=None, ge=1, le=1_000_000)
    columns: list[ColumnSpec] = Field(default_factory=list, max_length=MAX_COLUMNS)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            text_encoding(value)
        except LookupError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("table")
    @classmethod
    def _allowed_table(cls, value: str | None) -> str | None:
        problem = None if value is None else table_name_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("delimiter")
    @classmethod
    def _usable_delimiter(cls, value: str | None) -> str | None:
        if value is not None and value in "\r\n\"'":
            raise ValueError(f"{value!r} cannot be a delimiter")
        return value

    @model_validator(mode="after")
    def _names_are_distinct(self) -> ImportOptions:
        seen: set[str] = set()
        for spec in self.columns:
            if spec.skip:
                continue
            key = sql_fold(spec.name)
            if key in seen:
                raise ValueError(f"two columns are named {spec.name!r}: rename one of them")
            seen.add(key)
        if self.quotechar and self.quotechar == self.delimiter:
            raise ValueError("the quote character and the delimiter must differ")
        return self

    def unresolved(self) -> bool:
        """Return True when a reading setting or the column list is still to be detected."""
        settings = (self.encoding, self.delimiter, self.quotechar, self.has_header, self.decimal_comma)
        return not self.columns or any(v is None for v in settings)

    def kept_columns(self) -> list[ColumnSpec]:
        """Return the specs of the columns that go into the table, in table order."""
        return [spec for spec in self.columns if not spec.skip]


def options_problem(exc: ValidationError, *, most: int = 3) -> str:
    """Say what is wrong with the options in `exc`, field by field, without pydantic's raw dump."""
    problems = []
    for error in exc.errors()[:most]:
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        problems.append(f"{_field(error.get('loc', ()))}: {message}")
    more = len(exc.errors()) - most
    tail = f" (and {more} more)" if more > 0 else ""
    return "The import options are not valid: " + "; ".join(problems) + tail + "."


def _field(loc: Any) -> str:
    """Name the option at pydantic location `loc`: ('table',) -> 'table'; ('columns', 2, 'name') -> column 3's
    'name'."""
    parts = list(loc) if isinstance(loc, tuple | list) else []
    if len(parts) >= 2 and parts[0] == "columns" and isinstance(parts[1], int):
        column = f"column {parts[1] + 1}"
        rest = ".".join(str(p) for p in parts[2:])
        return f"{column}'s '{rest}'" if rest else column
    return f"'{'.'.join(str(p) for p in parts)}'" if parts else "the options"
