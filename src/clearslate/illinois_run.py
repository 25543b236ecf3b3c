"""One Illinois bulk run: read the exports, link people, decide every cannabis charge per
linked person, plan the batches, and write the run folder.

This is the function behind `clearslate run --jurisdiction il`; the CLI only parses flags and
prints. The California path (run.py) is untouched; this module reuses its run-level helpers
(output folder checks, signals, temporary folders, DuckDB connection) and outputs/files.py
(whole files or none, owner-only permissions).

Inputs are either the offices' exports (read by the Illinois readers, `sources/il_reader.py`,
then linked by `link/`), or canonical CSV files (`--input-canonical`) already in il_records
columns, with `person_id` (and optionally `link_status`) when the office linked people itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import importlib
import io
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate import __version__
from clearslate.engine.il_decide import FACT_COLUMNS, decide_il
from clearslate.engine.il_plan import plan_batches, plan_csv
from clearslate.il_policy import ILPolicy
from clearslate.outputs.determinations import write_table_files
from clearslate.outputs.files import sha256_file, write_json, write_text
from clearslate.progress import DONE, Parts, RunMeter, no_parts, within
from clearslate.run import (
    RunError,
    _check_output_dir,
    clear_earlier_run,
    nothing_left,
    run_database,
)
from clearslate.sources.ca_doj import BOM, InputError, check_input_path
from clearslate.sources.il_canonical import (
    DISPOSITIONS,
    IL_DETERMINATION_COLUMNS,
    IL_OUTCOMES,
    IL_PERSON_LINK_COLUMNS,
    IL_RECORD_COLUMNS,
    create_sql,
)
from clearslate.sources.office_csv import OfficeCsvError, header_and_records
from clearslate.sources.text_encoding import utf16_text

RELIEF = ("vacate_and_expunge", "expunge_arrest", "eligible_on_motion")
READERS_MISSING = (
    "Illinois readers not installed: this build cannot read court or state-police exports "
    "(clearslate.sources.il_reader). Give --input-canonical files instead."
)
LINKER_MISSING = (
    "Illinois person linking not installed (clearslate.link): give --input-canonical files "
    "with a person_id column, or install the linking extra."
)


@dataclass
class ILRunOptions:
    outputs: Path
    as_of: dt.date
    policy: ILPolicy
    policy_source: str = ""
    court_exports: Sequence[Path] = ()
    isp_exports: Sequence[Path] = ()
    court_mapping: Path | None = None
    isp_mapping: Path | None = None
    canonical: Sequence[Path] = ()
    max_batch: int | None = None
    force: bool = False
    memory_limit: str = "1GB"
    threads: int | None = None
    link_settings: Any = None

    @property
    def inputs(self) -> list[Path]:
        return [*self.court_exports, *self.isp_exports, *self.canonical]


@dataclass(frozen=True)
class Reject:
    source_file: str
    line: int
    column: str | None
    reason: str


@dataclass
class InputFile:
    path: str
    kind: str  # 'court', 'isp' or 'canonical'
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0


@dataclass
class ILRead:
    files: list[InputFile]
    rejects: list[Reject] = field(default_factory=list)
    # Values of kept rows left empty (a date that is no date, a code the mapping does not
    # list): the row goes through, the place is listed in warnings.csv.
    warnings: list[Reject] = field(default_factory=list)
    linked_by: str = ""  # 'input' (person_id column) or 'splink'

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)


@dataclass
class ILRunResult:
    outputs: Path
    read: ILRead
    evaluated: int
    outcomes: dict[str, int]
    people_with_relief: int
    batches: int
    seconds: float
    files: list[Path] = field(default_factory=list)


Stage = Callable[[str, duckdb.DuckDBPyConnection], None]


# --------------------------------------------------------------------------------------------
# Canonical CSV input (--input-canonical)
# --------------------------------------------------------------------------------------------

_TYPES = {name: kind for name, kind, _ in IL_RECORD_COLUMNS}
_LINK_COLUMNS = ("person_id", "link_status", "match_probability", "link_fields")
_LINK_STATUSES = ("linked", "single", "review")
_CLASSES = ("X", "1", "2", "3", "4", "A", "B", "C", "P")
_TRUE, _FALSE = ("true", "t", "1", "y", "yes"), ("false", "f", "0", "n", "no")
# Numbers as written in a CSV file: ASCII digits (Python's int() and float() also take '1_000'
# and other scripts' digits), a whole number within its column's type (a charge number of
# 99999999999 stopped the run when inserted).
_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_WHOLE_BITS = {"INTEGER": 31, "BIGINT": 63}


class _Unfit(ValueError):
    """A value that does not fit its column; the message is the reason to show, never the
    value (which may be personal data: Python's own messages repeat it)."""


def _value(name: str, text: str) -> Any:
    """One canonical field from its CSV text; raises ValueError (`_Unfit` with a reason to
    show)."""
    kind = _TYPES.get(name, "VARCHAR")
    if kind == "DATE":
        return dt.date.fromisoformat(text)
    if kind in _WHOLE_BITS:
        if not _WHOLE.fullmatch(text):
            raise _Unfit(_PROBLEM[kind])
        whole, bound = int(text), 2 ** _WHOLE_BITS[kind]
        if not -bound <= whole < bound:
            raise _Unfit(f"must be a whole number from {-bound:,} to {bound - 1:,}")
        return whole
    if kind == "DOUBLE":
        number = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if not math.isfinite(number) or number < 0:
            raise _Unfit("must be a finite number, 0 or more")
        return number
    if kind == "BOOLEAN":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _Unfit("must be true or false")
    if name == "disposition" and text not in DISPOSITIONS:
        raise _Unfit(f"must be one of {', '.join(DISPOSITIONS)}")
    if name == "offense_class" and text.upper() not in _CLASSES:
        raise _Unfit(f"must be one of {', '.join(_CLASSES)}")
    if name == "link_status" and text not in _LINK_STATUSES:
        raise _Unfit(f"must be one of {', '.join(_LINK_STATUSES)}")
    return text.upper() if name == "offense_class" else text


_PROBLEM = {
    "DATE": "not a date YYYY-MM-DD",
    "BIGINT": "not a whole number",
    "INTEGER": "not a whole number",
    "DOUBLE": "not a number",
}


def read_canonical(con: duckdb.DuckDBPyConnection, paths: Sequence[Path]) -> ILRead:
    """Read canonical CSV files into il_records (and il_person_links when they carry
    person_id). A row with a bad value is rejected with file, line, column and reason; the
    value itself is never repeated (it may be personal data)."""
    record_cols = [c[0] for c in IL_RECORD_COLUMNS]
    columns: dict[str, list[Any]] = {c: [] for c in [*record_cols, *_LINK_COLUMNS]}
    read = ILRead(files=[])
    seen: set[str] = set()
    has_person = None
    for index, path in enumerate(paths):
        info = InputFile(str(path), "canonical")
        read.files.append(info)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise RunError(f"{path}: cannot be read ({exc.strerror}). Check the path.") from None
        # A bad byte stays visible (a lone surrogate) and costs its row only (_canonical_row);
        # a quote never closed costs its line only (csv_records).
        text = utf16_text(raw)
        if text is None:
            text = raw.removeprefix(BOM).decode("utf-8", "surrogateescape")
        try:
            fields, records = header_and_records(text, "the file")
        except OfficeCsvError as exc:
            raise RunError(f"{path}: {exc} Line 1 must name the columns.") from None
        header = _canonical_header(path, fields, columns)
        if has_person is None:
            has_person = "person_id" in header
        elif has_person != ("person_id" in header):
            raise RunError(
                f"{path}, line 1: every canonical file must have a person_id column, or "
                "none of them (people are then linked by clearslate)."
            )
        for line, fields, problem in records:
            if fields is not None and not any(f.strip() for f in fields):
                continue  # a blank line is not a row
            info.rows_read += 1
            if fields is None:
                read.rejects.append(Reject(str(path), line, None, problem))
                info.rows_rejected += 1
                continue
            row, bad = _canonical_row(header, fields, path, index, line)
            if bad is None and row["record_id"] in seen:
                bad = ("record_id", "the same record_id as an earlier row")
            if bad is not None:
                read.rejects.append(Reject(str(path), line, bad[0], bad[1]))
                info.rows_rejected += 1
                continue
            seen.add(row["record_id"])
            info.rows_accepted += 1
            for c in columns:
                columns[c].append(row.get(c))
    con.execute("DROP TABLE IF EXISTS il_records")
    con.execute(create_sql("il_records", IL_RECORD_COLUMNS))
    _insert_columns(con, "il_records", [columns[c] for c in record_cols])
    if has_person:
        con.execute("DROP TABLE IF EXISTS il_person_links")
        con.execute(create_sql("il_person_links", IL_PERSON_LINK_COLUMNS))
        _insert_columns(
            con,
            "il_person_links",
            [
                columns["record_id"],
                columns["person_id"],
                [1.0 if p is None else p for p in columns["match_probability"]],
                [s or "linked" for s in columns["link_status"]],
                [f or "" for f in columns["link_fields"]],
            ],
        )
        read.linked_by = "input"
    return read


_NOT_UTF8 = "bytes that are not UTF-8 text"


def _canonical_header(path: Path, fields: list[str], columns: dict[str, list[Any]]) -> list[str]:
    """Line 1's column names, checked. Never repeats a name that is not a column: when the
    header line is missing, line 1 is a person's record (name, date of birth, address)."""
    header = [h.strip() for h in fields]
    if any(_has_bad_bytes(h) for h in header):
        raise RunError(f"{path}, line 1: the header is not UTF-8 text; save the file as UTF-8.")
    unknown = [h for h in header if h not in columns]
    if not unknown and "statute_raw" in header:
        return header
    problems = []
    if unknown:
        # A near miss of a column name is a misspelt column, not someone's data: name it.
        typos = {h: difflib.get_close_matches(h.lower(), columns, 1, 0.8) for h in unknown}
        named = [
            f"'{h}' (did you mean {m[0]}?)"
            for h, m in typos.items()
            if m and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ]{0,39}", h)
        ]
        problems.append(
            f"{len(unknown)} of the {len(header)} column names "
            + ("is not a canonical column" if len(unknown) == 1 else "are not canonical columns")
            + (f": {', '.join(named)}" if named else "")
        )
    if "statute_raw" not in header:
        problems.append("no statute_raw column")
    missing_header = len(unknown) * 2 > len(header)
    raise RunError(
        f"{path}, line 1: {'; '.join(problems)}. "
        + ("Is the header line missing? Line 1 must name the columns. " if missing_header else "")
        + "A canonical file has the il_records columns of docs/illinois.md "
        "(statute_raw at least), and optionally person_id and link_status."
    )


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _canonical_row(
    header: list[str], fields: list[str], path: Path, index: int, line: int
) -> tuple[dict[str, Any], tuple[str | None, str] | None]:
    if len(fields) != len(header):
        return {}, (None, f"{len(fields)} fields, the header has {len(header)}")
    if any(_has_bad_bytes(f) for f in fields):
        return {}, (None, _NOT_UTF8)
    row: dict[str, Any] = {}
    for name, text in zip(header, fields, strict=True):
        text = text.strip()
        if not text:
            continue
        try:
            row[name] = _value(name, text)
        except _Unfit as exc:
            return {}, (name, str(exc))
        except ValueError:  # (Python's message repeats the value)
            return {}, (name, _PROBLEM.get(_TYPES.get(name, ""), "unreadable"))
    if "person_id" in header and not row.get("person_id"):
        return {}, ("person_id", "empty: every row needs its person")
    row.setdefault("record_id", f"canonical:{index}:{line}")
    row.setdefault("source", "canonical")
    row.setdefault("source_file", str(path))
    row.setdefault("source_line", line)
    return row, None


