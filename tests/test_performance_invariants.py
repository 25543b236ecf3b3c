"""What the speed work must never change: the results.

* A statewide run (`--county ALL`) writes one gogen bundle per county folder; each equals,
  byte for byte, the bundle a one-county run writes for that county's own extract (the
  whole record of every person with a conviction decided in the county), and its
  Prop64_Results equals the one-county run's over the statewide file.
* The same rows split over several files give the same decisions and the same bundle lines.
* A memory limit of a few times the input (DuckDB spills what does not fit) and one thread give the
  same bytes as the default.
* A file that must be read with every raw column (a quoted line end) gives the same facts as
  the fast projected read would give for the same records.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearslate import database
from clearslate import run as run_module
from clearslate.engine.facts import ROW_FACTS
from clearslate.idle_work import run_steps
from clearslate.outputs import gogen_bundle
from clearslate.outputs.gogen_bundle import BUNDLE_LINE, BUNDLE_ROW_COLUMNS, prepare_bundle
from clearslate.policy import DEFAULT_POLICY
from clearslate.report.build import build_report
from clearslate.run import RunOptions, county_folder, row_store, run
from clearslate.sources.ca_doj import RowStore, read_doj_files
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS
from clearslate.synth import generate_doj_file

AS_OF = dt.date(2020, 7, 1)
BUNDLE = ("All_Results.csv", "All_Results_Condensed.csv", "Prop64_Results.csv")
# Files that hold the run's own time, not its results.
TIMED = {"gogen.json", "timings.json"}


def run_to(out: Path, inputs: list[Path], counties: list[str] | None, **kw: object) -> Path:
    run(RunOptions(inputs=inputs, outputs=out, counties=counties, as_of=AS_OF,
                   policy=DEFAULT_POLICY, **kw))  # type: ignore[arg-type]  # fmt: skip
    return out


def assert_manifest_holds(out: Path) -> None:
    """Each output's digest in the manifest is that of the file as it is (the bundle's
    writers take theirs as they write; a file mended after is read again)."""
    outputs = json.loads((out / "manifest.json").read_text())["outputs"]
    for listed in outputs:
        digest = hashlib.sha256((out / listed["file"]).read_bytes()).hexdigest()
        assert listed["sha256"] == digest, listed["file"]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("state") / "state.csv"
    generate_doj_file(path, county="ALL", rows=6000, seed=5)
    return path


@pytest.fixture(scope="module")
def statewide(state: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_to(tmp_path_factory.mktemp("run") / "all", [state], None)


def test_statewide_run_writes_one_bundle_per_county(statewide: Path) -> None:
    det = read_rows(statewide / "determinations.csv")
    county = det[0].index("county")
    counties = {r[county] for r in det[1:]}
    assert len(counties) > 10
    folders = {p.name for p in statewide.iterdir() if p.is_dir()}
    assert folders == {county_folder(c) for c in counties}
    for c in counties:
        prop64 = read_rows(statewide / county_folder(c) / "Prop64_Results.csv")
        assert len(prop64) - 1 == sum(r[county] == c for r in det[1:])
        gogen = json.loads((statewide / county_folder(c) / "gogen.json").read_text())
        assert gogen["county"] == c
    # no bundle at the top: the statewide summary and determinations are there
    assert not (statewide / "All_Results.csv").exists()
    summary = json.loads((statewide / "summary.json").read_text())
    assert summary["counties"] == "ALL"
    assert summary["convictions"]["evaluated"] == len(det) - 1
    manifest = json.loads((statewide / "manifest.json").read_text())
    listed = {o["file"] for o in manifest["outputs"]}
    assert {f"{county_folder(c)}/All_Results.csv" for c in counties} <= listed
    assert_manifest_holds(statewide)


def test_a_forced_run_leaves_no_county_folder_of_the_earlier_run(
    state: Path, statewide: Path, tmp_path: Path
) -> None:
    """--force over a statewide run: the counties this run does not decide must not keep the
    earlier run's folders (they would look like this run's results); the office's own
    files stay."""
    out = tmp_path / "out"
    shutil.copytree(statewide, out)
    (out / "notes.txt").write_text("the office's own")
    (out / "LOS_ANGELES" / "checked.txt").write_text("the office's own")
    run_to(out, [state], ["LOS ANGELES", "SAN DIEGO"], force=True)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["LOS_ANGELES", "SAN_DIEGO"]
    assert (out / "notes.txt").exists() and (out / "LOS_ANGELES" / "checked.txt").exists()
    listed = {o["file"] for o in json.loads((out / "manifest.json").read_text())["outputs"]}
    unlisted = TIMED | {"manifest.json", "notes.txt", "checked.txt"}
    on_disk = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in unlisted
    }
    assert on_disk == listed


def test_a_forced_run_leaves_no_unlisted_file_of_the_earlier_run(
    state: Path, tmp_path: Path
) -> None:
    """The files a run writes outside its manifest (its reports, timings.json, gogen_S.json
    for another --file-name-suffix) are the earlier run's too: a report left beside new
    results would show the old figures."""
    out = run_to(tmp_path / "out", [state], ["SAN DIEGO"], file_name_suffix="S1")
    for public in (False, True):
        build_report(out, public=public, pdf=False)
    earlier = {p.name for p in out.iterdir()}
    assert {"gogen_S1.json", "timings.json", "report.html", "report-public.html"} <= earlier
    (out / "notes.txt").write_text("the office's own")
    run_to(out, [state], ["LOS ANGELES"], force=True)
    listed = {o["file"] for o in json.loads((out / "manifest.json").read_text())["outputs"]}
    assert {p.name for p in out.iterdir()} == listed | TIMED | {"manifest.json", "notes.txt"}


@pytest.mark.parametrize("county", ["LOS ANGELES", "SAN DIEGO"])
def test_county_bundle_equals_a_one_county_run(
    state: Path, statewide: Path, tmp_path: Path, county: str
) -> None:
    folder = statewide / county_folder(county)
    # Prop64_Results: the same bytes as a one-county run over the whole statewide file.
    whole = run_to(tmp_path / "whole", [state], [county])
    assert (folder / "Prop64_Results.csv").read_bytes() == (
        whole / "Prop64_Results.csv"
    ).read_bytes()
    # The county's extract: every row of every person with a conviction decided there.
    det = read_rows(statewide / "determinations.csv")
    subject, where = det[0].index("subject_id"), det[0].index("county")
    people = {r[subject] for r in det[1:] if r[where] == county}
    rows = read_rows(state)
    sid = rows[0].index("SUBJECT_ID")
    extract = write_rows(
        tmp_path / "extract.csv", [rows[0]] + [r for r in rows[1:] if r[sid].strip() in people]
    )
    one = run_to(tmp_path / "one", [extract], [county])
    for name in BUNDLE:
        assert (folder / name).read_bytes() == (one / name).read_bytes(), name
    # and the county's gogen.json counts as the one-county run's does (lines and time aside)
    mine, theirs = (json.loads((d / "gogen.json").read_text()) for d in (folder, one))
    for key in ("lineCount", "processingTimeInSeconds"):
        mine.pop(key), theirs.pop(key)
    assert mine == theirs


def test_county_files_do_not_depend_on_the_batches_they_are_split_in(
    state: Path, statewide: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statewide split by folder, batch by batch: in batches of 7 rows, some hold one
    folder's rows (written as they come) and some several folders' interleaved (sorted
    first); the files are the same bytes as in batches of 20,000."""
    monkeypatch.setattr(gogen_bundle, "_BATCH_ROWS", 7)
    small = run_to(tmp_path / "small", [state], None)
    for folder in (p for p in statewide.iterdir() if p.is_dir()):
        for name in BUNDLE:
            assert (small / folder.name / name).read_bytes() == (folder / name).read_bytes()


