"""The Illinois (CRTA) report: cannabis charges decided per linked person, from the court and
state-police exports, with the batch plan an office works through tier by tier.

The run folder is `clearslate run --jurisdiction il`'s (docs/illinois.md): determinations with
the columns of IL_DETERMINATION_COLUMNS, summary.json (row and link counts) and plan.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from clearslate.report.build import Block, Head, common_facts, reasons_table
from clearslate.report.data import Breakdown, ReportError, RunData, open_raw, q, read_json
from clearslate.report.spec import BY_LABEL, BY_SORT, Column, Jurisdiction, Section
from clearslate.report.tables import Cell, CountTable, Group, Registry, Row
from clearslate.sources.il_canonical import IL_OUTCOMES

OUTCOME_LABELS = {
    "expunge_arrest": "Arrest expunged",
    "vacate_and_expunge": "Vacated and expunged",
    "eligible_on_motion": "Eligible on motion",
    "not_eligible": "Not eligible",
    "review": "Sent to review",
}
RELIEF = ("vacate_and_expunge", "expunge_arrest", "eligible_on_motion")
NO_TIER = "No deadline tier"
NOT_RECORDED = "Not recorded"
COURT_NOT_RECORDED = "No court (e.g. state-police rows)"
OTHER_COURTS = "All other courts"
UNKNOWN_COUNTY = "County unknown"
UNKNOWN_DATE = "Date unknown"
TOP_COURTS = 15
LINK_LABELS = {
    "linked": "Linked to other rows",
    "single": "Alone (no other row)",
    "review": "Uncertain link, left apart",
}
SOURCE_LABELS = {"court": "Circuit clerk export", "isp": "State police export"}


def _date(column: str) -> str:
    return f"try_cast(nullif({column}::VARCHAR, '') AS DATE)"


def open_determinations(
    con: duckdb.DuckDBPyConnection, run_dir: Path, manifest: dict[str, Any]
) -> dict[str, Any]:
    """View `d` over an Illinois run's determinations (typed, whether Parquet or CSV), and
    `dp` when they carry the person's race and sex; plan.json's batches."""
    columns = open_raw(
        con,
        run_dir,
        manifest,
        {
            "person_id",
            "record_id",
            "source",
            "outcome",
            "review_reason",
            "rule_id",
            "track",
            "tier",
            "deadline",
            "record_date",
            "grams_inferred",
            "link_status",
            "court",
            "county",
        },
    )
    person = {c: c if c in columns else "NULL" for c in ("race", "sex")}
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW d AS
        SELECT person_id::VARCHAR AS person_id, record_id::VARCHAR AS record_id,
               source::VARCHAR AS source, outcome, nullif(review_reason::VARCHAR, '')
               AS review_reason, rule_id::VARCHAR AS rule_id,
               nullif(track::VARCHAR, '') AS track, nullif(tier::VARCHAR, '') AS tier,
               {_date("deadline")} AS deadline, {_date("record_date")} AS record_date,
               coalesce(lower(grams_inferred::VARCHAR) = 'true', false) AS grams_inferred,
               link_status::VARCHAR AS link_status,
               coalesce(court::VARCHAR, '') AS court, coalesce(county::VARCHAR, '') AS county,
               {person["race"]}::VARCHAR AS race, {person["sex"]}::VARCHAR AS sex
        FROM d_raw"""
    )
    con.execute("CREATE OR REPLACE TEMP VIEW dp AS SELECT * FROM d")
    plan_path = run_dir / "plan.json"
    plan = read_json(plan_path).get("batches", []) if plan_path.is_file() else None
    if plan is not None and not isinstance(plan, list):
        raise ReportError(f"{plan_path}: no list of batches.")
    relief = ", ".join(q(o) for o in RELIEF)
    people, with_relief = con.execute(
        f"""SELECT count(DISTINCT person_id),
                   count(DISTINCT person_id) FILTER (WHERE outcome IN ({relief})) FROM d"""
    ).fetchone()
    return {
        "dp": "determinations" if "race" in columns and "sex" in columns else "",
        "plan": plan,
        "people": people,
        "people_with_relief": with_relief,
    }


