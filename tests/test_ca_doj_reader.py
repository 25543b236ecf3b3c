"""The DOJ reader: every good record goes through, every bad one is reported with its
physical line, and nothing is lost (read = accepted + rejected)."""

from __future__ import annotations

import bisect
import contextlib
import csv
import io
import itertools
import mmap
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from clearslate.engine.facts import ROW_FACTS
from clearslate.sources import ca_doj
from clearslate.sources.ca_doj import (
    InputError,
    InputFile,
    _FileFacts,
    _line_of_offset,
    _read_line_by_line,
    read_doj_files,
)
from clearslate.sources.line_ends import newlines_in

from doj import conviction, csv_text, row, write

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "cfa"


def read(*paths: Path) -> tuple[duckdb.DuckDBPyConnection, object]:
    con = duckdb.connect()
    return con, read_doj_files(con, list(paths))


def lines_of(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [
        r[0] for r in con.execute("SELECT source_line FROM doj_rows ORDER BY row_id").fetchall()
    ]


def good(i: int) -> list[str]:
    return conviction(f"{i:08d}", "101001002000", "11359 HS-POSSESS FOR SALE", "20100102")


def test_header_and_lines(tmp_path: Path) -> None:
    con, result = read(write(tmp_path / "a.csv", [good(1), good(2)]))
    assert result.files[0].has_header
    assert result.rows_read == 2 and result.rows_accepted == 2
    assert lines_of(con) == [2, 3]


def test_no_header(tmp_path: Path) -> None:
    con, result = read(write(tmp_path / "a.csv", [good(1), good(2)], header=False))
    assert not result.files[0].has_header
    assert lines_of(con) == [1, 2]


def test_bom_header_is_not_a_person(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([good(1)]).encode())
    con, result = read(path)
    assert result.files[0].has_header
    assert con.execute("SELECT SUBJECT_ID FROM doj_rows").fetchall() == [("00000001",)]


@pytest.mark.parametrize("end", ["\n", ""], ids=["line-end", "no-last-line-end"])
@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_blank_lines_move_later_records_down(tmp_path: Path, end: str, projected: bool) -> None:
    """A blank line is looked for only when the file has more lines than records: one blank
    line in a file whose last line has no line end makes as many lines as records and header,
    and must still be seen."""
    text = csv_text([good(1)]) + "\n" + csv_text([good(2), good(3)], header=False)
    path = tmp_path / "blank.csv"
    path.write_text(text.removesuffix("\n") + end)
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert result.rows_read == 3 and not result.rejects
    assert lines_of(con) == [2, 4, 5]


@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_runs_of_blank_lines_move_later_records_down(tmp_path: Path, projected: bool) -> None:
    """Each row moves down by the blank lines before it, runs of them too (the blank lines
    of a run share one row number to compare with, which the ASOF join must count whole)."""
    first, *rest = csv_text([good(i) for i in range(1, 6)]).splitlines()
    gaps = [2, 1, 3, 0, 1]  # blank lines before each record
    text = (
        first + "\n" + "".join("\n" * n + line + "\n" for n, line in zip(gaps, rest, strict=True))
    )
    path = tmp_path / "blanks.csv"
    path.write_text(text + "\n\n")
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert result.rows_read == 5 and not result.rejects
    assert lines_of(con) == [4, 6, 10, 11, 13]


@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_lone_cr_line_in_an_lf_file_is_one_blank_line(tmp_path: Path, projected: bool) -> None:
    """DuckDB numbers a line that holds a CR alone as two lines in a file of LF line ends:
    a quote opened after it and never closed was taken for the next record, one good row
    was counted that was not there, and the run stopped with "internal check failed"
    (found by the CLI fuzz test)."""
    open_quote = csv_text([good(2)], header=False).replace("11359 HS", '"11359 HS', 1)
    path = tmp_path / "lone-cr.csv"  # then a Latin-1 line: read again from a UTF-8 copy
    path.write_bytes((csv_text([]) + "\r\n" + open_quote).encode() + "Ñ\n".encode("latin-1"))
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert [r.line for r in result.rejects] == [3, 4]
    assert result.rows_read == 2 and result.rows_accepted == 0 == len(lines_of(con))


@pytest.mark.parametrize("before", [0, 1], ids=["first-line", "after-a-reject"])
@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_quote_inside_a_quoted_field_loses_no_record_after_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, projected: bool, before: int
) -> None:
    """A line whose first field opens a quote that a quote inside it closes too soon (its
    quotes are even), and that opens another before its end: DuckDB's scan reports it
    without its text (or with the text of the line before, a reject too), and went on
    into the next line, a good record, which was neither read nor reported (found by the
    CLI fuzz test). It is rejected on its line, for the reason the line-by-line reader gives
    (not "a quote is opened and never closed": its quotes are even), and the next is read."""
    stray = '"' + csv_text([good(0)], header=False).replace("11359 HS", '"11359 HS', 1)
    assert stray.count('"') % 2 == 0
    too_many = csv_text([[*good(0), "x"]], header=False) * before
    path = tmp_path / "stray.csv"
    path.write_text(too_many + stray + csv_text([good(1)], header=False))
    select = ROW_FACTS if projected else None
    rows, rejects, rows_read, accepted = read_as_is(path, select)
    assert (rows_read, accepted) == (2 + before, 1)
    assert rejects[before:] == [(1 + before, 1, STRAY_QUOTE)]
    by_lines, _by_scan = read_both(path, monkeypatch, select)
    assert [r[2] for r in rows] == [r[2] for r in by_lines[0]] == [2 + before]  # source_line
    assert by_lines[0] == rows
    # the same lines, for the same reasons (DuckDB names the column, the other reader none)
    assert [(line, reason) for line, _column, reason in by_lines[1]] == [
        (line, reason) for line, _column, reason in rejects
    ]


