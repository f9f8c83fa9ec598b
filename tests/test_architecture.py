"""House rules 1 and 2: imports point one way (ui -> worker protocol; worker -> importer -> durable), and
each browser API sits behind one module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PY = Path(__file__).resolve().parents[1] / "py"
BROWSER = {"js", "pyodide", "pyscript"}


def imported_tops(module: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            tops.add(node.module.split(".")[0])
    return tops - set(sys.stdlib_module_names) - {"__future__"}


@pytest.mark.parametrize("module", sorted((PY / "importer").glob("*.py")), ids=lambda p: p.name)
def test_importer_imports_only_the_engine_and_its_libraries(module: Path) -> None:
    assert imported_tops(module) <= {"importer", "durable", "pydantic", "charset_normalizer"}


@pytest.mark.parametrize("module", sorted((PY / "worker").rglob("*.py")), ids=lambda p: p.name)
def test_only_js_platform_touches_the_browser_in_the_worker(module: Path) -> None:
    allowed = {"worker", "importer", "durable", "pydantic"}
    if module.name == "js_platform.py":
        allowed |= BROWSER
    assert imported_tops(module) <= allowed


@pytest.mark.parametrize("module", sorted((PY / "ui" / "client").glob("*.py")), ids=lambda p: p.name)
def test_the_ui_client_layer_is_plain_python(module: Path) -> None:
    assert imported_tops(module) <= {"ui"}


@pytest.mark.parametrize("module", sorted((PY / "importer" / "cli").glob("*.py")), ids=lambda p: p.name)
def test_the_command_line_adds_only_its_progress_bar(module: Path) -> None:
    assert imported_tops(module) <= {"importer", "durable", "pydantic", "tqdm"}


@pytest.mark.parametrize("module", sorted(p for p in PY.rglob("*.py") if "cli" not in p.relative_to(PY).parts),
                         ids=lambda p: p.relative_to(PY).as_posix())
def test_nothing_the_browser_loads_imports_the_command_line(module: Path) -> None:
    """Pyodide has no tqdm: only py/importer/cli and `python -m importer` may import importer.cli."""
    names = {n.module for n in ast.walk(ast.parse(module.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
    names |= {a.name for n in ast.walk(ast.parse(module.read_text())) if isinstance(n, ast.Import) for a in n.names}
    if module.relative_to(PY).as_posix() != "importer/__main__.py":
        assert not any(n == "importer.cli" or n.startswith("importer.cli.") or n.split(".")[0] == "tqdm" for n in names)
