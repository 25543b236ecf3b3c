"""Run the lawyer-readable rule cases in tests/rules/*.yaml through the real engine (DuckDB),
one research file per case, and check the decision of the marked conviction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from clearslate.engine.pipeline import decide_rows
from clearslate.policy import Policy
from clearslate.sources.ca_doj import read_doj_files

from doj import conviction, row, write

CASES_DIR = Path(__file__).parent / "rules"
DEFAULT_POLICY = {"reduce": ["11359"]}
DEFAULT_AS_OF = dt.date(2020, 7, 1)
SUBJECT = "00000001"
ENTRY_KEYS = {"offense", "comment", "date", "dob", "felony", "cnt", "county", "step",
              "disposition", "decide"}  # fmt: skip


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases += yaml.safe_load(path.read_text(encoding="utf-8"))
    return cases


def _rows(case: dict[str, Any]) -> list[list[str]]:
    rows = []
    for i, entry in enumerate(case["record"]):
        extra = {k: str(v) for k, v in entry.items() if k not in ENTRY_KEYS}
        step = entry.get("step", "COURT ACTION")
        cnt = entry.get("cnt", f"{101 + i:03d}001001000")
        if step != "COURT ACTION":
            rows.append(
                row(
                    SUBJECT_ID=SUBJECT, PRI_DOB=str(entry.get("dob", "19700101")),
                    CNT_ORDER=cnt, STP_EVENT_DATE=str(entry["date"]), STP_TYPE_DESCR=step,
                    STP_ORI_CNTY_NAME="LOS ANGELES", OFFENSE_DESCR=entry.get("offense", ""),
                    DISP_DESCR=entry.get("disposition", ""), **extra,
                )
            )  # fmt: skip
            continue
        rows.append(
            conviction(
                SUBJECT, cnt, entry["offense"], str(entry["date"]),
                dob=str(entry.get("dob", "19700101")), felony=entry.get("felony", True),
                county=entry.get("county", "LOS ANGELES"),
                COMMENT_TEXT=entry.get("comment", ""), **extra,
            )
        )  # fmt: skip
    return rows


def _decided_index(case: dict[str, Any]) -> int:
    marks = [i for i, e in enumerate(case["record"]) if e.get("decide")]
    return marks[0] if marks else 0


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_rule_case(case: dict[str, Any], tmp_path: Path) -> None:
    policy = Policy.from_yaml_mapping({"name": "case", **case.get("policy", DEFAULT_POLICY)})
    as_of = case.get("as_of", DEFAULT_AS_OF)
    con = duckdb.connect()
    read_doj_files(con, [write(tmp_path / "case.csv", _rows(case))])
    decide_rows(con, counties=["LOS ANGELES"], as_of=as_of, policy=policy)
    # The file's data rows are in record order, so row_id i is record entry i.
    decided = con.execute(
        """SELECT outcome, reason, rule_id, reason_code, citation, determination
           FROM determinations WHERE row_id = ?""",
        [_decided_index(case)],
    ).fetchone()
    expect = case["expect"]
    if expect.get("decided") is False:
        assert decided is None
        return
    assert decided is not None, "the conviction was not decided"
    outcome, reason, rule_id, reason_code, citation, determination = decided
    assert outcome == expect["outcome"]
    assert reason and citation and rule_id  # every decision is named, explained and cited
    if "reason" in expect:
        assert reason == expect["reason"]
    if "rule" in expect:
        assert rule_id == expect["rule"]
    if "reason_code" in expect:
        assert reason_code == expect["reason_code"]
    if "citation_contains" in expect:
        assert expect["citation_contains"] in citation
    if "determination" in expect:
        assert determination == expect["determination"]


def test_every_rule_has_a_case() -> None:
    """Each rule the engine can fire (for the policies the cases use) is named by a case."""
    named = {c["expect"].get("rule") for c in _cases()} | {
        c["expect"].get("reason_code") for c in _cases()
    }
    must = {"ca.prop64.misdemeanor", "ca.prop64.policy.no_relief", "ca.prop64.effective_date",
            "ca.prop64.relief.under_21", "ca.prop64.relief.age", "ca.prop64.relief.years_since",
            "ca.prop64.relief.crime_free", "superstrike_prior", "pc290_prior", "two_priors",
            "missing_birth_date", "missing_disposition_date", "partial_disposition_date",
            "conviction_before_birth", "attempt", "charge_only_in_comment", "routed",
            "serving_sentence"}  # fmt: skip
    assert must <= named
