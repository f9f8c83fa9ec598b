"""The distribution: a wheel built from the tree holds only the engine and the importer (with py.typed and
the command line), installs into a fresh virtual environment, and its `csv-import` and `python -m importer`
run from there. Offline: the wheel is built with the setuptools pinned in requirements-test.txt (no build
isolation) and installed without dependencies; the fresh environment finds pydantic, charset-normalizer and
tqdm through a path file naming this venv's site-packages, never this tree's py/."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.cli.support import DATA, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(out), str(ROOT)], check=True, timeout=300)
    (built,) = out.glob("csv_importer-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (no deps); returns its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    bin_dir = home / "bin"
    purelib = Path(subprocess.check_output([str(bin_dir / "python"), "-c",
                                            "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # pydantic, tqdm...: no network
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, timeout=300)
    return bin_dir


def test_the_wheel_holds_the_engine_and_the_importer_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.startswith("csv_importer-")}
    assert packages == {"durable", "importer"}
    assert {"durable/py.typed", "importer/py.typed", "importer/__main__.py", "importer/cli/main.py"} <= set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "csv-import = importer.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_wheel_runs_csv_import_and_python_m_importer(installed: Path, tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CSV_IMPORT_TEST_HOOKS")}
    where = subprocess.run([str(installed / "python"), "-c", "import importer, durable; print(importer.__file__)"],
                           capture_output=True, text=True, env=clean, cwd=tmp_path, check=True).stdout
    assert str(installed.parent) in where  # the wheel's copy, not this tree's py/
    for command in ([str(installed / "csv-import"), "--help"], [str(installed / "python"), "-m", "importer", "--help"]):
        result = subprocess.run(command, capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: csv-import [-h] --db PATH") and "resume" in result.stdout
    db = tmp_path / "out.sqlite"
    result = subprocess.run([str(installed / "csv-import"), str(DATA / "latin1.csv"), "--db", str(db), "--json"],
                            capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert '"status": "completed"' in result.stdout


def test_importing_the_library_does_not_load_the_progress_bar() -> None:
    """The page's worker imports `importer` in Pyodide, which has no tqdm."""
    code = ("import sys, importer, importer.job, durable; "
            "assert 'tqdm' not in sys.modules and 'importer.cli' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "py", timeout=60)
