"""A database made by the command line is an ordinary SQLite file: stock sqlite3 sees declared column types
that fit the data (INTEGER, REAL, TEXT), Datasette lists and serves the table (its in-process client, no
server), and DuckDB's sqlite reader (its extension loaded from the duckdb-ext-sqlite wheel, offline) reads
the same rows with matching types."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.support import query, run

CSV = "id,name,amount,born,active\n1,Ada,2.50,1815-12-10,yes\n2,Grace,NA,1906-12-09,no\n3,=Linus,-1e3,1969-12-28,yes\n"


@pytest.fixture
def made(tmp_path: Path) -> Path:
    source, db = tmp_path / "people.csv", tmp_path / "people.sqlite"
    source.write_text(CSV, encoding="utf-8")
    result = run(source, "--db", db, "--quiet")
    assert result.returncode == 0, result.stderr
    return db


def test_stock_sqlite3_sees_sensible_declared_types(made: Path) -> None:
    columns = {name: kind for _, name, kind, *_ in query(made, "PRAGMA table_info(people)")}
    assert columns == {"id": "INTEGER", "name": "TEXT", "amount": "REAL", "born": "TEXT", "active": "INTEGER"}
    assert query(made, "SELECT id, name, amount, born, active, typeof(amount) FROM people ORDER BY id") == [
        (1, "Ada", 2.5, "1815-12-10", 1, "real"),
        (2, "Grace", None, "1906-12-09", 0, "null"),
        (3, "=Linus", -1000.0, "1969-12-28", 1, "real"),
    ]
    assert sqlite3.connect(made).execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_datasette_lists_and_serves_the_table(made: Path) -> None:
    from datasette.app import Datasette

    ds = Datasette([str(made)])
    listing = await ds.client.get("/people.json")
    assert listing.status_code == 200
    tables = {t["name"]: t["count"] for t in listing.json()["tables"]}
    assert tables["people"] == 3
    rows = await ds.client.get("/people/people.json?_shape=array&_sort=id")
    assert [(r["id"], r["name"], r["amount"]) for r in rows.json()] == [(1, "Ada", 2.5), (2, "Grace", None),
                                                                         (3, "=Linus", -1000.0)]


def test_duckdbs_sqlite_reader_reads_it_offline(made: Path) -> None:
    import duckdb
    import duckdb_ext  # the namespace package of the duckdb-ext-* wheels

    (extension,) = Path(next(iter(duckdb_ext.__path__))).glob(
        f"extensions/v{duckdb.__version__}/*/sqlite_scanner.duckdb_extension")
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{extension}'")
    scan = f"sqlite_scan('{made}', 'people')"
    types = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    assert types == {"id": "BIGINT", "name": "VARCHAR", "amount": "DOUBLE", "born": "VARCHAR", "active": "BIGINT"}
    assert con.execute(f"SELECT count(*), sum(id), sum(amount) FROM {scan}").fetchone() == (3, 6, -997.5)
    assert json.dumps(con.execute(f"SELECT name FROM {scan} ORDER BY id").fetchall()) == \
        '[["Ada"], ["Grace"], ["=Linus"]]'