def _insert_columns(con: duckdb.DuckDBPyConnection, table: str, values: list[list[Any]]) -> None:
    """Insert rows given as one list per column, in one statement."""
    if not values[0]:
        return
    unnest = ", ".join(f"unnest(${i + 1})" for i in range(len(values)))
    con.execute(f"INSERT INTO {table} SELECT {unnest}", values)


# --------------------------------------------------------------------------------------------
# Exports and linking (other modules; imported only when used)
# --------------------------------------------------------------------------------------------


def _import(names: Sequence[str], missing: str) -> Any:
    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but something it needs is missing: a real error
    raise RunError(missing)


def read_exports(con: duckdb.DuckDBPyConnection, opts: ILRunOptions) -> ILRead:
    readers = _import(
        ("clearslate.sources.il_reader", "clearslate.sources.il_exports"), READERS_MISSING
    )
    from clearslate.sources.il_mapping import MappingError

    try:
        result = readers.read_illinois(
            con,
            [str(p) for p in opts.court_exports],
            [str(p) for p in opts.isp_exports],
            opts.court_mapping,
            opts.isp_mapping,
        )
    except (InputError, MappingError) as exc:  # a mapping's message names its file and line
        raise RunError(str(exc)) from exc
    files = [
        InputFile(f.path, f.source, f.rows_read, f.rows_kept, f.rows_rejected) for f in result.files
    ]
    rejects = [Reject(r.file, r.line, r.column, r.reason) for r in result.rejects]
    warnings = [Reject(w.file, w.line, w.column, w.reason) for w in result.warnings]
    return ILRead(files=files, rejects=rejects, warnings=warnings)