@pytest.mark.parametrize(
    "cut",
    [
        ("1135\r9 HS", 2),  # inside a field: DuckDB's scanner gives up (line-by-line reader)
        ("\r11359 HS", 2),  # at a field's start: DuckDB reads it as two short records
        ("\r11359 HS", 4),  # on the last line
        ("1\r1359\r HS", 2),  # twice
    ],
    ids=["in-a-field", "at-a-field-start", "last-line", "twice"],
)
@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_cr_inside_an_unquoted_field_is_one_reject_on_its_line(
    tmp_path: Path, cut: tuple[str, int], end: str, projected: bool
) -> None:
    """A CR alone inside an unquoted field was taken for a line end: the line was two
    rejects (the second a line too low, or on the same line twice), and every later record
    was numbered one line too high in errors.csv and in source_line."""
    text, at = cut
    lines = csv_text([good(1), good(2), good(3), good(4)]).split("\n")
    lines[at] = lines[at].replace(",11359 HS", "," + text, 1)
    path = tmp_path / "cr.csv"
    path.write_bytes(end.join(lines).encode())
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (
            at + 1,
            "a carriage return (CR) inside an unquoted field: quote the field or remove the CR",
        )
    ]
    assert result.rows_read == 4 and result.rows_accepted == 3
    assert lines_of(con) == [line for line in (2, 3, 4, 5) if line != at + 1]


def test_the_lines_of_many_offsets_across_read_blocks(tmp_path: Path) -> None:
    """`_line_of_offset` counts each offset's line on from the one before (counted from its
    8 MB block's start, 100,000 rejects took 160 s): the same lines as a count from the
    file's start, for offsets in three blocks, at line starts, line ends and block edges."""
    rng = random.Random(7)
    data = b"".join(b"x" * rng.randrange(0, 300) + b"\n" for _ in range(140_000))
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    block = 8 * 1024 * 1024
    assert len(data) > 2 * block
    offsets = [rng.randrange(len(data)) for _ in range(5_000)]
    offsets += [0, block - 1, block, block + 1, 2 * block, len(data) - 1]
    offsets += [data.index(b"\n", block) + k for k in (0, 1)]
    ends = [m.start() for m in re.finditer(b"\n", data)]
    assert _line_of_offset(path, offsets) == {o: bisect.bisect_left(ends, o) + 1 for o in offsets}


def test_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(csv_text([good(1), good(2)]).replace("\n", "\r\n").encode())
    con, result = read(path)
    assert result.rows_accepted == 2
    assert con.execute("SELECT max(length(END_OF_REC)) FROM doj_rows").fetchone()[0] == 0


def test_latin1_file_is_read_whole(tmp_path: Path) -> None:
    r = good(1)
    r[12] = "TESTPERSÓN,JOSÉ"
    path = tmp_path / "latin1.csv"
    path.write_bytes(csv_text([r, good(2)]).encode("latin-1"))
    con, result = read(path)
    assert result.files[0].encoding == "latin-1"
    assert result.rows_accepted == 2 and not result.rejects
    assert (
        con.execute("SELECT PRI_NAME FROM doj_rows ORDER BY row_id").fetchone()[0]
        == "TESTPERSÓN,JOSÉ"
    )


def test_bad_records_are_rejected_with_physical_lines(tmp_path: Path) -> None:
    multiline = good(2)
    multiline[93] = "first line\nsecond line"  # COMMENT_TEXT spanning two lines
    text = csv_text([good(1), multiline])  # lines 1 header, 2, 3-4
    text += csv_text([good(3)[:94]], header=False)  # line 5: 94 fields
    text += csv_text([good(4)], header=False)  # line 6
    text += csv_text([[*good(5), "extra"]], header=False)  # line 7: 96 fields
    bad_quote = csv_text([good(6)], header=False).replace("11359 HS", '"11359 HS', 1)
    text += bad_quote  # line 8: a quote that is never closed
    text += csv_text([good(7), good(8)], header=False)  # lines 9, 10
    path = tmp_path / "mixed.csv"
    path.write_text(text)
    con, result = read(path)
    assert lines_of(con) == [2, 3, 6, 9, 10]
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejects] == [
        (5, "too few fields"),
        (7, "too many fields"),
        (8, "a quote is opened and never closed; this line was skipped and reading went on at "
            "the next line"),
    ]  # fmt: skip
    assert result.rows_read == result.rows_accepted + len(result.rejects) == 8
    subjects = [
        r[0] for r in con.execute("SELECT SUBJECT_ID FROM doj_rows ORDER BY row_id").fetchall()
    ]
    assert subjects == ["00000001", "00000002", "00000004", "00000007", "00000008"]


NEVER_CLOSED = "a quote is opened and never closed"
STRAY_QUOTE = "a double quote inside an unquoted field, or a quote that is never closed"
STRAY = '99999997,A,"OPENS A QUOTE,' + ",".join(["z"] * 92) + "\n"  # eats the next line


