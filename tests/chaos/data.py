"""The chaos suite's file and its expected result: a seeded CSV with about 1% invalid rows, and what a
correct import of it stores, computed here from the file with the csv module alone (not with the importer).

The columns are id,name,email,amount; the import sets id to integer and amount to real, so a row whose id is
not an integer or whose amount is not a number is rejected, every other row is stored. Names hold commas,
quotes and non-ASCII text (quoted by csv.writer), never a line break, so a reject's row number is its line.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = ["id", "name", "email", "amount"]
INVALID_RATE = 0.01
# The sample the page infers types from holds a bad id and a bad amount, so both columns are inferred as text
# and the user's choice (integer, real) is what makes them typed: see `typed_columns` in the driver.
FORCED_INVALID = {5: "id", 7: "amount"}
BAD_IDS = ["x{i}", "#{i}", "{i}a", "n/a"]
BAD_AMOUNTS = ["n/a!", "abc", "--", "1.2.3"]
NAMES = ["Name {i}", 'O"Brien, {i}', "Zoë {i} 😀", "=SUM({i})", "a,b;c|{i}", "Łódź {i}"]
CHECKSUM_MOD = 1 << 64


@dataclass(frozen=True)
class Expected:
    """What the stored table and rejects must be: `ids` of the valid rows (each stored once), their
    order-independent `checksum` (`row_checksum` summed), and the row numbers of the invalid rows."""

    data_rows: int
    ids: frozenset[int]
    checksum: int
    invalid_rows: tuple[int, ...]


def write_chaos_csv(path: Path, rows: int, seed: int) -> None:
    """Write `rows` data rows (ids 0..rows-1) under HEADER; the same seed writes the same bytes."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            row = [str(i), rng.choice(NAMES).format(i=i), f"user{i}@example.com", f"{rng.random() * 10_000:.2f}"]
            bad = FORCED_INVALID.get(i) or (rng.choice(["id", "amount"]) if rng.random() < INVALID_RATE else None)
            if bad == "id":
                row[0] = rng.choice(BAD_IDS).format(i=i)
            elif bad == "amount":
                row[3] = rng.choice(BAD_AMOUNTS)
            writer.writerow(row)


def typed(record: list[str]) -> tuple[int, str, str, float] | None:
    """The stored form of one record (id integer, amount real), or None when the importer must reject it."""
    try:
        return int(record[0]), record[1], record[2], float(record[3])
    except ValueError:
        return None


def row_checksum(row: tuple[Any, ...] | list[Any]) -> int:
    """A 64-bit hash of one row's values (types included); summed modulo 2**64 it ignores row order."""
    return int.from_bytes(hashlib.blake2b(repr(tuple(row)).encode(), digest_size=8).digest(), "big")


def expected_from_csv(path: Path) -> Expected:
    """Read `path` with the csv module and say what a correct import stores. Row numbers count the header
    as row 1 (the importer's and the error report's numbering)."""
    ids: set[int] = set()
    invalid: list[int] = []
    checksum = 0
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == HEADER
        count = 0
        for number, record in enumerate(reader, start=2):
            count += 1
            row = typed(record)
            if row is None:
                invalid.append(number)
                continue
            ids.add(row[0])
            checksum = (checksum + row_checksum(row)) % CHECKSUM_MOD
    return Expected(data_rows=count, ids=frozenset(ids), checksum=checksum, invalid_rows=tuple(invalid))