def test_split_files_give_the_same_results(state: Path, tmp_path: Path) -> None:
    whole = run_to(tmp_path / "whole", [state], ["LOS ANGELES"])
    rows = read_rows(state)
    cuts = [1, 1500, 3100, len(rows)]
    parts = [
        write_rows(tmp_path / f"part{i}.csv", [rows[0], *rows[a:b]])
        for i, (a, b) in enumerate(itertools.pairwise(cuts))
    ]
    split = run_to(tmp_path / "split", parts, ["LOS ANGELES"])
    # Bundle: file i's lines are the whole file's lines of its rows.
    for name in ("All_Results", "All_Results_Condensed", "Prop64_Results"):
        joined = [line for i in range(1, 4) for line in read_rows(split / f"{name}_{i}.csv")[1:]]
        assert joined == read_rows(whole / f"{name}.csv")[1:], name

    # Decisions: the same, but for where each row came from.
    def decisions(d: Path) -> list[list[str]]:
        det = read_rows(d / "determinations.csv")
        drop = {det[0].index("source_file"), det[0].index("source_line")}
        return [[v for i, v in enumerate(r) if i not in drop] for r in det]

    assert decisions(split) == decisions(whole)
    a, b = (json.loads((d / "summary.json").read_text()) for d in (whole, split))
    assert a == b


def test_tiny_memory_limit_and_one_thread_give_the_same_bytes(state: Path, tmp_path: Path) -> None:
    big = run_to(tmp_path / "big", [state], ["LOS ANGELES"])
    tiny = run_to(tmp_path / "tiny", [state], ["LOS ANGELES"], memory_limit="40MB", threads=1)
    names = sorted(p.name for p in big.iterdir() if p.name not in TIMED)
    assert names == sorted(p.name for p in tiny.iterdir() if p.name not in TIMED)
    for name in names:
        assert (big / name).read_bytes() == (tiny / name).read_bytes(), name


def same_files(a: Path, b: Path) -> None:
    """Every file under `a` is under `b` with the same bytes, and no other (timed ones aside)."""
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name not in TIMED)
    assert names == sorted(
        p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name not in TIMED
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# The runs whose bytes a test compares: one county, statewide, the input split in two files.
RUN_SHAPES = pytest.mark.parametrize(
    ("counties", "split"),
    [(["LOS ANGELES"], False), (None, False), (["LOS ANGELES"], True)],
    ids=["one-county", "statewide", "two-files"],
)


@RUN_SHAPES
def test_a_row_table_kept_in_a_compressed_file_gives_the_same_bytes(
    state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    counties: list[str] | None,
    split: bool,
) -> None:
    """A run whose input is large against its memory limit keeps its row table in a DuckDB
    database file (`row_store`): its decisions, bundle (the eligibility columns UPDATEd in
    that table, a statewide run's folders too) and manifest are those of a run that keeps it
    in memory. Here every run would, and one thread at 40MB makes it spill as well. Split in
    two files, each with a rejected record, the rows are copied into the table from the
    scan's (no file is taken over whole, `_adopt_segment`)."""
    inputs = [state]
    if split:
        rows = read_rows(state)
        short = rows[9][:-1]  # too few fields: rejected
        inputs = [
            write_rows(tmp_path / "a.csv", [*rows[:10], short, *rows[10:3000]]),
            write_rows(tmp_path / "b.csv", [rows[0], *rows[3000:3100], short, *rows[3100:]]),
        ]
    in_memory = run_to(tmp_path / "memory", inputs, counties)
    catalogs: list[list[tuple[str]]] = []
    reader = run_module.read_doj_files

    def read_and_look(con: duckdb.DuckDBPyConnection, paths: list[Path], **kw: Any) -> Any:
        read = reader(con, paths, **kw)
        where = "SELECT database_name FROM duckdb_tables() WHERE table_name = 'doj_rows'"
        catalogs.append(con.execute(where).fetchall())
        return read

    monkeypatch.setattr(run_module, "ROW_STORE_FROM", 0)
    monkeypatch.setattr(run_module, "read_doj_files", read_and_look)
    stored = run_to(tmp_path / "stored", inputs, counties, memory_limit="40MB", threads=1)
    assert catalogs == [[("row_store",)]]
    if split:
        assert len(read_rows(stored / "errors.csv")) == 3  # the header and the two rejects
    same_files(in_memory, stored)


@RUN_SHAPES
def test_the_bundle_filled_in_many_updates_gives_the_same_bytes(
    state: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    counties: list[str] | None,
    split: bool,
) -> None:
    """The eligibility columns (and, statewide, each row's folders) are set in the row table
    by several UPDATEs of row-id ranges once there are many rows (`_UPDATE_ROWS`): the bundle
    is the same as from one UPDATE, and every filled row is set once, in one range (rows
    spread over two files too)."""
    inputs = [state]
    if split:
        rows = read_rows(state)
        inputs = [write_rows(tmp_path / "a.csv", rows[:3000]),
                  write_rows(tmp_path / "b.csv", [rows[0], *rows[3000:]])]  # fmt: skip
    whole = run_to(tmp_path / "whole", inputs, counties)
    ranges: dict[str, list[tuple[int, int]]] = {}
    row_ranges = gogen_bundle._row_ranges

    def recorded(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, int]]:
        ranges[table] = row_ranges(con, table)
        counts = [
            con.execute(f"SELECT count(*) FROM {table} WHERE row_id >= ? AND row_id < ?",
                        [first, after]).fetchall()[0][0]
            for first, after in ranges[table]
        ]  # fmt: skip
        total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert sum(counts) == total and max(counts) <= 40, (table, counts)
        return ranges[table]

    monkeypatch.setattr(gogen_bundle, "_UPDATE_ROWS", 40)
    monkeypatch.setattr(gogen_bundle, "_row_ranges", recorded)
    parts = run_to(tmp_path / "parts", inputs, counties)
    assert len(ranges["bundle_eligibility"]) > 5
    assert ("bundle_folders" in ranges) == (counties is None)
    same_files(whole, parts)


