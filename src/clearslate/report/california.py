"""The California (Prop 64) report: the DOJ research file's determinations and gogen's counts.

Everything BEAR's summary page had (gogen.json), then the charts of docs/report.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from clearslate.database import insert_rows
from clearslate.report.build import Block, Head, common_facts, reasons_table
from clearslate.report.data import ReportError, RunData, open_raw, q, read_json
from clearslate.report.spec import BY_LABEL, Column, Jurisdiction, Section
from clearslate.report.tables import Cell, CountTable, Group, Registry, Row

OUTCOMES: tuple[str, ...] = ("dismiss", "reduce", "not_eligible", "review")
OUTCOME_LABELS = {
    "dismiss": "Dismissed",
    "reduce": "Reduced to a misdemeanor",
    "not_eligible": "Not eligible",
    "review": "Sent to review",
}
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


def find_gogen_json(run_dir: Path) -> Path:
    """gogen.json, or gogen_S.json when the run had a --file-name-suffix."""
    plain = run_dir / "gogen.json"
    if plain.is_file():
        return plain
    found = sorted(run_dir.glob("gogen_*.json"))
    if not found:
        raise ReportError(f"{run_dir}: no gogen.json. Is this the results folder of a run?")
    return found[0]


def open_determinations(
    con: duckdb.DuckDBPyConnection, run_dir: Path, manifest: dict[str, Any]
) -> dict[str, Any]:
    """View `d` over the run's determinations, view `dp` with the person's race and gender;
    gogen.json and where race and gender came from."""
    gogen = read_json(find_gogen_json(run_dir))
    columns = open_raw(
        con,
        run_dir,
        manifest,
        {"subject_id", "outcome", "reason", "reason_code", "felony", "facts"},
    )
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
    if "race" in columns and "gender" in columns:
        con.execute("CREATE OR REPLACE TEMP VIEW dp AS SELECT * FROM d")
        person_source = "determinations"
    else:
        person_source = attach_person_attributes(con, run_dir, manifest)
    facts = {"gogen": gogen, "dp": person_source}
    if gogen.get("processingTimeInSeconds") is not None:
        facts["seconds"] = gogen["processingTimeInSeconds"]
    return facts


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
    """Make view `dp` = `d` with race and gender from the run's All_Results files.
    Returns where they came from, or "" (then `dp` has none)."""
    files = _all_results_files(run_dir, len(manifest.get("inputs", [])))
    if not files:
        con.execute("CREATE OR REPLACE TEMP VIEW dp AS SELECT * FROM d")
        return ""
    wanted = {r[0] for r in con.execute("SELECT DISTINCT subject_id FROM d").fetchall()}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE person_attr "
        "(subject_id VARCHAR, race VARCHAR, gender VARCHAR)"
    )
    rows = _first_rows(files, wanted)
    while batch := list(itertools.islice(rows, 50_000)):
        insert_rows(con, "person_attr", ["VARCHAR"] * 3, batch)
    con.execute(
        """CREATE OR REPLACE TEMP VIEW dp AS
           SELECT d.* EXCLUDE (race, gender), p.race, p.gender
           FROM d LEFT JOIN person_attr p USING (subject_id)"""
    )
    return ", ".join(p.name for p in files)


def age_sql() -> str:
    """Completed years between the date of birth and the conviction date, as a group."""
    years = (
        "(year(disposition_date) - year(birth_date) - CASE WHEN "
        "month(disposition_date) * 100 + day(disposition_date) < "
        "month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END)"
    )
    cases = " ".join(f"WHEN {years} BETWEEN {lo} AND {hi} THEN {q(g)}" for g, lo, hi in AGE_GROUPS)
    return f"CASE WHEN birth_date IS NULL OR disposition_date IS NULL THEN {q(UNKNOWN_AGE)} {cases} ELSE {q(UNKNOWN_AGE)} END"


def since_text(earliest: str | None) -> str:
    """gogen's earliestConviction ("1970-01-01T00:00:00Z") as BEAR wrote it: "January 1, 1970"."""
    if not earliest:
        return ""
    try:
        day = dt.date.fromisoformat(earliest[:10])
    except ValueError:
        return earliest
    return f"{day:%B} {day.day}, {day.year}"


