"""What a report reads from a results folder: the JSON summaries and counts grouped from the
determinations (DuckDB over determinations.parquet, else determinations.csv)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

OUTCOMES: tuple[str, ...] = ("dismiss", "reduce", "not_eligible", "review")
OUTCOME_LABELS = {
    "dismiss": "Dismissed",
    "reduce": "Reduced to a misdemeanor",
    "not_eligible": "Not eligible",
    "review": "Sent to review",
}
SECTIONS: tuple[str, ...] = ("11357", "11358", "11359", "11360")
COMMENT_ONLY = "Section only in the comment text"
UNKNOWN_DATE = "Date unknown"
AGE_GROUPS: tuple[tuple[str, int, int], ...] = (
    ("Under 18", 0, 17),
    ("18–20", 18, 20),
    ("21–24", 21, 24),
    ("25–29", 25, 29),
    ("30–39", 30, 39),
    ("40–49", 40, 49),
    ("50 and over", 50, 200),
)
UNKNOWN_AGE = "Age unknown"
NOT_RECORDED = "Not recorded"
OTHER_COURTS = "All other courts"
UNKNOWN_COUNTY = "County unknown"
TOP_COURTS = 15


class ReportError(Exception):
    """A results folder a report cannot be made from; the message says why."""


@dataclass
class Breakdown:
    """Convictions by one attribute (rows, in display order) and outcome."""

    rows: list[tuple[str, dict[str, int]]]

    def total(self, outcome: str | None = None) -> int:
        return sum(sum(c.values()) if outcome is None else c.get(outcome, 0) for _, c in self.rows)


@dataclass
class RunData:
    run_dir: Path
    manifest: dict[str, Any]
    summary: dict[str, Any]
    gogen: dict[str, Any]
    seconds: float | None
    outcomes: dict[str, int]
    sections: list[tuple[str, int, int]]  # label, felony, misdemeanor
    reasons: dict[str, list[tuple[str, int]]]  # outcome -> [(reason, count)]
    review_queue: list[tuple[str, str, int]]  # reason code, a reason text, count
    decade: Breakdown
    age: Breakdown
    court: Breakdown
    county: Breakdown
    race: Breakdown | None
    gender: Breakdown | None
    person_source: str  # where race and gender came from ("" = nowhere)
    multi_county: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def evaluated(self) -> int:
        return sum(self.outcomes.values())


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(
            f"{path}: missing. Is this the results folder of a complete run?"
        ) from None
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc}).") from None


def find_gogen_json(run_dir: Path) -> Path:
    """gogen.json, or gogen_S.json when the run had a --file-name-suffix."""
    plain = run_dir / "gogen.json"
    if plain.is_file():
        return plain
    found = sorted(run_dir.glob("gogen_*.json"))
    if not found:
        raise ReportError(f"{run_dir}: no gogen.json. Is this the results folder of a run?")
    return found[0]


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def open_determinations(con: duckdb.DuckDBPyConnection, run_dir: Path) -> None:
    """View `d` over the run's determinations (Parquet when present, it is typed)."""
    parquet, csv_path = run_dir / "determinations.parquet", run_dir / "determinations.csv"
    if parquet.is_file():
        source = f"read_parquet({_q(str(parquet))})"
    elif csv_path.is_file():
        source = f"read_csv({_q(str(csv_path))}, header = true, all_varchar = true)"
    else:
        raise ReportError(f"{run_dir}: no determinations.parquet or determinations.csv.")
    con.execute(f"CREATE OR REPLACE TEMP VIEW d_raw AS SELECT * FROM {source}")
    columns = {r[0] for r in con.execute("DESCRIBE d_raw").fetchall()}
    missing = {"subject_id", "outcome", "reason", "reason_code", "felony", "facts"} - columns
    if missing:
        raise ReportError(f"{run_dir}: determinations lack the columns {sorted(missing)}.")
    race = "race" if "race" in columns else "NULL"
    gender = "gender" if "gender" in columns else "NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW d AS
        SELECT subject_id::VARCHAR AS subject_id, outcome, reason, reason_code,
               coalesce(court::VARCHAR, '') AS court, coalesce(county::VARCHAR, '') AS county,
               lower(felony::VARCHAR) = 'true' AS felony,
               try_cast(nullif(disposition_date::VARCHAR, '') AS DATE) AS disposition_date,
               json_extract_string(facts, '$.prop64_section') AS prop64_section,
               try_cast(json_extract_string(facts, '$.dob') AS DATE) AS birth_date,
               {race}::VARCHAR AS race, {gender}::VARCHAR AS gender
        FROM d_raw"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW d_has_person AS SELECT "
        f"{'true' if 'race' in columns and 'gender' in columns else 'false'} AS present"
    )


