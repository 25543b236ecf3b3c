"""The stand-alone DuckDB experiments behind the tuning ideas of docs/performance.md.

Each runs in a fresh DuckDB with clearslate's settings (memory limit, spill folder,
insertion order kept) on a generated research file, and prints seconds and peak RSS:

    reader   read_csv into a table: all 95 columns, only the 19 the decisions read, a bare
             count(*); then the copy of the scanned table into a second table (as doj_rows)
    lines    the 95 DOJ fields of every row as one CSV line: `||` chain or concat_ws, with
             or without go_csv quoting (and checks that both give the same lines)
    stream   the All_Results file: materialised lines + COPY ORDER BY (the current way) or one
             streamed COPY (concat_ws, POSITIONAL JOIN, header as column name), compared by hash
    scan     the bulk run's scan as it is now (ROW_FACTS computed in read_csv, 128 MB buffer)
             against floor A, with and without store_rejects and the 64 MB max_line_size
    bound    the least a decisions-only run can cost, against floor A as the bench takes it
             (a fresh Python): clearslate's start-up plus a scan that only reads the 19
             columns the law needs, storing nothing; what is left for all else under 2.0 x
    fused    the least a design that decides during the scan could cost: start-up plus one
             pass that computes the row facts and folds them by person and count, keeping
             no row
    polars   the same fold in Polars' streaming engine instead of DuckDB (needs the bench
             extra: clearslate does not depend on Polars), and Polars reading the 19 columns
    gocheck  the bundle's check that every line is as Go writes it: DuckDB's
             regexp_full_match of each line (the check until the fourteenth session), then
             the run's (the file's bytes in 8 MB blocks, each matched by Arrow's RE2), one
             thread each
    pagecache
             writing the input's bytes to a new file, as All_Results is written: plainly,
             into the page cache, and as a StreamedFile, which lets the written pages go as
             they reach the disk; the system time of each (a virtual machine whose host backs
             its memory on first touch pays for every fresh page of the page cache)
    linecount
             the look for long lines (`runaway_lines`, a loop in Python) alone, then beside
             the count of the file's lines on a thread, as a run begins them: counted with
             `bytes.count`, which keeps the interpreter's lock (until the thirty-second
             session), and with the run's `newlines_in`, which lets it go; the seconds of
             the look and of both

    PYTHONPATH=src python bench/experiments.py reader --input bench/out/doj_la_1000000_s1.csv
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from clearslate.outputs.gogen_bundle import GO_CSV_MACRO
from clearslate.sources.ca_doj import MAX_RECORD_BYTES, _columns_sql
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS, ELIGIBILITY_COLUMNS

# The DOJ columns that facts, decisions, determinations and summaries read (docs/performance.md).
DECISION_COLUMNS = (
    "CII_NUMBER", "CNT_ORDER", "COMMENT_TEXT", "CONV_STAT_DESCR", "DISP_DESCR", "GENDER",
    "OFFENSE_DESCR", "OFFENSE_TOC", "OFN", "PRI_DOB", "PRI_NAME", "RACE_DESCR", "SENT_LENGTH",
    "SENT_TIME_CODE", "STP_EVENT_DATE", "STP_ORI_CNTY_NAME", "STP_ORI_DESCR", "STP_TYPE_DESCR",
    "SUBJECT_ID",
)  # fmt: skip


def _connect(limit: str, workdir: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "memory_limit": limit,
            "temp_directory": workdir,
            "preserve_insertion_order": True,
        }
    )
    con.execute("SET enable_progress_bar = false")
    return con


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, fn: Callable[[], object]) -> object:
    started = time.perf_counter()
    try:
        result = fn()
    except duckdb.Error as exc:
        print(f"{label:<58} FAILED after {time.perf_counter() - started:6.2f} s: "
              f"{str(exc).splitlines()[0]}")  # fmt: skip
        return None
    print(f"{label:<58} {time.perf_counter() - started:7.2f} s  peak {_peak():6.0f} MiB")
    return result


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _strict(path: Path) -> str:
    """read_csv as clearslate's reader calls it (UTF-8, LF line ends)."""
    return (
        f"read_csv({_sql_path(path)}, columns = {_columns_sql()}, header = true, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"max_line_size = {MAX_RECORD_BYTES}, encoding = 'utf-8', null_padding = false, "
        "allow_quoted_nulls = false, nullstr = '\x00', new_line = '\\n', "
        "store_rejects = true, rejects_table = '_rej', rejects_scan = '_scan')"
    )


