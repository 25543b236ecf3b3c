"""What a report reads from a results folder: the JSON files and counts grouped from the
determinations (DuckDB over determinations.parquet, else determinations.csv).

Nothing here knows a jurisdiction: the run's manifest names it, and its description
(report/spec.py: outcomes, the view of its determinations, its sections) says what to count.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate import database
from clearslate.outputs.files import sha256_file
from clearslate.report.spec import BY_LABEL, BY_SIZE, BY_SORT, Jurisdiction, Section, jurisdiction


class ReportError(Exception):
    """A results folder a report cannot be made from; the message says why."""


@dataclass
class Breakdown:
    """Decided rows by one attribute (rows, in display order) and column (outcome)."""

    rows: list[tuple[str, dict[str, int]]]

    def __len__(self) -> int:
        return len(self.rows)

    def total(self, column: str | None = None) -> int:
        return sum(sum(c.values()) if column is None else c.get(column, 0) for _, c in self.rows)


@dataclass
class RunData:
    run_dir: Path
    jurisdiction: Jurisdiction
    manifest: dict[str, Any]
    summary: dict[str, Any]
    seconds: float | None
    outcomes: dict[str, int]
    reasons: dict[str, list[tuple[str, int]]]  # outcome -> [(reason, count)]
    breakdowns: dict[str, Breakdown | None]  # section id -> rows (None: data not available)
    facts: dict[str, Any] = field(default_factory=dict)  # what open_view found

    @property
    def evaluated(self) -> int:
        return sum(self.outcomes.values())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(
            f"{path}: missing. Is this the results folder of a complete run?"
        ) from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc}).") from None


q = database.sql_string  # (the reports' short name for it)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest.json of a finished run's folder: a JSON object (an edited one may be
    anything). A folder without one holds no complete run (the manifest is written last)."""
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a folder. Give the --outputs folder of a run.")
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise ReportError(
            f"{run_dir}: holds no complete run (no manifest.json). Give the --outputs folder "
            "of a `clearslate run` that finished."
        )
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise ReportError(
            f"{path}: not a run's manifest (a JSON object listing the run's inputs and "
            "outputs); run clearslate run again."
        )
    return manifest


def manifest_as_of(
    manifest: dict[str, Any], path: Path, again: str = "run clearslate run again."
) -> dt.date:
    """A run manifest's "as_of", checked as --compute-at is (run.as_of_date); an edited one is
    said in words, with `again`, what to do."""
    from clearslate.run import EARLIEST_AS_OF, as_of_date

    if "as_of" not in manifest:
        raise ReportError(f'{path}: no "as_of" (the run\'s as-of date); {again}')
    try:
        return as_of_date(manifest["as_of"])
    except (ValueError, TypeError):  # (TypeError: not text)
        raise ReportError(
            f'{path}: "as_of" is not a date from {EARLIEST_AS_OF} on (YYYY-MM-DD); {again}'
        ) from None


def checked_output(run_dir: Path, manifest: dict[str, Any], name: str) -> Path:
    """The run's output `name`, once it is shown to be the file the run wrote: the size and
    SHA-256 that manifest.json lists for it. Results are evidence for a court: a file edited,
    cut or replaced after the run must be refused, not counted as the run's."""
    path = run_dir / name
    if not path.is_file():
        raise ReportError(f"{path}: missing; run clearslate run again.")
    outputs = manifest.get("outputs")
    listed = [o for o in (outputs if isinstance(outputs, list) else []) if isinstance(o, dict)]
    entry = next((o for o in listed if o.get("file") == name), None)
    if entry is None:
        raise ReportError(
            f"{path}: not among the outputs manifest.json lists, so it cannot be shown to be "
            "the run's; run clearslate run again."
        )
    try:
        # the size first: a file cut or grown is told without reading it all
        same = path.stat().st_size == entry.get("size") and sha256_file(path) == entry.get("sha256")
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read ({exc.strerror}).") from None
    if not same:
        raise ReportError(
            f"{path}: changed since the run (its SHA-256 is not the one manifest.json lists); "
            "run clearslate run again, or restore the file."
        )
    return path


