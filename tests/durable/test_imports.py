"""House rule 1: `durable` imports nothing from the project and nothing from the browser."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "py" / "durable"
ALLOWED_THIRD_PARTY = {"pydantic"}
FORBIDDEN = {"js", "pyodide", "pyscript", "importer", "worker", "ui", "threading", "time"}


@pytest.mark.parametrize("module", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_durable_imports_only_stdlib_pydantic_and_itself(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            assert top not in FORBIDDEN, f"{module.name} imports {name}"
            assert top == "durable" or top in ALLOWED_THIRD_PARTY or _is_stdlib(top), f"{module.name}: {name}"


def _is_stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"


def test_importing_durable_does_not_import_pydantic() -> None:
    """Pydantic comes with a job's first validation: the browser's engine opens its database and answers
    queries before pydantic is loaded (docs/storage.md "Boot")."""
    import subprocess
    import sys

    code = "import sys, durable; assert 'pydantic' not in sys.modules, 'pydantic was imported'"
    result = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