def quoted(rows: list[list[str]]) -> str:
    """Records as a research file has them: every field quoted."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_many_lines_that_open_a_quote_are_read_past_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, projected: bool
) -> None:
    """Each line that opens a quote it never closes is rejected on its line, and every
    other record is read on its own. The part of the file after each such line is read
    only up to the next one the first read found: read on to the file's end each time, a
    200,000-row file with 160 of them took 277 s against 2.8 s for the clean file."""
    multiline = good(900)
    multiline[93] = "TWO\nLINES"
    few = quoted([good(901)[:90]])
    after = {
        3: [STRAY],
        10: [STRAY],
        20: [STRAY, quoted([multiline])],  # a record of two lines right after one
        30: [STRAY, few, "\n", STRAY],  # too few fields, a blank line
        40: [STRAY, STRAY],  # two in a row
        50: [STRAY],
        60: [STRAY],  # the last line: no line after it to eat
    }
    pieces = [p for i in range(1, 61) for p in [quoted([good(i)]), *after.get(i, [])]]
    path = tmp_path / "strays.csv"
    path.write_text(csv_text([]) + "".join(pieces))
    parts: list[int] = []

    def part(*args: object) -> object:
        made = real_part(*args)
        if made is not None:  # (the parts read, by size)
            parts.append(made.path.stat().st_size)
        return made

    real_part = ca_doj._part
    monkeypatch.setattr(ca_doj, "_part", part)
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)

    line, kept, rejected = 2, [], []
    for piece in pieces:
        if piece in (STRAY, few):
            rejected.append(line)
        elif piece != "\n":
            kept.append(line)
        line += piece.count("\n")
    assert lines_of(con) == kept
    assert [r.line for r in result.rejects] == rejected
    assert sum(r.reason.startswith(NEVER_CLOSED) for r in result.rejects) == 8  # (the last: 9)
    assert result.rows_read == result.rows_accepted + len(result.rejects) == len(pieces) - 1
    # A part after each but the last; a line in one of them, but the 10 after the first of
    # two in a row (read to the file's end after each, a line was read 4 times on average).
    assert len(parts) == 8 and sum(parts) < 1.1 * path.stat().st_size


@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_blank_line_after_a_line_with_an_odd_quote_moves_later_records_down(
    tmp_path: Path, projected: bool
) -> None:
    """A line with a quote in its A-number field has three quotes: DuckDB rejects it and
    reads on at the next line. The blank lines were found by quote parity alone, which took
    the rest of the file for a quoted field: the blank line after it went unseen, the later
    records came a line too early, and after another line with a quote never closed, a
    row was read twice, once with no line at all."""
    stray = csv_text([good(2)], header=False).replace("A00000002", '"A00000002', 1)
    never_closed = csv_text([good(4)], header=False).replace("11359 HS", '"11359 HS', 1)
    rows = [good(3), good(5)]
    text = csv_text([good(1)]) + stray + "\n" + csv_text(rows[:1], False)
    text += stray + "\n" + never_closed + csv_text(rows[1:], False)
    path = tmp_path / "odd.csv"
    path.write_text(text)  # header, 1 on 2, stray 3, blank 4, 3 on 5, stray 6, blank 7, ...
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert lines_of(con) == [2, 5, 9]
    assert [r.line for r in result.rejects] == [3, 6, 8]
    assert result.rows_read == result.rows_accepted + len(result.rejects) == 6


@pytest.mark.parametrize("header", [False, True], ids=["no header", "header"])
def test_a_part_that_ends_inside_a_record_is_read_again_with_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: bool
) -> None:
    """A read after a quote never closed can take a later line of a record with quoted
    line ends for another such line: the part read up to it ends inside that record,
    whose quote it leaves open (so it looks never closed). The part is read again with the
    rest of the file, and the record is read whole. (Read as a run reads, first lean: the
    lines the lean read found are where the next read's parts end, its first one too.)"""
    stray = ",".join(["B", '"open', *["z"] * 93]) + "\n"
    first, spanning = [""] * 95, [""] * 95
    first[2], spanning[2] = "00000001", "00000003"
    spanning[92:] = ["\n0\n", '0"', "\n"]  # lines 3 to 6; the read after 2 took 5 for one
    path = tmp_path / "part.csv"
    path.write_text(csv_text([first], header) + stray + csv_text([spanning], False))
    ends: list[bool] = []

    def ends_cleanly(*args: object) -> bool:
        ends.append(real(*args))
        return ends[-1]

    real = ca_doj._ends_cleanly
    monkeypatch.setattr(ca_doj, "_ends_cleanly", ends_cleanly)
    con = duckdb.connect()
    deferred = [("subject_again", '"SUBJECT_ID"')]
    result = read_doj_files(con, [path], select=ROW_FACTS, deferred=deferred)
    assert ends == [True, False]  # line 1 (then 2 rejected unread), then 3-4: cut short
    assert lines_of(con) == [1 + header, 3 + header]
    assert [(r.line, r.reason.split(";")[0]) for r in result.rejects] == [
        (2 + header, NEVER_CLOSED)
    ]


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_records_with_quoted_line_ends_keep_their_lines(
    tmp_path: Path, end: str, projected: bool
) -> None:
    """A file with quoted line ends and no reject: each record's lines are counted from the
    file's bytes (a record ends at the first line end after an even number of quotes; a
    blank line between records is none, one inside a field is the field's), not from its
    raw columns: that took 30 s at 1M rows, one in ten with a quoted line end."""
    rows = [good(i) for i in range(1, 7)]
    rows[1][93] = "TWO\nLINES"
    rows[2][93] = 'THREE\n"QUOTED"\nLINES'
    rows[4][93] = "A BLANK LINE\n\nINSIDE"
    text = csv_text(rows[:2]) + "\n" + csv_text(rows[2:], header=False)
    # header 1, row 1 on 2, row 2 on 3-4, blank 5, row 3 on 6-8, row 4 on 9, row 5 on 10-12
    path = tmp_path / "multiline.csv"
    path.write_bytes(text.replace("\n", end).encode())
    con = duckdb.connect()
    result = read_doj_files(con, [path], select=ROW_FACTS if projected else None)
    assert (result.rows_read, result.rejects) == (6, [])
    assert lines_of(con) == [2, 3, 6, 9, 10, 13]


def test_header_only_is_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(csv_text([]))
    _, result = read(path)
    assert result.rows_read == 0 and not result.rejects


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "is a folder"),
        (lambda p: (p.write_bytes(b""), p)[1], "the file is empty"),
    ],
)
def test_unusable_inputs_are_run_errors(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "input.csv")
    with pytest.raises(InputError, match=message):
        read(path)