def _load(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(f"CREATE TABLE doj0 AS SELECT * FROM {_strict(path)}")
    con.execute("CREATE TABLE doj AS SELECT rowid AS row_id, * FROM doj0; DROP TABLE doj0")


def reader(args: argparse.Namespace, workdir: str) -> None:
    read = _strict(args.input)
    cols = ", ".join(f'"{c}"' for c in DECISION_COLUMNS)
    for label, sql in (
        ("count(*), strict options", f"SELECT count(*) FROM {read}"),
        ("CREATE TABLE, all 95 columns", f"CREATE TEMP TABLE t AS SELECT * FROM {read}"),
        ("CREATE TABLE, 19 decision columns", f"CREATE TEMP TABLE t AS SELECT {cols} FROM {read}"),
    ):
        con = _connect(args.memory_limit, workdir)  # one database each: no cache carried over
        _timed(f"{label} ({args.memory_limit})", lambda c=con, s=sql: c.execute(s))
        if "95" in label:
            _timed(
                "  then copy it into a second table (as doj_rows)",
                lambda c=con: c.execute(
                    "CREATE TABLE t2 AS SELECT rowid AS row_id, 0 AS file_index, "
                    "rowid + 2 AS source_line, * FROM t"
                ),
            )
        con.close()


def lines(args: argparse.Namespace, workdir: str) -> None:
    con = _connect(args.memory_limit, workdir)
    _timed("load", lambda: _load(con, args.input))
    con.execute(GO_CSV_MACRO)
    cols = [f'"{c}"' for c in DOJ_COLUMNS]
    variants = {
        "|| chain, go_csv (as build_bundle_lines)": " || ',' || ".join(
            f"go_csv({c})" for c in cols
        ),
        "concat_ws, go_csv": "concat_ws(',', " + ", ".join(f"go_csv({c})" for c in cols) + ")",
        "|| chain, no quoting": " || ',' || ".join(f"coalesce({c}, '')" for c in cols),
        "concat_ws, no quoting": "concat_ws(',', " + ", ".join(f"coalesce({c}, '')" for c in cols)
        + ")",
    }  # fmt: skip
    for _ in range(args.repeat):
        for label, expr in variants.items():
            _timed(
                label, lambda e=expr: con.execute(f"SELECT sum(length({e})) FROM doj").fetchone()
            )
    a, b = variants["|| chain, go_csv (as build_bundle_lines)"], variants["concat_ws, go_csv"]
    differ = con.execute(f"SELECT count(*) FROM doj WHERE ({a}) IS DISTINCT FROM ({b})").fetchone()
    print(f"rows whose lines differ between || and concat_ws: {differ[0]}")


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 23):
            h.update(chunk)
    return h.hexdigest()[:16]


def stream(args: argparse.Namespace, workdir: str) -> None:
    con = _connect(args.memory_limit, workdir)
    _timed("load", lambda: _load(con, args.input))
    # A stand-in for bundle_eligibility: 18 text columns in row order, a third needing quotes.
    con.execute(
        "CREATE TABLE elig AS SELECT row_id, "
        + ", ".join(f"CASE WHEN row_id % 3 = 0 THEN 'x, {i}' ELSE '' END AS c{i}" for i in range(1, 19))
        + " FROM doj ORDER BY row_id"
    )  # fmt: skip
    con.execute(GO_CSV_MACRO)
    cols = [f'd."{c}"' for c in DOJ_COLUMNS] + [f"e.c{i}" for i in range(1, 19)]
    header = ",".join(list(DOJ_COLUMNS) + list(ELIGIBILITY_COLUMNS))
    opts = "(FORMAT csv, HEADER {h}, QUOTE '', ESCAPE '', DELIMITER '\x1f')"
    work = Path(workdir)
    current, streamed = work / "current.csv", work / "streamed.csv"
    chain = " || ',' || ".join(f"go_csv({c})" for c in cols)
    made = _timed(
        "current: CREATE TABLE lines (|| chain)",
        lambda: con.execute(
            f"CREATE TABLE lines AS SELECT d.row_id, {chain} AS line "
            "FROM doj d JOIN elig e USING (row_id)"
        ),
    )
    if made is not None:
        quoted_header = header.replace("'", "''")
        _timed(
            "current: COPY (header UNION ALL lines) ORDER BY row_id",
            lambda: con.execute(
                f"COPY (SELECT line FROM (SELECT -1 AS row_id, '{quoted_header}' AS line "
                "UNION ALL SELECT row_id, line FROM lines) ORDER BY row_id) "
                f"TO {_sql_path(current)} {opts.format(h='false')}"
            ),
        )
        con.execute("DROP TABLE lines")
    ws = "concat_ws(',', " + ", ".join(f"go_csv({c})" for c in cols) + ")"
    column = header.replace('"', '""')
    _timed(
        "streamed: COPY concat_ws, POSITIONAL JOIN, no sort",
        lambda: con.execute(
            f'COPY (SELECT {ws} AS "{column}" FROM doj d POSITIONAL JOIN elig e) '
            f"TO {_sql_path(streamed)} {opts.format(h='true')}"
        ),
    )
    for path in (current, streamed):
        if path.exists():
            print(f"{path.name:<14} {path.stat().st_size:>12,} bytes  sha256 {_sha(path)}")


