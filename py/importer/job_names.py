"""The names the importer's jobs are registered under, apart from the jobs themselves: the worker needs
them (to filter runs, to park a run) before the jobs, and the pydantic models they are built on, are
loaded (docs/storage.md "Boot")."""

JOB_NAME = "import-csv"
FIX_JOB_NAME = "fix-rejects"
UNDO_JOB_NAME = "undo-import"