def test_several_files_one_table(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", [good(1)])
    b = write(tmp_path / "b.csv", [good(1), good(2)], header=False)
    con, result = read(a, b)
    assert [f.accepted for f in result.files] == [1, 2]
    rows = con.execute("SELECT file_index, source_line FROM doj_rows ORDER BY row_id").fetchall()
    assert rows == [(0, 2), (1, 1), (1, 2)]


def test_field_of_one_megabyte(tmp_path: Path) -> None:
    r = good(1)
    r[93] = "X" * 1_000_000
    con, result = read(write(tmp_path / "big.csv", [r, good(2)]))
    assert result.rows_accepted == 2
    assert con.execute("SELECT max(length(COMMENT_TEXT)) FROM doj_rows").fetchone()[0] == 1_000_000


def test_a_small_memory_limit_reads_shorter_records_and_says_so(tmp_path: Path) -> None:
    """DuckDB's read buffers (twice the longest record) cannot spill, so under a small
    --memory-limit a read takes shorter records (`record_limit`); a longer one is rejected
    on its line with the limit named, and every other record is read."""
    long = good(2)
    long[93] = "X" * 3_000_000
    path = write(tmp_path / "long.csv", [good(1), long, good(3)])
    _con, at_default = read(path)
    assert at_default.rows_accepted == 3 and at_default.files[0].max_record == 16 * 2**20
    con = duckdb.connect(config={"memory_limit": "40MB"})
    small = read_doj_files(con, [path])
    assert small.files[0].max_record == 2 * 2**20
    assert (small.rows_read, small.rows_accepted) == (3, 2)
    assert lines_of(con) == [2, 4]
    (reject,) = small.rejects
    assert reject.line == 3
    assert reject.reason == (
        "record longer than 2 MB (the longest a run at this --memory-limit reads; at 1GB, 16 MB)"
    )


def test_the_line_by_line_reader_agrees_on_a_long_file(tmp_path: Path) -> None:
    """The line-by-line reader (for files DuckDB's scanner refuses) holds a window of lines
    and inserts 10,000 rows at a time, not the whole file. On a file longer than both, with
    a quote never closed after the first 10,000 rows, a Latin-1 letter and CRLF line ends, it
    keeps what DuckDB's scan keeps, on the same lines, and rejects the same line."""
    rows = [good(i) for i in range(10_050)]
    rows[10_030][rows[10_030].index("TESTPERSON,00010030")] = "MU\u00d1OZ,00010030"
    text = csv_text(rows[:10_020]) + 'B,"open,z\n' + csv_text(rows[10_020:], header=False)
    path = tmp_path / "long.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode("latin-1"))
    kept = "SELECT row_id, SUBJECT_ID, PRI_NAME, source_line FROM doj_rows ORDER BY row_id"
    con, scanned = read(path)
    by_scan = con.execute(kept).fetchall()
    con.execute("DELETE FROM doj_rows")
    info = InputFile(path=str(path), size=path.stat().st_size, has_header=True)
    assert _read_line_by_line(con, "doj_rows", 0, path, info, 0) == 10_050
    assert con.execute(kept).fetchall() == by_scan
    assert by_scan[10_030][2:] == ("MU\u00d1OZ,00010030", 10_033)
    assert info.encoding == scanned.files[0].encoding == "latin-1"
    assert [r.line for r in info.rejects] == [r.line for r in scanned.rejects] == [10_022]
    assert (info.data_records, info.accepted) == (10_051, 10_050)


def read_as_is(
    path: Path, select: object = None, memory_limit: str = "1GB"
) -> tuple[list[tuple], list[tuple], int, int]:
    """`path` read: the rows, the rejects (line, column, reason), rows read and accepted."""
    con = duckdb.connect(config={"memory_limit": memory_limit})
    result = read_doj_files(con, [path], select=select)
    # (by name: a table scanned whole, or its first part, keeps the scan's column order)
    first = ["row_id", "file_index", "source_line"]
    names = sorted(d[0] for d in con.execute("SELECT * FROM doj_rows LIMIT 0").description)
    rest = [name for name in names if name not in (*first, "source_file")]
    columns = ", ".join(f'"{name}"' for name in [*first, *rest])
    rows = con.execute(f"SELECT {columns} FROM doj_rows ORDER BY row_id").fetchall()
    rejects = [(r.line, r.column, r.reason) for r in result.rejects]
    return rows, rejects, result.rows_read, result.rows_accepted


def read_both(
    path: Path, monkeypatch: pytest.MonkeyPatch, select: object = None, memory_limit: str = "1GB"
) -> list[tuple[list[tuple], list[tuple], int, int]]:
    """`path` read (`read_as_is`) by the line-by-line reader (as a file of mostly misshapen
    records is), then by DuckDB's scan of the whole file (no line read around)."""
    read = []
    monkeypatch.setattr(ca_doj, "runaway_lines", lambda *_: [])
    for misshapen in (True, False):
        monkeypatch.setattr(ca_doj, "_mostly_misshapen", lambda *_, m=misshapen: m)
        read.append(read_as_is(path, select, memory_limit))
    monkeypatch.undo()
    return read


def misshapen_file(path: Path) -> Path:
    """Most of the first records with fields too many (a delimiter after the line, or a
    spreadsheet's 30 empty columns) or too few, the others good, and a line of another
    delimiter: the line-by-line reader reads such a file (`_mostly_misshapen`)."""
    text = csv_text([good(1)])
    for i in range(2, 302):
        record = good(i) if i % 3 == 0 else [*good(i), ""] if i % 3 == 1 else good(i)[:80]
        text += csv_text([record], header=False).replace(
            "\n", ",,,,,,,,,,\n" if i % 7 == 0 else "\n"
        )
    text += "A;B;C\n" + csv_text([good(302)], header=False)
    path.write_text(text)
    return path


def semicolon_file(path: Path) -> Path:
    """A research file saved with semicolons: each line one field to a CSV reader, its
    quoted names holding quotes inside that field."""
    path.write_text(csv_text([good(i) for i in range(1, 41)]).replace(",", ";"))
    return path


@pytest.mark.parametrize("make", [misshapen_file, semicolon_file], ids=["mixed", "semicolons"])
@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_file_of_mostly_misshapen_records_reads_as_duckdb_would(
    tmp_path: Path, projected: bool, make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's scan reports a record once per field too many or too few, each report with
    the whole line, so a file of such records held memory growing with its size. Such a file
    goes to the line-by-line reader, which keeps and rejects what DuckDB's scan does: the
    same rows on the same lines, the same rejects with the same columns and reasons."""
    path = make(tmp_path / "misshapen.csv")
    assert ca_doj._mostly_misshapen(path, InputFile(path=str(path), size=0, has_header=True))
    by_lines, by_scan = read_both(path, monkeypatch, ROW_FACTS if projected else None)
    assert by_lines == by_scan
    _rows, rejects, rows_read, accepted = by_lines
    # the column DuckDB names: the first field too many, or the number of fields read
    shapes = {(column, reason.split(":")[0]) for _, column, reason in rejects}
    if make is semicolon_file:
        assert (rows_read, accepted, shapes) == (40, 0, {(1, "too few fields")})
        return
    # good(1); 300 records of which 86 good (every third, but not with 10 commas after it,
    # every seventh); the line of semicolons; good(302)
    assert (rows_read, accepted, len(rejects)) == (303, 88, 215)
    assert shapes == {
        (96, "too many fields"), (80, "too few fields"), (90, "too few fields"),
        (1, "too few fields"),
    }  # fmt: skip


_SHAPES = st.sampled_from([1, 2, 50, 94, 95, 95, 95, 96, 97, 130])


# derandomize: the same examples on every run (the readers differ on rarer shapes than these
# assumptions exclude; a run must not turn red on one by chance).
_SAME_25_EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@_SAME_25_EXAMPLES
@given(
    records=st.lists(
        st.tuples(_SHAPES, st.text(alphabet='aB1 ,"\n\u00e9;\t', max_size=4)),
        min_size=20,
        max_size=60,
    ),
    header=st.booleans(),
)
def test_both_readers_agree_on_any_file_of_valid_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, records, header: bool
) -> None:
    """Valid CSV records of any number of fields, any text in them (commas, quotes, line
    ends, semicolons, tabs): the line-by-line reader, which reads a file of mostly
    misshapen records, keeps and rejects exactly what DuckDB's scan does. (Up to its
    window: a record of more than 100 lines it takes for a quote never closed. And not for
    a record of one field holding only line ends, as `"\n"`, where DuckDB's reader finds a
    quote never closed and both go on differently.)"""
    assume(all(n * value.count("\n") < 100 for n, value in records))
    assume(not any(n == 1 and value and not value.strip("\n") for n, value in records))
    path = tmp_path / "any.csv"
    path.write_text(csv_text([[value] * n for n, value in records], header=header))
    by_lines, by_scan = read_both(path, monkeypatch)
    assert by_lines == by_scan
    assert by_lines[2] == len(records)


def run_together(path: Path, records: int, good_before: int = 50, good_after: int = 50) -> Path:
    """Good records, then `records` records on one line (their line ends lost), then good
    records again."""
    lines = csv_text([good(i) for i in range(good_before + records + good_after)]).split("\n")
    joined = "".join(lines[1 + good_before : 1 + good_before + records])
    kept = [*lines[: 1 + good_before], joined, *lines[1 + good_before + records :]]
    path.write_text("\n".join(kept))
    return path


@pytest.mark.parametrize("projected", [False, True], ids=["raw", "projected"])
def test_a_line_of_records_run_together_is_read_around_as_duckdb_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, projected: bool
) -> None:
    """A line of thousands of fields (here 100 records whose line ends were lost) is read
    around (`runaway_lines`): rejected on its line, with the column DuckDB's scan names,
    and the parts before and after it scanned. The same rows, lines and reject as DuckDB's
    scan of the whole file, which takes that line a report per field, and as the
    line-by-line reader."""
    path = run_together(tmp_path / "joined.csv", 100)
    (line,) = ca_doj.runaway_lines(path)
    too_many = "too many fields: a DOJ record has 95"
    assert ca_doj._runaway_cuts(path, [line], 2**20) == (ca_doj._Cut(line[0], 52, 96, too_many),)
    select = ROW_FACTS if projected else None
    around = read_as_is(path, select)
    assert read(path)[1].files[0].reader == "duckdb"  # (said in the manifest)
    by_lines, by_scan = read_both(path, monkeypatch, select)
    assert around == by_scan == by_lines
    rows, rejects, rows_read, accepted = around
    assert (rows_read, accepted) == (101, 100)
    assert rejects == [(52, 96, too_many)]
    assert [r[2] for r in rows] == [*range(2, 52), *range(53, 103)]  # source_line


def test_a_line_of_records_run_together_too_long_to_read_is_read_around(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line of records run together longer than the longest record a read takes is
    rejected for its length, as the line-by-line reader rejects it. (DuckDB's scan would
    still report it field by field, for minutes: `max_line_size` does not stop that.)"""
    path = run_together(tmp_path / "joined.csv", 8_500, good_before=20, good_after=20)
    assert ca_doj.runaway_lines(path)[0][1] - ca_doj.runaway_lines(path)[0][0] > 2 * 2**20
    around = read_as_is(path, memory_limit="40MB")
    monkeypatch.setattr(ca_doj, "_mostly_misshapen", lambda *_: True)
    assert around == read_as_is(path, memory_limit="40MB")  # line by line
    too_long = (
        "record longer than 2 MB (the longest a run at this --memory-limit reads; at 1GB, 16 MB)"
    )
    assert around[1:] == ([(22, None, too_long)], 41, 40)


@pytest.mark.parametrize(
    "before, joined",
    [
        ("", 'A,"x"y,' * 2_000),  # a quote inside a field: not valid CSV
        ("", 'A,"x,' * 2_001),  # a quote never closed
        ('B,"open\n', "A," * 4_000 + '"q"'),  # inside a record opened before it
        ("", "\n".join(["A," * 4_000] * 11)),  # more than 10 in a file under 2.75 MB
    ],
    ids=["stray quote", "never closed", "inside a record", "too many"],
)
def test_a_long_line_that_cannot_be_read_around_is_read_line_by_line(
    tmp_path: Path, before: str, joined: str
) -> None:
    """Where the reader cannot tell that a read around a line of thousands of fields would
    read as DuckDB's scan does (the line is not valid CSV, or is inside a record), or where
    reading the parts between many such lines would take longer, it reads the file line by
    line, and says so."""
    text = csv_text([good(i) for i in range(10)])
    path = tmp_path / "f.csv"
    path.write_text(text + before + joined + "\n" + csv_text([good(11)], header=False))
    assert ca_doj.runaway_lines(path)
    _con, result = read(path)
    assert result.files[0].reader == "line by line"
    assert result.rows_accepted == 11


def test_a_long_line_in_a_latin_1_file_is_read_line_by_line(tmp_path: Path) -> None:
    """A file that turns out not to be UTF-8 is read again as Latin-1 from a UTF-8 copy,
    whose bytes are not the file's: the lines to read around are not where they were
    found, so it is read line by line, its Latin-1 letters read as such."""
    rows = [good(i) for i in range(12)]
    rows[11][rows[11].index("TESTPERSON,00000011")] = "MU\u00d1OZ,00000011"
    text = csv_text(rows[:10]) + "A," * 4_000 + "\n" + csv_text(rows[10:], header=False)
    path = tmp_path / "latin1.csv"
    path.write_bytes(text.encode("latin-1"))
    assert ca_doj._runaway_cuts(path, ca_doj.runaway_lines(path), 2**20)  # (found as UTF-8)
    con, result = read(path)
    assert (result.files[0].reader, result.files[0].encoding) == ("line by line", "latin-1")
    names = con.execute("SELECT PRI_NAME FROM doj_rows ORDER BY row_id").fetchall()
    assert (result.rows_accepted, names[-1][0]) == (12, "MU\u00d1OZ,00000011")
    assert [(r.line, r.column) for r in result.rejects] == [(12, 96)]


def test_a_long_line_of_95_fields_is_read_by_duckdb(tmp_path: Path) -> None:
    """A record of 95 fields with thousands of commas inside quotes is a record like any
    other: not read around."""
    record = good(2)
    record[93] = "," * 3_000 + "x" * 6_000
    path = write(tmp_path / "f.csv", [good(1), record, good(3)])
    assert ca_doj.runaway_lines(path)
    assert ca_doj._runaway_cuts(path, ca_doj.runaway_lines(path), 2**20) == ()
    _con, result = read(path)
    assert (result.files[0].reader, result.rows_accepted, result.rejects) == ("duckdb", 3, [])


_PIECES = {
    "good": lambda i: csv_text([good(i)], header=False),
    "line end in a field": lambda i: csv_text([[*good(i)[:93], "a\nb", "z"]], header=False),
    "blank": lambda i: "\n",
    "never closed": lambda i: 'B,"open,z\n',
    "too few": lambda i: csv_text([good(i)[:50]], header=False),
    "run together": lambda i: "".join(
        csv_text([good(i + k)], header=False).rstrip("\n") for k in range(35)
    ) + "\n",
    "run together, quoted": lambda i: "".join(
        csv_text([[*good(i + k)[:93], "q,\"r", "z"]], header=False).rstrip("\n")
        for k in range(35)
    ) + "\n",
}  # fmt: skip


@_SAME_25_EXAMPLES
@given(
    pieces=st.lists(st.sampled_from(sorted(_PIECES)), min_size=1, max_size=12),
    crlf=st.booleans(),
)
# a blank line in a part between long lines; a quote never closed that runs into one
@example(pieces=["run together", "good", "blank", "good", "run together", "good"], crlf=False)
@example(pieces=["never closed", "run together", "good"], crlf=True)
def test_a_file_read_around_its_long_lines_reads_as_duckdb_reads_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pieces: list[str], crlf: bool
) -> None:
    """Any file of good records, records with a quoted line end, blank lines, quotes never
    closed, short records and lines of records run together (with quoted commas and quotes
    in them): read around its long lines, it gives the rows, lines and rejects of DuckDB's
    scan of the whole file. Where a quote never closed runs into such a line, the file is
    read line by line instead (whose rejects of such quotes name no column)."""
    text = csv_text([good(0)]) + "".join(_PIECES[kind](100 * i) for i, kind in enumerate(pieces))
    path = tmp_path / "f.csv"
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
    around = read_as_is(path)
    reader = read(path)[1].files[0].reader
    by_lines, by_scan = read_both(path, monkeypatch)
    assert around == (by_lines if reader == "line by line" else by_scan)
    assert reader == "duckdb" or "never closed" in pieces


