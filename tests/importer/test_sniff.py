"""sniff.py: settings detected over a prefix, each with evidence; the bad-input corpus's file-level errors."""

import codecs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from importer import (
    BinaryFileError,
    EmptyFileError,
    EncodingError,
    FileFormatError,
    HeaderOnlyError,
    ImporterError,
    ImportOptions,
    OptionsError,
    SniffResult,
    TooManyColumnsError,
    UnterminatedQuoteError,
)
from importer.formats import ColumnType
from importer.options import codec_and_bom
from importer.sniff import sniff

from .conftest import run_import


def sniff_file(data_dir, name, **kwargs):
    return sniff((data_dir / name).read_bytes(), file_name=name, **kwargs)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("empty.csv", EmptyFileError),
        ("blank_lines.csv", EmptyFileError),
        ("header_only.csv", HeaderOnlyError),
        ("binary.png.csv", BinaryFileError),
        ("xlsx_as.csv", BinaryFileError),
        ("unterminated_quote.csv", UnterminatedQuoteError),
    ],
)
def test_file_level_bad_input_raises_a_specific_error(data_dir, name, error):
    with pytest.raises(error) as caught:
        sniff_file(data_dir, name)
    assert caught.value.hint


def test_an_excel_workbook_is_named_in_the_message(data_dir):
    with pytest.raises(BinaryFileError, match="Excel"):
        sniff_file(data_dir, "xlsx_as.csv")


def test_a_wrong_encoding_chosen_by_the_user_says_which_one_fits(data_dir):
    with pytest.raises(EncodingError, match=r"cp125|latin"):
        sniff_file(data_dir, "wrong_encoding_utf8_chosen.csv", overrides={"encoding": "utf-8"})


def test_more_than_2000_columns_is_refused():
    header = ",".join(f"c{i}" for i in range(2001)).encode()
    with pytest.raises(TooManyColumnsError, match="2,001"):
        sniff(header + b"\n" + b",".join([b"1"] * 2001) + b"\n")


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("utf16le_bom.csv", "utf-16-le", ","),
        ("utf16be_bom.csv", "utf-16-be", ","),
        ("utf8_bom.csv", "utf-8-sig", ","),
        ("cp1252.csv", "cp1252", ";"),
        ("decimal_comma.csv", "utf-8", ";"),
        ("semicolon_quoted.csv", "utf-8", ";"),
    ],
)
def test_encoding_and_delimiter_are_detected_with_evidence(data_dir, name, encoding, delimiter):
    result = sniff_file(data_dir, name)
    assert (result.encoding.value, result.delimiter.value) == (encoding, delimiter)
    assert result.encoding.evidence and "sample rows have" in result.delimiter.evidence


def test_legacy_text_decodes_into_the_preview(data_dir):
    assert sniff_file(data_dir, "latin1.csv").preview[0] == ("1", "José Núñez")
    assert sniff_file(data_dir, "cp1252.csv").preview[2][1] == "Œuvre “quoted”"


def test_decimal_comma_is_detected_and_makes_prices_real(data_dir):
    result = sniff_file(data_dir, "decimal_comma.csv")
    assert result.decimal_comma.value is True and "1.234,56" in result.decimal_comma.evidence
    assert [c.type for c in result.options.columns] == [ColumnType.INTEGER, ColumnType.TEXT, ColumnType.REAL,
                                                         ColumnType.INTEGER]  # fmt: skip


def test_duplicate_and_blank_headers_become_distinct_names(data_dir):
    result = sniff_file(data_dir, "duplicate_headers.csv")
    assert [c.name for c in result.options.columns] == ["id", "name", "name_2", "column_4", "Name_3"]


def test_mixed_line_endings_are_reported_and_read(data_dir):
    result = sniff_file(data_dir, "mixed_line_endings.csv")
    assert "mixed" in result.line_ending.evidence
    assert result.preview[-1] == ("4", "multi\r\nline")


def test_a_header_is_recognised_over_typed_columns_and_not_over_data():
    assert sniff(b"id,amount\n1,2.5\n2,3.5\n").has_header.value is True
    no_header = sniff(b"1,2.5\n2,3.5\n3,4.5\n")
    assert no_header.has_header.value is False and [c.name for c in no_header.options.columns] == [
        "column_1",
        "column_2",
    ]


def test_overrides_win_and_are_marked():
    result = sniff(b"a;b\n1;2\n", overrides={"delimiter": ",", "has_header": False})
    assert result.delimiter.overridden and result.delimiter.value == ","
    assert result.options.has_header is False


