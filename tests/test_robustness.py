"""Every input is survived, every interrupted run leaves no result that looks complete, and
nothing personal is printed. Each case goes through the real command line and checks: the
exit code, no Python traceback, a message a person can act on, and the row accounting
(summary.json rows read = All_Results rows + errors.csv rows).

The policy loader and the options JSON are fuzzed in test_policy.py. A longer fuzz run is in
fuzz/ (see fuzz/README.md). Set CLEARSLATE_SLOW=1 for the 200 MB file and more kill points.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import clearslate
from clearslate import database
from clearslate.cli import app
from clearslate.outputs import gogen_bundle
from clearslate.policy import DEFAULT_POLICY, resolve_policy
from clearslate.run import RunOptions, run
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS
from clearslate.synth import generate_doj_file

from doj import begins_a_record_over_lines, conviction, csv_text, row

csv.field_size_limit(2**31 - 1)  # outputs may hold a field of 1 MB

AS_OF = "2020-07-01"
SRC = Path(clearslate.__file__).resolve().parents[1]
runner = CliRunner()
slow = pytest.mark.skipif(not os.environ.get("CLEARSLATE_SLOW"), reason="slow: CLEARSLATE_SLOW=1")


@dataclass
class Ran:
    code: int
    output: str
    out: Path
    summary: dict | None = None
    all_results: int = 0
    errors: list[dict[str, str]] | None = None
    decided: list[dict[str, str]] | None = None


def run_cli(inputs: list[Path], out: Path, *extra: str) -> Ran:
    """`clearslate run` through the CLI, with the checks every case shares."""
    args = ["run", *[a for p in inputs for a in ("--input-doj", str(p))], "--county",
            "LOS ANGELES", "--compute-at", AS_OF, "--outputs", str(out), "--no-report", *extra]  # fmt: skip
    result = runner.invoke(app, args)
    # No crash: a run ends by its own exit, never by an exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    ran = Ran(result.exit_code, result.output, out)
    if ran.code != 0:
        assert "clearslate: " in ran.output  # a message, not silence
        assert not (out / "manifest.json").exists()
        return ran
    ran.summary = json.loads((out / "summary.json").read_text())
    ran.all_results = sum(
        len(read_csv(p)) for p in out.glob("All_Results*.csv") if "Condensed" not in p.name
    )
    ran.errors = read_csv(out / "errors.csv")
    ran.decided = read_csv(out / "determinations.csv")
    rows = ran.summary["rows"]
    assert rows["read"] == ran.all_results + len(ran.errors) == rows["accepted"] + rows["rejected"]
    assert (out / "manifest.json").exists()
    assert not list(out.glob(".partial-*"))
    return ran


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def good(i: int, **extra: str) -> list[str]:
    return conviction(f"{i:08d}", "101001002000", "11359 HS-POSSESS FOR SALE", "20100102", **extra)


def with_quote(r: list[str]) -> str:
    """A record whose OFFENSE_DESCR opens a quote that is never closed."""
    return csv_text([r], header=False).replace("11359 HS", '"11359 HS', 1)


# --------------------------------------------------------------------------- inputs read


@dataclass
class Case:
    data: Callable[[], bytes]
    accepted: int
    rejects: list[tuple[int, str]]  # (physical line, start of the reason)
    check: Callable[[Ran], None] = lambda _r: None


def _comment(text: str) -> list[str]:
    r = good(1)
    r[DOJ_COLUMNS.index("COMMENT_TEXT")] = text
    return r


def _latin1() -> bytes:
    r = good(1)
    r[DOJ_COLUMNS.index("PRI_NAME")] = "TESTPERSÓN,JOSÉ"
    return csv_text([r, good(2)]).encode("latin-1")


def _latin1_unread() -> bytes:
    """A Latin-1 letter in a column that no decision reads (DuckDB checks only the columns
    it scans): the gogen bundle then met it and the run ended in "unexpected error"."""
    r = good(1)
    r[DOJ_COLUMNS.index("REQ_NAME")] = "TESTPERSÓN,JOSÉ"
    return csv_text([good(2), r]).encode("latin-1")


def _latin1_in_the_bundle(ran: Ran) -> None:
    _encoding("latin-1")(ran)
    (_, line) = read_csv(ran.out / "All_Results.csv")
    assert line["REQ_NAME"] == "TESTPERSÓN,JOSÉ"


def _encoding(name: str) -> Callable[[Ran], None]:
    def check(ran: Ran) -> None:
        manifest = json.loads((ran.out / "manifest.json").read_text())
        assert manifest["inputs"][0]["encoding"] == name

    return check


def _read_around(ran: Ran) -> None:
    """The long line was read around: by DuckDB, not line by line; the rows around it kept."""
    manifest = json.loads((ran.out / "manifest.json").read_text())
    assert manifest["inputs"][0]["reader"] == "duckdb"
    _lines(2, 4)(ran)


def _lines(*expected: int) -> Callable[[Ran], None]:
    def check(ran: Ran) -> None:
        assert sorted(int(d["source_line"]) for d in ran.decided or []) == list(expected)

    return check


def _reason(code: str, n: int = 1) -> Callable[[Ran], None]:
    def check(ran: Ran) -> None:
        assert [d["reason_code"] for d in ran.decided or []] == [code] * n

    return check


def _sentence_ends(ends: list[str]) -> Callable[[Ran], None]:
    def check(ran: Ran) -> None:
        assert [d["sentence_end"] for d in ran.decided or []] == ends

    return check


def _decided(n: int) -> Callable[[Ran], None]:
    def check(ran: Ran) -> None:
        assert len(ran.decided or []) == n and all(d["outcome"] for d in ran.decided or [])

    return check


CASES: dict[str, Case] = {
    "bom": Case(lambda: b"\xef\xbb\xbf" + csv_text([good(1), good(2)]).encode(), 2, []),
    "crlf": Case(lambda: csv_text([good(1), good(2)]).replace("\n", "\r\n").encode(), 2, []),
    "bare-cr": Case(lambda: csv_text([good(1), good(2)]).replace("\n", "\r").encode(), 2, []),
    # A Latin-1 file stopped the run with "Out of Memory" at the default --memory-limit.
    "latin-1": Case(_latin1, 2, [], _encoding("latin-1")),
    "latin-1 where no decision reads": Case(_latin1_unread, 2, [], _latin1_in_the_bundle),
    "utf-16": Case(lambda: csv_text([good(1), good(2)]).encode("utf-16"), 2, [],
                   _encoding("utf-16")),
    # Without a byte-order mark its header was taken for a person, every other line rejected.
    "utf-16 without a byte-order mark": Case(
        lambda: csv_text([good(1), good(2)]).encode("utf-16-le"), 2, [], _encoding("utf-16-le")
    ),
    "utf-16 big-endian without a byte-order mark": Case(
        lambda: csv_text([good(1), good(2)]).encode("utf-16-be"), 2, [], _encoding("utf-16-be")
    ),
    "quotes and newlines in a field": Case(
        lambda: csv_text([_comment('he said "hi",\nthen left'), good(2)]).encode(), 2, [],
        _lines(2, 4),
    ),
    "unterminated quote keeps the rows after it": Case(
        lambda: (csv_text([good(1)]) + with_quote(good(2))
                 + csv_text([good(3), good(4)], header=False)).encode(),
        3, [(3, "a quote is opened and never closed")], _lines(2, 4, 5),
    ),
    "two unterminated quotes": Case(
        lambda: (csv_text([good(1)]) + with_quote(good(2)) + csv_text([good(3)], header=False)
                 + with_quote(good(4)) + csv_text([good(5)], header=False)).encode(),
        3, [(3, "a quote is opened"), (5, "a quote is opened")], _lines(2, 4, 6),
    ),
    # The whole file was taken for a header and no row was read (nor rejected).
    "unterminated quote in the header": Case(
        lambda: ('"' + csv_text([good(1), good(2)])).encode(),
        2, [(1, "the header line opens a quote")], _lines(2, 3),
    ),
    "too few and too many fields": Case(
        lambda: csv_text([good(1), good(2)[:90], [*good(3), "x"], good(4)]).encode(),
        2, [(3, "too few fields"), (4, "too many fields")], _lines(2, 5),
    ),
    # 40 records whose line ends were lost: 3,799 fields on one line.
    "records run together on one line": Case(
        lambda: (csv_text([good(1)])
                 + "".join(csv_text([good(i)], header=False).rstrip("\n") for i in range(2, 42))
                 + "\n" + csv_text([good(42)], header=False)).encode(),
        2, [(3, "too many fields")], _read_around,
    ),
    # Two files joined with `cat`: the second header was taken for a person.
    "a header repeated inside the file": Case(
        lambda: (csv_text([good(1)]) + csv_text([good(2)])).encode(),
        2, [(3, "a header line inside the file")], _lines(2, 4),
    ),
    "header only": Case(lambda: csv_text([]).encode(), 0, []),
    "header without a line end": Case(lambda: csv_text([]).rstrip("\n").encode(), 0, []),
    "blank lines only": Case(lambda: b"\n\n\n", 0, []),
    "not a research file": Case(lambda: b"hello\nworld\n", 0, [(1, "too few"), (2, "too few")]),
    "short CNT_ORDER": Case(
        lambda: csv_text([conviction("00000001", "1", "11359 HS-POSSESS FOR SALE",
                                     "20100102")]).encode(),
        1, [], _reason("count_key_malformed"),
    ),
    "non-numeric SENT_LENGTH": Case(
        lambda: csv_text([good(1, SENT_LENGTH="ABC", SENT_TIME_CODE="Y")]).encode(), 1, [],
        _decided(1),
    ),
    # (it overflowed the date and stopped the run; now the sentence ends in 9999)
    "a sentence past the year 9999": Case(
        lambda: csv_text([
            good(1, SENT_LENGTH="2000000000", SENT_TIME_CODE="Y"),
            good(1, SENT_LENGTH="2000000000", SENT_TIME_CODE="Y"),
            good(2, SENT_LENGTH="9999999", SENT_TIME_CODE="M"),
        ]).encode(),
        3, [], _sentence_ends(["9999-12-31", "9999-12-31"]),
    ),
    "impossible dates": Case(
        lambda: csv_text([
            conviction("00000001", "101001002000", "11359 HS-X", "20190231", dob="99999999"),
            conviction("00000002", "101001002000", "11359 HS-X", "99999999", dob="20190231"),
            conviction("00000003", "101001002000", "11359 HS-X", "2010", dob="abc"),
            # (7 digits: strptime alone read it as 3 February 1999; gogen reads no date)
            conviction("00000004", "101001002000", "11359 HS-X", "1999023", dob="1970011"),
        ]).encode(),
        4, [], _reason("missing_disposition_date", 4),
    ),
    "partial dates": Case(
        lambda: csv_text([
            conviction("00000001", "101001002000", "11359 HS-X", "20100000", dob="19700000"),
            conviction("00000002", "101001002000", "11359 HS-X", "20100100", dob="19700100"),
        ]).encode(),
        2, [], _reason("partial_disposition_date", 2),
    ),
    "a field of 1 MB": Case(lambda: csv_text([_comment("X" * 1_000_000), good(2)]).encode(),
                            2, [], _lines(2, 3)),
    # Repeated court rows of one count are parts of one sentence: one conviction.
    "exact duplicate rows": Case(lambda: csv_text([good(1)] * 3).encode(), 3, [], _decided(1)),
    "NUL byte in a field": Case(
        lambda: csv_text([good(1)]).encode().replace(b"POSSESS", b"POS\x00SESS"), 1, []
    ),
    "binary noise": Case(lambda: bytes(random.Random(1).randrange(256) for _ in range(4000)),
                         -1, []),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_input_is_survived(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = tmp_path / "input.csv"
    path.write_bytes(case.data())
    ran = run_cli([path], tmp_path / "out")
    assert ran.code == 0, ran.output
    assert ran.summary is not None and ran.errors is not None
    if case.accepted >= 0:
        assert ran.summary["rows"]["accepted"] == case.accepted
        got = [(int(e["line"]), e["reason"]) for e in ran.errors]
        assert len(got) == len(case.rejects), got
        for (line, reason), (want_line, want) in zip(got, case.rejects, strict=True):
            assert line == want_line and reason.startswith(want), got
    for e in ran.errors:  # file, line and (where known) column; a reason in words
        assert e["source_file"] == str(path) and int(e["line"]) >= 1 and e["reason"]
    case.check(ran)


def test_columns_are_reported_for_bad_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(CASES["too few and too many fields"].data())
    ran = run_cli([path], tmp_path / "out")
    assert [(e["line"], e["column"]) for e in ran.errors or []] == [("3", "90"), ("4", "96")]


def test_unsorted_rows_give_the_same_decisions(tmp_path: Path) -> None:
    path = tmp_path / "sorted.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=600, seed=5)
    header, *lines = path.read_text().splitlines(keepends=True)
    random.Random(2).shuffle(lines)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(header + "".join(lines))
    a, b = run_cli([path], tmp_path / "a"), run_cli([shuffled], tmp_path / "b")
    key = lambda d: (d["subject_id"], d["cnt_order"], d["outcome"], d["rule_id"])  # noqa: E731
    assert sorted(map(key, a.decided or [])) == sorted(map(key, b.decided or []))
    assert a.summary and b.summary and a.summary["outcomes"] == b.summary["outcomes"]


def test_one_person_split_across_files_is_decided_as_one(tmp_path: Path) -> None:
    path = tmp_path / "whole.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=600, seed=6)
    header, *lines = path.read_text().splitlines(keepends=True)
    middle = len(lines) // 2
    subject = lambda line: line.split(",")[2]  # noqa: E731
    assert subject(lines[middle - 1]) == subject(lines[middle]), "split inside a person"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(header + "".join(lines[:middle]))
    second.write_text("".join(lines[middle:]))  # the second part without a header
    whole, split = run_cli([path], tmp_path / "a"), run_cli([first, second], tmp_path / "b")
    assert whole.summary and split.summary
    assert split.summary["rows"]["read"] == whole.summary["rows"]["read"] == 600
    key = lambda d: (d["subject_id"], d["cnt_order"], d["outcome"], d["rule_id"])  # noqa: E731
    assert sorted(map(key, whole.decided or [])) == sorted(map(key, split.decided or []))


def _large_file_with_a_bad_row(path: Path, rows: int) -> int:
    """A generated file with one bad row (too few fields) inserted in the middle; returns
    its physical line."""
    generate_doj_file(path, county="LOS ANGELES", rows=rows, seed=7)
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2)
        fh.readline()  # to the start of the next line
        at = fh.tell()
        rest = fh.read()
        fh.seek(at)
        fh.write(b"999999999,A,BAD ROW,#\n" + rest)
    with path.open("rb") as fh:
        return fh.read(at).count(b"\n") + 1


def _check_one_bad_row(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "large.csv"
    line = _large_file_with_a_bad_row(path, rows)
    ran = run_cli([path], tmp_path / "out")
    assert ran.summary is not None
    assert ran.summary["rows"] == {"read": rows + 1, "accepted": rows, "rejected": 1}
    assert [(int(e["line"]), e["column"]) for e in ran.errors or []] == [(line, "4")]


def test_one_bad_row_in_the_middle_of_a_large_file(tmp_path: Path) -> None:
    _check_one_bad_row(tmp_path, 25_000)


@slow
def test_one_bad_row_in_the_middle_of_a_200_mb_file(tmp_path: Path) -> None:
    _check_one_bad_row(tmp_path, 245_000)  # ~200 MB


_good_row = st.integers(1, 10**7).map(lambda i: ("good", csv_text([good(i)], header=False)))
_noise = st.one_of(
    st.builds(lambda r, n: csv_text([r[:n]], header=False), st.just(good(0)), st.integers(0, 94)),
    st.builds(lambda r: csv_text([[*r, "x"]], header=False), st.just(good(0))),
    st.builds(with_quote, st.just(good(0))),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30).map(
        lambda t: t + "\n"
    ),
    st.sampled_from(['"', '""\n', ",,,\n", "\n", "\r\n", "RECORD_ID\n", '","\n']),
).map(lambda t: ("noise", t))


# Values of the fields the decisions read: real ones, edges, and any text. (A sentence of
# 2,000,000,000 years once stopped a run: such values are where an engine's casts and date
# sums break.)
_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_DATE = st.one_of(
    st.sampled_from(["20150115", "19990000", "1999023", "00010101", "99991231", "20000229"]),
    st.from_regex(r"[0-9]{1,9}", fullmatch=True),
    _ANY_TEXT,
)
_OFFENCES = ["11357 HS-POSSESS", "11358 HS-CULTIVATE", "11359 HS-POSSESS FOR SALE",
             "11360(A) HS-SELL", "664-11359 HS-ATTEMPT", "187 PC-MURDER", "290 PC-REGISTRATION",
             ""]  # fmt: skip
_FIELDS = {
    "SUBJECT_ID": st.one_of(st.sampled_from(["S1", "S2", " S1 ", ""]), _ANY_TEXT),
    "PRI_NAME": _ANY_TEXT,
    "CII_NUMBER": _ANY_TEXT,
    "STP_ORI_DESCR": _ANY_TEXT,
    "CNT_ORDER": st.one_of(
        st.sampled_from(["101002001000", "102003001000", "1010", ""]), _ANY_TEXT
    ),
    "STP_EVENT_DATE": _DATE,
    "PRI_DOB": _DATE,
    "SENT_LENGTH": st.one_of(
        st.from_regex(r"[+-]?[0-9]{1,12}", fullmatch=True),
        st.sampled_from(["1.5", "0x10", "1e1", "", "2000000000", "9999999", "2147483647"]),
        _ANY_TEXT,
    ),
    "SENT_TIME_CODE": st.sampled_from(["Y", "M", "D", "y", "X"]),
    "STP_ORI_CNTY_NAME": st.sampled_from(["LOS ANGELES", " los angeles ", "", "ORANGE"]),
    "STP_TYPE_DESCR": st.sampled_from(["COURT ACTION", "COURT ACTION", "REGISTRATION", "DECEASED"]),
    "DISP_DESCR": st.sampled_from(["CONVICTED-JAIL", "CONVICTED-PRISON", "convicted", "DISMISSED"]),
    "CONV_STAT_DESCR": st.sampled_from(["FELONY", "MISDEMEANOR", "", "felony"]),
    "OFFENSE_TOC": st.sampled_from(["F", "M", ""]),
    "OFFENSE_DESCR": st.one_of(st.sampled_from(_OFFENCES), _ANY_TEXT),
    "COMMENT_TEXT": st.one_of(st.sampled_from(["", "11357 HS", "11360"]), _ANY_TEXT),
    "OFN": st.one_of(st.sampled_from(["BA1", "NULL", ""]), _ANY_TEXT),
}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.lists(st.fixed_dictionaries(_FIELDS), min_size=1, max_size=10),
    policy=st.sampled_from(["los-angeles", "san-francisco", "dismiss-all"]),
    counties=st.sampled_from([["LOS ANGELES"], None]),
    bundle=st.booleans(),
)
def test_any_values_in_the_fields_decisions_read_are_decided(
    tmp_path: Path,
    fields: list[dict[str, str]],
    policy: str,
    counties: list[str] | None,
    bundle: bool,
) -> None:
    """Every row is accounted for and every conviction decided, whatever those fields hold:
    the whole run, in-process, with the gogen bundle (one county's, or every county's) or
    without."""
    path = tmp_path / "in.csv"
    path.write_text(csv_text([row(**f) for f in fields]), encoding="utf-8")
    result = run(
        RunOptions(inputs=[path], outputs=tmp_path / "out", counties=counties,
                   as_of=dt.date(2026, 11, 1), policy=resolve_policy(policy), force=True,
                   gogen_bundle=bundle)
    )  # fmt: skip
    read = result.read
    assert read.rows_read == read.rows_accepted + len(read.rejects)
    decided = read_csv(tmp_path / "out" / "determinations.csv")
    assert len(decided) == result.evaluated
    assert all(d["outcome"] and d["rule_id"] for d in decided)


_STRAY = [("noise", '"'), ("noise", with_quote(good(0)))]
_GOOD_1 = ("good", csv_text([good(1)], header=False))


def _plain(*parts: tuple[str, str]) -> Callable:
    """An example of `test_arbitrary_input_through_the_cli`: these parts, UTF-8, LF line
    ends, no header, no byte-order mark."""
    return example(parts=list(parts), header=False, bom=False, crlf=False, latin1=False)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=st.lists(st.one_of(_good_row, _noise), max_size=12),
    header=st.booleans(),
    bom=st.booleans(),
    crlf=st.booleans(),
    latin1=st.booleans(),
)
# (a stray quote, then a line whose quotes are even but whose first field a quote inside it
# closes too soon: DuckDB's scan went on into the next line, and the good record was lost;
# so after a reject too, whose text DuckDB gave for the stray line's, and with a blank line
# or `""` between)
@_plain(*_STRAY, _GOOD_1)
@_plain(("noise", csv_text([[*good(0), "x"]], header=False)), *_STRAY, _GOOD_1)
@_plain(*_STRAY, ("noise", "\n"), _GOOD_1)
@_plain(*_STRAY, ("noise", '""\n'), _GOOD_1)
def test_arbitrary_input_through_the_cli(tmp_path: Path, parts, header, bom, crlf, latin1) -> None:
    """Whatever the input, the run completes and accounts for every record; a good row that
    does not follow a noise line without a line end is never lost."""
    text = (csv_text([]) if header else "") + "".join(t for _, t in parts)
    if crlf:
        text = text.replace("\n", "\r\n")
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    if latin1:
        data = data + "Ñ\n".encode("latin-1")  # invalid UTF-8: the file is read as Latin-1
    case = tmp_path / f"case{time.monotonic_ns()}"
    case.mkdir()
    path = case / "input.csv"
    path.write_bytes(data)
    ran = run_cli([path], case / "out")
    if not data:
        assert ran.code == 1 and "empty" in ran.output
        return
    assert ran.code == 0, ran.output
    kept = {d["subject_id"] for d in ran.decided or []}
    for i, (kind, t) in enumerate(parts):
        previous = parts[i - 1][1] if i else "\n"
        if kind == "good" and previous.endswith("\n"):
            assert t.split(",")[2] in kept, (t[:40], [p[1][:20] for p in parts])


_field = st.text(alphabet=st.sampled_from(list('ab9 ,"\n-Ñ')), max_size=6)


@st.composite
def _piece(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(["good", "good", "few", "many", "quote", "blank"]))
    n = len(DOJ_COLUMNS)
    if kind == "good":
        fields = draw(st.lists(_field, min_size=n, max_size=n))
        fields[2] = "GOOD"
        return kind, csv_text([fields], header=False)
    if kind == "few":
        return kind, csv_text([["B"] * draw(st.integers(1, n - 1))], header=False)
    if kind == "many":
        return kind, csv_text([["B"] * (n + 1)], header=False)
    if kind == "quote":  # a line that opens a quote and never closes it
        return kind, "B," + ",".join(['"open'] + ["z"] * (n - 2)) + "\n"
    return kind, "\n"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(_piece(), max_size=12), header=st.booleans(), crlf=st.booleans())
def test_reader_gives_every_record_its_physical_line(tmp_path: Path, pieces, header, crlf) -> None:
    """Good records with commas, quotes and line ends in their fields, bad records, lines
    that open a quote, blank lines: every good record is kept on its physical line, every
    bad one is rejected on its own, nothing else. (fuzz/fuzz_reader.py runs this longer.)"""
    import duckdb

    from clearslate.sources.ca_doj import InputFile, _read_line_by_line, read_doj_files

    text, line, goods, bads = (csv_text([]) if header else ""), 1 + header, [], []
    quote_lines_start = []
    for i, (kind, piece) in enumerate(pieces):
        if kind == "good":
            piece = piece.replace("GOOD", f"G{i}", 1)
            goods.append((f"G{i}", line))
        elif kind != "blank":
            bads.append(line)
        if kind == "quote":
            quote_lines_start.append(len(text))
        text += piece
        line += piece.count("\n")
    if not text:
        return
    assume(not any(begins_a_record_over_lines(text[start:]) for start in quote_lines_start))
    path = tmp_path / f"f{time.monotonic_ns()}.csv"
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
    con = duckdb.connect()
    result = read_doj_files(con, [path])
    kept = con.execute("SELECT SUBJECT_ID, source_line FROM doj_rows ORDER BY row_id").fetchall()
    assert kept == goods
    assert [r.line for r in result.rejects] == bads
    assert result.rows_read == len(goods) + len(bads)
    # The line-by-line reader (used when DuckDB's scanner gives up on a file) agrees.
    info = InputFile(path=str(path), size=path.stat().st_size, has_header=header)
    con.execute("DELETE FROM doj_rows")
    _read_line_by_line(con, "doj_rows", 0, path, info, 0)
    assert (
        con.execute("SELECT SUBJECT_ID, source_line FROM doj_rows ORDER BY row_id").fetchall()
        == goods
    )
    assert [r.line for r in info.rejects] == bads


def test_a_quote_a_later_line_closes_makes_one_record_over_lines(tmp_path: Path) -> None:
    """A line that opens a quote, closed by the next line's quote so that the two make one
    record of 95 fields, is that record (as Go and Python read it), on its first line; the
    fuzz test above leaves such draws out."""
    import duckdb

    from clearslate.sources.ca_doj import InputFile, _read_line_by_line, read_doj_files

    n = len(DOJ_COLUMNS)
    opens = "B," + ",".join(['"open'] + ["z"] * (n - 2)) + "\n"
    closes = 'tail",S1' + ",f" * (n - 3) + "\n"
    after = ",".join(["g", "g", "G3", *["g"] * (n - 3)]) + "\n"
    text = opens + closes + after
    assert begins_a_record_over_lines(text) and not begins_a_record_over_lines(after)
    path = tmp_path / "closed.csv"
    path.write_text(text)
    con = duckdb.connect()
    result = read_doj_files(con, [path])
    kept = "SELECT SUBJECT_ID, source_line FROM doj_rows ORDER BY row_id"
    assert con.execute(kept).fetchall() == [("S1", 1), ("G3", 3)]
    assert result.rejects == [] and result.rows_read == 2
    info = InputFile(path=str(path), size=path.stat().st_size, has_header=False)
    con.execute("DELETE FROM doj_rows")
    _read_line_by_line(con, "doj_rows", 0, path, info, 0)
    assert con.execute(kept).fetchall() == [("S1", 1), ("G3", 3)] and info.rejects == []


def test_a_quote_closed_as_duckdb_reads_quotes_makes_one_record_over_lines(
    tmp_path: Path,
) -> None:
    """DuckDB's scan takes a space before an opening quote as outside the field, where Go
    sees a stray quote: a line that opens a quote can so have it closed by a later good
    line, and the lines between are one record of 95 fields, read on the first line. The
    reader follows DuckDB (docs/gogen-differences.md, "A bad record does not fail its
    file"), and the fuzz test above leaves such draws out: CI drew this one."""
    import duckdb

    from clearslate.sources.ca_doj import read_doj_files

    n = len(DOJ_COLUMNS)
    opens = "B," + ",".join(['"open'] + ["z"] * (n - 2)) + "\n"
    good = ",,G1" + "," * (n - 3) + "\n"
    closes = ',", ",G2,",",",9"' + "," * (n - 5) + "\n"
    text = opens + good + closes
    assert begins_a_record_over_lines(text)
    assert not begins_a_record_over_lines(good + closes)
    path = tmp_path / "closed.csv"
    path.write_text(text)
    con = duckdb.connect()
    result = read_doj_files(con, [path])
    kept = con.execute("SELECT SUBJECT_ID, source_line FROM doj_rows").fetchall()
    assert kept == [(",G2,", 1)] and result.rejects == [] and result.rows_read == 1


def test_unusable_inputs_exit_1_with_a_message(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    unblock = threading.Timer(30, _open_for_writing, [fifo])  # a hang becomes a failure
    unblock.start()
    good_file = tmp_path / "good.csv"
    good_file.write_text(csv_text([good(1)]))
    reordered = tmp_path / "reordered.csv"
    reordered.write_text(",".join(reversed(DOJ_COLUMNS)) + "\n" + csv_text([good(1)], header=False))
    try:
        for paths, message in (
            ([empty], "the file is empty (0 bytes)"),
            ([tmp_path / "missing.csv"], "no such file"),
            ([folder], "is a folder, not a file"),
            ([fifo], "is not a regular file"),  # it hung the run
            ([good_file, tmp_path / "." / "good.csv"], "given twice"),  # rows counted twice
            ([reordered], "line 1: the header has the DOJ columns in another order"),
        ):
            out = tmp_path / f"out-{paths[-1].name}-{len(paths)}"
            ran = run_cli(paths, out)
            assert ran.code == 1 and message in ran.output and str(paths[-1]) in ran.output
            assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"]
    finally:
        unblock.cancel()


def _open_for_writing(fifo: Path) -> None:
    """Lets a reader stuck on the FIFO go on (to end of file); OSError: nobody reads it."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda d: (d / "file").write_text("x") and d / "file" / "out", "cannot write here"),
        (lambda d: (d / "file").write_text("x") and d / "file", "is not a folder"),
        (lambda d: Path("/proc/clearslate-test/out"), "cannot write here"),
    ],
)
def test_an_output_folder_that_cannot_be_written(tmp_path: Path, make_out, message: str) -> None:
    """As root chmod stops no write: a path under a regular file, or under /proc, does."""
    path = tmp_path / "in.csv"
    path.write_text(csv_text([good(1)]))
    ran = run_cli([path], make_out(tmp_path))
    assert ran.code == 1 and message in ran.output and "--outputs" in ran.output


def test_a_full_disk_stops_the_run_plainly(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr!r}")
    try:
        path = tmp_path / "in.csv"
        generate_doj_file(path, county="LOS ANGELES", rows=2000, seed=8)  # ~1.7 MB of results
        ran = run_cli([path], disk / "out")
        assert ran.code == 1 and "no space left on the disk" in ran.output
        # What the run says it leaves: nothing of its own but the error (the condensed
        # file, written beside All_Results, may have been whole before the disk filled).
        assert [p.name for p in (disk / "out").iterdir()] == ["gogen.err"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_run_stopped_by_a_file_too_large_leaves_none_of_its_results(tmp_path: Path) -> None:
    """The disk fills in the second file's bundle, after the first file's three were put in
    place (the files are written one input after the other). The run removes those too: the
    space they hold is what the next attempt needs. Without root there is no small disk to
    fill, so a limit on the size of any file the process writes (RLIMIT_FSIZE; Python
    ignores SIGXFSZ, so the write fails with EFBIG) stands for it."""
    import resource

    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    generate_doj_file(first, county="LOS ANGELES", rows=300, seed=3)  # bundle ~0.3 MB
    generate_doj_file(second, county="LOS ANGELES", rows=6000, seed=4)  # ~5 MB
    out = tmp_path / "out"

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(SRC)}
    ran = subprocess.run(
        [sys.executable, "-m", "clearslate", "run", "--input-doj", f"{first},{second}",
         "--county", "LOS ANGELES", "--compute-at", AS_OF, "--outputs", str(out), "--no-report"],
        capture_output=True, text=True, env=env, preexec_fn=limited, timeout=300, check=False,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "results folder" in ran.stderr and "could not be written" in ran.stderr
    assert "removed what it had written" in ran.stderr and "Traceback" not in ran.stderr
    assert [p.name for p in out.iterdir()] == ["gogen.err"]
    # The same run with room completes: the three files of the first input were whole.
    ran = run_cli([first, second], out)
    assert ran.code == 0 and (out / "All_Results_1.csv").stat().st_size < 2 << 20


# --------------------------------------------------------------------------- interrupted runs


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large enough that a run takes several seconds."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=40_000, seed=9)
    return path


def _start(path: Path, out: Path, tmp: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(SRC)}
    env.pop("CLEARSLATE_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "clearslate", "run", "--input-doj", str(path), "--county",
         "LOS ANGELES", "--compute-at", AS_OF, "--outputs", str(out), "--no-report", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _wait_for(predicate: Callable[[], bool], proc: subprocess.Popen[str], limit: float) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _freeze_when(predicate: Callable[[], bool], proc: subprocess.Popen[str], limit: float) -> bool:
    """Stop the run (SIGSTOP) as soon as `predicate` holds, and keep it stopped if it still
    holds then: a signal sent next lands exactly there, however loaded the machine is (no
    race between looking and signalling). False if the run ended first; it is then running."""
    while _wait_for(predicate, proc, limit):
        proc.send_signal(signal.SIGSTOP)
        if predicate() and proc.poll() is None:
            return True
        proc.send_signal(signal.SIGCONT)  # it moved on meanwhile: look again
    return False


def _assert_no_complete_result(out: Path, rows: int) -> None:
    """No manifest: not a complete run. A CSV present under its own name is whole (it was
    renamed only when complete); a `.partial-` file is never taken for a result."""
    assert not (out / "manifest.json").exists()
    if not out.exists():
        return
    for p in out.iterdir():
        if p.name.startswith(".partial-"):
            continue
        if p.suffix == ".csv":
            text = p.read_text(encoding="utf-8")
            assert not text or text.endswith("\n"), p.name
            data = list(csv.reader(io.StringIO(text)))
            if p.name.startswith("All_Results"):
                assert len(data) == rows + 1, p.name  # every row, and the header
        elif p.suffix == ".json":
            json.loads(p.read_text())


def test_a_killed_processs_temporary_folders_go_with_the_next_run(tmp_path: Path) -> None:
    """A run, redact, compare, explain or the web server's kept rows spill into a temporary
    folder named with their process id; SIGKILL leaves it (DuckDB's spill files can be
    large), and the next run removes it if that process is gone."""
    import tempfile

    from clearslate.run import remove_stale_workdirs

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    base = Path(tempfile.gettempdir())
    stale = [base / f"clearslate-run-{gone}-{kind}{tmp_path.name}" for kind in
             ("", "redact-", "compare-")]  # fmt: skip
    kept = [base / f"clearslate-run-{os.getpid()}-{tmp_path.name}",  # this process: alive
            base / f"clearslate-run-nopid{tmp_path.name}"]  # fmt: skip
    try:
        for d in stale + kept:
            (d / "spill").mkdir(parents=True)
        remove_stale_workdirs()
        assert [d.exists() for d in stale] == [False] * len(stale)
        assert [d.exists() for d in kept] == [True] * len(kept)
    finally:
        for d in stale + kept:
            shutil.rmtree(d, ignore_errors=True)


# Where the signal comes: once the run's database is open and before any output is begun
# (reading or deciding), after 0.3 s or 2 s of the run, or while an output is half written.
# "deciding" and "writing" always; the others with CLEARSLATE_SLOW=1. (The first was "after
# 1 s": on a fast machine the 40,000-row run had ended by then, and the test skipped.)
POINTS = (("0.3s", slow), ("deciding", None), ("2s", slow), ("writing", None))


@pytest.mark.parametrize(
    ("sig", "point"),
    [
        pytest.param(s, p, marks=[m] if m else [], id=f"{s.name}-{p}")
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
        for p, m in POINTS
    ],
)
def test_an_interrupted_run_leaves_no_result_and_the_next_run_completes(
    big: Path, tmp_path: Path, sig: signal.Signals, point: str
) -> None:
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    proc = _start(big, out, tmp)
    try:
        assert _wait_for(out.exists, proc, 120), "the run did not start"
        if point == "writing":  # while an output is being written under its temporary name
            half_written = lambda: any(out.glob(".partial-*"))  # noqa: E731
        elif point == "deciding":  # its spill folder is made when the database opens
            half_written = lambda: any(tmp.iterdir()) and not any(out.glob(".partial-*"))  # noqa: E731
        else:  # after some time, before the run has completed
            time.sleep(float(point.rstrip("s")))
            half_written = lambda: not (out / "manifest.json").exists()  # noqa: E731
        if not _freeze_when(half_written, proc, 120):
            pytest.skip("the run finished before the signal")
        proc.send_signal(sig)
        proc.send_signal(signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    output = stdout + stderr
    assert "Traceback" not in output
    _assert_no_complete_result(out, 40_000)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + sig
        assert f"interrupted ({sig.name})" in output and "no result file" in output
        assert not list(out.iterdir()), "a result or a partial file left behind"
        assert not list(tmp.iterdir()), "temporary folders left behind"
    # The next run, in the same folder and without --force, starts clean and completes, and
    # removes the temporary folders a killed run left.
    small = tmp_path / "small.csv"
    small.write_text(csv_text([good(1), good(2)]))
    proc = _start(small, out, tmp)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stdout + stderr
    assert json.loads((out / "summary.json").read_text())["rows"]["read"] == 2
    assert (out / "manifest.json").exists() and not list(out.glob(".partial-*"))
    assert not list(tmp.iterdir()), "a killed run's temporary folders were not removed"


@pytest.mark.parametrize("where", ["_odd_lines", "_as_go_writes"], ids=["checked", "mended"])
def test_a_stop_while_the_lines_are_checked_or_mended_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A stop that arrives while the run waits for the Go-line check, or while the few
    lines not as Go writes them are mended in the written files: the bundle files written
    meanwhile under their unchecked names go too (they were left behind once, when a
    SIGTERM came while the run waited for the check). The stop is raised where the signal
    handler raises it."""

    def stopped(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gogen_bundle, where, stopped)
    path = tmp_path / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=300, seed=11)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[5] = ",".join(f'"{f}"' for f in next(csv.reader([lines[5]])))  # one line to mend
    path.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(RunOptions(inputs=[path], outputs=out, counties=["LOS ANGELES"],
                       as_of=dt.date(2020, 7, 1), policy=DEFAULT_POLICY))  # fmt: skip
    assert not list(out.glob(".partial-*"))
    assert not (out / "manifest.json").exists()


def test_an_interrupted_forced_run_does_not_keep_the_earlier_manifest(
    big: Path, tmp_path: Path
) -> None:
    """With --force over a complete run, the earlier manifest must go before any new file
    arrives: it vouched for the old files, and would make a half-replaced folder look whole."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    small = tmp_path / "small.csv"
    small.write_text(csv_text([good(1), good(2)]))
    assert run_cli([small], out).code == 0
    proc = _start(big, out, tmp, "--force")
    try:
        if not _freeze_when(lambda: any(out.glob(".partial-*")), proc, 120):
            pytest.skip("the run finished before an output was caught half-written")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not (out / "manifest.json").exists()
    shutil.rmtree(tmp, ignore_errors=True)


def test_a_forced_run_whose_input_cannot_be_read_keeps_the_earlier_run(tmp_path: Path) -> None:
    """--force removed the earlier results first and checked the inputs after: a mistyped
    path, an empty file, or the earlier run's own All_Results as input (removed, then "no
    such file") left the folder with neither run."""
    out = tmp_path / "out"
    small = tmp_path / "small.csv"
    small.write_text(csv_text([good(1), good(2)]))
    assert run_cli([small], out).code == 0
    results = {p.name: p.read_bytes() for p in out.iterdir()}
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for bad, says in (
        (tmp_path / "typo.csv", "no such file"),
        (empty, "the file is empty"),
        (out / "All_Results.csv", "a result of the earlier run"),
    ):
        result = runner.invoke(app, ["run", "--input-doj", str(bad), "--county", "LOS ANGELES",
                                     "--compute-at", AS_OF, "--outputs", str(out), "--force"])  # fmt: skip
        assert result.exit_code == 1 and says in result.output, result.output
        kept = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "gogen.err"}
        assert kept == results  # the earlier run, whole; gogen.err says this one failed


