"""Where the SQL checks (sqlpath.py, mode scan2) and the importer's (RowChecker) disagree, value by value.

  python bench/exp_sql/edge_cases.py          node bench/exp_sql/run_pyodide.mjs edge_cases.py

Each tricky value is put in one column of an otherwise valid record (config "rules": required integer id,
text name, text email with the email rule, real amount), both paths import the batch, and every value whose
stored row (values and types) or reject (raw, reasons) differs is printed.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if (HERE.parent.parent / "py").is_dir():
    sys.path.insert(0, str(HERE.parent.parent / "py"))
sys.path.insert(0, str(HERE))

from importer import sql as isql  # noqa: E402
from importer.options import ImportOptions  # noqa: E402
from importer.reader import NOT_NULL_QUOTING  # noqa: E402
from importer.validate import RowChecker  # noqa: E402
from bench_sql import CONFIGS  # noqa: E402
from sqlpath import SqlBatch  # noqa: E402

INTEGERS = ["0", "-0", "5", " 5", "5 ", " -5 ", "+5", "007", "-007", "1_000", "1,000", "1e3", "1.0", "٤٢", "５",
            "\t5", "5\n", "- 5", "--5", "", "   ", "9223372036854775807", "-9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "99999999999999999999", "0x10", "x123", "12abc",
            "a\x01b", "é" * 70, "1" * 5000]
REALS = ["0", "0.5", ".5", "5.", "-.25", "-0", "-0.0", "1.5", " 1.5 ", "+1.5", "01.5", "00", "1e3", "1E-3", "1e+308",
         "1e309", "1e-320", "2.5e-308", "1e1000", "1.2.3", ".", "-", "", "  ", "1,5", "1 000", "inf", "nan", "NaN",
         "Infinity", "0x1p3", "1_000.5", "123456789012345", "1234567890123456", "10.357019999999999",
         "48.053808600000004", "0.1234567890123456", "1e05", "1.5\t", "\t1.5", "٤.٢", "8444.22", "n/a!",
         "9007199254740993", "0.30000000000000004", "1.7976931348623157e308", "4.9e-324", "123456789012345.6"]
EMAILS = ["user@example.com", "user@example.c", "user@@example.com", "@example.com", "user@", "user@.com",
          "user@example..com", "user@example.com.", "us er@example.com", "user@exa mple.com", "user@example",
          "user\u00a0@example.com", "user@example.com\u2028", "u@e.co", "ü@exämple.de", "user@ex.a.b.cd",
          "user-at-example.com", "a@b.c\x1c", ""]


def run(path_cls: str, options: ImportOptions, records: list[list[str | None]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    specs = options.kept_columns()
    isql.create_target(conn, "t", specs)
    isql.create_rejects_table(conn)
    if path_cls == "A":
        checked = RowChecker(options, 4).check_columns(records, 2)
        isql.insert_rows(conn, isql.insert_statement("t", [s.name for s in specs]), checked.rows())
        isql.insert_rejects(conn, "r", checked.rejects)
    else:
        SqlBatch(conn, "t", specs, 4, "r", mode=path_cls).run(conn, records, 2)
    conn.commit()
    return conn


def main() -> None:
    options = ImportOptions.model_validate({"columns": CONFIGS["rules"]})
    base = ["1", "Name", "a@example.com", "1.5"]
    cases = [(0, v) for v in INTEGERS] + [(3, v) for v in REALS] + [(2, v) for v in EMAILS]
    records: list[list[str | None]] = []
    for col, v in cases:
        r = list(base)
        r[col] = v if v != "" or NOT_NULL_QUOTING is None else None  # an unquoted empty field reads as None
        records.append(r)
    records.append([None, "n", "a@example.com", None])
    cases.append((0, "<None id, None amount>"))
    for mode in ("scan2", "flag", "trigger"):
        a, b = run("A", options, records), run(mode, options, records)
        # rows are in file order in both: map each accepted row to its record by position among accepted ones
        acc_a = [r[1:] for r in a.execute("SELECT rowid, * FROM t ORDER BY rowid")]
        acc_b = [r[1:] for r in b.execute("SELECT rowid, * FROM t ORDER BY rowid")]
        rej_a = {n: (raw, why) for n, raw, why in a.execute("SELECT row_number, raw, reasons FROM importer_rejects")}
        rej_b = {n: (raw, why) for n, raw, why in b.execute("SELECT row_number, raw, reasons FROM importer_rejects")}
        ia = ib = 0
        diffs = []
        for k, (col, v) in enumerate(cases):
            n = k + 2
            oa = ("rejected", rej_a[n]) if n in rej_a else ("stored", acc_a[ia])
            ob = ("rejected", rej_b[n]) if n in rej_b else ("stored", acc_b[ib])
            ia += n not in rej_a
            ib += n not in rej_b
            same = oa[0] == ob[0] and all(type(x) is type(y) and (x == y or x != x and y != y)
                                          for x, y in zip(oa[1], ob[1]))
            if not same:
                diffs.append((["id", "name", "email", "amount"][col], v, oa, ob))
        print(f"python {sys.version.split()[0]} sqlite {sqlite3.sqlite_version}, mode {mode}: {len(cases)} cases, "
              f"{len(diffs)} differ")
        for name, v, oa, ob in diffs:
            print(f"  {name} {v[:40]!r}{'…' if len(v) > 40 else ''}:\n      python {str(oa)[:230]}\n      sql    {str(ob)[:230]}")


if __name__ == "__main__":
    main()
