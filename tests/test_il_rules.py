"""Run the lawyer-readable Illinois rule cases in tests/rules_il/*.yaml through the real engine
(DuckDB): each case's records become il_records / il_person_links rows, the run decides them,
and the charge marked `decide: true` (or the first) must get the expected decision.

A case names its policy inline (`policy:`, Illinois policy keys over the defaults) or by the
name of a shipped policy (`policy_file: cook-county`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from clearslate.engine.il_decide import build_il_rules, decide_il
from clearslate.engine.il_explain import explain_person
from clearslate.il_policy import ILPolicy, load_il_policy, shipped_il_policies
from clearslate.laws.il_crta import crta_law

from il_records import load, record

CASES_DIR = Path(__file__).parent / "rules_il"
DEFAULT_AS_OF = dt.date(2021, 6, 1)


def _cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        cases += yaml.safe_load(path.read_text(encoding="utf-8"))
    return cases


def _policy(case: dict[str, Any]) -> ILPolicy:
    if "policy_file" in case:
        assert "policy" not in case, "a case names its policy inline or by file, not both"
        return load_il_policy(shipped_il_policies()[case["policy_file"]])
    return ILPolicy.model_validate({"name": "case", **case.get("policy", {})})


def _decided(case: dict[str, Any]) -> str:
    marks = [i for i, e in enumerate(case["records"]) if e.get("decide")]
    return f"court:0:{(marks[0] if marks else 0) + 2}"


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_rule_case(case: dict[str, Any]) -> None:
    policy = _policy(case)
    as_of = case.get("as_of", DEFAULT_AS_OF)
    con = duckdb.connect()
    load(con, [record(i, e) for i, e in enumerate(case["records"])])
    decide_il(con, policy, as_of)
    row = con.execute(
        """SELECT outcome, review_reason, rule_id, citation, reason, tier, deadline, track,
                  grams_inferred, statute
           FROM il_determinations WHERE record_id = ?""",
        [_decided(case)],
    ).fetchone()
    expect = case["expect"]
    if expect.get("decided") is False:
        assert row is None
        return
    assert row is not None, "the charge was not decided"
    outcome, review_reason, rule_id, citation, reason, tier, deadline, track, inferred, sid = row
    assert outcome == expect["outcome"]
    assert rule_id and citation and reason  # every decision is named, cited and explained
    assert (review_reason is not None) == (outcome == "review")
    checks = {"rule": rule_id, "review_reason": review_reason, "tier": tier, "track": track,
              "grams_inferred": inferred, "statute": sid,
              "deadline": deadline and deadline.isoformat()}  # fmt: skip
    for key, actual in checks.items():
        if key in expect:
            assert actual == expect[key], key
    if "citation_contains" in expect:
        assert expect["citation_contains"] in citation


def test_every_rule_has_a_case() -> None:
    """Each rule the engine can build (under the policies that switch them on) is named by a
    case, except the unconditional last resort."""
    named = {c["expect"].get("rule") for c in _cases()}
    law = crta_law(DEFAULT_AS_OF)
    ids: set[str] = set()
    for policy in (
        ILPolicy(attempts="review", juvenile="review", without_fingerprints="review",
                 inferred_grams="review", counties=["COOK"], conviction_classes=["A"],
                 delivery_30g_or_less="eligible_on_motion", supervision="review",
                 qualified_probation="review"),
        ILPolicy(juvenile="not_eligible", without_fingerprints="not_eligible"),
    ):  # fmt: skip
        ids |= {r.rule_id for r in build_il_rules(policy, law, DEFAULT_AS_OF)}
    assert ids - named - {"il.crta.review.otherwise"} == set()


def test_explain_gives_the_bulk_decision_for_every_person() -> None:
    """`explain` runs the same rules as the bulk run: for every person of every case, the same
    decisions, the deciding rule the only one that holds among those tried."""
    checked = 0
    for case in _cases():
        if "policy_file" in case or case.get("policy", {}).get("counties"):
            continue
        policy, as_of = _policy(case), case.get("as_of", DEFAULT_AS_OF)
        con = duckdb.connect()
        load(con, [record(i, e) for i, e in enumerate(case["records"])])
        decide_il(con, policy, as_of)
        bulk = con.execute(
            """SELECT person_id, record_id, outcome, rule_id, to_json(facts_check)::VARCHAR
               FROM (SELECT *, struct_pack(tier, track, band_hi) AS facts_check
                     FROM il_determinations) ORDER BY ALL"""
        ).fetchall()
        for person in sorted({b[0] for b in bulk}):
            result = explain_person(con, person, policy=policy, as_of=as_of)
            assert result is not None
            got = sorted((c.record_id, c.outcome, c.rule_id) for c in result.charges)
            assert got == [(b[1], b[2], b[3]) for b in bulk if b[0] == person], case["name"]
            for c in result.charges:
                assert [s.rule_id for s in c.steps if s.holds] == [c.rule_id]
                assert c.steps[-1].rule_id == c.rule_id
                facts = {k: c.facts[k] for k in ("tier", "track", "band_hi")}
                bulk_facts = next(json.loads(b[4]) for b in bulk if b[1] == c.record_id)
                assert facts == bulk_facts
            checked += 1
        # explain leaves the bulk run's tables as they were
        assert con.execute("SELECT count(*) FROM il_determinations").fetchone()[0] == len(bulk)
    assert checked > 30