def scan(args: argparse.Namespace, workdir: str) -> None:
    from clearslate.engine.facts import ROW_FACTS

    facts = ", ".join(f'{e} AS "{n}"' for n, e in ROW_FACTS)
    floor = f"read_csv({_sql_path(args.input)}, header = true, all_varchar = true)"
    strict = _strict(args.input).replace(
        "new_line = '\\n',", f"new_line = '\\n', buffer_size = {2 * MAX_RECORD_BYTES},"
    )
    lean = strict.replace(
        ", store_rejects = true, rejects_table = '_rej', rejects_scan = '_scan'", ""
    )
    small = lean.replace(f"max_line_size = {MAX_RECORD_BYTES}", "max_line_size = 2097152").replace(
        f"buffer_size = {2 * MAX_RECORD_BYTES}", "buffer_size = 33554432"
    )
    for _ in range(args.repeat):
        for label, sql in (
            ("floor A: count(*), header, all_varchar", f"SELECT count(*) FROM {floor}"),
            ("count(*), strict options", f"SELECT count(*) FROM {strict}"),
            ("facts table, strict + store_rejects (now)", f"CREATE TEMP TABLE t AS SELECT {facts} FROM {strict}"),
            ("facts table, strict, no store_rejects", f"CREATE TEMP TABLE t AS SELECT {facts} FROM {lean}"),
            ("facts table, no rejects, 2 MB lines", f"CREATE TEMP TABLE t AS SELECT {facts} FROM {small}"),
            ("facts table, floor A options", f"CREATE TEMP TABLE t AS SELECT {facts} FROM {floor}"),
            ("facts count(*), strict + store_rejects", f"SELECT count(*) FROM (SELECT {facts} FROM {strict})"),
        ):  # fmt: skip
            con = _connect(args.memory_limit, workdir)
            _timed(label, lambda c=con, s=sql: c.execute(s))
            con.close()


