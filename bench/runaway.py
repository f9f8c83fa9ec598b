"""Runaway work benchmark: hostile patterns and huge fields through the CPython import job, against a normal file.

The worker hears Cancel only when the job yields to the event loop, so what matters is the longest stretch
without a yield. A ticker task beside the job (`await asyncio.sleep(0)` in a loop) records the gaps between
its turns; each case reports the worst gap (median of --repeats runs), the import's seconds and outcome, and
for a pattern the time of its worst value alone (one `fullmatch` of a value at the pattern's length cap,
patterns.py). Cases: a normal file with a linear pattern (the baseline: its worst gap is about one batch's
budget, ImportEnv.batch_seconds), slow polynomial patterns on values at their cap and past it, a 50 MB field
on one line (typed columns, and provisional ones that the job scans first), and a 50 MB quoted field that
spans lines. Usage: ./run bench runaway [--repeats 3] [--field-mb 50] [--only 'MB']
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "py"))

from durable import Engine, RunFailedError  # noqa: E402
from importer.job import ImportEnv, make_import_job  # noqa: E402
from importer.patterns import match_cap  # noqa: E402
from importer.staging import FileByteSource  # noqa: E402

TYPED = [{"source": 0, "name": "id", "type": "integer"}, {"source": 1, "name": "code"}]


def pattern_case(regex: str, value: str, rows: int) -> tuple[dict[str, Any], Callable[[Path], None]]:
    def write(path: Path) -> None:
        with open(path, "w") as f:
            f.write("id,code\n")
            for i in range(rows):
                f.write(f"{i},{value}\n")

    return {"columns": [TYPED[0], {**TYPED[1], "regex": regex}]}, write


def huge_line(mb: int, typed: bool) -> tuple[dict[str, Any], Callable[[Path], None]]:
    def write(path: Path) -> None:
        with open(path, "w") as f:
            f.write("id,code\n")
            for i in range(1000):
                f.write(f"{i},code {i}\n")
                if i == 500:
                    f.write("500," + "x" * (mb * 1_000_000) + "\n")

    return ({"columns": TYPED} if typed else {}), write


def huge_quoted(mb: int) -> tuple[dict[str, Any], Callable[[Path], None]]:
    def write(path: Path) -> None:
        with open(path, "w") as f:
            f.write("id,code\n1,a\n2,\"")
            line = "x" * 999 + "\n"
            for _ in range(mb * 1000):
                f.write(line)
            f.write("\"\n3,c\n")

    return {"columns": TYPED}, write


def cases(field_mb: int) -> dict[str, tuple[dict[str, Any], Callable[[Path], None], str | None]]:
    """name -> (options, writer, the worst value of its pattern or None)."""
    digits3, digits2 = "1" * match_cap(r"\d*\d*\d*x")[1], "1" * match_cap(r"\d+\d+x")[1]
    email = r"^\w+([-+.']\w+)*@\w+([-.]\w+)*\.\w+([-.]\w+)*$"
    mail_value = "a@" + "a." * ((match_cap(email)[1] - 3) // 2) + "!"
    table: dict[str, tuple[str, str, int]] = {
        "normal: [a-z]+\\d* on 200k short values": (r"[a-z]+\d*", "code123", 200_000),
        "\\d*\\d*\\d*x (cubic), values at its cap": (r"\d*\d*\d*x", digits3, 300),
        ".*.*.*= (cubic), values at its cap": (r".*.*.*=", "a" * match_cap(r".*.*.*=")[1], 300),
        "\\d+\\d+x (quadratic), values at its cap": (r"\d+\d+x", digits2, 300),
        "email-like (quadratic), values at its cap": (email, mail_value, 300),
        "\\d*\\d*\\d*x, 100k-char values (past cap)": (r"\d*\d*\d*x", "1" * 100_000, 300),
    }
    result: dict[str, tuple[dict[str, Any], Callable[[Path], None], str | None]] = {}
    for name, (regex, value, rows) in table.items():
        options, write = pattern_case(regex, value, rows)
        result[name] = (options, write, value if len(value) <= match_cap(regex)[1] else None)
    result[f"{field_mb} MB field on one line, typed"] = (*huge_line(field_mb, True), None)
    result[f"{field_mb} MB field on one line, scanned"] = (*huge_line(field_mb, False), None)
    result[f"{field_mb} MB quoted field over lines"] = (*huge_quoted(field_mb), None)
    return result


async def import_with_ticker(tmp: Path, source: Path, options: dict[str, Any]) -> tuple[float, float, str]:
    """(seconds, worst gap between the event loop's turns, outcome) of importing `source`."""
    src = FileByteSource(source)
    engine = Engine(str(tmp / "app.sqlite"))
    job = make_import_job(ImportEnv(staging_dir=str(tmp / "staging"), sources={"s": src}))
    engine.register(job)
    await engine.start()
    gaps = [0.0]
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0)
            now = time.perf_counter()
            gaps[0] = max(gaps[0], now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        payload = {"source_id": "s", "file_name": src.name, "size": src.size, "options": options}
        output = await engine.trigger_and_wait(job, payload, timeout=600)
        outcome = f"{output.rows_accepted:,} rows, {output.rows_rejected:,} rejects"
    except RunFailedError as error:
        outcome = "failed: " + str(error).split(". Fix the cause")[0][-90:]
    finally:
        seconds = time.perf_counter() - started
        done.set()
        await tick
        await engine.stop()
    return seconds, gaps[0], outcome


def worst_value_seconds(options: dict[str, Any], value: str | None) -> float | None:
    if value is None:
        return None
    pattern = re.compile(options["columns"][1]["regex"])
    started = time.perf_counter()
    pattern.fullmatch(value)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--field-mb", type=int, default=50)
    parser.add_argument("--only", default="", help="run the baseline and the cases whose name contains this")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n, (name, (options, write, value)) in enumerate(cases(args.field_mb).items()):
            if n and args.only not in name:
                continue
            source = tmp / f"case-{n}.csv"
            write(source)
            runs = []
            for r in range(args.repeats):
                run_dir = tmp / f"run-{n}-{r}"
                run_dir.mkdir()
                runs.append(asyncio.run(import_with_ticker(run_dir, source, options)))
            one = [worst_value_seconds(options, value) for _ in range(args.repeats)]
            source.unlink()
            rows.append((name, statistics.median(s for s, _, _ in runs), statistics.median(g for _, g, _ in runs),
                         statistics.median(one) if value is not None else None, runs[0][2]))  # type: ignore[type-var]
            print(f"  {name}: done", file=sys.stderr, flush=True)
    base_gap = rows[0][2]
    print(f"median of {args.repeats}; 'worst gap' is the longest time the job held the event loop (Cancel waits it)")
    print(f"{'case':<44} {'seconds':>8} {'worst gap':>10} {'x normal':>9} {'worst value':>12}  outcome")
    for name, seconds, gap, value_s, outcome in rows:
        value_text = f"{value_s * 1000:>9.1f} ms" if value_s is not None else f"{'-':>12}"
        print(f"{name:<44} {seconds:>8.2f} {gap * 1000:>7.0f} ms {gap / base_gap:>8.2f}x {value_text}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