def test_the_result_is_json_able():
    import json

    text = json.dumps(sniff(codecs.BOM_UTF8 + b"id,when\n1,21/02/2024\n").to_dict())
    assert "DD/MM/YYYY" in text


def test_leading_zeros_and_long_integers_stay_text(data_dir):
    zips = sniff_file(data_dir, "leading_zeros.csv").options.columns
    assert [c.type for c in zips] == [ColumnType.TEXT, ColumnType.TEXT, ColumnType.INTEGER]
    cards = sniff_file(data_dir, "long_integers.csv").options.columns
    assert cards[0].type is ColumnType.TEXT


def test_ambiguous_dates_are_flagged_and_settled_dates_are_not(data_dir):
    ambiguous = sniff_file(data_dir, "ambiguous_dates.csv").guesses[1]
    assert ambiguous.ambiguous and ambiguous.alternatives == ("MM/DD/YYYY",)
    assert not sniff_file(data_dir, "settled_dates.csv").guesses[1].ambiguous


# -- issue 8, defect 8: quoting, UTF-32, non-text codecs; and a little fuzzing ----------------------------------


@pytest.mark.parametrize("data", [b'""a', b'""a\n', b'""a\n""b\n', b'"x"y;z\n'])
def test_a_sample_whose_every_row_is_malformed_is_a_sentence_not_an_index_error(data):
    with pytest.raises(FileFormatError, match="can be read as CSV") as caught:
        sniff(data)
    assert caught.value.hint


@pytest.mark.parametrize(("codec", "bom"), [("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_utf32_with_a_bom_is_read_as_utf32_not_utf16(codec, bom):
    result = sniff(bom + "id,name\n1,Zoë\n2,Łukasz\n".encode(codec))
    assert result.encoding.value == codec and "byte-order mark" in result.encoding.evidence
    assert result.preview == (("1", "Zoë"), ("2", "Łukasz"))


@pytest.mark.parametrize(("codec", "bom"), [("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_a_utf32_file_imports_every_row_with_sniffed_defaults(tmp_path, codec, bom):
    path = tmp_path / "u32.csv"
    path.write_bytes(bom + "id,name\n1,Zoë\n2,Łukasz\n".encode(codec))
    outcome = run_import(tmp_path, path)
    assert outcome.error is None, outcome.error
    assert outcome.rows() == [(1, "Zoë"), (2, "Łukasz")] and outcome.rejects() == []
    assert codec_and_bom("utf-32") == ("utf-32-le", codecs.BOM_UTF32_LE)


NOT_TEXT = ["base64", "zlib", "rot13", "hex", "bz2", "uu", "quopri", "undefined", "idna", "punycode"]


@pytest.mark.parametrize("encoding", NOT_TEXT)
def test_codecs_that_are_not_text_encodings_are_refused_with_a_sentence(encoding):
    with pytest.raises(ValidationError, match="is not a text encoding"):
        ImportOptions(encoding=encoding)
    with pytest.raises(OptionsError, match="is not a text encoding"):
        sniff(b"id,name\n1,a\n", overrides={"encoding": encoding})
    with pytest.raises(LookupError):
        codec_and_bom(encoding)


def test_an_unknown_encoding_is_refused_with_a_sentence():
    with pytest.raises(ValidationError, match="unknown encoding 'klingon'"):
        ImportOptions(encoding="klingon")


def sniffs_or_says_why(data: bytes, complete: bool | None) -> None:
    """sniff() returns a SniffResult or raises an ImporterError subclass, never anything else."""
    try:
        result = sniff(data, complete=complete)
    except ImporterError as exc:
        assert exc.message
        return
    assert isinstance(result, SniffResult)
    result.to_dict()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from([None, True, False]))
def test_fuzz_random_bytes_sniff_or_say_why(data, complete):
    sniffs_or_says_why(data, complete)


CSVISH = st.text(alphabet=st.sampled_from(list('ab1 9.,;|\t"\'\n\r-:/éNA\x00\ufeff')), max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CSVISH, st.sampled_from(["utf-8", "utf-16-le", "utf-32-be", "cp1252"]), st.sampled_from([None, True, False]))
def test_fuzz_small_csvish_text_sniff_or_say_why(text, encoding, complete):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-32-be": codecs.BOM_UTF32_BE}.get(encoding, b"")
    sniffs_or_says_why(bom + text.encode(encoding, errors="replace"), complete)