def _all_results_files(run_dir: Path, n_inputs: int) -> list[Path]:
    """The All_Results files of the run in input order (gogen's names, any suffix)."""
    found = [p for p in run_dir.glob("All_Results*.csv") if "_Condensed" not in p.name]
    if n_inputs <= 1:
        return found[:1] if len(found) == 1 else []
    ordered = []
    for i in range(1, n_inputs + 1):
        match = [
            p
            for p in found
            if p.name.startswith(f"All_Results_{i}.") or p.name.startswith(f"All_Results_{i}_")
        ]
        if len(match) != 1:
            return []
        ordered.append(match[0])
    return ordered


def _first_rows(paths: list[Path], wanted: set[str]) -> Iterator[tuple[str, str, str]]:
    """(subject, race, gender) from each person's first row, as the run's subjects table."""
    seen: set[str] = set()
    for path in paths:
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            try:
                s, r, g = (
                    header.index("SUBJECT_ID"),
                    header.index("RACE_DESCR"),
                    header.index("GENDER"),
                )
            except ValueError:
                return
            for row in reader:
                if len(row) <= max(s, r, g):
                    continue
                subject = row[s].strip()
                if subject in wanted and subject not in seen:
                    seen.add(subject)
                    yield subject, row[r].strip(), row[g].strip()
                    if len(seen) == len(wanted):
                        return


def attach_person_attributes(
    con: duckdb.DuckDBPyConnection, run_dir: Path, manifest: dict[str, Any]
) -> str:
    """Make view `dp` = `d` with race and gender. Returns where they came from, or ""."""
    if con.execute("SELECT present FROM d_has_person").fetchone()[0]:
        con.execute("CREATE OR REPLACE TEMP VIEW dp AS SELECT * FROM d")
        return "determinations"
    files = _all_results_files(run_dir, len(manifest.get("inputs", [])))
    if not files:
        con.execute("CREATE OR REPLACE TEMP VIEW dp AS SELECT * FROM d")
        return ""
    wanted = {r[0] for r in con.execute("SELECT DISTINCT subject_id FROM d").fetchall()}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE person_attr "
        "(subject_id VARCHAR, race VARCHAR, gender VARCHAR)"
    )
    batch: list[tuple[str, str, str]] = []
    for item in _first_rows(files, wanted):
        batch.append(item)
        if len(batch) >= 50_000:
            con.executemany("INSERT INTO person_attr VALUES (?, ?, ?)", batch)
            batch = []
    if batch:
        con.executemany("INSERT INTO person_attr VALUES (?, ?, ?)", batch)
    con.execute(
        """CREATE OR REPLACE TEMP VIEW dp AS
           SELECT d.* EXCLUDE (race, gender), p.race, p.gender
           FROM d LEFT JOIN person_attr p USING (subject_id)"""
    )
    return ", ".join(p.name for p in files)


def _breakdown(
    con: duckdb.DuckDBPyConnection,
    label_sql: str,
    order: list[str] | None = None,
    view: str = "d",
) -> Breakdown:
    rows = con.execute(
        f"SELECT {label_sql} AS label, outcome, count(*) FROM {view} GROUP BY ALL"
    ).fetchall()
    table: dict[str, dict[str, int]] = {}
    for label, outcome, n in rows:
        table.setdefault(str(label), {o: 0 for o in OUTCOMES})[outcome] = n
    if order is not None:
        labels = [x for x in order if x in table] + sorted(x for x in table if x not in order)
    else:  # largest first, then by name
        labels = sorted(table, key=lambda x: (-sum(table[x].values()), x))
    return Breakdown([(x, table[x]) for x in labels])


def _last_named(b: Breakdown, names: tuple[str, ...]) -> Breakdown:
    """The same rows with the catch-all rows (unknown, other) moved to the end."""
    return Breakdown(
        [r for r in b.rows if r[0] not in names] + [r for r in b.rows if r[0] in names]
    )


def age_sql(view: str = "d") -> str:
    """Completed years between the date of birth and the conviction date, as a group."""
    years = (
        "(year(disposition_date) - year(birth_date) - CASE WHEN "
        "month(disposition_date) * 100 + day(disposition_date) < "
        "month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END)"
    )
    cases = " ".join(f"WHEN {years} BETWEEN {lo} AND {hi} THEN {_q(g)}" for g, lo, hi in AGE_GROUPS)
    return f"CASE WHEN birth_date IS NULL OR disposition_date IS NULL THEN {_q(UNKNOWN_AGE)} {cases} ELSE {_q(UNKNOWN_AGE)} END"