def test_the_row_table_goes_to_a_file_for_an_input_large_against_the_memory_limit(
    tmp_path: Path,
) -> None:
    """1.5 times the memory limit or more: a compressed file in the run's temporary folder
    (DuckDB's temp_directory, removed with the folder), on the search path; less: memory."""
    path = tmp_path / "in.csv"
    spill = tmp_path / "spill"
    spill.mkdir()
    con = database.connect(config={"memory_limit": "4MB", "temp_directory": str(spill)})
    limit = database.memory_limit_bytes(con)
    path.write_bytes(b"x" * int(1.5 * limit - 1))
    assert row_store(con, [path]) is None
    path.write_bytes(b"x" * int(1.5 * limit))
    store = row_store(con, [path], as_is=["q_condensed"])
    assert store == RowStore("row_store", frozenset({"q_condensed"}))
    assert (spill / "rows.duckdb").exists()
    con.execute("CREATE TABLE row_store.t AS SELECT 1 AS one")
    assert con.execute("SELECT one FROM t").fetchall() == [(1,)]  # found by the search path
    con.execute("CREATE TABLE u AS SELECT 2 AS two")  # other tables stay in memory
    assert con.execute(
        "SELECT database_name FROM duckdb_tables() WHERE table_name = 'u'"
    ).fetchall() == [("memory",)]


# Reads and decides a file as a run does, at a memory limit, on two threads; prints what was
# read and decided and the peak RSS in MiB (VmHWM: ru_maxrss keeps the parent's across exec).
_RUN_AT_LIMIT = """
import datetime as dt, re, sys
from pathlib import Path
from clearslate import database
from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.pipeline import decide_rows
from clearslate.policy import resolve_policy
from clearslate.sources.ca_doj import read_doj_files
con = database.connect(config={"memory_limit": sys.argv[2], "threads": 2})
read = read_doj_files(con, [Path(sys.argv[1])], select=ROW_FACTS)
facts = con.execute("SELECT bit_xor(hash(COLUMNS(*))) FROM doj_rows").fetchall()
decide_rows(con, counties=["LOS ANGELES"], as_of=dt.date(2020, 7, 1),
            policy=resolve_policy("dismiss-all"))
decided = con.execute("SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM determinations").fetchall()
peak = int(re.search(r"VmHWM:\\s*(\\d+)", Path("/proc/self/status").read_text())[1]) // 1024
print(read.rows_read, read.rows_accepted, len(read.rejects), *facts[0], *decided[0], peak)
"""


def test_a_tight_memory_limit_is_kept_by_the_scan_and_the_decisions(tmp_path: Path) -> None:
    """At 32MB, 75,000 rows (62 MB) are read and decided as at 1GB, within the limit.

    * DuckDB's read buffers count against the memory limit and cannot spill. They were
      128 MB (capped at the file's size) whatever the limit: this file's scan ran out of
      memory, and that was taken for a file the scanner refuses: it fell back to the
      line-by-line reader, which held the whole file in Python (a 1M-row run at
      --memory-limit 150MB reached 8 GB of RSS in it). The buffers now follow the limit
      (`record_limit`), and an out-of-memory error is never taken for the file's.
    * Deciding then ran out of memory: the row table's row ids and lines were columns added
      by ALTER TABLE, which DuckDB could not spill (`_adopt_segment`), and the convictions
      were found by one statement of three joins (`build_convictions`). At 10M rows the
      first needed some 280 MB and the second 1GB."""
    path = tmp_path / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=75_000, seed=3)
    assert path.stat().st_size > 58 * 2**20  # 62 MB
    run = {}
    for limit in ("1GB", "32MB"):
        done = subprocess.run(
            [sys.executable, "-c", _RUN_AT_LIMIT, str(path), limit],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        *run[limit], peak_mib = done.stdout.split()
    assert run["32MB"] == run["1GB"]
    assert run["32MB"][:3] == ["75000", "75000", "0"]
    assert int(run["32MB"][4]) > 7_000  # convictions decided
    assert int(peak_mib) < 32 + 256, peak_mib  # the limit, and the interpreter with its libraries


def test_a_raw_read_and_a_projected_read_agree(state: Path, tmp_path: Path) -> None:
    """The projected read falls back to a raw read when a field holds a line end; both must
    give the same row facts, row ids and source lines as projecting the raw table."""
    rows = read_rows(state)
    comment = rows[0].index("COMMENT_TEXT")
    rows[7][comment] = "TWO\nLINES"  # a quoted line end: this file needs the raw read
    for name, table in (("plain.csv", rows[:40]), ("newline.csv", rows)):
        path = write_rows(tmp_path / name, table)
        con = duckdb.connect()
        read_doj_files(con, [path], table="projected", select=ROW_FACTS)
        read_doj_files(con, [path], table="raw")
        names = ", ".join(n for n, _ in ROW_FACTS)
        exprs = ", ".join(f"{e} AS {n}" for n, e in ROW_FACTS)
        head = "row_id, file_index, source_line"
        assert con.execute(f"SELECT {head}, {names} FROM projected ORDER BY row_id").fetchall() == (
            con.execute(f"SELECT {head}, {exprs} FROM raw ORDER BY row_id").fetchall()
        )


@pytest.mark.parametrize("line_end", [False, True], ids=["rejects", "rejects-and-line-end"])
def test_the_bundle_keeps_input_order_around_rejects(
    state: Path, tmp_path: Path, line_end: bool
) -> None:
    """The bundle's files are plain scans of the row table: rows read after a reject (and a
    quoted line end, another path) must be in it in input order (they once came first)."""
    rows = read_rows(state)[:800]
    if line_end:
        rows[300][rows[0].index("COMMENT_TEXT")] = "TWO\nLINES"
    bad = rows[50][:-1]  # too few fields: rejected
    path = write_rows(tmp_path / "bad.csv", [*rows[:50], bad, *rows[50:600], bad, *rows[600:]])
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    assert len(read_rows(out / "errors.csv")) == 3  # header + the two rejects
    assert [r[:95] for r in read_rows(out / "All_Results.csv")[1:]] == rows[1:]
    prop64 = [r[:95] for r in read_rows(out / "Prop64_Results.csv")[1:]]
    assert prop64 and prop64 == [r for r in rows[1:] if r in prop64]


@pytest.mark.parametrize("in_a_file", [False, True], ids=["memory", "row-store"])
def test_the_row_table_keeps_input_order_beyond_one_row_group(
    tmp_path: Path, in_a_file: bool
) -> None:
    """Row ids and source lines are the input order, however many row groups (122,880 rows
    each) DuckDB's parallel scan makes: an `IN` list of the 95 column names in the scan once
    became a join that put the rows of one group after another's. The same in a compressed
    database file (`RowStore`), which DuckDB writes row group by row group as it scans."""
    path = tmp_path / "long.csv"  # 116 MB: the join's disorder showed from about 100 MB
    rest = "x" * 300 + "," * (len(DOJ_COLUMNS) - 4)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(DOJ_COLUMNS) + "\n")
        fh.writelines(f"{i},A,{i},{rest}\n" for i in range(300_000))
    con = duckdb.connect()
    store = None
    if in_a_file:
        con.execute(f"ATTACH '{tmp_path / 'rows.duckdb'}' AS kept")
        con.execute("SET search_path = 'memory.main,kept.main'")
        store = RowStore("kept")
    read_doj_files(con, [path], select=ROW_FACTS, store=store)
    where = "SELECT database_name FROM duckdb_tables() WHERE table_name = 'doj_rows'"
    assert con.execute(where).fetchall() == [("kept" if in_a_file else "temp",)]
    assert con.execute(
        """SELECT count(*), count(*) FILTER (subject_id::BIGINT <> row_id
                                              OR source_line <> row_id + 2) FROM doj_rows"""
    ).fetchone() == (300_000, 0)