def link(con: duckdb.DuckDBPyConnection, opts: ILRunOptions, part: Parts = no_parts) -> None:
    linker = _import(("clearslate.link.people",), LINKER_MISSING)
    linker.link_people(con, opts.link_settings, part)


def check_inputs(opts: ILRunOptions) -> None:
    """The inputs the options name, before anything is read (or an earlier run removed)."""
    if opts.canonical and (opts.court_exports or opts.isp_exports):
        raise RunError(
            "give either exports (--court-export/--isp-export) or --input-canonical, not both."
        )
    if not opts.inputs:
        raise RunError(
            "no input: give --court-export and/or --isp-export files, or --input-canonical."
        )
    for path in opts.inputs:
        try:
            check_input_path(Path(path), "export or canonical file", flag=None)
        except InputError as exc:
            raise RunError(str(exc)) from None


def load_inputs(
    con: duckdb.DuckDBPyConnection, opts: ILRunOptions, part: Parts = no_parts
) -> ILRead:
    """il_records and il_person_links, from whichever inputs the options name; `part` is
    told each step as it begins, with its share of the loading (20,000 synthetic people:
    1.0 s reading the exports, 4.4 s linking)."""
    check_inputs(opts)
    part(0.19, None)
    read = read_canonical(con, opts.canonical) if opts.canonical else read_exports(con, opts)
    if not read.linked_by:
        link(con, opts, within(part, 0.81))
        read.linked_by = "splink"
    return read


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