def _person(attr: str, word: str) -> Section:
    return Section(
        attr,
        f"By {word}",
        f"The person's {word} as the export gives it on the charge's row.",
        f"Charges by the person's {word} and outcome",
        word.capitalize(),
        f"Stacked bar chart of charges by {word} and outcome",
        f"coalesce(nullif(trim({attr}), ''), {q(NOT_RECORDED)})",
        last=(NOT_RECORDED,),
        view="dp",
        optional=word,
    )


SECTIONS: tuple[Section, ...] = (
    Section(
        "tier",
        "By deadline tier",
        "The record date (the arrest date, else the offense date) sets the tier, and the tier "
        "the statutory deadline (20 ILCS 2630/5.2(i)): earliest deadline first.",
        "Charges by deadline tier and outcome",
        "Tier (record dates), deadline",
        "Stacked bar chart of charges by deadline tier and outcome",
        f"CASE WHEN tier IS NULL THEN {q(NO_TIER)} ELSE tier || ', due ' || "
        "coalesce(strftime(deadline, '%-d %b %Y'), '?') END",
        order=BY_SORT,
        sort="deadline",
    ),
    Section(
        "track",
        "By track: arrest or conviction",
        "Arrests that led to no conviction are expunged; convictions are vacated and expunged "
        "(or eligible on motion). Rows excluded before a track was set have none.",
        "Charges by track and outcome",
        "Track",
        "Stacked bar chart of charges by track and outcome",
        "CASE track WHEN 'arrest' THEN 'Arrest (no conviction)' "
        "WHEN 'conviction' THEN 'Conviction' ELSE 'No track' END",
        order=("Arrest (no conviction)", "Conviction", "No track"),
    ),
    Section(
        "decade",
        "By decade of the record date",
        "Decade of the record date (arrest, else offense date).",
        "Charges by decade of the record date and outcome",
        "Decade",
        "Stacked bar chart of charges by decade of the record date and outcome",
        f"CASE WHEN record_date IS NULL THEN {q(UNKNOWN_DATE)} "
        "ELSE (year(record_date) // 10 * 10)::VARCHAR || 's' END",
        order=BY_LABEL,
        last=(UNKNOWN_DATE,),
    ),
    Section(
        "court",
        "By court",
        f"The court of the charge: the {TOP_COURTS} courts with the most charges, then all "
        "other courts together. State-police rows usually name no court.",
        "Charges by court and outcome",
        "Court",
        "Stacked bar chart of charges by court and outcome",
        f"coalesce(nullif(court, ''), {q(COURT_NOT_RECORDED)})",
        last=(COURT_NOT_RECORDED,),
        top=TOP_COURTS,
        other=OTHER_COURTS,
    ),
    Section(
        "county",
        "By county",
        "Each county's charges; the last row is the total.",
        "Charges by county and outcome",
        "County",
        "Stacked bar chart of charges by county and outcome",
        f"coalesce(nullif(county, ''), {q(UNKNOWN_COUNTY)})",
        last=(UNKNOWN_COUNTY,),
        shown=lambda run: len(run.breakdowns["county"] or ()) > 1,  # one row: the outcomes
    ),
    Section(
        "source",
        "By source",
        "Which export the charge's row came from. A charge in both exports is two rows, "
        "decided alike for the same person.",
        "Charges by source and outcome",
        "Source",
        "Stacked bar chart of charges by source and outcome",
        "CASE source "
        + " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in SOURCE_LABELS.items())
        + " ELSE coalesce(source, 'Other') END",
    ),
    Section(
        "links",
        "By how the person was linked",
        "People are linked across the exports (name, date of birth, state id, address); "
        "a charge whose link is uncertain is decided by a person unless the policy says "
        "otherwise.",
        "Charges by the link status of their row and outcome",
        "Link status",
        "Stacked bar chart of charges by link status and outcome",
        "CASE link_status "
        + " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in LINK_LABELS.items())
        + f" ELSE {q(NOT_RECORDED)} END",
        order=tuple(LINK_LABELS.values()),
    ),
    Section(
        "grams",
        "Amounts inferred from the offense class",
        "When the amount of cannabis is not recorded, the band comes from the offense class "
        "(flagged, and sent to review when the policy says so).",
        "Charges by how the amount is known and outcome",
        "Amount",
        "Stacked bar chart of charges by how the amount is known and outcome",
        "CASE WHEN grams_inferred THEN 'Inferred from the offense class' "
        "ELSE 'Recorded (or not needed)' END",
        order=("Recorded (or not needed)", "Inferred from the offense class"),
    ),
    _person("race", "race"),
    _person("sex", "sex"),
    Section(
        "review",
        "Review queue",
        "Charges a person must look at, by the reason code of the rule that sent them.",
        "Charges sent to review, by reason code",
        "Reason code",
        "Bar chart of charges sent to review, by reason code",
        "coalesce(review_reason, '(none)')",
        columns=(Column("count", "Charges", "true"),),
        where="outcome = 'review'",
        column_totals=("charges:review",),
        total_label="Sent to review",
    ),
)