# Go's encoding/csv: a field is quoted when it holds , " CR or LF, starts with a Unicode
# space, or is exactly \. (an oracle written from Go's rules, apart from the code's regex)
GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)


def counted(fn: Any, calls: dict[str, int], name: str) -> Any:
    def call(*args: Any) -> Any:
        calls[name] += 1
        return fn(*args)

    return call


def go_line(fields: list[str]) -> str:
    def field(f: str) -> str:
        if f and (f == "\\." or f[0] in GO_SPACES or any(c in f for c in ',"\r\n')):
            return '"' + f.replace('"', '""') + '"'
        return f

    return ",".join(field(f) for f in fields)


def write_lines(path: Path, lines: list[str], end: str = "\n", bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "".join(x + end for x in lines).encode())
    return path


# A field as Go writes it, quoted always, or never (only where that keeps the line's
# fields), or after a quote that its line never closes.
QUOTINGS = {
    "go": lambda f: go_line([f]),
    "quoted": lambda f: '"' + f.replace('"', '""') + '"',
    "bare": lambda f: f if not any(c in f for c in ',"') else go_line([f]),
    "open": lambda f: '"' + f.replace('"', '""'),
}
# Fields of one line of a lean file (no CR or LF), Go's every kind of start among them.
ONE_LINE_FIELD = st.one_of(
    st.text(st.sampled_from([*GO_SPACES.replace("\r", "").replace("\n", ""), *',"\\.A\u00e9']),
            max_size=3),
    st.sampled_from(["\\.", "\\.A", " A", "\u3000A", "A B"]),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(st.lists(ONE_LINE_FIELD, min_size=1, max_size=4), min_size=1, max_size=6),
    other=st.tuples(st.integers(0, 23), st.sampled_from(["quoted", "bare", "open"])),
    block=st.sampled_from([1, 5, 64, 8 << 20]),
    crlf=st.booleans(),
)
def test_the_go_line_check_agrees_with_gos_rules(
    lines: list[list[str]], other: tuple[int, str], block: int, crlf: bool
) -> None:
    """The check that lets a file's lines be copied as they are says yes exactly when each
    field of each line is quoted as Go quotes it (Go's rules written apart from its regular
    expression, above), however the file's blocks cut its lines and whatever its line ends;
    and no for a line that is not UTF-8 (a rejected record's). Every field is as Go writes
    it but `other`, quoted always, never (as Go does for some), or opened only."""
    where, how = other
    fields = [(i, j) for i, line in enumerate(lines) for j in range(len(line))]
    at = fields[where % len(fields)]
    text = [
        ",".join(QUOTINGS[how if (i, j) == at else "go"](f) for j, f in enumerate(line))
        for i, line in enumerate(lines)
    ]
    odd = lines[at[0]][at[1]]
    as_go = QUOTINGS[how](odd) == go_line([odd])
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(gogen_bundle, "_FILE_BLOCK", block)
        path = write_lines(Path(tmp) / "in.csv", ["HEADER", *text], "\r\n" if crlf else "\n")
        file = gogen_bundle.FileText("", "", path, header=True, lines=len(text))
        assert gogen_bundle._all_go_lines(file, threading.Event()) is as_go
        # and the writer is told that line, where it lies in its block, to mend it
        odd_line = {} if as_go else {at[0] + 2: text[at[0]].encode()}
        assert odd_lines_found(file, count_lines=crlf) == odd_line
        path.write_bytes(path.read_bytes() + b"A,\xff\n")
        assert gogen_bundle._all_go_lines(file, threading.Event()) is False
        file = gogen_bundle.FileText("", "", path, header=True, lines=len(text) + 1)
        found = odd_lines_found(file, count_lines=not crlf)
        assert found == {**odd_line, len(text) + 2: b"A,\xff"}


def odd_lines_found(file: gogen_bundle.FileText, count_lines: bool) -> dict[int, bytes]:
    """The lines the check gives the writers as not as Go writes them (`_Verdicts`), by
    line number, each as the bytes where the verdict says it lies in its block; and, where
    the check counts every block's lines, the same lines to a statewide writer by number."""
    verdicts = gogen_bundle._Verdicts(threading.Event())
    steps = gogen_bundle._odd_lines(file, 10**6, verdicts, count_lines)
    assert run_steps(steps) is not None
    blocks = [bytes(block) for block in gogen_bundle._whole_lines(file)]
    found = {
        line: block[start:end]
        for i, block in enumerate(blocks)
        for line, start, end in verdicts.of(i)
    }
    if count_lines:
        assert dict(verdicts.between(2, file.lines + 1)) == found
    return found