# Each stage's share of a run's time: reading includes linking the people, most of the run
# (20,000 synthetic people's court and state police exports, 79,847 rows: 5.6 s reading and
# linking, 0.36 s deciding, 0.38 s writing).
_STAGES = {"Reading Illinois records": 0.88, "Deciding": 0.06, "Writing outputs": 0.06}


def run_illinois(
    opts: ILRunOptions, stage: Stage = lambda _s, _c: None, meter: RunMeter | None = None
) -> ILRunResult:
    """The run of `opts`; `stage` and `meter` as for `clearslate.run.run` (the meter moves
    at each step of reading and linking, then stage by stage: no step has a gauge)."""
    started = time.perf_counter()
    out = opts.outputs
    _check_output_dir(out, "", opts.force)
    check_inputs(opts)  # before an earlier run is removed (see run.run)
    clear_earlier_run(out, keep=opts.inputs)
    meter = meter or RunMeter()
    with run_database(opts, nothing_left(out)) as con:
        result = _run(con, opts, out, started, stage, meter)
    meter.begin(DONE)
    return result


def _run(
    con: duckdb.DuckDBPyConnection,
    opts: ILRunOptions,
    out: Path,
    started: float,
    stage: Stage,
    meter: RunMeter,
) -> ILRunResult:
    meter.plan(_STAGES)
    meter.begin("Reading Illinois records")
    stage("Reading Illinois records", con)
    read = load_inputs(con, opts, meter.part)
    meter.begin("Deciding")
    stage("Deciding", con)
    law, _rules = decide_il(con, opts.policy, opts.as_of)
    _check_accounting(con, read)
    meter.begin("Writing outputs")
    stage("Writing outputs", con)
    files = write_il_determinations(con, out)
    errors, warnings = out / "errors.csv", out / "warnings.csv"
    write_text(errors, _places_csv(read.rejects))
    write_text(warnings, _places_csv(read.warnings, "file"))
    batches = plan_batches(con, "il_determinations", opts.max_batch)
    plan_json, plan_file = out / "plan.json", out / "plan.csv"
    write_json(plan_json, {"as_of": opts.as_of.isoformat(), "max_batch": opts.max_batch,
                           "batches": batches})  # fmt: skip
    write_text(plan_file, plan_csv(batches))
    summary = il_summary(con, opts, read, law.version_id, len(batches))
    summary_json = out / "summary.json"
    write_json(summary_json, summary)
    files += [errors, warnings, plan_json, plan_file, summary_json]
    manifest = _manifest(opts, read, law.version_id, files)
    seconds = time.perf_counter() - started  # (the manifest's SHA-256s included)
    write_json(out / "timings.json", {"seconds": round(seconds, 3)})
    # The manifest is written last: its presence says the run completed.
    write_json(out / "manifest.json", manifest)
    return ILRunResult(
        outputs=out,
        read=read,
        evaluated=summary["charges"]["evaluated"],
        outcomes=summary["outcomes"],
        people_with_relief=summary["people"]["with_relief"],
        batches=len(batches),
        seconds=seconds,
        files=files,
    )


