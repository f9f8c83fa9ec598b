"""names.py: identifiers from hostile headers and file names, quoted one way; reserved names stay the app's."""

import json
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from importer import ColumnSpec, ImportOptions
from importer.names import (
    RESERVED_PREFIXES,
    column_names,
    quote_identifier,
    table_name_from_file,
    table_name_problem,
    unique_index_name,
)
from importer.sniff import sniff
from importer.sql import create_target

from .conftest import run_import


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


# -- reserved prefixes, control characters, unique-index names (issue 8, defects 7 and 8) ----------------------


@pytest.mark.parametrize(
    "table",
    ["durable_runs", "DURABLE_RUNS", "Importer_Rejects", "importer_replace_x", "SQLite_master", "sqlite_sequence"],
)
def test_reserved_table_names_are_refused_whatever_their_case(table):
    with pytest.raises(ValidationError, match="reserved for the app's own tables"):
        ImportOptions(table=table)


@pytest.mark.parametrize("table", ["\x00durable_runs", "durable\x00_x", "peo\x01ple", "a\nb"])
def test_table_names_with_control_characters_are_refused_with_a_sentence(table):
    with pytest.raises(ValidationError, match="the table name contains"):
        ImportOptions(table=table)


def test_a_nul_never_disappears_on_the_way_to_sql():
    with pytest.raises(ValueError, match="NUL"):
        quote_identifier("\x00durable_runs")


@pytest.mark.parametrize("name", ["a\x00", "\x00", "a\tb", "line\nbreak", "bell\x07", "\x85next"])
def test_column_names_with_control_characters_are_refused_with_a_sentence(name):
    with pytest.raises(ValidationError, match=r"the column name .* contains"):
        ColumnSpec(source=0, name=name)


def test_columns_a_nul_and_a_are_refused_before_they_reach_sqlite():
    columns = [{"source": 0, "name": "a\x00"}, {"source": 1, "name": "a"}]
    with pytest.raises(ValidationError, match="NUL character"):
        ImportOptions(columns=columns)


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("importer_data.csv", "t_importer_data"),
        ("Importer_Rejects.csv", "t_importer_rejects"),
        ("DURABLE_runs.csv", "t_durable_runs"),
        ("sqlite_stat1.csv", "t_sqlite_stat1"),
    ],
)
def test_names_derived_from_reserved_looking_file_names_steer_clear(file_name, expected):
    assert table_name_from_file(file_name) == expected


def test_a_file_named_like_the_importers_tables_previews_and_imports(tmp_path):
    result = sniff(b"id,name\n1,a\n2,b\n", file_name="importer_data.csv")
    assert result.options.table == "t_importer_data"
    path = tmp_path / "importer_rejects.csv"
    path.write_text("id,name\n1,a\n")
    outcome = run_import(tmp_path, path)
    assert outcome.error is None and outcome.output is not None
    assert outcome.output.table == "t_importer_rejects" and outcome.rows() == [(1, "a")]


@given(st.text(max_size=40), st.lists(st.text(max_size=12), max_size=3))
def test_any_file_name_derives_a_usable_table_name(file_name, existing):
    name = table_name_from_file(file_name, existing)
    assert table_name_problem(name) is None
    assert name.lower() not in {e.lower() for e in existing}
    ImportOptions(table=name)


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), min_size=1, max_size=8))
def test_any_header_row_derives_column_names_the_options_accept(header):
    names = column_names(header)
    ImportOptions(columns=[{"source": i, "name": n} for i, n in enumerate(names)])


@pytest.mark.parametrize("order", [("a_b", "c", "a", "b_c"), ("a", "b_c", "a_b", "c")])
def test_unique_indexes_of_tables_whose_names_join_alike_do_not_collide(tmp_path, order):
    t1, c1, t2, c2 = order
    with sqlite3.connect(tmp_path / "app.sqlite") as conn:
        create_target(conn, t1, [ColumnSpec(source=0, name=c1, unique=True)])
        create_target(conn, t2, [ColumnSpec(source=0, name=c2, unique=True)])
        for table, column in ((t1, c1), (t2, c2)):
            indexes = conn.execute(f"PRAGMA index_list({quote_identifier(table)})").fetchall()
            assert [(i[1], i[2]) for i in indexes] == [(unique_index_name(table, column), 1)]
            conn.execute(f"INSERT INTO {quote_identifier(table)} VALUES (1)")
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(f"INSERT INTO {quote_identifier(table)} VALUES (1)")


def test_index_names_are_reserved_and_fold_as_sqlite_compares():
    assert unique_index_name("People", "ID") == unique_index_name("people", "id")
    assert unique_index_name("a_b", "c") != unique_index_name("a", "b_c")
    assert unique_index_name("x", "y").startswith(RESERVED_PREFIXES)


def test_a_table_name_taken_by_an_index_is_a_sentence_and_a_derived_name_avoids_it(tmp_path):
    db = tmp_path / "app.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE other (x)")
        conn.execute("CREATE INDEX people ON other (x)")
    path = tmp_path / "people.csv"
    path.write_text("id\n1\n")
    chosen = run_import(tmp_path, path, {"table": "people"})
    assert chosen.error is not None and chosen.error.error_type == "OptionsError"
    assert "taken by an index" in chosen.error.error_message
    derived = run_import(tmp_path, path)
    assert derived.output is not None and derived.output.table == "people_2", derived.error
    assert json.dumps(derived.rows()) == "[[1]]"