@pytest.mark.parametrize("how", ["the writer ends", "the writer fails", "the run stops"])
@pytest.mark.parametrize("statewide", [False, True])
def test_the_check_goes_no_further_than_a_few_blocks_ahead_of_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statewide: bool, how: str
) -> None:
    """While a writer writes (`_Verdicts.followed`), the check of the lines gives its verdict
    on at most `_AHEAD` blocks beyond the one the writer waits for (a one-county writer by
    block, a statewide one by line), so that the pages it reads from the disk are still in
    the page cache when the writer reads them. However the writer ends, or if the run stops,
    the check does not wait for it any longer."""
    monkeypatch.setattr(gogen_bundle, "_FILE_BLOCK", 600)
    path = write_lines(tmp_path / "in.csv", ["HEADER", *(f"A{i},B,C" for i in range(20_000))])
    text = gogen_bundle.FileText("", "", path, header=True, lines=20_000)
    ends = list(
        itertools.accumulate(bytes(b).count(b"\n") for b in gogen_bundle._whole_lines(text))
    )
    verdicts = gogen_bundle._Verdicts(threading.Event())
    checked: list[int | None] = []  # the check's result
    check = threading.Thread(
        target=lambda: checked.append(
            run_steps(gogen_bundle._odd_lines(text, 10**6, verdicts, count_lines=statewide))
        )
    )
    given = verdicts._given

    def held_at(blocks: int) -> None:
        for _ in range(1000):
            if len(given) >= blocks:
                break
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)  # (and no further)
        assert len(given) == blocks

    fails = pytest.raises(RuntimeError) if how == "the writer fails" else nullcontext()
    with fails, verdicts.followed():
        check.start()
        held_at(1 + gogen_bundle._AHEAD)  # (the writer begins at the first block)
        for block in (0, 37, 38):
            if statewide:  # the rows of the block's last line (line 1 is the header)
                verdicts.between(ends[block], 1 + ends[block])
            else:
                verdicts.of(block)
            held_at(block + 1 + gogen_bundle._AHEAD)
        if how == "the run stops":
            verdicts.stop.set()
        elif how == "the writer fails":
            raise RuntimeError
    check.join(timeout=10)
    assert checked == [None if how == "the run stops" else 0]
    assert len(given) < len(ends) if how == "the run stops" else len(given) == len(ends) > 100


