"""importer: the CSV import, built on the durable engine.

Flow: the worker calls `importer.sniff.sniff()` on the first bytes of a picked file and shows the `SniffResult`
(settings with evidence, inferred columns, preview, default `ImportOptions`); it triggers the job from
`make_import_job(env)` with an `ImportInput`; the job stages, prepares and imports in batches. Exports
(`table_csv`, `rejects_csv`, `copy_database`) stream results out; `cleanup_run` removes a run's files.
See docs/importer.md.
"""

from typing import TYPE_CHECKING, Any

from importer.cleanup import cleanup_run
from importer.errors import (
    BinaryFileError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    HeaderOnlyError,
    ImporterError,
    LineTooLongError,
    OptionsError,
    SourceMissingError,
    StagingError,
    TableExistsError,
    TooManyColumnsError,
    UnterminatedQuoteError,
)
from importer.export import copy_database, neutralise, rejects_csv, table_csv
from importer.formats import ColumnType
from importer.infer import ColumnGuess, TypeTracker
from importer.job_names import JOB_NAME
from importer.names import column_names, quote_identifier, table_name_from_file
from importer.staging import ByteSource, FileByteSource, StagedFile

if TYPE_CHECKING:
    from importer.job import ImportEnv, ImportInput, ImportOutput, idempotency_key, make_import_job
    from importer.options import NULL_MARKER_CHOICES, ColumnSpec, ImportOptions
    from importer.sniff import SNIFF_BYTES, Detected, SniffResult

_LAZY = {
    **dict.fromkeys(("ImportEnv", "ImportInput", "ImportOutput", "idempotency_key", "make_import_job"), "importer.job"),
    **dict.fromkeys(("NULL_MARKER_CHOICES", "ColumnSpec", "ImportOptions"), "importer.options"),
    **dict.fromkeys(("SNIFF_BYTES", "Detected", "SniffResult"), "importer.sniff"),
}
"""The names whose modules need pydantic or charset-normalizer: imported on first use (PEP 562), so that the
worker can read its tables with `importer` before those packages are loaded (docs/storage.md "Boot"). The
function `sniff` is not among them: once imported, `importer.sniff` is its module (`importer.sniff.sniff`)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'importer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "JOB_NAME",
    "NULL_MARKER_CHOICES",
    "SNIFF_BYTES",
    "BinaryFileError",
    "ByteSource",
    "ColumnGuess",
    "ColumnSpec",
    "ColumnType",
    "Detected",
    "EmptyFileError",
    "EncodingError",
    "FileByteSource",
    "FileFormatError",
    "HeaderOnlyError",
    "ImportEnv",
    "ImportInput",
    "ImportOptions",
    "ImportOutput",
    "ImporterError",
    "LineTooLongError",
    "OptionsError",
    "SniffResult",
    "SourceMissingError",
    "StagedFile",
    "StagingError",
    "TableExistsError",
    "TooManyColumnsError",
    "TypeTracker",
    "UnterminatedQuoteError",
    "cleanup_run",
    "column_names",
    "copy_database",
    "idempotency_key",
    "make_import_job",
    "neutralise",
    "quote_identifier",
    "rejects_csv",
    "table_csv",
    "table_name_from_file",
]
