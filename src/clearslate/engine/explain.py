"""One person's decision tree, computed by the very rules and SQL of the bulk run.

`explain_subject` keeps only the person's rows (from every input file), runs the same fact
and decision steps, and then evaluates each rule's condition in order for each conviction,
so an attorney sees which rules were passed over, which one decided, and the facts it read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from clearslate.engine.decide import Rule
from clearslate.engine.pipeline import decide_rows
from clearslate.outputs.determinations import FACT_COLUMNS
from clearslate.policy import Policy


@dataclass(frozen=True)
class RuleStep:
    rule_id: str
    holds: bool
    outcome: str
    reason: str
    citation: str


@dataclass(frozen=True)
class ConvictionExplanation:
    row_id: int
    source_file: str
    source_line: int
    code_section_raw: str
    conviction_date: str | None
    outcome: str
    determination: str
    reason: str
    citation: str
    rule_id: str
    steps: list[RuleStep]  # every rule tried, in order, up to and including the one that fired
    facts: dict[str, Any]


@dataclass(frozen=True)
class SubjectExplanation:
    subject_id: str
    name: str
    dob: str
    convictions_on_record: int
    convictions: list[ConvictionExplanation]
    record: list[dict[str, Any]]  # every conviction of the person, any county


def explain_subject(
    con: duckdb.DuckDBPyConnection,
    subject_id: str,
    *,
    policy: Policy,
    as_of: dt.date,
    counties: Sequence[str] | None,
) -> SubjectExplanation | None:
    # `doj_rows` holds the row facts (read as the bulk run reads) or the raw DOJ columns (rows
    # the web server kept before it kept facts); SUBJECT_ID names either column (DuckDB's
    # names ignore case).
    con.execute(
        "CREATE OR REPLACE TABLE subject_rows AS SELECT * FROM doj_rows WHERE trim(SUBJECT_ID) = ?",
        [subject_id.strip()],
    )
    if con.execute("SELECT count(*) FROM subject_rows").fetchone()[0] == 0:
        return None
    _law, rules = decide_rows(
        con, counties=counties, as_of=as_of, policy=policy, table="subject_rows"
    )
    person = con.execute("SELECT subject_id, name, dob_raw, convictions FROM subjects").fetchone()
    record = [
        dict(zip(("date", "county", "code_section", "felony", "court"), r, strict=True))
        for r in con.execute(
            """SELECT event_date::VARCHAR, county, gogen_code_section, felony, court
               FROM convictions ORDER BY row_id"""
        ).fetchall()
    ]
    return SubjectExplanation(
        subject_id=person[0],
        name=person[1],
        dob=person[2],
        convictions_on_record=person[3],
        convictions=_conviction_steps(con, rules),
        record=record,
    )


def _conviction_steps(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule]
) -> list[ConvictionExplanation]:
    conds = ", ".join(f"coalesce({r.when}, false) AS r{i}" for i, r in enumerate(rules))
    facts = ", ".join(f"{c} := d.{c}" for c in FACT_COLUMNS)
    rows = con.execute(
        f"""SELECT d.row_id, d.source_file, d.source_line, d.code_section_raw,
                   d.conviction_date::VARCHAR, d.outcome, d.determination, d.reason,
                   d.citation, d.rule_id, to_json(struct_pack({facts}))::VARCHAR, c.*
            FROM determinations d
            JOIN (SELECT row_id AS _row_id, {conds} FROM evaluated) c ON c._row_id = d.row_id
            ORDER BY d.row_id"""
    ).fetchall()
    return [
        ConvictionExplanation(
            row_id=row[0], source_file=row[1], source_line=row[2],
            code_section_raw=row[3], conviction_date=row[4], outcome=row[5],
            determination=row[6], reason=row[7], citation=row[8], rule_id=row[9],
            steps=rule_steps(rules, row[12:]), facts=json.loads(row[10]),
        )
        for row in rows
    ]  # fmt: skip


def rule_steps(rules: Sequence[Rule], holds: Sequence[Any]) -> list[RuleStep]:
    """Every rule tried on one decided row, in order, up to and including the first whose
    condition holds: the rules are first-match, so that one decided and the rest were never
    reached (California and Illinois alike). `holds` is each rule's condition on the row."""
    steps: list[RuleStep] = []
    for rule, h in zip(rules, holds, strict=True):
        steps.append(RuleStep(rule.rule_id, bool(h), rule.outcome, rule.reason, rule.citation))
        if h:
            break
    return steps
