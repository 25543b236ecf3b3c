"""Run the lawyer-readable rule cases in tests/rules/*.yaml through the real engine (DuckDB),
one research file per case, and check the decision of the marked conviction.

A case names its policy inline (`policy:`, YAML policy keys) or by the name of a shipped
policy (`policy_file: los-angeles`). The shipped pilot policies are also run on generated
county files, to check that every decision is one of that county's flow or one of
clearslate's own checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from clearslate.engine.decide import DETERMINATION, build_rules
from clearslate.engine.pipeline import decide_rows
from clearslate.laws.ca_prop64 import prop64_law
from clearslate.policy import Policy, load_policy, shipped_policy
from clearslate.sources.ca_doj import read_doj_files
from clearslate.synth import generate_doj_file

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
                disposition=entry.get("disposition", "CONVICTED-JAIL"),
                COMMENT_TEXT=entry.get("comment", ""), **extra,
            )
        )  # fmt: skip
    return rows


def _decided_index(case: dict[str, Any]) -> int:
    marks = [i for i, e in enumerate(case["record"]) if e.get("decide")]
    return marks[0] if marks else 0


def _policy(case: dict[str, Any]) -> Policy:
    if "policy_file" in case:
        assert "policy" not in case, "a case names its policy inline or by file, not both"
        return load_policy(shipped_policy(case["policy_file"]))
    return Policy.from_yaml_mapping({"name": "case", **case.get("policy", DEFAULT_POLICY)})


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_rule_case(case: dict[str, Any], tmp_path: Path) -> None:
    policy = _policy(case)
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
            "serving_sentence", "ca.prop64.related.clear", "ca.prop64.related.review"}  # fmt: skip
    assert must <= named


# ---------------------------------------------------------------------------------------------
# The shipped pilot policies
# ---------------------------------------------------------------------------------------------

# Each pilot policy, the county it was written for, and the flow steps (rule ids without
# "policy.flow.") that a generated 20,000-row file of that county must exercise: the county's
# main outcomes, so that a broken step shows as a missing one.
PILOTS: dict[str, tuple[str, set[str]]] = {
    "los-angeles": ("LOS ANGELES", {
        "city-attorneys", "effective-date", "11357-a-b", "two-priors", "age-50", "under-21",
        "only-prop64-completed", "no-conviction-10-years", "serving", "no-criteria"}),
    "sacramento": ("SACRAMENTO", {
        "misdemeanor", "no-conviction-10-years", "convictions-in-10-years",
        "sentence-completed"}),
    "san-joaquin": ("SAN JOAQUIN", {
        "related-4060", "misdemeanor", "11357", "no-conviction-5-years",
        "convictions-in-5-years", "sentence-completed"}),
    "contra-costa": ("CONTRA COSTA", {
        "related-4060", "misdemeanor", "11357", "no-conviction-5-years",
        "convictions-in-5-years", "sentence-completed"}),
    "san-francisco": ("SAN FRANCISCO", {"misdemeanor", "weight-unknown", "eligible"}),
}  # fmt: skip

# clearslate's own checks, which every policy runs before its flow, and the related rules.
CHECK_PREFIXES = ("ca.prop64.review.", "ca.prop64.effective_date", "ca.prop64.disqualifier.",
                  "ca.prop64.related.")  # fmt: skip


def _pilot_rules(name: str) -> list[Any]:
    return build_rules(load_policy(shipped_policy(name)), prop64_law(DEFAULT_AS_OF), DEFAULT_AS_OF)


@pytest.mark.parametrize("name", PILOTS)
def test_every_flow_step_of_a_pilot_policy_has_a_case(name: str) -> None:
    """At least one case per step of each shipped flow (tests/rules/<policy>.yaml). The
    missing-birth-date guards the engine puts before age steps are not steps of the flow."""
    named = {c["expect"].get("rule") for c in _cases() if c.get("policy_file") == name}
    steps = {
        r.rule_id
        for r in _pilot_rules(name)
        if r.rule_id.startswith("policy.flow.") and not r.rule_id.endswith(".dob_unknown")
    }
    assert steps - named == set()


@pytest.mark.parametrize("name", PILOTS)
def test_a_pilot_policy_gives_its_countys_outcome_mix(name: str, tmp_path: Path) -> None:
    """On a generated county file, every decision is one of the county flow's (outcome,
    determination, reason) or one of clearslate's checks; the flow's main steps all fire."""
    county, must_fire = PILOTS[name]
    path = tmp_path / "county.csv"
    generate_doj_file(path, county=county, rows=20_000, seed=64)
    con = duckdb.connect()
    read_doj_files(con, [path])
    policy = load_policy(shipped_policy(name))
    _law, rules = decide_rows(con, counties=[county], as_of=DEFAULT_AS_OF, policy=policy)
    flow = {
        r.rule_id: (r.outcome, r.determination or DETERMINATION[r.outcome], r.reason)
        for r in rules
        if r.rule_id.startswith("policy.flow.")
    }
    decided = con.execute(
        """SELECT rule_id, outcome, determination, reason, count(*) FROM determinations
           GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    assert sum(row[4] for row in decided) > 1000
    fired = set()
    for rule_id, outcome, determination, reason, _n in decided:
        if rule_id in flow:
            assert (outcome, determination, reason) == flow[rule_id]
            fired.add(rule_id.removeprefix("policy.flow."))
        else:
            assert rule_id.startswith(CHECK_PREFIXES), rule_id
    assert must_fire <= fired
    # Nothing but the county's own convictions, and every one decided once.
    counties = con.execute("SELECT DISTINCT county FROM determinations").fetchall()
    assert {c for (c,) in counties} <= {county, ""}