def _rows_table(reg: Registry, summary: dict[str, Any]) -> CountTable:
    """Rows of the exports: accepted ones by how their person was linked, rejected ones."""
    rows, links = summary["rows"], summary.get("links", {})
    accepted = [(LINK_LABELS.get(k, k), [n]) for k, n in sorted(links.items())]
    if sum(n for _, (n,) in accepted) != rows["accepted"]:
        raise ReportError("summary.json: link counts do not add up to the accepted rows.")
    return reg.table(
        "rows",
        "Rows of the exports",
        "Rows",
        [("count", "Rows")],
        [],
        row_total=None,
        column_totals=["rows:read"],
        total_label="Read",
        groups=[
            ("Accepted", accepted, reg.var("rows:accepted", rows["accepted"], shared=True)),
            (
                "Rejected",
                [("Listed in errors.csv", [rows["rejected"]])],
                reg.var("rows:rejected", rows["rejected"], shared=True),
            ),
        ],
    )


def _people_table(reg: Registry, run: RunData) -> CountTable:
    """Counts of people: not sums of one another, so each stands alone."""
    people = run.summary.get("people", {})
    table = CountTable(
        "people", "People, as linked across the exports", "People", [("count", "People")]
    )
    table.groups.append(
        Group(
            None,
            [
                Row(label, [Cell(reg.var(f"people:{key}", int(n)), "count")])
                for key, label, n in (
                    ("records", "People in the exports", people.get("records", 0)),
                    ("charges", "People with a cannabis charge decided", run.facts["people"]),
                    ("relief", "People with some relief", run.facts["people_with_relief"]),
                )
            ],
        )
    )
    return table