def determinations_file(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """The run's determinations as checked_output vouches for them: Parquet when present (it
    is typed), else the CSV (a folder may keep only that one). Shared by report and
    documents."""
    parquet = run_dir / "determinations.parquet"
    name = parquet.name if parquet.exists() else "determinations.csv"
    return checked_output(run_dir, manifest, name)


def unreadable(path: Path) -> str:
    """The message for a determinations file that is the run's own yet cannot be read (it
    should not happen). DuckDB's text is left out: it may quote a row, personal data."""
    return (
        f"{path}: cannot be read, although its SHA-256 is the one manifest.json lists; run "
        "clearslate run again."
    )


def open_raw(
    con: duckdb.DuckDBPyConnection, run_dir: Path, manifest: dict[str, Any], required: set[str]
) -> set[str]:
    """View `d_raw` over the run's determinations (determinations_file); returns its
    columns."""
    path = determinations_file(run_dir, manifest)
    if path.suffix == ".parquet":
        source = f"read_parquet({q(str(path))})"
    else:
        source = f"read_csv({q(str(path))}, header = true, all_varchar = true)"
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW d_raw AS SELECT * FROM {source}")
        columns = {r[0] for r in con.execute("DESCRIBE d_raw").fetchall()}
    except duckdb.Error:
        raise ReportError(unreadable(path)) from None
    missing = required - columns
    if missing:
        raise ReportError(f"{run_dir}: determinations lack the columns {sorted(missing)}.")
    return columns


def load_section(con: duckdb.DuckDBPyConnection, jur: Jurisdiction, s: Section) -> Breakdown:
    """The rows of one section, counted per column, in the section's order."""
    if s.columns:
        keys = [c.key for c in s.columns]
        key_sql = "CASE " + " ".join(f"WHEN {c.where} THEN {q(c.key)}" for c in s.columns) + " END"
    else:
        keys, key_sql = list(jur.outcomes), "outcome"
    where = f"WHERE {s.where}" if s.where else ""
    table: dict[str, dict[str, int]] = {}
    sort_key: dict[str, Any] = {}
    for label, key, n, sort in con.execute(
        f"""SELECT {s.label} AS label, {key_sql} AS key, count(*), min({s.sort})
            FROM {s.view} {where} GROUP BY ALL"""
    ).fetchall():
        if key not in keys:
            raise ReportError(f"determinations: unknown {s.id} column {key!r}.")
        table.setdefault(str(label), dict.fromkeys(keys, 0))[key] = n
        if sort is not None:
            sort_key[str(label)] = min(sort, sort_key.get(str(label), sort))
    if s.order == BY_SIZE:
        labels = sorted(table, key=lambda x: (-sum(table[x].values()), x))
    elif s.order == BY_LABEL:
        labels = sorted(table)
    elif s.order == BY_SORT:
        labels = sorted(table, key=lambda x: (x not in sort_key, sort_key.get(x, 0), x))
    else:
        labels = [x for x in s.order if x in table] + sorted(x for x in table if x not in s.order)
    named = [x for x in labels if x not in s.last]
    rows = [(x, table[x]) for x in named]
    if s.top is not None and len(rows) > s.top:
        rest = rows[s.top :]
        rows = [*rows[: s.top], (s.other, {k: sum(c[k] for _, c in rest) for k in keys})]
    rows += [(x, table[x]) for x in labels if x in s.last]
    return Breakdown(rows)


def load_run(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    jur = jurisdiction(str(manifest.get("jurisdiction", "ca")))
    # summary.json's counts are shown as the run's: it is checked as the determinations are
    summary = read_json(checked_output(run_dir, manifest, "summary.json"))
    timings = read_json(run_dir / "timings.json") if (run_dir / "timings.json").is_file() else {}
    seconds = timings.get("seconds") if isinstance(timings, dict) else None  # unlisted, optional

    con = database.connect()
    try:
        facts = jur.open_view(con, run_dir, manifest)
        outcomes = dict.fromkeys(jur.outcomes, 0)
        for outcome, n in con.execute("SELECT outcome, count(*) FROM d GROUP BY 1").fetchall():
            if outcome not in outcomes:
                raise ReportError(f"determinations: unknown outcome {outcome!r}.")
            outcomes[outcome] = n
        reasons: dict[str, list[tuple[str, int]]] = {}
        for outcome, reason, n in con.execute(
            f"SELECT outcome, {jur.reason}, count(*) FROM d GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
        ).fetchall():
            reasons.setdefault(outcome, []).append((str(reason), n))
        breakdowns: dict[str, Breakdown | None] = {
            s.id: None if s.optional and not facts.get(s.view) else load_section(con, jur, s)
            for s in jur.sections
        }
    finally:
        con.close()
    return RunData(
        run_dir=run_dir,
        jurisdiction=jur,
        manifest=manifest,
        summary=summary,
        seconds=facts.get("seconds", seconds),
        outcomes=outcomes,
        reasons=reasons,
        breakdowns=breakdowns,
        facts=facts,
    )
