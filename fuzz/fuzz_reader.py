"""A long property-based fuzz run of the DOJ reader (hypothesis).

Each example is a research file built from pieces whose place is known: good records (any
text in any field: commas, quotes, line ends, accents), records with too few or too many
fields, lines that open a quote and never close it (or close it with a quoted field's
opening quote), blank lines; with or without a header, a byte-order mark, CRLF line ends,
Latin-1 bytes. The properties:

* nothing is lost: rows read = accepted + rejected, and the table holds the accepted rows;
* every good record is accepted, on its own physical line, with its fields intact;
* every bad record is rejected, on its own physical line, and nothing else is;
* the line-by-line reader (the fallback when DuckDB's scanner gives up) gives the same.

    PYTHONPATH=src python fuzz/fuzz_reader.py --examples 5000 [--seed 1]

Prints the number of inputs tried and the failures found (a failing input is shrunk by
hypothesis and written to the system's temporary folder). The exit code is 1 if any property failed.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import duckdb
from _common import run_property
from hypothesis import assume
from hypothesis import strategies as st

from clearslate.sources.ca_doj import (
    InputFile,
    _declared_encoding,
    _has_header,
    _read_line_by_line,
    read_doj_files,
)
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from doj import begins_a_record_over_lines

N = len(DOJ_COLUMNS)
SUBJECT = DOJ_COLUMNS.index("SUBJECT_ID")

_text = st.text(
    alphabet=st.sampled_from(list('abcXYZ019 ,"\n.-/()ÑéÉ#')), max_size=12
)  # any field content a file may hold


def _record(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


@st.composite
def _good(draw: st.DrawFn) -> tuple[str, str]:
    fields = draw(st.lists(_text, min_size=N, max_size=N))
    fields[SUBJECT] = "G"  # replaced by a unique marker when the file is built
    return ("good", _record(fields))


@st.composite
def _bad(draw: st.DrawFn) -> tuple[str, str]:
    # (a runaway line sends the whole file to the line-by-line reader: drawn rarely, so
    # that most files still take DuckDB's path)
    kind = draw(st.sampled_from([*["few", "many", "quote", "odd"] * 10, "runaway"]))
    if kind == "few":
        n = draw(st.integers(1, N - 1))
        fields = ["x" if i != 0 else "B" for i in range(n)]
        return ("bad", _record(fields))
    if kind == "many":
        return ("bad", _record(["B", *["y"] * N]))
    if kind == "runaway":  # records run together: 2,100 fields, 10 KB (`runaway_lines`)
        return ("bad", _record(["B", *["yyyy"] * 2100]))
    if kind == "odd":
        # a stray quote at a field's start, closed by a quoted field's opening quote later on
        # the line: three quotes, the last one left open (DuckDB reads on at the next line)
        fields = ["B", *["z"] * (N - 1)]
        at = draw(st.integers(1, N - 2))
        fields[at] = '"A1'
        fields[draw(st.integers(at + 1, N - 1))] = '"T,1"'
        return ("bad", ",".join(fields) + "\n")
    # a line that opens a quote and never closes it: no other quote on the line
    fields = ["B", *["z"] * (N - 1)]
    fields[draw(st.integers(1, N - 1))] = '"open'
    return ("bad", ",".join(fields) + "\n")


_piece = st.one_of(_good(), _good(), _bad(), st.just(("blank", "\n")))


def build(
    pieces: list[tuple[str, str]], header: bool, bom: bool, crlf: bool
) -> tuple[bytes, list[tuple[str, int, str]]]:
    """The file and, per good or bad piece, (kind, physical line, marker)."""
    out, expected, line, bad_starts = [], [], 1, []
    if header:
        out.append(",".join(DOJ_COLUMNS) + "\n")
        line += 1
    for i, (kind, text) in enumerate(pieces):
        marker = f"G{i:04d}"
        if kind == "good":
            text = text.replace(",G,", f",{marker},", 1)
        if kind in ("good", "bad"):
            expected.append((kind, line, marker))
        if kind == "bad":
            bad_starts.append(sum(map(len, out)))
        out.append(text)
        line += text.count("\n")
    data = "".join(out)
    # (a bad line's open quote that a later line closes into a valid record is not bad)
    assume(not any(begins_a_record_over_lines(data[start:]) for start in bad_starts))
    if crlf:
        data = data.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"), expected


def file_strategies(max_pieces: int) -> dict[str, st.SearchStrategy[Any]]:
    """The arguments of `build`, drawn: up to `max_pieces` pieces and the file's form."""
    return {
        "pieces": st.lists(_piece, max_size=max_pieces),
        "header": st.booleans(),
        "bom": st.booleans(),
        "crlf": st.booleans(),
    }


_stats = {"examples": 0, "rows": 0}


def check(data: bytes, expected: list[tuple[str, int, str]], latin1: bool, tmp: Path) -> None:
    if latin1:  # one invalid UTF-8 byte: the file is read as Latin-1
        data = data + b"\n" + "Ñ".encode("latin-1") + b"\n"
        expected = [*expected, ("bad", data[:-3].count(b"\n") + 2, "")]
    path = tmp / "f.csv"
    path.write_bytes(data)
    if not data:
        return
    con = duckdb.connect()
    result = read_doj_files(con, [path])
    _stats["examples"] += 1
    _stats["rows"] += result.rows_read
    kept = con.execute("SELECT SUBJECT_ID, source_line FROM doj_rows ORDER BY row_id").fetchall()
    assert len(kept) == result.rows_accepted
    assert result.rows_read == result.rows_accepted + len(result.rejects)
    goods = [(m, line) for k, line, m in expected if k == "good"]
    bads = sorted(line for k, line, _ in expected if k == "bad")
    assert kept == goods, (kept, goods)
    assert sorted(r.line for r in result.rejects) == bads, (result.rejects, bads)
    # The line-by-line reader (used when DuckDB's scanner gives up on a file) agrees.
    kept, rejects = read_line_by_line(path)
    assert kept == goods, ("line by line", kept, goods)
    assert sorted(rejects) == bads, ("line by line", rejects, bads)


def read_line_by_line(path: Path) -> tuple[list[tuple[str, int]], list[int]]:
    con = duckdb.connect()
    read_doj_files(con, [path])  # creates the table (and reads the header flag)
    info = InputFile(path=str(path), size=path.stat().st_size)
    info.has_header = _has_header(path)[0]
    info.encoding = _declared_encoding(path)
    con.execute("DELETE FROM doj_rows")
    _read_line_by_line(con, "doj_rows", 0, path, info, 0)
    kept = con.execute("SELECT SUBJECT_ID, source_line FROM doj_rows ORDER BY row_id").fetchall()
    assert info.data_records == info.accepted + len(info.rejects) == len(kept) + len(info.rejects)
    return kept, [r.line for r in info.rejects]


def example(
    tmp: Path, pieces: list[tuple[str, str]], header: bool, bom: bool, crlf: bool, latin1: bool
) -> None:
    data, expected = build(pieces, header, bom, crlf)
    check(data, expected, latin1, tmp)


def main() -> int:
    return run_property(
        "fuzz_reader",
        default_examples=2000,
        tmp_prefix="clearslate-fuzz-",
        strategies={**file_strategies(max_pieces=25), "latin1": st.booleans()},
        example=example,
        tried=lambda: f"{_stats['examples']} inputs tried ({_stats['rows']} records)",
    )


if __name__ == "__main__":
    sys.exit(main())
