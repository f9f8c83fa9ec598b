"""scan.py's fast paths: quote-free text split with str.split gives exactly what csv.reader gives, and a
giant record costs linear work however finely its bytes arrive."""

from __future__ import annotations

import codecs
import csv

from hypothesis import example, given, settings
from hypothesis import strategies as st

from importer import ImportOptions
from importer.scan import Scanner

VALUES = st.one_of(
    st.sampled_from(["", "1", "-2", " 42", ".5", "5.", "007", "+5", "1_000", "12345678901234567", "2.5", "1e5",
                     "10.357019999999999", "NA", "NaN", "null", "#N/A", "-999", "yes", "2024-02-03", "a@b.cc",
                     "a@b.c", "x", "é€", "  "]),
    st.text(alphabet="ab1.-@ é", max_size=5),
)
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


def scan(data: bytes, options: ImportOptions, width: int, cuts: list[int], *, plain: bool) -> Scanner:
    """Feed `data` cut at `cuts`; `plain` False forces every slice through csv.reader (the reference)."""
    scanner = Scanner(options, width, skip_header=True)
    if not plain:
        scanner._plain = lambda piece: False  # type: ignore[method-assign]
    at = 0
    for size in cuts:
        scanner.feed(data[at : at + size])
        at += size
    scanner.feed(data[at:], final=True)
    return scanner


@settings(max_examples=300, deadline=None, derandomize=True)
@example(lines=[["1"], [], ["2"]], width=1, endings=["\n"], cuts=[], delimiter=",", markers=(), limit=None)
@example(lines=[["1", "2"], ["3"], ["4", "5", "6"], ["7", "8"]], width=2, endings=["\r\n", "\n"], cuts=[3],
         delimiter=";", markers=(), limit=None)
@example(lines=[["abcdef", "1"], ["2", "3"]], width=2, endings=["\n"], cuts=[], delimiter=",", markers=(), limit=4)
@given(lines=st.lists(st.lists(VALUES, max_size=4), min_size=1, max_size=40), width=st.integers(1, 3),
       endings=st.lists(ENDINGS, min_size=1, max_size=3), cuts=st.lists(st.integers(1, 60), max_size=8),
       delimiter=st.sampled_from([",", ";", "\t"]), markers=st.sampled_from([(), ("-999",), ("NA", "x")]),
       limit=st.sampled_from([None, 4, 9]))
def test_split_slices_give_exactly_what_csv_reader_gives(lines, width, endings, cuts, delimiter, markers, limit):
    """Blank lines, ragged rows, CRLF/LF/CR endings, a header, one column, csv's field size limit."""
    text = "".join(delimiter.join(v for v in line) + endings[i % len(endings)] for i, line in enumerate(
        [["h"] * width, *lines]))
    data = text.encode("utf-8")
    options = ImportOptions(encoding="utf-8", delimiter=delimiter, quotechar='"', has_header=True,
                            null_markers=list(markers))
    old = csv.field_size_limit()
    try:
        if limit is not None:
            csv.field_size_limit(limit)
        fast = scan(data, options, width, cuts, plain=True)
        reference = scan(data, options, width, cuts, plain=False)
    finally:
        csv.field_size_limit(old)
    assert fast.tracker.to_state() == reference.tracker.to_state()
    assert (fast.row, fast.offset) == (reference.row, reference.offset)
    assert fast.offset == len(data)
    assert fast.guesses(whole_file=True) == reference.guesses(whole_file=True)


class CountingParse:
    """Wraps Scanner._parse and counts the characters handed to it (the parsing work done)."""

    def __init__(self, scanner: Scanner) -> None:
        self.chars = 0
        self._parse = scanner._parse
        scanner._parse = self  # type: ignore[method-assign]

    def __call__(self, piece: str, final: bool) -> int:
        self.chars += len(piece)
        return self._parse(piece, final)


def test_a_quoted_field_spanning_many_lines_is_parsed_a_bounded_number_of_times():
    """A 120 KB quoted field (under csv's field size limit) with a line break every 100 characters arrives in
    64-byte chunks: the open record is parsed again only once it has doubled (before: on every chunk with a
    line break, about 900 times its size in all)."""
    field = ("x" * 99 + "\n") * 1_200
    data = ('a,b\n1,"' + field + '"\n2,3\n').encode()
    scanner = Scanner(ImportOptions(encoding="utf-8", delimiter=",", quotechar='"', has_header=True), 2,
                      skip_header=True)
    counter = CountingParse(scanner)
    for at in range(0, len(data), 64):
        scanner.feed(data[at : at + 64], final=at + 64 >= len(data))
    assert scanner.row == 4 and scanner.offset == len(data)
    assert scanner.tracker.rows == 2
    assert counter.chars < 5 * len(data)


class CountingCodec:
    """A codec named `scan-count-utf8`: utf-8 that counts the characters encoded."""

    encoded = 0

    @classmethod
    def search(cls, name: str) -> codecs.CodecInfo | None:
        if name != "scan_count_utf8":
            return None
        utf8 = codecs.lookup("utf-8")

        def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
            cls.encoded += len(text)
            return utf8.encode(text, errors)

        return codecs.CodecInfo(encode, utf8.decode, name="scan-count-utf8",
                                incrementaldecoder=utf8.incrementaldecoder)


def test_a_long_line_arriving_in_many_chunks_is_not_copied_or_encoded_again_on_each():
    """A 1 MB line without quotes arrives in 1 KB chunks: the scanner measures the bytes it holds without
    encoding the held text again on each chunk (before: about 500 MB encoded in all)."""
    data = b"a,b\n" + b"1," + b"y" * 1_000_000 + b"\n2,3\n"
    scanner = Scanner(ImportOptions(encoding="utf-8", delimiter=",", quotechar='"', has_header=True), 2,
                      skip_header=True)
    codecs.register(CountingCodec.search)
    try:
        scanner._codec = "scan-count-utf8"  # measured: every encode the scanner does goes through it
        CountingCodec.encoded = 0
        for at in range(0, len(data), 1024):
            scanner.feed(data[at : at + 1024], final=at + 1024 >= len(data))
    finally:
        codecs.unregister(CountingCodec.search)
    assert scanner.row == 4 and scanner.offset == len(data)
    assert scanner.tracker.rows == 1  # the giant field is over csv's field size limit: left out (the import rejects it)
    assert CountingCodec.encoded < 4 * len(data)