def test_a_record_too_long_is_rejected_alike_by_both_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line-by-line reader reads past a line longer than the longest record a read
    takes, as DuckDB's scan does, and rejects it for its length: it holds a few lines, not
    a line of gigabytes."""
    long, quoted = good(2), good(4)
    long[93], quoted[93] = "X" * 3_000_000, '"' + "Y" * 3_000_000
    path = write(tmp_path / "long.csv", [good(1), long, good(3), quoted, good(5)])
    by_lines, by_scan = read_both(path, monkeypatch, memory_limit="40MB")
    assert by_lines == by_scan
    rows, rejects, rows_read, accepted = by_lines
    too_long = (
        "record longer than 2 MB (the longest a run at this --memory-limit reads; at 1GB, 16 MB)"
    )
    assert rejects == [(3, None, too_long), (5, None, too_long)]
    assert (rows_read, accepted, [r[2] for r in rows]) == (5, 3, [2, 4, 6])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    lines=st.lists(
        st.sampled_from(["record", "long", "runaway", "almost"]), min_size=1, max_size=8
    ),
    shift=st.integers(0, 3 * 4096),
    end=st.sampled_from(["\n", "\r\n", "\r"]),
    last_end=st.booleans(),
)
def test_a_runaway_line_is_found_wherever_it_lies(
    lines, shift: int, end: str, last_end: bool
) -> None:
    """A line of 2,000 commas or more and 8 KB or longer is found wherever it lies against
    the 4 KB windows looked at (at the start, across windows, last without a line end; LF,
    CRLF or CR line ends), from its first byte to its line end (a CRLF line's CR is the
    line's, as DuckDB's reader has it); long lines with fewer commas are not."""
    text = {
        "record": ",".join(good(1)),
        "long": "X" * 40_000 + ",,,",
        "runaway": "abc," * 2_000 + "x" * 8_000,  # 16 KB
        "almost": "abc," * 1_999 + "x" * 20_000,
    }
    pieces = ["Y" * shift, *(text[kind] for kind in lines)]
    body = end.join(pieces) + (end if last_end else "")
    starts = list(itertools.accumulate((len(p) + len(end) for p in pieces), initial=0))
    ended = [True] * (len(pieces) - 1) + [last_end]
    cr = len(end) - 1  # (1 for CRLF)
    expected = [
        (start, start + len(piece) + cr * has_end)
        for start, piece, has_end in zip(starts, pieces, ended, strict=False)
        if piece == text["runaway"]
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(body.encode())
        assert ca_doj.runaway_lines(path) == expected


def in_fresh_python(code: str, path: Path) -> list[str]:
    """What `code` prints, run in a fresh interpreter with `path` as its argument (so that
    its peak memory is its own), split into words. It has `sys`, `Path` and `peak_mib()`,
    the process's peak RSS so far."""
    prelude = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "def peak_mib(): return int(re.search(r'VmHWM:\\s*(\\d+)', "
        "Path('/proc/self/status').read_text())[1]) // 1024\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def short_lines(path: Path, blocks: int = 32) -> Path:
    """Lines `a,b,c` in blocks of 8 MB: 256 MB of them, unless told how many blocks."""
    with path.open("wb") as out:
        for _ in range(blocks):
            out.write(b"a,b,c\n" * (8 * 2**20 // 6))
    return path


def test_the_look_for_a_runaway_line_holds_little_of_the_file(tmp_path: Path) -> None:
    """The look maps the file and reads a page of every 4 KB: mapped pages count in the
    process's RSS, so without letting go of them a 10M-row file's look peaked at 8 GB."""
    path = short_lines(tmp_path / "big.csv")
    found, grew_mib = in_fresh_python(
        "from clearslate.sources.ca_doj import runaway_lines\n"
        "before = peak_mib()\n"
        "print(runaway_lines(Path(sys.argv[1])) != [], peak_mib() - before)\n",
        path,
    )
    assert found == "False"
    assert int(grew_mib) < 100, grew_mib  # 64 MB mapped at most, not 256


def test_the_look_and_the_line_count_read_a_file_from_the_disk_once(tmp_path: Path) -> None:
    """On a machine whose page cache cannot hold the file, the look for long lines and the
    line count begun with it (`_FileFacts`) read each page from the disk once between them:
    the look waits for the disk in a read, which lets go of the interpreter's lock
    (`wait_for_pages`). Waiting in the mapped file's page faults, it held the lock, the
    count fell behind, and read the file from the disk again: 1.86-2.05 x the file here, and
    27 GB for a 10M-row file of 8.2 GB in a decisions-only run on 3 GiB of memory. The
    emulated machine: a cgroup of 250 MiB, reads at 200 MB/s. The reads are counted after
    the imports (whose libraries, NumPy's since the thirty-second session, are read from
    the disk too): 1.06-1.13 x the file (1.00-1.11 x before NumPy counted the lines)."""
    path = short_lines(tmp_path / "big.csv", blocks=64)  # 512 MB
    imports = "from clearslate.sources.ca_doj import InputFile, _FileFacts, runaway_lines\n"
    look_and_count = (
        "facts = _FileFacts(path)\n"
        "info = InputFile(path=str(path), size=0)\n"
        "print(runaway_lines(path))\n"
        "facts.give(info)\n"
        "print(info._lines)\n"
    )
    read_bytes, printed = in_cgroup(imports, look_and_count, path, 250 * 2**20, 200_000_000)
    assert printed.split() == ["[]", str(64 * (8 * 2**20 // 6))]
    assert read_bytes < 1.5 * path.stat().st_size, read_bytes / path.stat().st_size


def in_cgroup(imports: str, code: str, path: Path, memory: int, read_bps: int) -> tuple[int, str]:
    """The bytes read from the disk by `code`, run after `imports` in a fresh interpreter
    with `path` (a `Path`) as `path`, in a cgroup of `memory` bytes whose reads are
    throttled to `read_bps`, after the page cache is dropped (`bench/small_memory.py`); and
    what `code` printed. The reads are counted after the imports: their libraries are read
    from the disk too (NumPy's some 57 MB). Skips where that cannot be done: it needs root
    and the cgroup v1 memory and blkio controllers."""
    if os.geteuid() != 0 or not Path("/sys/fs/cgroup/blkio").is_dir():
        pytest.skip("needs root and the cgroup v1 memory and blkio controllers")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
        import small_memory
    printed = path.with_name("printed.txt")
    groups = small_memory.cgroups(memory, read_bps, small_memory.device(path))
    program = (
        f"import sys\nfrom pathlib import Path\n{imports}"
        "def _disk_reads() -> int:  # (the process's bytes read from the disk so far)\n"
        "    return int(Path('/proc/self/io').read_text().split('read_bytes:')[1].split()[0])\n"
        "_before = _disk_reads()\n"
        f"path = Path(sys.argv[1])\n{code}"
        "print(_disk_reads() - _before)\n"
    )
    try:
        _seconds, _read_bytes, _rss, exit_code = small_memory.measure(
            [sys.executable, "-c", program, str(path)], groups, printed
        )
    finally:
        small_memory.remove(groups)
    assert exit_code == 0, printed.read_text()[-2000:]
    output, read_bytes = printed.read_text().strip().rsplit("\n", 1)
    return int(read_bytes), output


def test_the_look_says_how_far_it_is_every_64_mb(tmp_path: Path) -> None:
    """(for the progress bar: a look from the disk took 6 s of a 10M-row file's reading)"""
    path = short_lines(tmp_path / "big.csv")
    places: list[int] = []
    assert ca_doj.runaway_lines(path, places.append) == []
    step = 64 * 1024 * 1024
    assert places == list(range(step, path.stat().st_size, step))


@pytest.mark.parametrize(
    ("shape", "counts"),
    [
        # 3,000 records of 300 empty fields too many each: 900,000 reports of a 1 KB line
        # in DuckDB's reject table, 2 GiB of memory (commit cdbc9e1)
        ("wide", (3_000, 0, 3_000)),
        # 500 records on one line among 1,000 good ones: 1,532 MiB (commit cc1a5bc)
        ("run together", (1_001, 1_000, 1)),
    ],
)
def test_a_file_of_records_with_many_fields_too_many_is_read_in_little_memory(
    tmp_path: Path, shape: str, counts: tuple[int, int, int]
) -> None:
    """A file of records with fields too many, or with one line of records run together,
    read in under 300 MiB (DuckDB's scan keeps a report per field too many, each with its
    line: these go to the line-by-line reader)."""
    path = tmp_path / "wide.csv"
    if shape == "wide":
        path.write_text(csv_text([good(i) for i in range(3_000)]).replace("\n", "," * 300 + "\n"))
    else:
        run_together(path, 500, good_before=500, good_after=500)
    rows_read, accepted, rejected, peak_mib = map(
        int,
        in_fresh_python(
            "from clearslate import database\n"
            "from clearslate.sources.ca_doj import read_doj_files\n"
            "con = database.connect(config={'memory_limit': '1GB'})\n"
            "con.execute('SET enable_progress_bar = false')\n"
            "read = read_doj_files(con, [Path(sys.argv[1])])\n"
            "print(read.rows_read, read.rows_accepted, len(read.rejects), peak_mib())\n",
            path,
        ),
    )
    assert (rows_read, accepted, rejected) == counts
    assert peak_mib < 300, peak_mib


@pytest.mark.parametrize(
    "name",
    [
        "BEAR/test/fixtures/file.dat",
        "gogen/test_fixtures/no_headers.csv",
        "gogen/test_fixtures/extra_comma.csv",
    ],
)
def test_public_samples_read_clean(name: str) -> None:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip("shared samples not present")
    _, result = read(path)
    assert result.rows_accepted > 30 and not result.rejects


def test_public_bad_sample_rejects_one_row() -> None:
    path = SAMPLES / "BEAR/test/fixtures/bad_csv_file.dat"
    if not path.exists():
        pytest.skip("shared samples not present")
    _, result = read(path)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (2, "too few fields: a DOJ record has 95")
    ]
    assert result.rows_read == result.rows_accepted + 1


_field = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(
        st.one_of(
            st.builds(lambda s: row(SUBJECT_ID=s, OFFENSE_DESCR=s), _field),
            st.lists(_field, min_size=1, max_size=100),
        ),
        max_size=8,
    ),
    tail=st.sampled_from(["", "\n", '"', "a,b\n", '"unterminated\n']),
)
def test_nothing_is_lost_on_arbitrary_input(tmp_path: Path, records, tail: str) -> None:
    """Whatever the bytes, the reader returns (no exception) and accounts for every record."""
    path = tmp_path / "fuzz.csv"
    text = csv_text(records, header=False) + tail
    if not text:
        return
    path.write_text(text)
    con, result = read(path)
    kept = con.execute("SELECT count(*) FROM doj_rows").fetchone()[0]
    assert kept == result.rows_accepted
    assert result.rows_read == result.rows_accepted + len(result.rejects)
    if tail == "" and not any("\r" in f for r in records for f in r):
        # A clean CSV (a bare CR outside quotes is not: Python's writer leaves it unquoted):
        # every 95-field record is kept and every other one rejected.
        assert result.rows_accepted == sum(1 for r in records if len(r) == 95)
        assert len(result.rejects) == sum(1 for r in records if len(r) != 95)


def test_the_line_count_beside_the_scan_stops_with_the_read(tmp_path: Path) -> None:
    """A read that stops (Ctrl-C, SIGTERM, an error) sets `halt`, and the line count beside
    DuckDB's scan ends at its next 8 MB instead of counting the whole file: Ctrl-C during the
    scan of a 10M-row file took 25 s to stop the run, 2.3 s with this."""
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * (5 * 1024 * 1024))  # 20 MB: three chunks
    facts = _FileFacts(path)
    counted = InputFile(path=str(path), size=path.stat().st_size)
    facts.give(counted)
    assert counted._lines == 5 * 1024 * 1024  # type: ignore[attr-defined]
    # Counted again, on this thread, once halted: it ends at its first chunk, and gives
    # nothing.
    facts.halt.set()
    facts._counted = None
    facts._count(path)
    stopped = InputFile(path=str(path), size=path.stat().st_size)
    facts.give(stopped)
    assert not hasattr(stopped, "_lines")


def test_the_reading_progress_goes_through_every_file_and_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While files are read, `read_percent` gives how far through their bytes the reader
    is, not DuckDB's progress of one scan (which starts again at each file, at each part of
    a file read in parts, and knows nothing of the line-by-line reader): the bar of a
    statewide run of many files moves once from 0 to 100. Each file's look for long lines
    counts for its share (`_LOOK_SHARE`) of the file's reading."""
    clean = write(tmp_path / "clean.csv", [good(i) for i in range(300)])
    around = run_together(tmp_path / "around.csv", 100, good_before=100, good_after=100)
    misshapen = tmp_path / "misshapen.csv"  # read line by line, 3,000 lines
    misshapen.write_text(csv_text([good(i) for i in range(3_000)]).replace("\n", ",\n"))
    paths = [clean, around, misshapen]
    sizes = [p.stat().st_size for p in paths]
    (cut,) = ca_doj.runaway_lines(around)
    con = duckdb.connect()
    # (as a run sets it, and DuckDB's progress from a query's start, not after 2 s)
    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    con.execute("SET progress_bar_time = 0")
    # each time a scan ends or the line-by-line reader moves on: the first byte of the
    # file among all, the bytes of it read, and what the bar shows then
    reached: list[tuple[int, int, float | None]] = []
    real = ca_doj._ReadProgress.reached

    def spy(self: ca_doj._ReadProgress, at: int) -> None:
        real(self, at)
        reached.append((self.place.before, at, ca_doj.read_percent(con)))

    monkeypatch.setattr(ca_doj._ReadProgress, "reached", spy)
    looked: list[tuple[int, int, float | None]] = []  # as `reached`, as each look ends
    real_look = ca_doj._ReadProgress.looking

    def look_spy(self: ca_doj._ReadProgress, at: int) -> None:
        real_look(self, at)
        looked.append((self.place.before, at, ca_doj.read_percent(con)))

    monkeypatch.setattr(ca_doj._ReadProgress, "looking", look_spy)
    polled: list[float] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            with contextlib.suppress(duckdb.Error):  # (between two queries)
                if (pct := ca_doj.read_percent(con)) is not None and pct >= 0:
                    polled.append(pct)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        result = read_doj_files(con, paths)
    finally:
        done.set()
        poller.join()
    assert [f.reader for f in result.files] == ["duckdb", "duckdb", "line by line"]
    # each file looked at whole before it is read (these are under the look's 64 MB steps)
    total, look = sum(sizes), ca_doj._LOOK_SHARE
    assert looked == [
        (0, sizes[0], 100 * look * sizes[0] / total),
        (sizes[0], sizes[1], 100 * (sizes[0] + look * sizes[1]) / total),
        (sizes[0] + sizes[1], sizes[2], 100 * (sizes[0] + sizes[1] + look * sizes[2]) / total),
    ]
    # the clean file in one scan; the other in two, before and after its long line
    assert reached[:3] == [
        (0, sizes[0], 100 * sizes[0] / total),
        (sizes[0], cut[0], 100 * (sizes[0] + look * sizes[1] + (1 - look) * cut[0]) / total),
        (sizes[0], sizes[1], 100 * (sizes[0] + sizes[1]) / total),
    ]
    by_lines = reached[3:]  # every 1,000 lines
    assert len(by_lines) >= 2 and {before for before, _, _ in by_lines} == {sizes[0] + sizes[1]}
    shown = [pct for _, _, pct in reached]
    assert shown == sorted(shown) and shown[-1] <= 100
    assert polled == sorted(polled) and polled[0] >= 0 and polled[-1] <= 100
    assert ca_doj.read_percent(con) is None  # (no read under way: a bar's stage is done)


@pytest.mark.parametrize(
    "text", [b"", b"no line end", b"a\nb\r\nc\n", "\u00e9\u4e2d\n".encode(), b"\n" * 100_003]
)
def test_newlines_in_counts_the_line_feeds_of_a_block_however_it_is_held(
    text: bytes, tmp_path: Path
) -> None:
    """The line count, the reader's parts and the bundle's check count a block's lines with
    `newlines_in`: held as bytes, a buffer, or a view of a mapped file."""
    assert newlines_in(text) == newlines_in(bytearray(text)) == text.count(b"\n")
    assert newlines_in(memoryview(text)[1:]) == text[1:].count(b"\n")
    path = tmp_path / "block"
    path.write_bytes(text + b"x")  # (an empty file cannot be mapped)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = memoryview(mm)
        try:
            assert newlines_in(view) == text.count(b"\n")
        finally:
            view.release()
