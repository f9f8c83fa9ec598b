"""A batch ends at a slice boundary once its time budget (`ImportEnv.batch_seconds`, by `env.clock`) is
spent, so the worker yields (and hears Cancel) at least that often; a slice is cut short where a slow pattern's
values would cost more than `ImportEnv.slice_steps`, down to one row; every row still lands exactly once."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .conftest import run_import

ROWS = 1000
STEP = 0.01  # the fake clock moves this much at every reading: deterministic, whatever the machine's speed


class TickingClock:
    """A monotonic clock that advances by STEP each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += STEP
        return self.now


def test_batches_end_at_the_time_budget_and_every_row_lands_once(tmp_path: Path) -> None:
    source = tmp_path / "data.csv"
    source.write_text("id,name\n" + "".join(f"{i},name {i}\n" for i in range(ROWS)))
    outcome = run_import(tmp_path / "run", source, clock=TickingClock(), batch_seconds=0.5, slice_rows=10,
                         max_batch_rows=50_000, batch_bytes=64 << 20)  # fmt: skip
    assert outcome.output is not None, outcome.error
    assert outcome.output.rows_accepted == ROWS and outcome.output.rows_rejected == 0
    assert sorted(outcome.rows()) == [(i, f"name {i}") for i in range(ROWS)]

    with sqlite3.connect(outcome.db) as conn:
        cursors = [json.loads(out) for (out,) in conn.execute(
            "SELECT output FROM durable_steps WHERE name LIKE 'batch-%' ORDER BY ordinal")]  # fmt: skip
    assert len(cursors) > 2, "without a budget the rows and bytes limits make this one batch"
    seconds = [b["seconds"] - a["seconds"] for a, b in zip([{"seconds": 0.0}, *cursors], cursors, strict=False)]
    rows = [b["row"] - a["row"] for a, b in zip([{"row": 2}, *cursors], cursors, strict=False)]
    for spent, count in zip(seconds[:-1], rows[:-1], strict=True):
        assert 0.5 <= spent < 0.5 + 5 * STEP  # ended at the first slice boundary past the budget
        assert count % 10 == 0 and count < ROWS  # whole slices only
    assert sum(rows) == ROWS and cursors[-1]["done"] and not any(c["done"] for c in cursors[:-1])


def batch_sizes(db: Path) -> list[int]:
    """Rows of each committed batch, in order."""
    with sqlite3.connect(db) as conn:
        cursors = [json.loads(out) for (out,) in conn.execute(
            "SELECT output FROM durable_steps WHERE name LIKE 'batch-%' ORDER BY ordinal")]  # fmt: skip
    return [b["row"] - a["row"] for a, b in zip([{"row": 2}, *cursors], cursors, strict=False)]


def test_a_slow_pattern_on_long_values_makes_the_budget_looked_at_every_few_rows(tmp_path: Path) -> None:
    # `.*.*.*=` is cubic: a 135-character value (its cap) is ~2.5 * 10**6 steps; a 100-row slice of them would
    # hold the worker for long without looking at the clock. Each slice now stops where the next value
    # would pass slice_steps; with a budget spent at every look, each batch is one slice.
    rows = 60
    source = tmp_path / "data.csv"
    source.write_text("id,code\n" + "".join(f"{i},{'a' * 135}\n" for i in range(rows)))
    options = {"columns": [{"source": 0, "name": "id", "type": "integer"},
                           {"source": 1, "name": "code", "regex": ".*.*.*="}]}  # fmt: skip
    env = {"clock": TickingClock(), "batch_seconds": STEP / 2, "slice_rows": 100, "max_batch_rows": 50_000}
    outcome = run_import(tmp_path / "run", source, options, slice_steps=135**3 * 4, **env)
    assert outcome.output is not None, outcome.error
    assert (outcome.output.rows_accepted, outcome.output.rows_rejected) == (0, rows)  # no '=': none match
    assert batch_sizes(outcome.db) == [4] * (rows // 4)

    one = run_import(tmp_path / "one", source, options, slice_steps=1, **env)
    assert one.output is not None and one.output.rows_rejected == rows
    assert batch_sizes(one.db) == [1] * rows  # the budget is looked at after every row


def test_short_values_keep_whole_slices_under_a_slow_pattern(tmp_path: Path) -> None:
    rows = 250
    source = tmp_path / "data.csv"
    source.write_text("id,code\n" + "".join(f"{i},{'a' * 20}=\n" for i in range(rows)))
    options = {"columns": [{"source": 0, "name": "id", "type": "integer"},
                           {"source": 1, "name": "code", "regex": ".*.*.*="}]}  # fmt: skip
    outcome = run_import(tmp_path / "run", source, options, clock=TickingClock(), batch_seconds=STEP / 2,
                         slice_rows=100, max_batch_rows=50_000)  # fmt: skip
    assert outcome.output is not None and outcome.output.rows_accepted == rows
    assert batch_sizes(outcome.db) == [100, 100, 50]