def _multi_county(run: RunData) -> bool:
    counties = run.summary.get("counties")
    multi = counties == "ALL" or (isinstance(counties, list) and len(counties) > 1)
    county = run.breakdowns["county"]
    return multi or (
        county is not None and len([r for r in county.rows if r[0] != UNKNOWN_COUNTY]) > 1
    )


def _person(attr: str) -> Section:
    return Section(
        attr,
        f"By {attr}",
        f"The person's {attr} as recorded in the DOJ research file (the first row of the "
        "person in the file).",
        f"Convictions by the person's {attr} and outcome",
        attr.capitalize(),
        f"Stacked bar chart of convictions by {attr} and outcome",
        f"coalesce(nullif(trim({attr}), ''), {q(NOT_RECORDED)})",
        last=(NOT_RECORDED,),
        view="dp",
        optional=attr,
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        "sections",
        "Convictions by code section",
        "Felonies and misdemeanors (or infractions) of each Health and Safety Code section.",
        "Prop 64 convictions decided, by code section, felony and misdemeanor",
        "Code section",
        "Stacked bar chart of convictions by code section, felony and misdemeanor",
        f"coalesce('HS ' || prop64_section, {q(COMMENT_ONLY)})",
        columns=(
            Column("felony", "Felony", "felony"),
            Column("misdemeanor", "Misdemeanor or infraction", "NOT felony"),
        ),
        column_totals=("convictions:felony", "convictions:misdemeanor"),
        order=BY_LABEL,
        last=(COMMENT_ONLY,),
    ),
    Section(
        "decade",
        "Cleared convictions by decade of conviction",
        "Decade of the conviction (disposition) date. Dismissed and reduced convictions "
        "are the cleared ones.",
        "Convictions by decade of conviction and outcome",
        "Decade",
        "Stacked bar chart of convictions by decade of conviction and outcome",
        f"CASE WHEN disposition_date IS NULL THEN {q(UNKNOWN_DATE)} "
        "ELSE (year(disposition_date) // 10 * 10)::VARCHAR || 's' END",
        order=BY_LABEL,
        last=(UNKNOWN_DATE,),
    ),
    _person("race"),
    _person("gender"),
    Section(
        "age",
        "By age at conviction",
        "Age in completed years on the conviction date, from the date of birth in the "
        "research file.",
        "Convictions by age at conviction and outcome",
        "Age at conviction",
        "Stacked bar chart of convictions by age at conviction and outcome",
        age_sql(),
        order=(*(g for g, _, _ in AGE_GROUPS), UNKNOWN_AGE),
    ),
    Section(
        "court",
        "By court",
        f"The court (STP_ORI_DESCR) of the conviction: the {TOP_COURTS} courts with the most "
        "convictions, then all other courts together.",
        "Convictions by court and outcome",
        "Court",
        "Stacked bar chart of convictions by court and outcome",
        f"coalesce(nullif(court, ''), {q(NOT_RECORDED)})",
        last=(NOT_RECORDED,),
        top=TOP_COURTS,
        other=OTHER_COURTS,
    ),
    Section(
        "review",
        "Review queue",
        "Convictions a person must look at, by the reason code of the rule that sent them.",
        "Convictions sent to review, by reason code",
        "Reason code",
        "Bar chart of convictions sent to review, by reason code",
        "coalesce(nullif(reason_code, ''), '(none)')",
        columns=(Column("count", "Convictions", "true"),),
        where="outcome = 'review'",
        column_totals=("convictions:review",),
        total_label="Sent to review",
    ),
    Section(
        "county",
        "By county",
        "Each county's convictions; the last row is the statewide total.",
        "Convictions by county and outcome",
        "County",
        "Stacked bar chart of convictions by county and outcome",
        f"coalesce(nullif(county, ''), {q(UNKNOWN_COUNTY)})",
        last=(UNKNOWN_COUNTY,),
        total_label="Statewide total",
        shown=_multi_county,
    ),
)


PEOPLE_ROWS = (
    ("CountSubjectsNoFelony", "no_felony", "People who no longer have a felony"),
    (
        "CountSubjectsNoConvictionLast7Years",
        "no_conviction_7y",
        "People with no conviction left in the 7 years before the as-of date",
    ),
    ("CountSubjectsNoConviction", "no_conviction", "People with no conviction left at all"),
)


