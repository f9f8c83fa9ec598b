"""How values read on screen (py/ui/format.py)."""

from __future__ import annotations

import calendar
import time

import pytest

from ui import format as fmt


@pytest.mark.parametrize(("value", "text"), [(None, "—"), (0, "0"), (999, "999"), (1000, "1,000"),
                                              (1234567, "1,234,567"), (-4500, "-4,500"), (12.7, "12")])
def test_counts_have_thousands_separators(value: float | None, text: str) -> None:
    assert fmt.count(value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "—"), (0, "0 B"), (950, "950 B"), (12_300, "12.3 kB"),
                                              (4_500_000, "4.5 MB"), (250_000_000, "250 MB"),
                                              (1_200_000_000, "1.2 GB")])
def test_sizes_use_decimal_units(value: int | None, text: str) -> None:
    assert fmt.size(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(None, "—"), (-1, "—"), (0.85, "850 ms"), (3.25, "3.2 s"),
                                                (12, "12 s"), (185, "3 min 05 s"), (7440, "2 h 04 min")])
def test_durations_read_naturally(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


@pytest.mark.parametrize("iso", ["2026-01-02T03:04:05+00:00", "1999-12-31T23:59:59+00:00",
                                 "2024-02-29T12:00:00+00:00", "1970-01-01T00:00:00+00:00"])
def test_epoch_matches_the_standard_library(iso: str) -> None:
    expected = calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))
    assert fmt.epoch(iso) == expected


def test_epoch_reads_fractions_and_offsets() -> None:
    assert fmt.epoch("2026-01-02T03:04:05.250+01:00") == fmt.epoch("2026-01-02T02:04:05+00:00") + 0.25
    assert fmt.epoch("not a time") is None and fmt.epoch(None) is None


def test_elapsed_and_relative_times() -> None:
    assert fmt.elapsed("2026-01-01T00:00:00+00:00", "2026-01-01T00:01:30.5+00:00") == 90.5
    now = fmt.epoch("2026-01-01T12:00:00+00:00")
    assert fmt.when("2026-01-01T11:59:50+00:00", now) == "just now"
    assert fmt.when("2026-01-01T11:50:00+00:00", now) == "10 min ago"
    assert fmt.when("2026-01-01T09:00:00+00:00", now) == "3 h ago"
    assert fmt.when("2025-12-24T09:30:00+00:00", now) == "2025-12-24 09:30"


def test_cells_become_text() -> None:
    assert [fmt.cell(v) for v in (None, True, False, 3, 2.5, "<b>")] == ["", "true", "false", "3", "2.5", "<b>"]
    assert fmt.plural(1, "row") == "1 row" and fmt.plural(2500, "row") == "2,500 rows"