@pytest.mark.parametrize("name", ["los-angeles", "san-joaquin"])
def test_explain_gives_the_bulk_decision_under_a_flow(name: str, tmp_path: Path) -> None:
    """`explain` runs the same flow rules as the bulk run, related convictions included: for
    every person of a small generated file, the same decisions, the deciding rule tried last."""
    from clearslate.engine.explain import explain_subject

    county = PILOTS[name][0]
    path = tmp_path / "county.csv"
    generate_doj_file(path, county=county, rows=1_500, seed=3)
    policy = load_policy(shipped_policy(name))
    con = duckdb.connect()
    read_doj_files(con, [path])
    decide_rows(con, counties=[county], as_of=DEFAULT_AS_OF, policy=policy)
    bulk: dict[str, list[tuple[int, str, str]]] = {}
    for subject, line, outcome, rule_id in con.execute(
        "SELECT subject_id, source_line, outcome, rule_id FROM determinations ORDER BY row_id"
    ).fetchall():
        bulk.setdefault(subject, []).append((line, outcome, rule_id))
    assert any(r.startswith("policy.flow.") for d in bulk.values() for _, _, r in d)
    for subject, decisions in bulk.items():
        result = explain_subject(
            con, subject, policy=policy, as_of=DEFAULT_AS_OF, counties=[county]
        )
        assert result is not None
        assert [(c.source_line, c.outcome, c.rule_id) for c in result.convictions] == decisions
        for c in result.convictions:
            assert [s.rule_id for s in c.steps if s.holds] == [c.rule_id]


def test_related_convictions_reach_every_output(tmp_path: Path) -> None:
    """A cleared related conviction is in determinations.csv, Prop64_Results (as the pilots'
    related flow wrote it), summary.json and gogen.json; one with no Prop 64 charge in its
    cycle is in none of them."""
    import csv
    import json

    from clearslate.run import RunOptions, run

    rows = [
        conviction(SUBJECT, "101001001000", "11359 HS-POSSESS FOR SALE", "20100102"),
        conviction(SUBJECT, "101001002000", "148(A)(1) PC-RESIST PEACE OFFICER", "20100102",
                   felony=False),
        conviction(SUBJECT, "102001001000", "647(F) PC-DRUNK IN PUBLIC", "20120102", felony=False),
    ]  # fmt: skip
    source = write(tmp_path / "doj.csv", rows)
    policy = Policy.from_yaml_mapping({"name": "x", "dismiss": ["11359"],
                                       "related_convictions": "clear"})  # fmt: skip
    out = tmp_path / "out"
    run(RunOptions(inputs=[source], outputs=out, counties=["LOS ANGELES"], as_of=DEFAULT_AS_OF,
                   policy=policy))  # fmt: skip
    with (out / "determinations.csv").open(newline="") as fh:
        decided = {r["code_section_raw"]: r for r in csv.DictReader(fh)}
    assert set(decided) == {"11359 HS", "148(A)(1) PC"}
    related = decided["148(A)(1) PC"]
    assert related["rule_id"] == "ca.prop64.related.clear" and related["outcome"] == "dismiss"
    assert json.loads(related["facts"])["related_charge"] is True
    with (out / "Prop64_Results.csv").open(newline="") as fh:
        results = list(csv.DictReader(fh))
    assert [r["Eligibility Reason"] for r in results] == [
        "Dismiss all HS 11359 convictions",
        "Related to a Prop 64 charge in the same case",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rules"]["ca.prop64.related.clear"] == 1
    assert summary["by_section"]["related:ca:pc:148:a:1 misdemeanor"] == 1
    assert summary["relief"]["CountSubjectsNoFelony"] == 1
    gogen = json.loads((out / "gogen.json").read_text())
    assert gogen["convictionDismissalCountByAdditionalRelief"] == {
        "Related to a Prop 64 charge in the same case": 1
    }


def test_a_cases_court_numbers_are_listed_in_the_order_first_seen(tmp_path: Path) -> None:
    """gogen's "Case Number" (`case_numbers`): each court number of a count's case once, in
    the order its rows first show them (not sorted), and only that case's."""
    sale = "11359 HS-POSSESS FOR SALE"
    rows = [
        *(conviction("1", "101001001000", sale, "20100102", ofn=o) for o in ("ZZ9", "AA1")),
        conviction("1", "101001002000", sale, "20100102", ofn="MM5"),  # same case, count 2
        conviction("1", "101001001000", sale, "20100102", ofn="ZZ9"),
        conviction("1", "102001001000", sale, "20120102", ofn="BB2"),  # another case
    ]
    con = duckdb.connect()
    read_doj_files(con, [write(tmp_path / "cases.csv", rows)])
    decide_rows(con, counties=["LOS ANGELES"], as_of=DEFAULT_AS_OF, policy=_policy({}))
    assert con.execute(
        "SELECT cnt_order, case_numbers FROM convictions ORDER BY row_id"
    ).fetchall() == [
        ("101001001000", "ZZ9; AA1; MM5"),
        ("101001002000", "ZZ9; AA1; MM5"),
        ("102001001000", "BB2"),
    ]