def load_run(run_dir: Path) -> RunData:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: not a folder. Give the --outputs folder of a run.")
    if not (run_dir / "manifest.json").is_file():
        raise ReportError(
            f"{run_dir}: no manifest.json, so it holds no complete run "
            "(the manifest is written last). Give the --outputs folder of a finished run."
        )
    manifest = _read_json(run_dir / "manifest.json")
    summary = _read_json(run_dir / "summary.json")
    gogen = _read_json(find_gogen_json(run_dir))
    timings = run_dir / "timings.json"
    seconds = gogen.get("processingTimeInSeconds")
    if seconds is None and timings.is_file():
        seconds = _read_json(timings).get("seconds")

    con = duckdb.connect()
    try:
        open_determinations(con, run_dir)
        outcomes = {o: 0 for o in OUTCOMES}
        for outcome, n in con.execute("SELECT outcome, count(*) FROM d GROUP BY 1").fetchall():
            if outcome not in outcomes:
                raise ReportError(f"determinations: unknown outcome {outcome!r}.")
            outcomes[outcome] = n
        section_rows = con.execute(
            f"""SELECT coalesce('HS ' || prop64_section, {_q(COMMENT_ONLY)}),
                       count(*) FILTER (WHERE felony), count(*) FILTER (WHERE NOT felony)
                FROM d GROUP BY 1 ORDER BY 1"""
        ).fetchall()
        sections = [(str(a), int(b), int(c)) for a, b, c in section_rows]
        sections = [s for s in sections if s[0] != COMMENT_ONLY] + [
            s for s in sections if s[0] == COMMENT_ONLY
        ]
        reasons: dict[str, list[tuple[str, int]]] = {}
        for outcome, reason, n in con.execute(
            "SELECT outcome, reason, count(*) FROM d GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
        ).fetchall():
            reasons.setdefault(outcome, []).append((reason, n))
        review_queue = [
            (str(code), str(reason), int(n))
            for code, reason, n in con.execute(
                """SELECT coalesce(nullif(reason_code, ''), '(none)'), min(reason), count(*)
                   FROM d WHERE outcome = 'review' GROUP BY 1 ORDER BY 3 DESC, 1"""
            ).fetchall()
        ]
        decade = _breakdown(
            con,
            f"CASE WHEN disposition_date IS NULL THEN {_q(UNKNOWN_DATE)} "
            "ELSE (year(disposition_date) // 10 * 10)::VARCHAR || 's' END",
        )
        decade = Breakdown(sorted(decade.rows, key=lambda r: (r[0] == UNKNOWN_DATE, r[0])))
        age = _breakdown(con, age_sql(), order=[g for g, _, _ in AGE_GROUPS] + [UNKNOWN_AGE])
        court = _top(_breakdown(con, f"coalesce(nullif(court, ''), {_q(NOT_RECORDED)})"))
        county = _last_named(
            _breakdown(con, f"coalesce(nullif(county, ''), {_q(UNKNOWN_COUNTY)})"),
            (UNKNOWN_COUNTY,),
        )
        person_source = attach_person_attributes(con, run_dir, manifest)
        race = gender = None
        if person_source:
            label = f"coalesce(nullif(trim(race), ''), {_q(NOT_RECORDED)})"
            race = _last_named(_breakdown(con, label, view="dp"), (NOT_RECORDED,))
            label = f"coalesce(nullif(trim(gender), ''), {_q(NOT_RECORDED)})"
            gender = _last_named(_breakdown(con, label, view="dp"), (NOT_RECORDED,))
    finally:
        con.close()

    counties = summary.get("counties")
    multi = counties == "ALL" or (isinstance(counties, list) and len(counties) > 1)
    multi = multi or len([r for r in county.rows if r[0] != UNKNOWN_COUNTY]) > 1
    return RunData(
        run_dir=run_dir,
        manifest=manifest,
        summary=summary,
        gogen=gogen,
        seconds=seconds,
        outcomes=outcomes,
        sections=sections,
        reasons=reasons,
        review_queue=review_queue,
        decade=decade,
        age=age,
        court=court,
        county=county,
        race=race,
        gender=gender,
        person_source=person_source,
        multi_county=multi,
    )


def _top(b: Breakdown, keep: int = TOP_COURTS) -> Breakdown:
    """The `keep` largest rows by total; the rest summed into one row."""
    named = [r for r in b.rows if r[0] != NOT_RECORDED]
    rest = named[keep:]
    rows = named[:keep]
    if rest:
        other = {o: sum(c[o] for _, c in rest) for o in OUTCOMES}
        rows.append((OTHER_COURTS, other))
    rows += [r for r in b.rows if r[0] == NOT_RECORDED]
    return Breakdown(rows)


def since_text(earliest: str | None) -> str:
    """gogen's earliestConviction ("1970-01-01T00:00:00Z") as BEAR wrote it: "January 1, 1970"."""
    if not earliest:
        return ""
    try:
        day = dt.date.fromisoformat(earliest[:10])
    except ValueError:
        return earliest
    return f"{day:%B} {day.day}, {day.year}"
