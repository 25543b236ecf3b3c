"""One linked person's Illinois decisions, computed by the very rules and SQL of the bulk run.

`explain_person` copies the person's records (every source) into a schema of its own, runs the
same `decide_il` there (so the bulk run's tables are left alone), and evaluates each rule's
condition in order for each cannabis charge: an attorney sees the rules passed over, the one
that decided, and the facts it read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from clearslate.engine.decide import Rule
from clearslate.engine.explain import RuleStep, rule_steps
from clearslate.engine.il_decide import FACT_COLUMNS, decide_il
from clearslate.il_policy import ILPolicy

SCHEMA = "il_explain"


@dataclass(frozen=True)
class ChargeExplanation:
    record_id: str
    source: str
    source_file: str
    source_line: int
    statute_raw: str | None
    record_date: str | None
    tier: str | None
    outcome: str
    review_reason: str | None
    reason: str
    citation: str
    rule_id: str
    steps: list[RuleStep]  # every rule tried, in order, up to and including the one that fired
    facts: dict[str, Any]


@dataclass(frozen=True)
class PersonExplanation:
    person_id: str
    name: str
    dob: str | None
    records_on_file: int
    charges: list[ChargeExplanation]
    record: list[dict[str, Any]]  # every charge of the person, any source


def explain_person(
    con: duckdb.DuckDBPyConnection, person_id: str, *, policy: ILPolicy, as_of: dt.date
) -> PersonExplanation | None:
    db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    con.execute(
        f"""CREATE TABLE {SCHEMA}.il_person_links AS
            SELECT * FROM main.il_person_links WHERE person_id = ?""",
        [person_id],
    )
    con.execute(
        f"""CREATE TABLE {SCHEMA}.il_records AS SELECT * FROM main.il_records
            WHERE record_id IN (SELECT record_id FROM {SCHEMA}.il_person_links)"""
    )
    if con.execute(f"SELECT count(*) FROM {SCHEMA}.il_records").fetchone()[0] == 0:
        return None
    con.execute(f'USE "{db}".{SCHEMA}')
    try:
        _law, rules = decide_il(con, policy, as_of)
        charges = _steps(con, rules)
        name, dob = con.execute(
            """SELECT concat_ws(' ', first_name, middle_name, last_name, name_suffix),
                      dob::VARCHAR
               FROM il_records ORDER BY dob IS NULL, record_id LIMIT 1"""
        ).fetchone()
        keys = ("record_id", "source", "date", "statute", "disposition", "case_number", "court")
        rows = con.execute(
            """SELECT record_id, source, coalesce(arrest_date, offense_date)::VARCHAR,
                      statute_raw, disposition, case_number, court
               FROM il_records ORDER BY coalesce(arrest_date, offense_date), record_id"""
        ).fetchall()
        record = [dict(zip(keys, r, strict=True)) for r in rows]
    finally:
        con.execute(f'USE "{db}".main')
        con.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return PersonExplanation(person_id, name, dob, len(record), charges, record)


def _steps(con: duckdb.DuckDBPyConnection, rules: list[Rule]) -> list[ChargeExplanation]:
    conds = ", ".join(f"coalesce({r.when}, false) AS r{i}" for i, r in enumerate(rules))
    facts = ", ".join(f"{c} := d.{c}" for c in FACT_COLUMNS)
    rows = con.execute(
        f"""SELECT d.record_id, r.source, r.source_file, r.source_line, r.statute_raw,
                   d.record_date::VARCHAR, d.tier, d.outcome, d.review_reason, d.reason,
                   d.citation, d.rule_id, to_json(struct_pack({facts}))::VARCHAR, c.*
            FROM il_determinations d
            JOIN il_records r USING (record_id)
            JOIN (SELECT record_id AS _id, {conds} FROM il_evaluated) c ON c._id = d.record_id
            ORDER BY d.record_date DESC NULLS LAST, d.record_id"""
    ).fetchall()
    return [
        ChargeExplanation(*row[:12], steps=rule_steps(rules, row[14:]), facts=json.loads(row[12]))
        for row in rows
    ]
