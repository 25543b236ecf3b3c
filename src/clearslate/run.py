"""One bulk run: read the research files, decide every Prop 64 conviction, write the outputs.

This is the function behind `clearslate run`; the CLI only parses flags and prints.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, Protocol

import duckdb

from clearslate import __version__, database
from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.pipeline import decide_rows
from clearslate.idle_work import IdleWork, Steps
from clearslate.outputs.determinations import write_determinations
from clearslate.outputs.files import (
    all_or_none,
    make_private_dir,
    output_sha256,
    remove_partials,
    sha256_steps,
    write_json,
    write_text,
)
from clearslate.outputs.gogen_bundle import (
    BUNDLE_LINE,
    BUNDLE_ROW_COLUMNS,
    SINGLE,
    FilePart,
    FileText,
    LineCheck,
    build_bundle_rows,
    prepare_bundle,
    start_line_checks,
    write_bundle,
    write_county_bundles,
)
from clearslate.outputs.summary import clearslate_summary, gogen_summaries, gogen_summary
from clearslate.policy import Policy
from clearslate.progress import (
    DONE,
    Parts,
    Place,
    RunMeter,
    percent_gauge,
    statement_gauge,
    within,
)
from clearslate.sources.ca_doj import (
    InputError,
    ReadResult,
    RowStore,
    check_input_paths,
    read_doj_files,
    read_percent,
    record_lines_sql,
    records_sql,
)


class RunError(Exception):
    """A run-level error: the run stops, `gogen.err` says why, the exit code is 1."""

    def __init__(self, message: str, key: str = "", error_type: str = "OTHER") -> None:
        super().__init__(message)
        self.key = key
        self.error_type = error_type


# DuckDB's own memory (its buffer pool); the process adds about 0.3 GiB to it. Beyond it,
# DuckDB spills to a temporary folder. CLEARSLATE_MEMORY_LIMIT changes the default.
DEFAULT_MEMORY_LIMIT = os.environ.get("CLEARSLATE_MEMORY_LIMIT", "1GB")

# Years are counted back from the as-of date: year 1 minus 15 is no date.
EARLIEST_AS_OF = dt.date(1900, 1, 1)


def as_of_date(value: str) -> dt.date:
    """A --compute-at date as every command takes it; a ValueError says what is wrong."""
    try:
        as_of = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "invalid --compute-at date: Must be a valid date in the format YYYY-MM-DD"
        ) from None
    if as_of < EARLIEST_AS_OF:
        raise ValueError(f"--compute-at {value}: give a date from {EARLIEST_AS_OF} on.")
    return as_of


@dataclass
class RunOptions:
    inputs: Sequence[Path]
    outputs: Path
    counties: Sequence[str] | None  # None = every county (`--county ALL`)
    as_of: dt.date
    policy: Policy
    policy_source: str = ""
    file_name_suffix: str = ""
    gogen_bundle: bool = True
    force: bool = False
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None

    @property
    def statewide(self) -> bool:
        """Several counties decided in one pass: one bundle folder per county."""
        return self.counties is None or len(self.counties) > 1


@dataclass
class RunResult:
    outputs: Path
    read: ReadResult
    evaluated: int
    outcomes: dict[str, int]
    people_with_relief: int
    seconds: float
    files: list[Path] = field(default_factory=list)


# Called at each stage with its name and the connection, for a caller's own work at that
# point (the web server keeps the rows read, for `explain`). A progress bar reads the run's
# RunMeter instead.
Stage = Callable[[str, duckdb.DuckDBPyConnection], None]


@dataclass(frozen=True)
class _Plan:
    """Each stage's share of a run's time, and each part's of "Writing outputs", as measured
    at 10M rows with the file in the page cache (docs/performance.md, "The progress bar").
    At 1M rows deciding takes a larger share."""

    read: float
    decide: float
    bundle_rows: float  # the bundle's table of rows
    bundles: float  # its files (statewide: and each county's gogen.json)
    determinations: float
    summaries: float  # gogen.json, summary.json, the manifest, the temporary folder removed

    def stages(self) -> dict[str, float]:
        return {
            "Reading research files": self.read,
            "Deciding": self.decide,
            "Writing outputs": 1 - self.read - self.decide,
        }


# (10M rows, the stages' seconds as bench/progress_trace.py saw them begin: the full run
# 38.4 reading, 11.6 deciding, 50.3 writing; statewide 37.7, 11.6 and 54.0; decisions only
# 24.9, 11.0 and 10.2. Writing's parts as bench/profile_stages.py timed them.)
_FULL = _Plan(0.38, 0.12, bundle_rows=0.05, bundles=0.75, determinations=0.12, summaries=0.08)
_STATEWIDE = _Plan(0.36, 0.11, bundle_rows=0.13, bundles=0.70, determinations=0.12, summaries=0.05)
_DECISIONS = _Plan(0.54, 0.24, bundle_rows=0, bundles=0, determinations=0.60, summaries=0.40)


def _plan(opts: RunOptions) -> _Plan:
    if not opts.gogen_bundle:
        return _DECISIONS
    return _STATEWIDE if opts.statewide else _FULL


def county_label(counties: Sequence[str] | None) -> str:
    return "ALL" if counties is None else ",".join(counties)


def connect(opts: RunSettings, workdir: Path) -> duckdb.DuckDBPyConnection:
    """An embedded DuckDB that spills to `workdir` instead of growing past its memory limit."""
    config: dict[str, Any] = {
        "memory_limit": opts.memory_limit,
        "temp_directory": str(workdir),
        "preserve_insertion_order": True,
    }
    if opts.threads:
        config["threads"] = opts.threads
    con = database.connect(":memory:", config=config)
    # Track query progress (for the CLI's bar) without DuckDB printing its own.
    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    return con


# Inputs of at least this many times the memory limit have their row table kept in a
# compressed database file (`row_store`). Measured at a 1GB limit, decisions only and the
# full run (`clearslate run`, one after the other): 1M rows (0.8 x the limit) 5.2 s against
# 5.1 and 8.8 s against 8.0, slower; 2M rows (1.6 x) 9.4 s against 10.0 and 16.1 s against
# 16.4; 3M rows 14.2 s against 16.1 and 24.7 s against 27.7; 10M rows 48 s against 62 (in
# one process) and 95.5 s against 99.9.
ROW_STORE_FROM = 1.5


def row_store(
    con: duckdb.DuckDBPyConnection, inputs: Sequence[Path], as_is: Sequence[str] = ()
) -> RowStore | None:
    """Where the run keeps its row table: in memory (None), or, for inputs large against the
    memory limit, in a DuckDB database file (`RowStore`) in the run's temporary folder
    (DuckDB's `temp_directory`, where it spills too, removed with it), attached to the
    connection and put on its search path."""
    size = sum(path.stat().st_size for path in inputs)
    if size < ROW_STORE_FROM * database.memory_limit_bytes(con):
        return None
    folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    name = "row_store"
    path = database.sql_string(os.path.join(folder, "rows.duckdb"))
    con.execute(f"ATTACH {path} AS {name}; SET search_path = 'memory.main,{name}.main'")
    return RowStore(name, frozenset(as_is))


@contextlib.contextmanager
def scratch_database(memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for reading research files outside a run (`explain`): within a
    run's memory limit, spilling to a temporary folder named as a run's (a later run removes
    it if this process is killed), not to the current one."""
    with tempfile.TemporaryDirectory(prefix=workdir_prefix()) as spill:
        config = {"memory_limit": memory_limit, "temp_directory": spill}
        con = database.connect(":memory:", config)
        try:
            yield con
        finally:
            con.close()


def _check_output_dir(out: Path, suffix: str, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: exists and is not a folder. Choose another --outputs.")
    if (out / "manifest.json").exists() and not force:
        raise RunError(
            f"{out}: holds the results of an earlier run (manifest.json). "
            "Choose a new --outputs folder, or add --force to replace them."
        )
    try:
        make_private_dir(out)
        probe = out / ".clearslate-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(
            f"{out}: cannot write here ({exc.strerror}). Choose another --outputs folder."
        ) from exc
    remove_partials(out)


# What a run folder holds beside the files its manifest lists: they differ from run to run
# (the processing time) or come after it (`clearslate report`), so no checksum vouches for
# them. Each gogen.json (gogen_<suffix>.json) is unlisted too, for its processing time.
UNLISTED_OUTPUTS = (
    "timings.json", "report.html", "report.pdf", "report-public.html", "report-public.pdf",
)  # fmt: skip


def clear_earlier_run(out: Path, keep: Sequence[Path] = ()) -> None:
    """With --force: from here on the folder holds no complete run. The earlier run's
    manifest goes first (it must not survive an interrupted run and vouch for files that are
    no longer its own), then the files it lists and those it writes unlisted (an earlier
    report beside new results would show the old figures), and county folders left empty: a
    county that an earlier statewide run had and this one has not must not look like a
    result. Nothing goes if one of them is in `keep` (this run's input)."""
    manifest = out / "manifest.json"
    if not manifest.exists():
        return  # no earlier run here: whatever the folder holds is not ours to remove
    try:
        listed = [o["file"] for o in json.loads(manifest.read_text(encoding="utf-8"))["outputs"]]
    except (OSError, ValueError, KeyError, TypeError):
        listed = []  # an edited manifest still marks an earlier run's folder
    root = out.resolve()
    earlier = [root / name for name in UNLISTED_OUTPUTS]
    for name in listed:
        path = (out / str(name)).resolve()
        if path.parent == root or root in path.parents:  # else not a name this program writes
            earlier.append(path)
    folders = {root} | {path.parent for path in earlier}
    earlier += [own for folder in folders for own in folder.glob("gogen*.json")]
    inputs = {p.resolve() for p in keep}
    for path in earlier:
        if path in inputs:
            raise RunError(
                f"{path}: is given as an input, and it is a result of the earlier run in "
                f"{out}, which --force removes. Copy it elsewhere first, or choose another "
                "--outputs folder."
            )
    manifest.unlink()
    for path in earlier:
        path.unlink(missing_ok=True)
    for folder in folders - {root}:
        with contextlib.suppress(OSError):  # not empty: files of the office's own stay
            folder.rmdir()


def _errors_csv(read: ReadResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["source_file", "line", "column", "reason"])
    for r in read.rejects:
        w.writerow([r.source_file, r.line, "" if r.column is None else r.column, r.reason])
    return buf.getvalue()


# Temporary folders carry the process id, so that a later run can remove those of a run that
# was killed (SIGKILL leaves them; DuckDB's spill files in them can be large).
WORKDIR_PREFIXES = ("clearslate-run-", "clearslate-seg-")


def workdir_prefix(kind: str = "") -> str:
    """The start of this process's temporary folder name (`kind` tells what made it):
    `remove_stale_workdirs` removes the folder once the process is gone."""
    return f"{WORKDIR_PREFIXES[0]}{os.getpid()}-{kind}"


def run(
    opts: RunOptions, stage: Stage = lambda _s, _c: None, meter: RunMeter | None = None
) -> RunResult:
    """The run of `opts`; `stage` is called as each stage begins, and `meter`, if given, is
    kept told where the run is (for a progress bar)."""
    started = time.perf_counter()
    suffix = f"_{opts.file_name_suffix}" if opts.file_name_suffix else ""
    out = opts.outputs
    _check_output_dir(out, opts.file_name_suffix, opts.force)
    # The inputs before anything is removed: a mistyped path with --force left the folder
    # holding neither the earlier run nor a new one.
    try:
        check_input_paths(opts.inputs)
    except InputError as exc:
        raise RunError(str(exc)) from exc
    (out / f"gogen{suffix}.err").unlink(missing_ok=True)
    clear_earlier_run(out, keep=opts.inputs)
    meter = meter or RunMeter()
    with run_database(opts, nothing_left(out)) as con:
        result = _run(con, opts, out, suffix, started, stage, meter)
    meter.begin(DONE)
    return result


class RunSettings(Protocol):
    """What a run's database needs of its options (California's and Illinois's alike)."""

    outputs: Path
    memory_limit: str
    threads: int | None

    @property
    def inputs(self) -> Sequence[Path]: ...


@contextlib.contextmanager
def run_database(opts: RunSettings, left: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The embedded DuckDB of one run, in a temporary folder of its own that goes when the run
    ends. A run that stops leaves none of the results it wrote (`all_or_none`). Ctrl-C and
    SIGTERM stop the run cleanly and exit saying `left` (what the results folder holds); a
    full or failing disk and memory beyond the limit become a RunError that says what to
    do."""
    remove_stale_workdirs()
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix()))
    stop = StopOnSignal()
    try:
        with stop, all_or_none(opts.outputs):
            con = connect(opts, workdir)
            stop.con = con
            try:
                yield con
            finally:
                stop.con = None
                con.close()
    except BaseException as exc:
        if stop.signum is not None:
            exit_for_signal(stop.signum, left)
        if isinstance(exc, OSError | duckdb.IOException):
            raise _io_error(exc, opts, workdir) from exc
        if isinstance(exc, duckdb.OutOfMemoryException | duckdb.FatalException):
            # DuckDB spills to the temporary folder beyond --memory-limit; when that folder
            # is full too the query fails (and may leave the database unusable: Fatal).
            raise RunError(
                f"out of memory: the run could not keep within --memory-limit "
                f"{opts.memory_limit} (DuckDB spills to the temporary folder {workdir.parent}; "
                "that folder may be full). Raise --memory-limit, or free space there (or set "
                "TMPDIR to a folder with room), then run again. The run removed what it had written."
            ) from exc
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class StopOnSignal:
    """SIGINT (Ctrl-C) and SIGTERM stop a run cleanly. DuckDB turns a signal that arrives
    during a query into a plain RuntimeError (or finishes the query first), so the handler
    records the signal and interrupts the query; the `finally` blocks then remove partial
    files and temporary folders. Without it SIGTERM killed the process on the spot, leaving
    `.partial-*` files and `clearslate-run-*` folders behind."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: object) -> None:
        first = self.signum is None
        if first:
            self.signum = signum
        con = self.con
        if con is not None:
            with contextlib.suppress(Exception):
                con.interrupt()
        if first:  # a second signal must not break the clean-up the first one started
            raise KeyboardInterrupt


def nothing_left(out: Path) -> str:
    """What a stopped run leaves in its results folder `out` (see run_database)."""
    return f"{out} holds nothing of this run (no manifest.json, no result file); run again."


def exit_for_signal(signum: int, left: str) -> NoReturn:
    """Say plainly that the command stopped and what it `left`, then exit as the signal asks:
    130 for SIGINT (Typer turns KeyboardInterrupt into exit 130 without a word, hence the
    message here) and 143 for SIGTERM."""
    name = signal.Signals(signum).name
    sys.stderr.write(f"clearslate: interrupted ({name}); stopped before completing. {left}\n")
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _io_error(exc: BaseException, opts: RunSettings, workdir: Path) -> RunError:
    """A disk that is full or fails, said plainly. DuckDB's message is not repeated (it names
    files, and this message must be one a person can act on)."""
    text = f"{exc} {getattr(exc, 'filename', '') or ''}"
    full = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in text
    inputs = [str(p) for p in opts.inputs if str(p) in text]
    if str(workdir) in text:
        where, remedy = f"temporary folder {workdir.parent}", "set TMPDIR to a folder with room"
    elif inputs and not full:
        where, remedy = f"input {inputs[0]}", "check the file and the disk it is on"
    else:
        where, remedy = f"results folder {opts.outputs}", "choose another --outputs folder"
    what = "no space left on the disk" if full else "a file could not be written or read"
    if isinstance(exc, OSError) and exc.strerror and not full:
        what = f"a file could not be written or read ({exc.strerror})"
    return RunError(
        f"{where}: {what}. The run stopped and removed what it had written. Free some space or "
        f"{remedy}, then run again."
    )


def remove_stale_workdirs() -> None:
    """Remove the temporary folders of earlier runs whose process no longer exists."""
    tmp = Path(tempfile.gettempdir())
    for prefix in WORKDIR_PREFIXES:
        for d in tmp.glob(f"{prefix}*"):
            pid, sep, _ = d.name[len(prefix) :].partition("-")
            if not sep or not pid.isdigit() or _alive(int(pid)):
                continue  # not ours to judge (a name without a pid) or still running
            with contextlib.suppress(OSError):
                if d.is_dir() and d.stat().st_uid == os.getuid():
                    shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run(
    con: duckdb.DuckDBPyConnection,
    opts: RunOptions,
    out: Path,
    suffix: str,
    started: float,
    stage: Stage,
    meter: RunMeter,
) -> RunResult:
    plan = _plan(opts)
    meter.plan(plan.stages())
    # (how far through the inputs' bytes the reader is)
    meter.begin("Reading research files", percent_gauge(lambda: read_percent(con)))
    stage("Reading research files", con)
    # Only what the decisions (and the bundle) read is kept of each row, computed in the scan.
    select, deferred = list(ROW_FACTS), []
    if opts.gogen_bundle:
        prepare_bundle(con)
        select += BUNDLE_ROW_COLUMNS
        # A file's lines are written as they are where they can be (FileText), and quoted
        # in the scan only where not.
        deferred.append(BUNDLE_LINE)
    # The bundle's quoted lines are stored uncompressed: compressing them cost more than
    # their spilling (a 3M-row full run: 28.9 s compressed, 24.7 s not, 27.7 s in memory).
    store = row_store(
        con, opts.inputs, as_is=[name for name, _ in (*BUNDLE_ROW_COLUMNS, BUNDLE_LINE)]
    )
    # The inputs' SHA-256, for the manifest, is begun before the read, at the lowest
    # priority (idle_work): it takes only what the read leaves idle. The read's look for
    # long lines waits on the disk where the input is not in the page cache, and the hash
    # then reads the same pages beside it; begun after the scan, it read a file larger than
    # the page cache from the disk once more (10M rows, 3 GiB of memory, a 500 MB/s disk:
    # 14.5 s after everything else). In the page cache the scan leaves it little, and it
    # goes on beside deciding (hashed beside the scan at normal priority, it took a
    # CPU-second from it).
    halt = threading.Event()
    input_sha256 = IdleWork(_input_sha256(opts.inputs, halt), "input SHA-256")
    checks: list[LineCheck | None] = []
    try:
        try:
            read = read_doj_files(
                con, list(opts.inputs), select=select, deferred=deferred, store=store
            )
        except InputError as exc:
            raise RunError(str(exc)) from exc
        meter.begin("Deciding")
        stage("Deciding", con)
        # Begun now, at the lowest priority, on the core deciding leaves idle: the check of
        # each lean file's lines, for the bundle.
        texts = _file_texts(read) if opts.gogen_bundle else []
        checks = start_line_checks(texts, statewide=opts.statewide)
        early = _Begun(texts, checks, input_sha256)
        law, _rules = decide_rows(
            con, counties=opts.counties, as_of=opts.as_of, policy=opts.policy, part=meter.part
        )
        _check_accounting(con, read)
        meter.begin("Writing outputs")
        stage("Writing outputs", con)
        hashing = ThreadPoolExecutor(max_workers=1)
        try:
            return _write_outputs(
                con, opts, out, suffix, started, read, law.version_id, early, hashing, halt,
                meter.part, plan,
            )  # fmt: skip
        finally:
            hashing.shutdown(wait=False, cancel_futures=True)
    finally:
        # A stop does not wait for the hashes and checks under way (nor for those not begun).
        halt.set()
        for check in checks:
            if check is not None:
                check.verdicts.stop.set()


@dataclass(frozen=True)
class _Begun:
    """What a run begins early: each file's lines (FileText, for a lean file: its bundle is
    written from them) and their check, once the files are read; the inputs' SHA-256,
    before."""

    texts: list[FileText | None]
    checks: list[LineCheck | None]
    input_sha256: IdleWork[list[str]]


def _input_sha256(inputs: Sequence[Path], halt: threading.Event) -> Steps[list[str]]:
    digests = []
    for path in inputs:
        digests.append((yield from sha256_steps(path, halt)))
    return digests


def _file_texts(read: ReadResult) -> list[FileText | None]:
    """Each lean input file's lines, for its bundle (None for a file read otherwise)."""
    return [
        FileText(
            record_lines_sql(f),
            records_sql(f),
            Path(f.path),
            f.has_header,
            f.data_records + len(f.blank_lines),
            tuple(sorted([*(r.line for r in f.rejects), *f.blank_lines])),
        )
        if f.lean
        else None
        for f in read.files
    ]


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    opts: RunOptions,
    out: Path,
    suffix: str,
    started: float,
    read: ReadResult,
    law_version: str,
    early: _Begun,
    hashing: ThreadPoolExecutor,
    halt: threading.Event,
    part: Parts,
    plan: _Plan,
) -> RunResult:
    files: list[Path] = []
    digests: dict[Path, Future[str]] = {}
    if opts.gogen_bundle:
        files += _write_bundles(con, opts, out, read, started, early, part, plan)
        # The bundle's own digests too, while the rest is written (those its writers took
        # as they wrote are not read again: All_Results and Prop64_Results, a gigabyte).
        digests = {p: hashing.submit(output_sha256, p, halt) for p in files}
    part(plan.determinations, statement_gauge(con))
    files += write_determinations(con, out)
    part(plan.summaries, None)
    errors = out / "errors.csv"
    write_text(errors, _errors_csv(read))
    files.append(errors)
    gogen = gogen_summary(
        con,
        county=county_label(opts.counties),
        line_count=read.rows_read,
        seconds=time.perf_counter() - started,
        policy=opts.policy,
        as_of=opts.as_of,
    )
    gogen_json = out / f"gogen{suffix}.json"
    write_json(gogen_json, gogen, compact=True)
    summary = clearslate_summary(
        con,
        counties=opts.counties,
        as_of=opts.as_of,
        rows_read=read.rows_read,
        rows_accepted=read.rows_accepted,
        rows_rejected=len(read.rejects),
        gogen=gogen,
    )
    summary_json = out / "summary.json"
    write_json(summary_json, summary)
    files += [gogen_json, summary_json]
    for f, digest in zip(read.files, early.input_sha256.hurry().result(), strict=True):
        f.sha256 = digest
    manifest = _manifest(opts, read, law_version, out, files, digests)
    # The run's time, the wait for the SHA-256s included (gogen.json's is the time to its
    # summary, as gogen's): at 30M rows, 24 GB of inputs, that wait was 22 s.
    seconds = time.perf_counter() - started
    write_json(out / "timings.json", {"seconds": round(seconds, 3)})
    # The manifest is written last: its presence says the run completed.
    write_json(out / "manifest.json", manifest)
    return RunResult(
        outputs=out,
        read=read,
        evaluated=summary["convictions"]["evaluated"],
        outcomes=summary["outcomes"],
        people_with_relief=summary["people_with_relief"],
        seconds=seconds,
        files=files,
    )


# A county's folder name in a statewide run: its name in capitals, runs of other characters
# as one underscore ("LOS ANGELES" -> LOS_ANGELES); convictions of unknown county go to
# UNKNOWN_COUNTY.
UNKNOWN_COUNTY = "UNKNOWN_COUNTY"
_FOLDER_SQL = (
    f"CASE WHEN d.county = '' THEN '{UNKNOWN_COUNTY}' "
    "ELSE trim(regexp_replace(d.county, '[^A-Z0-9]+', '_', 'g'), '_') END"
)


def county_folder(county: str) -> str:
    """The folder of a county's bundle in a statewide run (the same rule as _FOLDER_SQL)."""
    name = re.sub(r"[^A-Z0-9]+", "_", county.strip().upper()).strip("_")
    return name or UNKNOWN_COUNTY


def _write_bundles(
    con: duckdb.DuckDBPyConnection,
    opts: RunOptions,
    out: Path,
    read: ReadResult,
    started: float,
    early: _Begun,
    part: Parts,
    plan: _Plan,
) -> list[Path]:
    """The gogen bundle: in the results folder for one county; statewide, in one folder per
    county (its gogen.json beside it, counting that county's determinations)."""
    n_files, suffix = len(read.files), opts.file_name_suffix
    texts, checks = early.texts, early.checks
    part(plan.bundle_rows, None)
    begin_file = _file_parts(read, within(part, plan.bundles))
    if not opts.statewide:
        build_bundle_rows(con, opts.as_of, f"'{SINGLE}'", statewide=False)
        return write_bundle(
            con, out, n_files, suffix, texts=texts, checks=checks, begin_file=begin_file
        )
    build_bundle_rows(con, opts.as_of, _FOLDER_SQL, statewide=True)
    # folder -> county name, for gogen.json; a county named in --county but without a
    # conviction decided gets its folder too, as a one-county run writes its files anyway
    names = {county_folder(c): c for c in opts.counties or ()}
    names |= dict(
        con.execute(
            """SELECT b.folder, min(d.county) FROM bundle_eligibility b
               JOIN determinations d USING (row_id) GROUP BY 1"""
        ).fetchall()
    )
    for folder in names:
        make_private_dir(out / folder)
    files = write_county_bundles(
        con, out, sorted(names), n_files, suffix, texts=texts, checks=checks, begin_file=begin_file
    )
    lines = dict(
        con.execute(
            """SELECT folder, count(*) FROM (SELECT unnest(string_split(bundle_folders, ',')) AS folder
               FROM doj_rows) GROUP BY ALL"""
        ).fetchall()
    )
    # Every county's gogen.json from one narrow table of the determinations by folder.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE folder_determinations AS
           SELECT b.folder, d.row_id, d.subject_id, d.prop64_section, d.conviction_date,
                  d.felony, d.outcome, d.reason
           FROM determinations d JOIN bundle_eligibility b USING (row_id)"""
    )
    summaries = gogen_summaries(
        con,
        counties=names,
        line_counts=lines,
        seconds=time.perf_counter() - started,
        policy=opts.policy,
        as_of=opts.as_of,
        table="folder_determinations",
    )
    for folder in sorted(names):
        gogen_json = out / folder / f"gogen{'_' + suffix if suffix else ''}.json"
        write_json(gogen_json, summaries[folder], compact=True)
        files.append(gogen_json)
    return files


def _file_parts(read: ReadResult, part: Parts) -> FilePart:
    """The writing of each input file's bundle as a part of the run, its share by its bytes,
    measured by its writers' place in its lines. (A file not read lean, whose full files
    are written by DuckDB's COPYs, tells no place: the bar moves when it is done. DuckDB's
    progress cannot stand in: it is that of whichever statement runs, and the first that
    does is the writers' query of the rows to fill.)"""
    total = sum(f.size for f in read.files) or 1

    def begin_file(file_index: int) -> Place:
        place = Place()
        part(read.files[file_index].size / total, place)
        return place

    return begin_file


def _check_accounting(con: duckdb.DuckDBPyConnection, read: ReadResult) -> None:
    """Nothing lost: every row is in the table or rejected; every evaluated conviction has
    exactly one named outcome. A mismatch stops the run: it is a defect, never a warning."""
    in_table = con.execute("SELECT count(*) FROM doj_rows").fetchone()[0]
    if in_table + len(read.rejects) != read.rows_read or in_table != read.rows_accepted:
        raise RunError(
            f"internal check failed: {read.rows_read} rows read, {in_table} kept, "
            f"{len(read.rejects)} rejected. Please report this with the manifest."
        )
    evaluated, decided, empty = con.execute(
        """SELECT (SELECT count(*) FROM evaluated), count(*),
                  count(*) FILTER (WHERE outcome IS NULL OR reason IS NULL OR reason = '')
           FROM determinations"""
    ).fetchone()
    if evaluated != decided or empty:
        raise RunError(
            f"internal check failed: {evaluated} convictions evaluated, {decided} decided, "
            f"{empty} without an outcome. Please report this with the manifest."
        )


def _manifest(
    opts: RunOptions,
    read: ReadResult,
    law_version: str,
    out: Path,
    files: list[Path],
    hashed: dict[Path, Future[str]],
) -> dict[str, Any]:
    # gogen.json holds the processing time, so it is left out. The outputs not `hashed`
    # already are hashed two at a time (hashlib lets go of the GIL).
    listed = sorted(p for p in files if not p.name.startswith("gogen"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for p in listed:
            if p not in hashed:
                hashed[p] = pool.submit(output_sha256, p)
        digests = [hashed[p].result() for p in listed]
    return {
        "clearslate_version": __version__,
        "as_of": opts.as_of.isoformat(),
        "counties": county_label(opts.counties),
        "law_version": law_version,
        "policy": {
            "name": opts.policy.name,
            "source": os.path.basename(opts.policy_source) if opts.policy_source else "",
            "sha256": opts.policy.sha256,
        },
        "inputs": [
            {
                "path": f.path,
                "size": f.size,
                "sha256": f.sha256,
                "encoding": f.encoding,
                "reader": f.reader,
                "header": f.has_header,
                "rows_read": f.data_records,
                "rows_accepted": f.accepted,
                "rows_rejected": len(f.rejects),
            }
            for f in read.files
        ],
        "outputs": [
            {"file": p.relative_to(out).as_posix(), "size": p.stat().st_size, "sha256": digest}
            for p, digest in zip(listed, digests, strict=True)
        ],
    }


def run_notes(
    result: RunResult, name: Callable[[str], str] = str, county: str = "--county"
) -> list[str]:
    """What a finished run's counts do not say in words: `clearslate run` prints these notes
    under its table, the workspace shows them on the run's page. `name` names an input file
    (the workspace: as it was uploaded); `county` is where the county was given."""
    notes = []
    for f in result.read.files:
        if f.data_records and not f.accepted:
            # Still a complete run (bad rows never stop one), but most often the wrong file or
            # another delimiter: say so rather than leave it to be found in errors.csv.
            notes.append(
                f"every one of the {f.data_records:,} rows of {name(f.path)} was rejected: see "
                "errors.csv. Is it a DOJ research file (95 comma-separated fields on each line)?"
            )
    if result.evaluated == 0 and result.read.rows_read > len(result.read.rejects):
        # Most often a misspelt county: the run is valid, but say so rather than stay silent.
        notes.append(
            f"rows were read but no conviction was decided. Check that {county} names a county "
            "of the file as the DOJ writes it (e.g. LOS ANGELES), or use ALL."
        )
    return notes


def write_error_file(out: Path, suffix: str, error: RunError) -> Path | None:
    """gogen's error file: {key: {errorType, errorMessage}}, key "" for run-level errors."""
    try:
        make_private_dir(out)
        path = out / f"gogen{'_' + suffix if suffix else ''}.err"
        write_json(
            path,
            {error.key: {"errorType": error.error_type, "errorMessage": str(error)}},
            compact=True,
        )
        return path
    except OSError:
        return None