def _plan_table(reg: Registry, run: RunData, public: bool) -> CountTable | None:
    """plan.json by deadline tier: batches and records per relief outcome. The records of a
    relief outcome add up to that outcome's total (every eligible charge is in one batch)."""
    plan = run.facts["plan"]
    if plan is None:
        return None
    tiers: dict[str, dict[str, Any]] = {}
    for b in plan:  # plan order: earliest deadline first
        label = f"{b['tier']}, due {b['deadline']}" if b.get("tier") else NO_TIER
        tier = tiers.setdefault(label, {"batches": 0, **dict.fromkeys(RELIEF, 0)})
        tier["batches"] += 1
        tier[b["outcome"]] += b["records"]
    jur = run.jurisdiction
    table = reg.table(
        "plan",
        "Batches of the plan, by deadline tier: records per outcome",
        "Tier, deadline",
        [(o, jur.outcome_labels[o]) for o in RELIEF],
        [(label, [t[o] for o in RELIEF]) for label, t in tiers.items()],
        column_totals=[jur.outcome_var(o) for o in RELIEF],
        grand_total="charges:relief",
        note="Within a tier, batches go by outcome, then court, newest record first "
        "(plan.csv lists each batch).",
    )
    if public:  # the batches are the office's work, and a small number looks like a person
        return table
    # Batches are work units, not people: a plain number beside the counts.
    table.columns.append(("batches", "Batches"))
    for row, t in zip(table.data_rows(), tiers.values(), strict=True):
        row.cells.append(Cell("", "batches", text=f"{t['batches']:,}"))
    if table.total is not None:
        table.total.cells.append(Cell("", "batches", text=f"{len(plan):,}"))
    return table


def head(reg: Registry, run: RunData, public: bool) -> Head:
    manifest = run.manifest
    counties = ", ".join(
        label
        for label, _ in (run.breakdowns["county"] or Breakdown([])).rows
        if label != UNKNOWN_COUNTY
    )
    facts = [
        ("county", "Counties", counties or "none recorded"),
        (
            "linked_by",
            "People linked by",
            {"splink": "clearslate (Splink)", "input": "the input (person_id)"}.get(
                str(manifest.get("linked_by", "")), str(manifest.get("linked_by", ""))
            ),
        ),
        *common_facts(run),
    ]
    blocks = [
        Block(
            "people",
            "People",
            "People are linked across the court and state-police exports; relief is "
            "vacate and expunge, expunge the arrest, or eligible on motion.",
            _people_table(reg, run),
        ),
        Block(
            "reasons",
            "Rules that decided",
            "Every charge is decided by the first rule of the ordered list that applies to it "
            "(docs/rules-illinois.md), grouped here by outcome.",
            reasons_table(
                reg, run, "reasons", "Charges by outcome and the rule that decided", "Rule"
            ),
            keep=False,
        ),
    ]
    plan = _plan_table(reg, run, public)
    if plan is not None:
        blocks.append(
            Block(
                "plan",
                "The batch plan",
                "Eligible charges grouped so an office can work deadline tier by deadline "
                "tier: earliest deadline first, newest records first within a tier.",
                plan,
            )
        )
    # The eligible total is the sum of the relief outcomes: tell disclosure control.
    if "charges:relief" in reg.disclosure.values:
        reg.disclosure.add_equation(
            [run.jurisdiction.outcome_var(o) for o in RELIEF], "charges:relief"
        )
    return Head(
        title=f"Cannabis relief in Illinois: {counties or 'run'}",
        lede="Minor cannabis offenses under the Cannabis Regulation and Tax Act, decided in "
        "bulk by clearslate for each person linked across the circuit clerk's and the state "
        "police's exports.",
        facts=facts,
        inputs_label="Exports",
        rows_table=_rows_table(reg, run.summary),
        blocks=blocks,
        notes=[
            "Charges are the cannabis charges (720 ILCS 550 and its older citations) this run "
            "decided: one row each in determinations.csv, decided for the person the row is "
            "linked to. A charge in both exports is two rows.",
            "Relief means the conviction is vacated and expunged, the arrest is expunged, or "
            "the charge is eligible on the State's Attorney's motion.",
            "Counts of people are distinct linked persons (person_id).",
        ],
        outcomes_intro="Every cannabis charge of the run has exactly one outcome.",
        missing_note="this run's determinations do not carry the person's {and} (runs made "
        "before they were added to determinations.csv).",
    )


JURISDICTION = Jurisdiction(
    code="il",
    outcomes=IL_OUTCOMES,
    outcome_labels=OUTCOME_LABELS,
    unit="Charges",
    reason="rule_id",
    open_view=open_determinations,
    head=head,
    sections=SECTIONS,
)
