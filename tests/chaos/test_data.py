"""The chaos file and its expected result: the same seed writes the same bytes, about 1% of rows are invalid
(a bad id and a bad amount in the sample), and the checksum ignores order but not values; the summary's
verdict fails on any loss column."""

from __future__ import annotations

from pathlib import Path

from tests.chaos.data import CHECKSUM_MOD, FORCED_INVALID, expected_from_csv, row_checksum, typed, write_chaos_csv
from tests.chaos.summary import Row, render


def test_the_same_seed_writes_the_same_file_and_about_one_percent_invalid(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_chaos_csv(first, 20_000, 7)
    write_chaos_csv(second, 20_000, 7)
    write_chaos_csv(other, 20_000, 8)
    assert first.read_bytes() == second.read_bytes() != other.read_bytes()
    expected = expected_from_csv(first)
    assert expected.data_rows == 20_000
    assert 150 < len(expected.invalid_rows) < 250
    assert {i + 2 for i in FORCED_INVALID} <= set(expected.invalid_rows)  # row numbers: the header is row 1
    assert len(expected.ids) + len(expected.invalid_rows) == 20_000
    assert not expected.ids & {n - 2 for n in expected.invalid_rows}


def test_the_checksum_ignores_row_order_and_sees_a_changed_value() -> None:
    rows = [(1, "a", "x@y", 1.5), (2, 'O"B, 2', "z@y", 0.0), (3, "Zoë", "w@y", 10.25)]

    def total(rs: list[tuple[object, ...]]) -> int:
        return sum(row_checksum(r) for r in rs) % CHECKSUM_MOD

    assert total(rows) == total(rows[::-1])
    assert total(rows) != total([*rows[:2], (3, "Zoë", "w@y", 10.26)])
    assert total(rows) != total([*rows[:2], (3, "Zoë", "w@y", 10)])  # an int is not the stored REAL


def test_a_row_is_invalid_when_its_id_or_amount_does_not_convert() -> None:
    assert typed(["5", "n", "e", "1.50"]) == (5, "n", "e", 1.5)
    assert typed(["x5", "n", "e", "1.50"]) is None
    assert typed(["5", "n", "e", "n/a!"]) is None


def test_the_verdict_fails_on_any_loss_column() -> None:
    clean = Row("browser interruptions", "21 landed", 0, 0, 0, 0)
    assert render([clean], 1).endswith("chaos seed 1: every loss column reads 0")
    for lost, duplicated, integrity, failed in [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]:
        row = Row("storage faults", "6 injected", lost, duplicated, integrity, failed)
        assert not row.clean and "FAILED" in render([clean, row], 1)