# What an input is, as the question asked of a file whose every row was rejected.
_KIND_QUESTION = {
    "court": "Is it a circuit clerk's (court) export, laid out as the court mapping says?",
    "isp": "Is it an Illinois State Police export, laid out as the ISP mapping says?",
    "canonical": "Is it a canonical file (a header line of the canonical columns)?",
}


def run_notes(result: ILRunResult, name: Callable[[str], str] = str) -> list[str]:
    """What a finished run's counts do not say in words (as run.run_notes for California):
    `clearslate run --jurisdiction il` prints them, the workspace shows them on the run's
    page. `name` names an input file (the workspace: as it was uploaded)."""
    notes = []
    for f in result.read.files:
        if f.rows_read and not f.rows_accepted:
            notes.append(
                f"every one of the {f.rows_read:,} rows of {name(f.path)} was rejected: see "
                f"errors.csv. {_KIND_QUESTION.get(f.kind, '')}".rstrip()
            )
    if result.read.warnings:
        # The rows went through without those values: an export's date format unlike the
        # mapping's changes outcomes without failing a row.
        notes.append(
            f"{len(result.read.warnings):,} value(s) could not be read and were left empty: see "
            "warnings.csv. A date format or codes the mapping does not describe leave them "
            "empty, and outcomes change with them: check the mapping."
        )
    return notes


def _check_accounting(con: duckdb.DuckDBPyConnection, read: ILRead) -> None:
    """Nothing lost: every row read is kept or rejected, every kept row has one person, every
    evaluated charge exactly one named outcome. A mismatch is a defect: the run stops."""
    kept, linked, unlinked = con.execute(
        """SELECT (SELECT count(*) FROM il_records),
                  (SELECT count(*) FROM il_person_links),
                  (SELECT count(*) FROM il_records r ANTI JOIN il_person_links l
                     USING (record_id))"""
    ).fetchone()
    if kept + len(read.rejects) != read.rows_read or kept != read.rows_accepted:
        raise RunError(
            f"internal check failed: {read.rows_read} rows read, {kept} kept, "
            f"{len(read.rejects)} rejected. Please report this with the manifest."
        )
    if linked != kept or unlinked:
        raise RunError(
            f"internal check failed: {kept} records, {linked} person links, {unlinked} records "
            "without a person. Please report this with the manifest."
        )
    evaluated, decided, empty = con.execute(
        """SELECT (SELECT count(*) FROM il_evaluated), count(*),
                  count(*) FILTER (WHERE outcome IS NULL OR rule_id IS NULL OR
                                   (outcome = 'review') <> (review_reason IS NOT NULL))
           FROM il_determinations"""
    ).fetchone()
    if evaluated != decided or empty:
        raise RunError(
            f"internal check failed: {evaluated} charges evaluated, {decided} decided, "
            f"{empty} without a proper outcome. Please report this with the manifest."
        )


def il_determinations_select(table: str = "il_determinations") -> str:
    """SELECT of an Illinois run's determinations: exactly IL_DETERMINATION_COLUMNS."""
    from_record = {c[0] for c in IL_RECORD_COLUMNS}
    facts = ", ".join(f"{c} := d.{c}" for c in FACT_COLUMNS)
    exprs = []
    for name, _kind, _ in IL_DETERMINATION_COLUMNS:
        if name == "facts":
            exprs.append(f"to_json(struct_pack({facts}))::VARCHAR AS facts")
        elif name in from_record:
            exprs.append(f"r.{name}")
        else:
            exprs.append(f"d.{name}")
    return f"""SELECT {", ".join(exprs)}
               FROM {table} d JOIN il_records r USING (record_id)
               ORDER BY d.person_id, d.record_id"""


