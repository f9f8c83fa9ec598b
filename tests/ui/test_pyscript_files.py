"""Every UI module is listed in pyscript.toml (PyScript only copies the files it names)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_ui_module_is_in_pyscript_toml_at_its_import_path() -> None:
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    listed = {key: value for key, value in config["files"].items() if key.startswith("./py/")}
    assert config["files"]["./static/vendor/build.json"] == "./ui/build.json"  # the build id (docs/ui.md)
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "py" / "ui").rglob("*.py") if p.name != "main.py")
    assert sorted(key[2:] for key in listed) == modules
    assert all(value == "./" + key[5:] for key, value in listed.items())
    assert config["interpreter"].startswith("./static/vendor/")