def _people_table(reg: Registry, gogen: dict[str, Any]) -> CountTable:
    """gogen's counts of people: not a sum of anything, so each stands alone."""
    current = gogen.get("reliefWithCurrentEligibilityChoices", {})
    everything = gogen.get("reliefWithDismissAllProp64", {})
    table = CountTable(
        "people",
        "People: relief with this policy, and if every Prop 64 conviction were dismissed",
        "People",
        [("policy", "With this policy"), ("all", "If all were dismissed")],
    )
    rows = [
        Row(
            "People with a Prop 64 conviction decided",
            [
                Cell(
                    reg.var("people:prop64", gogen["subjectsWithProp64ConvictionCountInCounty"]),
                    "policy",
                ),
                Cell("", "all", text="n/a"),
            ],
        ),
        Row(
            "People with some relief",
            [
                Cell(reg.var("people:some_relief", gogen["subjectsWithSomeReliefCount"]), "policy"),
                Cell("", "all", text="n/a"),
            ],
        ),
    ]
    for key, var, label in PEOPLE_ROWS:
        rows.append(
            Row(
                label,
                [
                    Cell(reg.var(f"people:{var}:policy", int(current.get(key, 0))), "policy"),
                    Cell(reg.var(f"people:{var}:all", int(everything.get(key, 0))), "all"),
                ],
            )
        )
    table.groups.append(Group(None, rows))
    return table


def head(reg: Registry, run: RunData, public: bool) -> Head:
    summary, manifest, gogen = run.summary, run.manifest, run.facts["gogen"]
    rows = summary["rows"]
    rows_table = reg.table(
        "rows",
        "Rows of the research files",
        "Rows",
        [("count", "Rows")],
        [("Accepted", [rows["accepted"]]), ("Rejected (listed in errors.csv)", [rows["rejected"]])],
        row_total=None,
        column_totals=["rows:read"],
        total_label="Read",
    )
    county = gogen.get("county") or manifest.get("counties", "")
    facts = [
        ("county", "County", str(county)),
        ("earliest", "Convictions since", since_text(gogen.get("earliestConviction"))),
        *common_facts(run),
    ]
    blocks = [
        Block(
            "people",
            "People",
            "How many people get relief, and how many no longer have a felony or any "
            "conviction once it is granted (gogen's counts: every conviction on the record, "
            "in any county, counts).",
            _people_table(reg, gogen),
        ),
        Block(
            "reasons",
            "Decisions by reason",
            "Dismissals and reductions by the reason the policy gives (a code section chosen "
            "for dismissal or reduction, or an additional-relief rule), and the reasons for "
            "the other outcomes.",
            reasons_table(
                reg,
                run,
                "reasons",
                "Dismissals, reductions and other decisions, by reason",
                "Reason",
            ),
            keep=False,
        ),
    ]
    notes = [
        "Convictions are the Prop 64 convictions (HS 11357–11360, attempts included) this run "
        "decided: one row each in determinations.csv. Counts of people come from gogen.json.",
        "Cleared means dismissed or reduced.",
    ]
    person_source = run.facts["dp"]
    if person_source and person_source != "determinations":
        notes.append(
            "Race and gender were read from the person's first row in "
            f"{person_source} (the run's determinations do not carry them)."
        )
    return Head(
        title=f"Prop 64 relief: {county}",
        lede="Prop 64 cannabis convictions decided in bulk by clearslate from the California "
        "DOJ research file.",
        facts=facts,
        inputs_label="Research files",
        rows_table=rows_table,
        blocks=blocks,
        notes=notes,
        outcomes_intro="Every Prop 64 conviction of the run has exactly one outcome.",
        missing_note="this run's determinations do not carry the person's {and}, and the "
        "folder has no gogen All_Results file to read them from.",
    )


JURISDICTION = Jurisdiction(
    code="ca",
    outcomes=OUTCOMES,
    outcome_labels=OUTCOME_LABELS,
    unit="Convictions",
    reason="reason",
    open_view=open_determinations,
    head=head,
    sections=SECTIONS,
)
