"""names.py: identifiers from hostile headers and file names, quoted one way."""

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.names import column_names, quote_identifier, table_name_from_file


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["id", "name"], ["id", "name"]),
        (["", "x", ""], ["column_1", "x", "column_3"]),
        (["a", "a", "A"], ["a", "a_2", "A_3"]),
        (["  spaced  out ", "tab\there"], ["spaced out", "tabhere"]),
        ([None, "column_1"], ["column_1", "column_1_2"]),
    ],
)
def test_column_names_are_distinct_and_never_blank(header, expected):
    assert column_names(header) == expected


@pytest.mark.parametrize(
    ("file_name", "existing", "expected"),
    [
        ("Sales 2024 (final).csv", [], "sales_2024_final"),
        ("2024.csv", [], "t_2024"),
        ("data.csv", ["data"], "data_2"),
        ("data.csv", ["DATA", "data_2"], "data_3"),
        ("日本.csv", [], "import"),
        ("sqlite_master.csv", [], "t_sqlite_master"),
    ],
)
def test_table_names_come_from_file_names_and_never_clobber(file_name, existing, expected):
    assert table_name_from_file(file_name, existing) == expected


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_any_name_quoted_is_a_working_identifier(name):
    conn = sqlite3.connect(":memory:")
    table = quote_identifier("t_" + name)
    conn.execute(f"CREATE TABLE {table} ({quote_identifier(name)} TEXT)")
    conn.execute(f"INSERT INTO {table} VALUES ('x')")
    assert conn.execute(f"SELECT {quote_identifier(name)} FROM {table}").fetchone() == ("x",)