def _seconds(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def _floor_a_and_start_up(args: argparse.Namespace) -> tuple[float, float]:
    """Floor A as the bench takes it (a fresh Python with DuckDB), and clearslate's start-up:
    what `clearslate run` imports before it reads a byte (the CLI and the run's modules)."""
    floor = f"read_csv({_sql_path(args.input)}, header = true, all_varchar = true)"
    floor_a = (
        "import duckdb\n"
        f"con = duckdb.connect(config={{'memory_limit': {args.memory_limit!r}}})\n"
        "con.execute('SET enable_progress_bar = false')\n"
        f"con.execute({f'SELECT count(*) FROM {floor}'!r}).fetchall()\n"
    )
    start_up = "import clearslate.cli, clearslate.run, clearslate.engine.pipeline"
    return _seconds([sys.executable, "-c", floor_a]), _seconds([sys.executable, "-c", start_up])


def bound(args: argparse.Namespace, workdir: str) -> None:
    """Why decisions only cannot reach 2.0 x floor A: two costs that no design of clearslate's
    avoids (Python start-up, reading the columns the law needs), measured beside the floor in
    each round. Hashing every value keeps DuckDB from skipping any."""
    from clearslate.engine.facts import ROW_FACTS

    strict = _strict(args.input)
    cols = ", ".join(f'"{c}"' for c in DECISION_COLUMNS)
    facts = ", ".join(e for _, e in ROW_FACTS)
    for _ in range(args.repeat):
        a, up = _floor_a_and_start_up(args)
        timings = {}
        for label, sql in (
            ("count(*), strict options", f"SELECT count(*) FROM {strict}"),
            ("the 19 columns read, nothing stored", f"SELECT max(hash({cols})) FROM {strict}"),
            ("ROW_FACTS computed, nothing stored", f"SELECT max(hash({facts})) FROM {strict}"),
        ):
            con = _connect(args.memory_limit, workdir)
            started = time.perf_counter()
            con.execute(sql).fetchall()
            timings[label] = time.perf_counter() - started
            con.close()
        least = up + timings["the 19 columns read, nothing stored"]
        print(f"floor A (a fresh Python, as the bench)  {a:6.2f} s")
        print(f"clearslate start-up (imports)           {up:6.2f} s")
        for label, seconds in timings.items():
            print(f"{label:<40}{seconds:6.2f} s  = {seconds / a:.2f} x floor A")
        print(
            f"least possible run (start-up + the 19 columns): {least:.2f} s = "
            f"{least / a:.2f} x floor A; left under 2.0 x for deciding, writing the "
            f"determinations and the manifest: {2 * a - least:.2f} s"
        )


def fused(args: argparse.Namespace, workdir: str) -> None:
    """The least a design that decides *during* the scan could cost (the one way left to
    2.0 x, docs/performance.md): one pass that computes the row facts and folds them by person
    and count as they stream, keeping no row. Its grouping is cheaper than deciding needs
    (any_value where the run needs the first row, no charge classification), so the figure is
    a floor for such a design; start-up is added as in `bound`."""
    from clearslate.engine.facts import ROW_FACTS

    facts = ", ".join(f'{e} AS "{n}"' for n, e in ROW_FACTS)
    folded = f"""
        SELECT subject_id, count_key, count(*) AS rows,
               sum(CASE WHEN sent_unit = 'Y' THEN coalesce(sent_length, 0) END) AS years,
               sum(CASE WHEN sent_unit = 'M' THEN coalesce(sent_length, 0) END) AS months,
               sum(CASE WHEN sent_unit = 'D' THEN coalesce(sent_length, 0) END) AS days,
               any_value(struct_pack(county, court, ofn, event_date, event_date_partial, felony,
                                     offense_descr, comment_text)) AS conviction,
               any_value(struct_pack(name, cii_number, dob_raw, dob, dob_partial, gender, race))
                 AS person,
               bool_or(step_type = 'DECEASED') AS deceased,
               bool_or(is_pc290_registration) AS pc290_registration
        FROM (SELECT *, CASE WHEN is_conviction THEN cnt_order END AS count_key
              FROM (SELECT {facts} FROM {_strict(args.input)}))
        GROUP BY subject_id, count_key"""
    for _ in range(args.repeat):
        a, up = _floor_a_and_start_up(args)
        con = _connect(args.memory_limit, workdir)
        started = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE folded AS {folded}")
        scan = time.perf_counter() - started
        groups = con.execute("SELECT count(*) FROM folded").fetchone()[0]
        con.close()
        least = up + scan
        print(f"floor A {a:6.2f} s; start-up {up:5.2f} s; the scan folded by person and count "
              f"{scan:6.2f} s ({groups:,} groups, peak {_peak():,.0f} MiB); together "
              f"{least:.2f} s = {least / a:.2f} x floor A, leaving {2 * a - least:.2f} s "
              "under 2.0 x for deciding and writing")  # fmt: skip


def _polars_fold(path: Path) -> Any:
    """`fused`'s fold in Polars' streaming engine, with the first row's facts (as the run
    takes them) where `fused` takes any row's. The row facts are ROW_FACTS written again as
    Polars expressions (a design on this path would need them defined once)."""
    import polars as pl

    def c(name: str) -> pl.Expr:
        return pl.col(name).str.strip_chars()

    def date(name: str) -> pl.Expr:
        return c(name).str.strptime(pl.Date, "%Y%m%d", strict=False)

    def partial(name: str) -> pl.Expr:
        return date(name).is_null() & c(name).str.contains(r"^[12][0-9]{3}(00[0-9]{2}|[0-9]{2}00)$")

    step, offense = c("STP_TYPE_DESCR").str.to_uppercase(), c("OFFENSE_DESCR").str.to_uppercase()
    conv_stat = c("CONV_STAT_DESCR")
    facts = [
        c("SUBJECT_ID").alias("subject_id"), c("CNT_ORDER").alias("cnt_order"),
        step.alias("step_type"), c("STP_ORI_CNTY_NAME").str.to_uppercase().alias("county"),
        c("STP_ORI_DESCR").alias("court"), c("OFN").alias("ofn"),
        date("STP_EVENT_DATE").alias("event_date"),
        partial("STP_EVENT_DATE").alias("event_date_partial"),
        date("PRI_DOB").alias("dob"), partial("PRI_DOB").alias("dob_partial"),
        (c("DISP_DESCR").str.to_uppercase().str.starts_with("CONVICTED") & (step != "DECEASED"))
          .alias("is_conviction"),
        ((conv_stat.str.to_uppercase() == "FELONY")
         | ((conv_stat == "") & (c("OFFENSE_TOC").str.to_uppercase() == "F"))).alias("felony"),
        c("SENT_LENGTH").cast(pl.Int32, strict=False).alias("sent_length"),
        c("SENT_TIME_CODE").str.to_uppercase().alias("sent_unit"),
        ((step == "REGISTRATION") & offense.str.starts_with("290")).alias("is_pc290_registration"),
        pl.col("OFFENSE_DESCR").alias("offense_descr"), pl.col("COMMENT_TEXT").alias("comment_text"),
        c("PRI_NAME").alias("name"), c("CII_NUMBER").alias("cii_number"),
        c("PRI_DOB").alias("dob_raw"), c("GENDER").alias("gender"), c("RACE_DESCR").alias("race"),
    ]  # fmt: skip

    def years(unit: str) -> pl.Expr:
        return pl.when(pl.col("sent_unit") == unit).then(pl.col("sent_length").fill_null(0))

    first = ("county", "court", "ofn", "event_date", "event_date_partial", "felony",
             "offense_descr", "comment_text", "name", "cii_number", "dob_raw", "dob",
             "dob_partial", "gender", "race")  # fmt: skip
    return (
        pl.scan_csv(path, infer_schema=False)
        .select(facts)
        .with_columns(pl.when("is_conviction").then("cnt_order").alias("count_key"))
        .group_by("subject_id", "count_key")
        .agg(
            pl.len().alias("rows"),
            years("Y").sum().alias("years"),
            years("M").sum().alias("months"),
            years("D").sum().alias("days"),
            *(pl.col(name).first() for name in first),
            (pl.col("step_type") == "DECEASED").any().alias("deceased"),
            pl.col("is_pc290_registration").any().alias("pc290_registration"),
        )
        .collect(engine="streaming")
    )


def polars(args: argparse.Namespace, _workdir: str) -> None:
    """Leaving DuckDB for the scan: `fused` done by Polars (the `bench` extra; clearslate
    itself does not depend on Polars). Polars reads CSV faster than DuckDB, but pads a
    record with too few fields without a word, so such a design would need a check of its
    own."""
    try:
        import polars as pl
    except ImportError:
        sys.exit("polars: install the bench extra first: .venv/bin/pip install -e '.[bench]'")
    cols = list(DECISION_COLUMNS)
    for _ in range(args.repeat):
        a, up = _floor_a_and_start_up(args)
        polars_up = _seconds([sys.executable, "-c", "import polars"])
        started = time.perf_counter()
        groups = _polars_fold(args.input).height
        fold = time.perf_counter() - started
        peak = _peak()
        started = time.perf_counter()
        pl.scan_csv(args.input, infer_schema=False).select(cols).collect(engine="streaming")
        read = time.perf_counter() - started
        least = up + polars_up + fold
        print(f"floor A {a:6.2f} s; start-up {up:5.2f} s + import polars {polars_up:5.2f} s; "
              f"Polars reads the 19 columns {read:6.2f} s = {read / a:.2f} x floor A; the scan "
              f"folded by person and count {fold:6.2f} s ({groups:,} groups, peak {peak:,.0f} "
              f"MiB); together {least:.2f} s = {least / a:.2f} x floor A, leaving "
              f"{2 * a - least:.2f} s under 2.0 x for deciding and writing")  # fmt: skip


def gocheck(args: argparse.Namespace, workdir: str) -> None:
    import threading

    from clearslate.outputs.gogen_bundle import _GO_FIELD, FileText, _all_go_lines

    con = _connect(args.memory_limit, workdir)
    con.execute("SET threads = 1")
    line = f"^{_GO_FIELD}(?:,{_GO_FIELD})*$"
    lines_sql = (
        f"read_csv({_sql_path(args.input)}, columns = {{'line': 'VARCHAR'}}, delim = '\x01', "
        "quote = '', escape = '', header = true, auto_detect = false, strict_mode = true)"
    )
    text = FileText("", "", args.input, header=True, lines=0)
    for _ in range(args.repeat):
        each = _timed(
            "DuckDB regexp_full_match of each line",
            lambda: con.execute(
                f"SELECT bool_and(regexp_full_match(line, '{line}')) FROM {lines_sql}"
            ).fetchone()[0],
        )
        blocks = _timed(
            "Arrow's RE2, 8 MB blocks (the run's)", lambda: _all_go_lines(text, threading.Event())
        )
        print(f"the same answer: {each == blocks} ({blocks})")


def pagecache(args: argparse.Namespace, workdir: str) -> None:
    import os

    from clearslate.outputs.files import StreamedFile

    def write(target: Path, streamed: bool) -> None:
        with args.input.open("rb") as source:
            out = StreamedFile(target) if streamed else target.open("wb")
            with out:
                while block := source.read(8 << 20):
                    out.write(block)

    for round_ in range(args.repeat):
        for label, streamed in (("plain writes", False), ("StreamedFile", True)):
            # (pages freed a moment ago are taken again cheaply, until the kernel hands them
            # back to the host some seconds later: each write waits, and no file is deleted
            # before the end)
            time.sleep(5)
            before, started = os.times(), time.perf_counter()
            write(Path(workdir) / f"{round_}-{streamed}.csv", streamed)
            after = os.times()
            print(
                f"{label:<14} {time.perf_counter() - started:6.2f} s, "
                f"user {after.user - before.user:5.2f} s, system {after.system - before.system:5.2f} s"
            )


def linecount(args: argparse.Namespace, _workdir: str) -> None:
    import threading

    from clearslate.sources.ca_doj import runaway_lines
    from clearslate.sources.line_ends import newlines_in

    def count(counter: Callable[[bytes], int]) -> None:
        with args.input.open("rb") as fh:
            while chunk := fh.read(8 << 20):  # (as `_FileFacts` reads)
                counter(chunk)

    def bytes_count(chunk: bytes) -> int:
        return chunk.count(b"\n")

    for _ in range(args.repeat):
        _timed("the look alone", lambda: runaway_lines(args.input))
        for label, counter in (("bytes.count", bytes_count), ("newlines_in", newlines_in)):
            _timed(f"the count alone, {label}", lambda counter=counter: count(counter))
            started = time.perf_counter()
            counting = threading.Thread(target=count, args=(counter,))
            counting.start()
            _timed(f"the look beside the count, {label}", lambda: runaway_lines(args.input))
            counting.join()
            print(f"  and the count ended at {time.perf_counter() - started:.2f} s")


EXPERIMENTS: dict[str, Callable[[argparse.Namespace, str], None]] = {
    "reader": reader, "lines": lines, "stream": stream, "scan": scan, "bound": bound,
    "fused": fused, "polars": polars, "gocheck": gocheck, "pagecache": pagecache,
    "linecount": linecount,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("experiment", choices=list(EXPERIMENTS))
    ap.add_argument("--input", type=Path, default=Path("bench/out/doj_la_1000000_s1.csv"))
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    if not args.input.exists():
        ap.error(f"{args.input}: no such file (run bench/run_bench.py first to make it)")
    with tempfile.TemporaryDirectory(prefix="clearslate-exp-") as workdir:
        EXPERIMENTS[args.experiment](args, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