# --------------------------------------------------------------------------- privacy


@pytest.fixture(scope="module")
def personal(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A generated file and every name, birth date, CII and case number in it."""
    path = tmp_path_factory.mktemp("personal") / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=1500, seed=10)
    values: set[str] = set()
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for c in ("PRI_NAME", "REQ_NAME", "PRI_DOB", "CII_NUMBER", "OFN", "SUBJECT_ID"):
                v = r[c].strip()
                if len(v) >= 4 and v.upper() != "NULL":
                    values.add(v)
    return path, values


def _leaks(text: str, values: set[str]) -> set[str]:
    return {v for v in values if v in text}


def test_run_prints_no_personal_data(personal: tuple[Path, set[str]], tmp_path: Path) -> None:
    path, values = personal
    # The default run, report included.
    result = runner.invoke(app, ["run", "--input-doj", str(path), "--county", "LOS ANGELES",
                                 "--compute-at", AS_OF, "--outputs", str(tmp_path / "a")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not _leaks(result.output, values)
    # Bad rows cut from real ones: their values go neither to the screen nor to errors.csv.
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = [lines[1][:400] + "\n", lines[2].replace(",", ";", 3), '"' + lines[3]]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("".join(lines[:50] + bad + lines[50:100]), encoding="utf-8")
    ran = run_cli([mixed], tmp_path / "b")
    assert ran.code == 0 and len(ran.errors or []) == 3
    assert not _leaks(ran.output, values)
    errors = (tmp_path / "b" / "errors.csv").read_text()
    assert not _leaks(errors, values)
    assert list(read_csv(tmp_path / "b" / "errors.csv")[0]) == ["source_file", "line", "column",
                                                                 "reason"]  # fmt: skip
    # Run-level errors.
    for extra in (["--compute-at", "2020-13-45"], ["--policy", "no-such-policy"]):
        out = tmp_path / f"c{len(extra[1])}"
        result = runner.invoke(app, ["run", "--input-doj", str(path), "--county", "LOS ANGELES",
                                     "--outputs", str(out), "--no-report", *extra])  # fmt: skip
        assert result.exit_code == 1
        assert not _leaks(result.output + (out / "gogen.err").read_text(), values)


def test_an_unexpected_error_prints_only_its_kind(
    personal: tuple[Path, set[str]], tmp_path: Path
) -> None:
    """An error whose text quotes a record (here: forced) shows only the error's kind."""
    path, values = personal
    name = sorted(v for v in values if "," in v)[0]
    code = (
        "import sys, clearslate.run as r\n"
        "def boom(*a, **k):\n"
        f"    raise ValueError({name!r})\n"
        "r.decide_rows = boom\n"
        "from clearslate.cli import main\n"
        "sys.argv = ['clearslate'] + sys.argv[1:]\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("CLEARSLATE_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", "--input-doj", str(path), "--county", "LOS ANGELES",
         "--compute-at", AS_OF, "--outputs", str(tmp_path / "out"), "--no-report"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "unexpected error (ValueError)" in proc.stderr and "Traceback" not in proc.stderr
    assert not _leaks(proc.stdout + proc.stderr, values)


def test_a_row_with_every_field_set_is_read(tmp_path: Path) -> None:
    """The row builder's fields all land in their columns (guards the cases above)."""
    r = row(**{c: f"v{i}" for i, c in enumerate(DOJ_COLUMNS)})
    path = tmp_path / "in.csv"
    path.write_text(csv_text([r]))
    ran = run_cli([path], tmp_path / "out")
    (line,) = read_csv(tmp_path / "out" / "All_Results.csv")
    assert [line[c] for c in DOJ_COLUMNS] == r and ran.all_results == 1


# --------------------------------------------------------------------------- other inputs


def test_a_policy_key_given_twice_is_an_error(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys silently: a second `dismiss:` would quietly
    replace the first, as a misspelt key would."""
    policy = tmp_path / "p.yaml"
    policy.write_text("name: twice\ndismiss: ['11357']\nreduce: []\ndismiss: []\n")
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    ran = run_cli([source], tmp_path / "out", "--policy", str(policy))
    assert ran.code == 1
    assert f"{policy}, line 4, column 1: dismiss: given twice (first on line 2)" in ran.output


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--compute-at", "0001-01-01"], "give a date from 1900-01-01 on"),
        (["--memory-limit", "lots"], "not a size DuckDB understands"),
    ],
)
def test_bad_options_are_refused_plainly(tmp_path: Path, option: list[str], message: str) -> None:
    """Both gave "unexpected error (ValueError / ParserException)", in run and in redact;
    a bad --memory-limit did in compare and in an Illinois run too."""
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    ran = run_cli([source], tmp_path / "out", *option)
    assert ran.code == 1 and message in ran.output and "unexpected" not in ran.output
    others = [["redact", str(source), "-o", str(tmp_path / "copy.csv")]]
    if option[0] == "--memory-limit":
        others += [
            ["compare", str(source), "--policy", "dismiss-all", "--policy", "los-angeles",
             "--county", "LOS ANGELES", "--compute-at", AS_OF, "--outputs", str(tmp_path / "c")],
            ["run", "--jurisdiction", "il", "--input-canonical", str(source), "--compute-at",
             AS_OF, "--outputs", str(tmp_path / "il")],
        ]  # fmt: skip
    for command in others:
        result = runner.invoke(app, [*command, *option])
        assert result.exit_code == 1 and message in result.output, (command[0], result.output)


def test_the_memory_limit_of_the_environment_is_every_commands_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$CLEARSLATE_MEMORY_LIMIT (read once, into run.DEFAULT_MEMORY_LIMIT) is the default of
    run, explain, compare and redact: compare and redact had a fixed 1GB of their own, and a
    bad value ended explain in "unexpected error"."""
    monkeypatch.setattr("clearslate.run.DEFAULT_MEMORY_LIMIT", "lots")
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    explain = ["explain", "--input-doj", str(source), "--county", "LOS ANGELES", "--compute-at",
               AS_OF, "--subject", "00000001"]  # fmt: skip
    compare = ["compare", str(source), "--policy", "dismiss-all", "--policy", "los-angeles",
               "--county", "LOS ANGELES", "--compute-at", AS_OF, "--outputs", str(tmp_path / "c")]  # fmt: skip
    redact = ["redact", str(source), "-o", str(tmp_path / "copy.csv")]
    ran = run_cli([source], tmp_path / "out")
    assert ran.code == 1 and "$CLEARSLATE_MEMORY_LIMIT 'lots'" in ran.output, ran.output
    for command in (explain, compare, redact):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, (command[0], result.output)
        assert "$CLEARSLATE_MEMORY_LIMIT 'lots': not a size" in result.output, result.output
    monkeypatch.setattr("clearslate.run.DEFAULT_MEMORY_LIMIT", "512MB")
    for command in (explain, compare, redact):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command[0], result.output)


def test_more_threads_than_cpus_are_refused(tmp_path: Path) -> None:
    """`--threads 100000` started that many DuckDB threads: the machine ran out of process
    slots for minutes. One per CPU is the most that helps."""
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    cpus = database.usable_cpus()  # as the bound counts them (the affinity)
    ran = run_cli([source], tmp_path / "out", "--threads", str(cpus + 1))
    assert ran.code == 1 and f"give at most {cpus}" in ran.output, ran.output
    assert json.loads((tmp_path / "out" / "gogen.err").read_text())[""]["errorType"] == "OTHER"
    assert run_cli([source], tmp_path / "ok", "--threads", str(cpus)).code == 0


def test_an_empty_outputs_is_refused_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--outputs ""` was the current folder: a whole run was written there, unasked."""
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for value in ("", "  "):
        ran = run_cli([source], tmp_path / "unused", "--outputs", value)
        assert ran.code == 1 and "--outputs is empty" in ran.output, ran.output
    ran = run_cli([], tmp_path / "unused", "--jurisdiction", "il", "--outputs", "")
    assert ran.code == 1 and "--outputs is empty" in ran.output, ran.output
    # and `illinois link --out ""` (compare and documents: test_report, test_documents)
    link = runner.invoke(app, ["illinois", "link", "--out", "", "--court", str(source)])
    assert link.exit_code == 1 and "--out is empty" in link.output, link.output
    assert list(here.iterdir()) == [] and not (tmp_path / "unused").exists()


@pytest.mark.parametrize("suffix", ["a/b", "../x", "a\\b", "a\x00b", "a\nb"])
def test_a_file_name_suffix_that_is_no_file_name_part_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    """A `/` in --file-name-suffix failed late with "a file could not be written"; it is now
    refused before anything is read (the input here does not even exist)."""
    out = tmp_path / "out"
    ran = run_cli([tmp_path / "missing.csv"], out, "--file-name-suffix", suffix)
    assert ran.code == 1 and "must be a plain file-name part" in ran.output, ran.output
    assert "no such file" not in ran.output  # refused before the input is looked at
    assert json.loads((out / "gogen.err").read_text())[""]["errorMessage"]
    assert [p.name for p in out.iterdir()] == ["gogen.err"]
    # a suffix that is a plain name part still runs
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(1)]))
    ran = run_cli([source], tmp_path / "ok", "--file-name-suffix", "2020-07_v1.b")
    assert ran.code == 0 and (tmp_path / "ok" / "gogen_2020-07_v1.b.json").exists()


def _documents(run_dir: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["documents", str(run_dir), "--out", str(out), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_office_files_in_a_spreadsheet_encoding_or_without_a_header(tmp_path: Path) -> None:
    """The address and decisions files come from a spreadsheet: Windows-1252 or UTF-16 was
    read as UTF-8 and stopped at the first accented name ("cannot read the header"), and
    UTF-16 without a byte-order mark was not recognised; a file without its header line
    printed that line, a person's address, in the error."""
    source = tmp_path / "in.csv"
    source.write_text(csv_text([good(i) for i in (1, 2, 3)]))
    run_dir = tmp_path / "run"
    assert run_cli([source], run_dir).code == 0
    header = "subject_id,name,address_line_1,city,state,zip\n"
    rows = [f"{i:08d},José Exampleño {i},{i} Main St,Los Angeles,CA,9001{i}\n" for i in (1, 2, 3)]
    decisions_header = "subject_id,cnt_order,decision,reviewer\n"
    decisions = [f"{i:08d},101001002000,reduce,Exampleña\n" for i in (1, 2, 3)]
    for encoding in ("cp1252", "utf-16", "utf-16-le", "utf-16-be"):
        addresses, decided = tmp_path / f"a-{encoding}.csv", tmp_path / f"d-{encoding}.csv"
        addresses.write_bytes((header + "".join(rows)).encode(encoding))
        decided.write_bytes((decisions_header + "".join(decisions)).encode(encoding))
        out = tmp_path / f"docs-{encoding}"
        code, output = _documents(run_dir, out, "--addresses", str(addresses),
                                  "--decisions", str(decided))  # fmt: skip
        assert code == 0, output
        summary = json.loads((out / "documents_summary.json").read_text())
        assert "3 letters" in output and "3 applied" in output, (summary, output)
        overrides = read_csv(out / "overrides.csv")
        assert {o["reviewer"] for o in overrides} == {"Exampleña"}
    for flag, text in (("--addresses", "".join(rows)), ("--decisions", "".join(decisions))):
        headless = tmp_path / f"headless{flag}.csv"
        headless.write_text(text)
        code, output = _documents(run_dir, tmp_path / f"docs{flag}", flag, str(headless))
        assert code == 1 and "is the header line missing?" in output
        assert "00000001" not in output and "Main St" not in output and "Exampleña" not in output