def write_il_determinations(con: duckdb.DuckDBPyConnection, out: Path) -> list[Path]:
    return write_table_files(con, il_determinations_select(), out, "determinations")


def _places_csv(places: list[Reject], file_column: str = "source_file") -> str:
    """errors.csv, or warnings.csv with the columns of `clearslate illinois link`'s (its
    first is `file`): a place and a reason, never the value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([file_column, "line", "column", "reason"])
    for r in places:
        w.writerow([r.source_file, r.line, r.column or "", r.reason])
    return buf.getvalue()


def _counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {str(k): n for k, n in con.execute(sql).fetchall()}


def il_summary(
    con: duckdb.DuckDBPyConnection, opts: ILRunOptions, read: ILRead, law_version: str,
    batches: int,
) -> dict[str, Any]:  # fmt: skip
    """Counts only: no name, date of birth, case number or record id."""
    d = "il_determinations"
    outcomes = dict.fromkeys(IL_OUTCOMES, 0)
    outcomes.update(_counts(con, f"SELECT outcome, count(*) FROM {d} GROUP BY 1 ORDER BY 1"))
    relief = ", ".join(f"'{o}'" for o in RELIEF)
    people, with_relief = con.execute(
        f"""SELECT count(DISTINCT person_id),
                   count(DISTINCT person_id) FILTER (WHERE outcome IN ({relief})) FROM {d}"""
    ).fetchone()
    by_tier: dict[str, dict[str, int]] = {}
    for tier, outcome, n in con.execute(
        f"SELECT coalesce(tier, 'none'), outcome, count(*) FROM {d} GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        by_tier.setdefault(tier, {})[outcome] = n
    return {
        "jurisdiction": "il",
        "as_of": opts.as_of.isoformat(),
        "law_version": law_version,
        "policy": opts.policy.name,
        "rows": {
            "read": read.rows_read,
            "accepted": read.rows_accepted,
            "rejected": len(read.rejects),
        },
        "people": {
            "records": con.execute(
                "SELECT count(DISTINCT person_id) FROM il_person_links"
            ).fetchone()[0],
            "with_cannabis_charges": people,
            "with_relief": with_relief,
        },
        "links": _counts(
            con, "SELECT link_status, count(*) FROM il_person_links GROUP BY 1 ORDER BY 1"
        ),
        "charges": {"evaluated": sum(outcomes.values())},
        "outcomes": outcomes,
        "by_tier": by_tier,
        "by_track": _counts(
            con, f"SELECT coalesce(track, 'none'), count(*) FROM {d} GROUP BY 1 ORDER BY 1"
        ),
        "review_reasons": _counts(
            con,
            f"""SELECT review_reason, count(*) FROM {d} WHERE review_reason IS NOT NULL
                GROUP BY 1 ORDER BY 1""",
        ),
        "rules": _counts(con, f"SELECT rule_id, count(*) FROM {d} GROUP BY 1 ORDER BY 1"),
        "grams_inferred": con.execute(f"SELECT count(*) FROM {d} WHERE grams_inferred").fetchone()[
            0
        ],
        "batches": batches,
    }


def _manifest(
    opts: ILRunOptions, read: ILRead, law_version: str, files: list[Path]
) -> dict[str, Any]:
    by_path = {f.path: f for f in read.files}
    return {
        "clearslate_version": __version__,
        "jurisdiction": "il",
        "as_of": opts.as_of.isoformat(),
        "law_version": law_version,
        "policy": {
            "name": opts.policy.name,
            "source": os.path.basename(opts.policy_source) if opts.policy_source else "",
            "sha256": opts.policy.sha256,
        },
        "linked_by": read.linked_by,
        "max_batch": opts.max_batch,
        "inputs": [
            {
                "path": str(p),
                "kind": kind,
                "size": Path(p).stat().st_size,
                "sha256": sha256_file(Path(p)),
                "rows_read": by_path[str(p)].rows_read if str(p) in by_path else None,
                "rows_accepted": by_path[str(p)].rows_accepted if str(p) in by_path else None,
                "rows_rejected": by_path[str(p)].rows_rejected if str(p) in by_path else None,
            }
            for kind, paths in (
                ("court", opts.court_exports),
                ("isp", opts.isp_exports),
                ("canonical", opts.canonical),
            )
            for p in paths
        ],
        "outputs": [
            {"file": p.name, "size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(files)
        ],
    }