def test_the_check_and_the_writer_read_a_file_from_the_disk_once(tmp_path: Path) -> None:
    """On a machine whose page cache cannot hold the input, the check of its lines and the
    writer of All_Results read each page from the disk once between them: the check begins
    while the run decides, and is ahead when the writer begins (2.6 GB of a 10M-row file's
    8.2 GB on 3 GiB of memory), but then waits for the writer (`_Verdicts.followed`). It
    ran on before, and each read the whole input from the disk: 1.77-1.82 x the file here
    (the reads after the imports). The emulated machine: a cgroup of 300 MiB, reads at
    200 MB/s."""
    from test_ca_doj_reader import in_cgroup

    line = b"A" * 190 + b",B,C\n"  # (a research file's lines are some 800 bytes)
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        for _ in range(96):  # 768 MB
            out.write(line * (8 * 2**20 // len(line)))
    lines = 96 * (8 * 2**20 // len(line))
    imports = (
        "import threading\n"
        "from clearslate.outputs import gogen_bundle as g\n"
        "from clearslate.progress import Place\n"
    )
    check_and_write = (
        f"text = g.FileText('', '', path, header=False, lines={lines})\n"
        "check = g.start_line_check(text, statewide=False)\n"
        "while len(check.verdicts._given) < 8:  # (64 MB ahead, as while the run decides)\n"
        "    threading.Event().wait(0.01)\n"
        "odd_lines = check.work.hurry()\n"
        "paths = {kind: path.with_name(kind) for kind in ('all', 'prop64')}\n"
        "print(g._write_full_from_file(paths, text, iter(()), Place(), lambda p: p,"
        " check.verdicts), odd_lines.result())\n"
    )
    read_bytes, printed = in_cgroup(imports, check_and_write, path, 300 * 2**20, 200_000_000)
    assert printed.split() == ["True", "0"]
    assert read_bytes < 1.5 * path.stat().st_size, read_bytes / path.stat().st_size


def test_a_quote_a_line_never_closes_does_not_join_it_to_the_next(tmp_path: Path) -> None:
    """The check matches a block of lines at once; two lines that would read as one record
    with a line end in a quoted field (as Go would write it) are two lines of a lean file,
    neither as Go writes it."""
    path = write_lines(tmp_path / "in.csv", ["HEADER", 'A,"B', 'C,D",E'])
    file = gogen_bundle.FileText("", "", path, header=True, lines=2)
    assert gogen_bundle._all_go_lines(file, threading.Event()) is False


@pytest.mark.parametrize("odd_lines", [0, 10_000], ids=["requoted", "mended"])
@pytest.mark.parametrize(
    "variant",
    ["as-go", "every-field-quoted", "bare-leading-space", "last-line-quoted", "crlf-bom"],
)
def test_the_bundle_does_not_depend_on_how_the_input_quotes(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, odd_lines: int
) -> None:
    """A file's lines are written as they are only when they are what Go writes; any other
    quoting (all fields, none where Go quotes, one line only) gives the same bytes, whether
    every record is quoted again or, up to `_ODD_LINES` of them, the lines not as Go writes
    them are mended where they were written."""
    monkeypatch.setattr(gogen_bundle, "_ODD_LINES", odd_lines)
    monkeypatch.setattr(gogen_bundle, "_ODD_LINES_IN", 10**9)  # (no share of the lines)
    ways = {"_write_requoted": 0, "_as_go_writes": 0}
    for name in ways:
        monkeypatch.setattr(gogen_bundle, name, counted(getattr(gogen_bundle, name), ways, name))
    rows = read_rows(state)[:1500]
    rows[3][rows[0].index("COMMENT_TEXT")] = '  PADDED, WITH "QUOTES"'
    rows[4][rows[0].index("COMMENT_TEXT")] = "\\."
    as_go = write_lines(tmp_path / "as-go.csv", [go_line(r) for r in rows])
    if variant == "every-field-quoted":
        lines = [",".join('"' + f.replace('"', '""') + '"' for f in r) for r in rows]
    elif variant == "bare-leading-space":
        lines = [go_line(r).replace(',"          ",', ",          ,") for r in rows]
    elif variant == "last-line-quoted":
        lines = [go_line(r) for r in rows[:-1]] + [",".join(f'"{f}"' for f in rows[-1])]
    else:
        lines = [go_line(r) for r in rows]
    path = write_lines(tmp_path / "in.csv", lines, "\r\n", bom=True) if variant == "crlf-bom" \
        else write_lines(tmp_path / "in.csv", lines)  # fmt: skip
    assert variant == "as-go" or path.read_bytes() != as_go.read_bytes()
    expected = run_to(tmp_path / "expected", [as_go], ["LOS ANGELES"])
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    for name in BUNDLE:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # nothing left over
    assert_manifest_holds(out)
    odd = variant not in ("as-go", "crlf-bom")
    assert ways == {
        "_write_requoted": odd and not odd_lines,
        "_as_go_writes": odd and bool(odd_lines),  # (the file is one block)
    }
    # and what Go writes is the input's fields, quoted as Go does
    written = (out / "All_Results.csv").read_text(encoding="utf-8").split("\n")[1:-1]
    assert [line[: len(go_line(r))] for line, r in zip(written, rows[1:], strict=True)] == [
        go_line(r) for r in rows[1:]
    ]


def test_a_failed_check_stops_the_writer_of_the_lines_as_they_are(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the check finds more lines not as Go writes them than can be mended, the writer
    of the lines as they are stops at the block where it waits for the check's verdict (its
    files would be thrown away), and the files are written from the records quoted as Go
    does: the same bytes. (An all-quoted 1M-row file's check fails in 0.1 s; the writer
    once went on for 3.5 s before the quoted rewrite began.)"""
    rows = read_rows(state)[:1500]
    as_go = write_lines(tmp_path / "as-go.csv", [go_line(r) for r in rows])
    quoted = [",".join('"' + f.replace('"', '""') + '"' for f in r) for r in rows]
    path = write_lines(tmp_path / "in.csv", quoted)
    monkeypatch.setattr(gogen_bundle, "_FILE_BLOCK", 5000)  # (some 240 blocks)
    monkeypatch.setattr(gogen_bundle, "_ODD_LINES", 20)  # (the check fails in block 4 or so)
    mended = gogen_bundle._mended
    written: list[int] = []
    stopped: list[bool] = []

    def counted_blocks(*args: Any) -> Iterator[bytes]:
        try:
            for block in mended(*args):
                written.append(len(block))
                yield block
        except gogen_bundle._Stopped:
            stopped.append(True)
            raise

    monkeypatch.setattr(gogen_bundle, "_mended", counted_blocks)
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    assert stopped == [True]
    assert 0 < len(written) < 10
    expected = run_to(tmp_path / "expected", [as_go], ["LOS ANGELES"])
    for name in BUNDLE:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # nothing left over


def test_a_row_without_its_quoted_record_stops_the_run_and_leaves_no_file(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quoted records and the rows pair up by their order; a row with filled columns
    that no record meets (which cannot be) stops the run, and the files it was writing
    are not left under their names."""
    rows = read_rows(state)[:300]
    path = write_lines(
        tmp_path / "in.csv", [",".join(f'"{f}"' for f in r) for r in rows]
    )  # every field quoted: the files are written from the quoted records
    filled = gogen_bundle._filled_rows

    def one_more(con: duckdb.DuckDBPyConnection, file_index: int) -> Any:
        return itertools.chain(filled(con, file_index), [(10_000, "", True)])

    monkeypatch.setattr(gogen_bundle, "_filled_rows", one_more)
    monkeypatch.setattr(gogen_bundle, "_ODD_LINES", 0)  # (300 lines would be mended)
    monkeypatch.setattr(gogen_bundle, "_ODD_LINES_IN", 10**9)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="do not pair up"):
        run_to(out, [path], ["LOS ANGELES"])
    assert not {"All_Results.csv", "Prop64_Results.csv"} & {p.name for p in out.iterdir()}
    assert not [p.name for p in out.iterdir() if "All_Results.csv" in p.name]


@pytest.mark.parametrize("block", [100, 5000, 8 << 20])
@pytest.mark.parametrize(
    "variant",
    ["as-go", "no-final-line-end", "no-header", "crlf", "crlf-lone-cr", "bom-no-header"],
)
def test_the_bundle_written_from_the_file_equals_duckdbs(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, block: int
) -> None:
    """All_Results and Prop64_Results written from the file's own bytes, block by block (a
    line, a row with filled columns and a CRLF across two blocks or more), have the bytes
    of DuckDB's COPYs, LF or CRLF; a file that writer does not take (a byte-order mark and
    no header line) goes to the COPYs, as does a CRLF file with a lone CR in a field."""
    rows = read_rows(state)[:1500]
    if variant == "crlf-lone-cr":
        rows[7][rows[0].index("COMMENT_TEXT")] = "A\rB"
    lines = [go_line(r) for r in rows]
    if variant in ("no-header", "bom-no-header"):
        lines = lines[1:]
    end = "\r\n" if variant.startswith("crlf") else "\n"
    text = end.join(lines) + ("" if variant == "no-final-line-end" else end)
    path = tmp_path / "in.csv"
    path.write_bytes((b"\xef\xbb\xbf" if variant == "bom-no-header" else b"") + text.encode())
    written = gogen_bundle._write_full_from_file
    taken: list[bool] = []

    def from_file(*args: Any) -> bool:
        try:
            taken.append(written(*args))
        except gogen_bundle._Stopped:  # the check, which refuses the file too, ended first
            taken.append(False)
            raise
        return taken[-1]

    monkeypatch.setattr(gogen_bundle, "_FILE_BLOCK", block)
    monkeypatch.setattr(gogen_bundle, "_write_full_from_file", from_file)
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    monkeypatch.setattr(gogen_bundle, "_write_full_from_file", lambda *_: False)
    expected = run_to(tmp_path / "expected", [path], ["LOS ANGELES"])
    assert taken == [variant not in ("bom-no-header", "crlf-lone-cr")]
    for name in BUNDLE:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert len(read_rows(out / "Prop64_Results.csv")) > 10
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # nothing left over


def test_a_crlf_file_with_a_lone_cr_in_a_field_is_written(state: Path, tmp_path: Path) -> None:
    """A CRLF file with a CR alone in a quoted field: the one-field read of its lines fails
    there, which stopped the whole run ("unexpected error"). Its lines are now quoted from
    its records, as Go writes them."""
    rows = read_rows(state)[:300]
    rows[7][rows[0].index("COMMENT_TEXT")] = "A\rB"
    path = write_lines(tmp_path / "in.csv", [go_line(r) for r in rows], "\r\n")
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    written = (out / "All_Results.csv").read_bytes().decode().split("\n")[1:-1]
    assert [line[: len(go_line(r))] for line, r in zip(written, rows[1:], strict=True)] == [
        go_line(r) for r in rows[1:]
    ]
    assert '"A\rB"' in written[6]
    # and statewide, where the county files are made from the same lines
    statewide = run_to(tmp_path / "statewide", [path], None)
    assert (statewide / "manifest.json").exists()


def test_a_field_holding_the_line_reads_delimiter_is_written(state: Path, tmp_path: Path) -> None:
    """A byte 0x01 in a field: the one-field read of a file's lines, whose delimiter it is,
    fails there, which stopped a statewide run ("unexpected error"; found by
    test_any_values_in_the_fields_decisions_read_are_decided). The county files are now
    written from the records quoted as Go writes them: the one-county run's bytes, which
    that run writes from the file's own."""
    rows = read_rows(state)[:300]
    rows[7][rows[0].index("COMMENT_TEXT")] = "A\x01B"
    path = write_lines(tmp_path / "in.csv", [go_line(r) for r in rows])
    county = rows[7][rows[0].index("STP_ORI_CNTY_NAME")].strip()
    one = run_to(tmp_path / "one", [path], [county])
    written = (one / "All_Results.csv").read_bytes().decode().split("\n")[1:-1]
    assert written[6].startswith(go_line(rows[7])) and "A\x01B" in written[6]
    statewide = run_to(tmp_path / "statewide", [path], None)
    assert (statewide / county_folder(county) / "Prop64_Results.csv").read_bytes() == (
        one / "Prop64_Results.csv"
    ).read_bytes()
    assert any("A\x01B" in f.read_text() for f in statewide.glob("*/All_Results.csv"))


def test_a_file_read_lean_only_when_its_records_are_its_lines(state: Path, tmp_path: Path) -> None:
    """The bundle's full line is left to be read from the file only for a file of one record
    per line, rejected records and blank lines between them too; a file with a quoted line
    end gets it computed in the scan."""
    rows = read_rows(state)[:300]
    good = write_rows(tmp_path / "good.csv", rows)
    bad = write_rows(tmp_path / "bad.csv", [*rows[:100], rows[100][:-1], *rows[100:]])
    multiline = [list(r) for r in rows]
    multiline[7][rows[0].index("COMMENT_TEXT")] = "TWO\nLINES"
    multiline_path = write_rows(tmp_path / "multiline.csv", multiline)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(good.read_bytes().replace(b"\n", b"\n\n", 2))
    con = duckdb.connect()
    prepare_bundle(con)
    read = read_doj_files(
        con,
        [good, bad, multiline_path, blank],
        select=[*ROW_FACTS, *BUNDLE_ROW_COLUMNS],
        deferred=[BUNDLE_LINE],
    )
    assert [f.lean for f in read.files] == [True, True, False, True]
    assert con.execute(
        "SELECT file_index, count(q_all) FROM doj_rows GROUP BY ALL ORDER BY 1"
    ).fetchall() == [(0, 0), (1, 0), (2, 299), (3, 0)]
    assert read.files[3].blank_lines == [2, 4]


@pytest.mark.parametrize("block", [5000, 8 << 20])
@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_few_lines_not_as_go_writes_them_are_mended_where_they_are_written(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str, block: int
) -> None:
    """A file whose lines are as Go writes them but for a few (a field quoted that Go
    would not quote, one left bare that Go quotes: a leading no-break space, `\\.`),
    among rejected records and blank lines, is written as it is but for those lines,
    quoted as Go does as each block of lines is written, in All_Results and, for the
    decided rows, in Prop64_Results: the bytes of the clean file's bundle, without quoting
    every record again, in one block or many (the file's first and last lines among
    them)."""
    rows = read_rows(state)[:1500]
    comment = rows[0].index("COMMENT_TEXT")
    rows[700][comment], rows[1200][comment] = "\xa0NOTE", "\\."
    lines = [go_line(r) for r in rows]
    clean = write_lines(tmp_path / "clean.csv", lines, end)
    expected = run_to(tmp_path / "expected", [clean], ["LOS ANGELES"])
    decided = (expected / "Prop64_Results.csv").read_text(encoding="utf-8")
    in_prop64 = [i for i in range(1, 1500) if f"\n{lines[i]}," in decided]
    odd = {in_prop64[0], in_prop64[len(in_prop64) // 2], in_prop64[-1], 1, 3, 700, 1200, 1499}
    assert len(odd & set(in_prop64)) >= 3
    bare = {
        700: lines[700].replace('"\xa0NOTE"', "\xa0NOTE"),
        1200: lines[1200].replace('"\\."', "\\."),
    }
    text = [
        bare.get(i) or (",".join(f'"{f}"' for f in rows[i]) if i in odd else line)
        for i, line in enumerate(lines)
    ]
    assert all(text[i] != lines[i] for i in odd)
    bad = [*text[:40], "X,Y", *text[40:900], "", *text[900:]]
    path = write_lines(tmp_path / "bad.csv", bad, end)

    def not_requoted(*_: Any) -> None:
        raise AssertionError("every record quoted again")

    monkeypatch.setattr(gogen_bundle, "_write_requoted", not_requoted)
    monkeypatch.setattr(gogen_bundle, "_FILE_BLOCK", block)
    mended = {"_as_go_writes": 0}
    monkeypatch.setattr(
        gogen_bundle,
        "_as_go_writes",
        counted(gogen_bundle._as_go_writes, mended, "_as_go_writes"),
    )
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    # (once per block with such lines)
    one_block = block > path.stat().st_size
    assert mended["_as_go_writes"] == 1 if one_block else mended["_as_go_writes"] > 4
    assert_manifest_holds(out)
    for name in BUNDLE:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert [r[1] for r in read_rows(out / "errors.csv")[1:]] == ["41"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # nothing left over


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("writer", ["from-file", "quoted"])
def test_a_bundle_leaves_out_rejected_and_blank_lines(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str, writer: str
) -> None:
    """A file with rejected records or blank lines is read once, lean: its bundle is its
    lines without those, the same bytes as the bundle of the file without them, whether
    written from the file's bytes or, where that writer does not take a file, from its
    records quoted as Go does; statewide too. (It was read a second time, with every field
    quoted in the scan, and its rows sorted: a 1M-row file with one bad row took 51 s, not
    23 s; one with a blank line at its end, 82 s: it was read three times.)"""
    rows = read_rows(state)[:1500]
    lines = [go_line(r) for r in rows]
    assert all(line.count('"') % 2 == 0 for line in lines)
    few, many = ",".join(lines[40].split(",")[:50]), lines[900] + ",EXTRA"
    # fields joined by another delimiter, and text after a closing quote
    cut = [lines[1001].replace(",", ";", 3), '""' + lines[1002]]
    bad = [*lines[:40], few, *lines[40:900], "", many, *lines[900:1000], *cut, *lines[1000:]]
    bad += ["X,Y", ""]
    path = write_lines(tmp_path / "bad.csv", bad, end)
    clean = write_lines(tmp_path / "clean.csv", lines, end)
    con = duckdb.connect()
    prepare_bundle(con)
    facts = [*ROW_FACTS, *BUNDLE_ROW_COLUMNS]
    assert read_doj_files(con, [path], select=facts, deferred=[BUNDLE_LINE]).files[0].lean
    if writer == "quoted":
        monkeypatch.setattr(gogen_bundle, "_write_full_from_file", lambda *_: False)
    out = run_to(tmp_path / "out", [path], ["LOS ANGELES"])
    expected = run_to(tmp_path / "expected", [clean], ["LOS ANGELES"])
    for name in BUNDLE:
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert [r[1] for r in read_rows(out / "errors.csv")[1:]] == [
        "41",
        "903",
        "1004",
        "1005",
        "1506",
    ]
    assert len(read_rows(out / "Prop64_Results.csv")) > 10
    if writer == "quoted":
        statewide = run_to(tmp_path / "statewide", [path], None)
        expected = run_to(tmp_path / "statewide-expected", [clean], None)
        county = county_folder("LOS ANGELES")
        for name in BUNDLE:
            assert (statewide / county / name).read_bytes() == (
                expected / county / name
            ).read_bytes(), name


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_statewide_run_mends_a_few_lines_not_as_go_writes_them_too(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, end: str
) -> None:
    """A statewide run writes its county files from rows, not blocks of lines: each batch
    of rows waits for the check to pass its lines, and a few lines not as Go writes them
    are quoted as Go does in every county folder that shows the row, in All_Results and
    Prop64_Results: the bytes of the clean file's county files, without quoting every
    record again (which a statewide run did for any such line). Batches of 7 rows and
    blocks of 5,000 bytes, so that the writer catches up with the check."""
    rows = read_rows(state)[:1500]
    lines = [go_line(r) for r in rows]
    clean = write_lines(tmp_path / "clean.csv", lines, end)
    expected = run_to(tmp_path / "expected", [clean], None)
    odd = {1, 2, 3, 500, 501, 1100, 1499}
    text = [",".join(f'"{f}"' for f in rows[i]) if i in odd else x for i, x in enumerate(lines)]
    path = write_lines(tmp_path / "odd.csv", text, end)
    monkeypatch.setattr(gogen_bundle, "_BATCH_ROWS", 7)
    monkeypatch.setattr(gogen_bundle, "_FILE_BLOCK", 5000)
    calls = {"_mended_rows": 0, "_as_go_writes": 0}
    for name in calls:
        monkeypatch.setattr(gogen_bundle, name, counted(getattr(gogen_bundle, name), calls, name))

    def quoted_again(*_: Any) -> str:
        raise AssertionError("every record quoted again")

    monkeypatch.setattr(gogen_bundle, "_quoted_line", quoted_again)
    out = run_to(tmp_path / "out", [path], None)
    folders = sorted(p.name for p in expected.iterdir() if p.is_dir())
    shown = "".join((expected / f / "All_Results.csv").read_text("utf-8") for f in folders)
    assert len([i for i in odd if f"\n{lines[i]}," in shown]) >= 3  # (a person's rows shown)
    assert calls["_as_go_writes"] >= 1 and calls["_mended_rows"] > 1500 / 7
    assert len(folders) > 10 and folders == sorted(p.name for p in out.iterdir() if p.is_dir())
    for folder in folders:
        for name in BUNDLE:
            assert (out / folder / name).read_bytes() == (expected / folder / name).read_bytes()
    assert_manifest_holds(out)
    assert not [p.name for p in out.rglob(".*")]  # nothing left over


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(ONE_LINE_FIELD, min_size=95, max_size=95),
    hows=st.lists(st.sampled_from(["go", "quoted", "bare"]), min_size=95, max_size=95),
)
def test_a_mended_line_is_what_go_writes_of_the_fields_the_reader_reads(
    fields: list[str], hows: list[str]
) -> None:
    """A line mended in the bundle is quoted from its fields as Python's CSV reader reads
    them; those are the fields the run's reader (DuckDB's strict scan) reads, and the line
    is what Go writes of them, however the line quoted them."""
    line = ",".join(QUOTINGS[how](f) for how, f in zip(hows, fields, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_lines(Path(tmp) / "one.csv", [line])
        con = duckdb.connect()
        read_doj_files(con, [path])
        columns = ", ".join(f'"{c}"' for c in DOJ_COLUMNS)
        read = con.execute(f"SELECT {columns} FROM doj_rows")
        values = [v or "" for v in read.fetchall()[0]]
    assert values == fields
    assert gogen_bundle._as_go_writes([line.encode()]) == [go_line(fields).encode()]


def test_the_check_of_the_lines_holds_little_of_the_file_it_maps(tmp_path: Path) -> None:
    """The check matches the file's lines where they lie, mapped: mapped pages count in
    the process's RSS, so it lets go of them behind (without, a 10M-row file's 8 GB)."""
    from test_ca_doj_reader import in_fresh_python, short_lines

    path = short_lines(tmp_path / "big.csv")
    as_go, grew_mib = in_fresh_python(
        "import threading\n"
        "import pyarrow.compute  # (before the peak is taken: 80 MB of its own)\n"
        "from clearslate.outputs.gogen_bundle import FileText, _all_go_lines\n"
        "text = FileText('', '', Path(sys.argv[1]), header=False, lines=0)\n"
        "before = peak_mib()\n"
        "print(_all_go_lines(text, threading.Event()), peak_mib() - before)\n",
        path,
    )
    assert as_go == "True"
    assert int(grew_mib) < 64, grew_mib  # two 8 MB blocks mapped at most (24 MiB), not 256
