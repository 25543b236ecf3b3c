"""Decide every evaluated Prop 64 conviction: law (dated data) + office policy -> outcome.

The decision is an ordered list of rules; the first whose condition holds wins. The same list
drives the bulk run (one SQL CASE over all convictions) and `explain` (each condition shown for
one person), so the two cannot disagree.

gogen 0.2.13's configurable flow is the core of the list, with its reason strings and its
boundaries (gogen-behaviour.md 5.2). Before it come the checks gogen lacked: doubtful data,
the effective date, and the statutory disqualifiers, each switchable by policy. After it
comes a named fall-through ("no relief selected by policy") where gogen left the
determination empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from clearslate.laws.ca_prop64 import Prop64Law
from clearslate.policy import Policy

DETERMINATION = {
    "dismiss": "Eligible for Dismissal",
    "reduce": "Eligible for Reduction",
    "not_eligible": "Not eligible",
    "review": "Hand Review",
}


@dataclass(frozen=True)
class Rule:
    rule_id: str
    when: str  # SQL boolean over the `evaluated` columns
    outcome: str  # dismiss | reduce | not_eligible | review
    reason: str  # the text shown (gogen's string where gogen has the rule)
    citation: str
    reason_code: str = ""
    determination: str = ""  # overrides DETERMINATION[outcome] (e.g. routing)
    uses: tuple[str, ...] = ()  # facts the rule reads, for explanations


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _date(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def add_years(d: dt.date, years: int) -> dt.date:
    """Calendar years, as gogen (Go's AddDate): 29 February plus a year is 1 March."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return dt.date(d.year + years, 3, 1)


def _plus_years(date_sql: str, years: int) -> str:
    """SQL for `date + years` with the same 29 February rule as `add_years`."""
    plain = f"({date_sql} + INTERVAL {years} YEAR)"
    return (
        f"(CASE WHEN month({date_sql}) = 2 AND day({date_sql}) = 29 AND day({plain}) = 28 "
        f"THEN {plain} + INTERVAL 1 DAY ELSE {plain} END)::DATE"
    )


def build_rules(policy: Policy, law: Prop64Law, as_of: dt.date) -> list[Rule]:
    ar = policy.additional_relief
    review_doubt = policy.doubtful_data == "review"
    asof = _date(as_of)
    # In gogen mode a missing date is gogen's "zero date", year 1, with its consequences.
    conv_date = (
        "conviction_date" if review_doubt else "coalesce(conviction_date, DATE '0001-01-01')"
    )
    dob = "dob" if review_doubt else "coalesce(dob, DATE '0001-01-01')"
    # gogen: a person with no dated conviction has year 1 as their most recent one.
    last = (
        "last_conviction_date"
        if review_doubt
        else "coalesce(last_conviction_date, DATE '0001-01-01')"
    )
    rules: list[Rule] = []
    add = rules.append
    doubt = law.cite("doubtful_data")

    if review_doubt:
        add(
            Rule(
                "ca.prop64.review.county_unknown",
                "county = ''",
                "review",
                "County of the conviction unknown",
                doubt,
                "county_unknown",
                uses=("county",),
            )
        )
        add(
            Rule(
                "ca.prop64.review.count_key",
                "NOT cnt_order_ok",
                "review",
                "Count key (CNT_ORDER) shorter than 6 characters: counts cannot be told apart",
                doubt,
                "count_key_malformed",
                uses=("cnt_order",),
            )
        )
        add(
            Rule(
                "ca.prop64.review.partial_conviction_date",
                "conviction_date IS NULL AND conviction_date_partial",
                "review",
                "Conviction date is partial (day or month unknown)",
                doubt,
                "partial_disposition_date",
                uses=("conviction_date_raw",),
            )
        )
        add(
            Rule(
                "ca.prop64.review.missing_conviction_date",
                "conviction_date IS NULL",
                "review",
                "Conviction date missing or unreadable",
                doubt,
                "missing_disposition_date",
                uses=("conviction_date_raw",),
            )
        )
        add(
            Rule(
                "ca.prop64.review.conviction_before_birth",
                "dob IS NOT NULL AND conviction_date < dob",
                "review",
                "Conviction dated before the date of birth",
                doubt,
                "conviction_before_birth",
                uses=("dob", "conviction_date"),
            )
        )
        add(
            Rule(
                "ca.prop64.review.attempt",
                "attempt",
                "review",
                "Attempt (PC 664) of a Prop 64 offence: relief for attempts needs a lawyer",
                doubt,
                "attempt",
                uses=("code_section_raw",),
            )
        )
        add(
            Rule(
                "ca.prop64.review.comment_only",
                "prop64_section IS NULL AND comment_prop64_section IS NOT NULL",
                "review",
                "Cannabis section only in the comment text, not in the offence",
                doubt,
                "charge_only_in_comment",
                uses=("code_section_raw", "comment_prop64_section"),
            )
        )

    if policy.effective_date_rule == "not_eligible":
        eff = law.effective_date
        add(
            Rule(
                "ca.prop64.effective_date",
                f"{conv_date} >= {_date(eff)}",
                "not_eligible",
                f"Occurred on or after {eff:%m/%d/%Y}",
                law.cite("effective_date"),
                "after_effective_date",
                uses=("conviction_date",),
            )
        )

    if policy.disqualifiers != "ignore":
        mode = "review" if policy.disqualifiers == "review" else "not_eligible"
        disq_sections = [s for s, d in law.sections.items() if d.get("disqualifiers")]
        applies = f"felony AND prop64_section IN ({', '.join(_q(s) for s in disq_sections)})"
        prior = "IS NOT NULL" if policy.prior_means == "anywhere_on_record" else f"< {conv_date}"
        for statute, key in sorted(law.disqualifying_statutes.items()):
            add(
                Rule(
                    f"ca.prop64.disqualifier.{key}",
                    f"statute_id = {_q(statute)}",
                    mode,
                    f"Statutory disqualifier: {key.replace('_', ' ')} ({statute})",
                    law.cite(key),
                    key,
                    uses=("statute_id",),
                )
            )
        add(
            Rule(
                "ca.prop64.disqualifier.superstrike_prior",
                f"{applies} AND first_superstrike_date {prior}",
                mode,
                "PC 667(e)(2)(C)(iv) superstrike prior",
                law.cite("superstrike_prior"),
                "superstrike_prior",
                uses=("superstrike_sections", "first_superstrike_date"),
            )
        )
        add(
            Rule(
                "ca.prop64.disqualifier.pc290_prior",
                f"{applies} AND first_pc290_date {prior}",
                mode,
                "PC 290(c) registrable prior",
                law.cite("pc290_prior"),
                "pc290_prior",
                uses=("pc290_sections", "pc290_registration", "first_pc290_date"),
            )
        )
        two = (
            "same_section_convictions - 1"
            if policy.prior_means == "anywhere_on_record"
            else "same_section_priors"
        )
        add(
            Rule(
                "ca.prop64.disqualifier.two_priors",
                f"{applies} AND {two} >= 2",
                mode,
                "Two or more priors under the same section",
                law.cite("two_priors"),
                "two_priors",
                uses=("same_section_priors", "same_section_convictions"),
            )
        )

    if policy.still_serving == "review":
        add(
            Rule(
                "ca.prop64.review.serving",
                f"sentence_end > {asof}",
                "review",
                "Currently serving sentence",
                law.cite("dismiss_serving"),
                "serving_sentence",
                uses=("sentence_end",),
            )
        )

    if policy.misdemeanors == "route":
        add(
            Rule(
                "ca.prop64.misdemeanor.route",
                "NOT felony",
                "review",
                "Misdemeanor or Infraction",
                law.cite("misdemeanor"),
                "routed",
                determination=policy.route_to,
                uses=("felony",),
            )
        )
    else:
        add(
            Rule(
                "ca.prop64.misdemeanor",
                "NOT felony",
                "dismiss",
                "Misdemeanor or Infraction",
                law.cite("misdemeanor"),
                uses=("felony",),
            )
        )

    if policy.hand_review_11357_other:
        add(
            Rule(
                "ca.prop64.review.11357_other",
                "prop64_section = '11357' AND NOT (subsections LIKE 'a%' OR subsections LIKE 'b%')",
                "review",
                "Other 11357",
                doubt,
                "11357_subsection",
                uses=("statute_id",),
            )
        )

    for s in policy.dismiss:
        add(
            Rule(
                f"ca.prop64.policy.dismiss.{s}",
                f"prop64_section = {_q(s)}",
                "dismiss",
                f"Dismiss all HS {s} convictions",
                law.cite("dismiss_completed"),
                uses=("prop64_section",),
            )
        )

    def needs_dob(rule_id: str, when: str, reason: str) -> None:
        if review_doubt:
            add(
                Rule(
                    f"{rule_id}.dob_unknown",
                    "dob IS NULL",
                    "review",
                    "Birth date missing or partial: the age rule cannot be applied",
                    doubt,
                    "missing_birth_date",
                    uses=("dob_raw",),
                )
            )
        add(
            Rule(
                rule_id,
                when,
                "dismiss",
                reason,
                law.cite("dismiss_completed"),
                uses=("dob", "conviction_date"),
            )
        )

    if ar.under_21_at_conviction:
        needs_dob(
            "ca.prop64.relief.under_21",
            f"{_plus_years(dob, 21)} > {conv_date}",
            "21 years or younger",
        )
    if ar.age_threshold:
        n = ar.age_threshold
        needs_dob("ca.prop64.relief.age", f"{_plus_years(dob, n)} <= {asof}", f"{n} years or older")
    if ar.years_since_conviction:
        n = ar.years_since_conviction
        add(
            Rule(
                "ca.prop64.relief.years_since",
                f"{conv_date} <= {_date(add_years(as_of, -n))}",
                "dismiss",
                f"Conviction occurred {n} or more years ago",
                law.cite("dismiss_completed"),
                uses=("conviction_date",),
            )
        )
    if ar.years_crime_free:
        n = ar.years_crime_free
        add(
            Rule(
                "ca.prop64.relief.crime_free",
                f"{last} < {_date(add_years(as_of, -n))}",
                "dismiss",
                f"No convictions in the past {n} years",
                law.cite("dismiss_completed"),
                uses=("last_conviction_date",),
            )
        )
    if ar.only_prop64_charges:
        add(
            Rule(
                "ca.prop64.relief.only_prop64",
                "subject_convictions = subject_prop64_convictions",
                "dismiss",
                "Only has 11357-60 charges",
                law.cite("dismiss_completed"),
                uses=("subject_convictions", "subject_prop64_convictions"),
            )
        )
    if ar.deceased:
        add(
            Rule(
                "ca.prop64.relief.deceased",
                "deceased",
                "dismiss",
                "Individual is deceased",
                law.cite("dismiss_completed"),
                uses=("deceased",),
            )
        )
    for s in policy.reduce:
        add(
            Rule(
                f"ca.prop64.policy.reduce.{s}",
                f"prop64_section = {_q(s)}",
                "reduce",
                f"Reduce all HS {s} convictions",
                law.cite("reduce_completed"),
                uses=("prop64_section",),
            )
        )
    add(
        Rule(
            "ca.prop64.policy.no_relief",
            "true",
            "not_eligible",
            "No relief selected for this section by office policy",
            law.cite("office_policy"),
            "policy_no_relief",
            uses=("prop64_section",),
        )
    )
    return rules


def _case(rules: Sequence[Rule], pick: str) -> str:
    whens = []
    for i, r in enumerate(rules):
        value = str(i) if pick == "index" else _q(getattr(r, pick))
        whens.append(f"WHEN coalesce({r.when}, false) THEN {value}")
    return "CASE " + " ".join(whens) + " END"


def build_evaluated(
    con: duckdb.DuckDBPyConnection, counties: Sequence[str] | None, policy: Policy
) -> None:
    """The convictions this run decides: Prop 64 sections (attempts included) in the chosen
    counties. With doubtful data sent to review, also sections seen only in the comment and
    convictions of unknown county (it may be the office's): a person then looks at them.
    In gogen mode neither is decided, as gogen did not."""
    doubtful = policy.doubtful_data == "review"
    county_filter = "true"
    if counties is not None:
        names = ", ".join(_q(c.strip().upper()) for c in counties)
        blank = " OR c.county = ''" if doubtful else ""
        county_filter = f"(c.county IN ({names}){blank})"
    comment = " OR c.comment_prop64_section IS NOT NULL" if doubtful else ""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE evaluated AS
        WITH firsts AS (
            SELECT subject_id,
                   min(coalesce(conviction_date, DATE '0001-01-01'))
                     FILTER (WHERE is_superstrike) AS first_superstrike_date,
                   min(coalesce(conviction_date, DATE '0001-01-01'))
                     FILTER (WHERE is_pc290) AS first_pc290_conviction
            FROM (SELECT *, event_date AS conviction_date FROM convictions)
            GROUP BY subject_id
        ),
        ranked AS (
            SELECT row_id,
                   count(*) OVER (PARTITION BY subject_id, prop64_section) AS same_section_convictions,
                   count(*) OVER (PARTITION BY subject_id, prop64_section ORDER BY event_date
                       RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL 1 DAY PRECEDING)
                     AS same_section_priors
            FROM convictions WHERE prop64_section IS NOT NULL AND event_date IS NOT NULL
        )
        SELECT c.row_id, c.subject_id, c.file_index, c.source_file, c.source_line,
               c.cnt_order, c.cnt_order_ok, c.county, c.court, c.case_numbers,
               c.event_date AS conviction_date, c.event_date_partial AS conviction_date_partial,
               c.felony, c.statute_id, c.subsections, c.attempt, c.from_comment,
               c.prop64_section, c.comment_prop64_section, c.subsection_changed_2016,
               c.gogen_code_section AS code_section_raw, c.sentence_end,
               s.name, s.cii_number, s.dob, s.dob_raw, s.dob_partial, s.gender, s.race,
               s.deceased, s.pc290_registration, s.superstrike_sections, s.pc290_sections,
               s.convictions AS subject_convictions,
               s.prop64_convictions AS subject_prop64_convictions,
               s.last_conviction_date,
               f.first_superstrike_date,
               CASE WHEN s.pc290_registration THEN DATE '0001-01-01'
                    ELSE f.first_pc290_conviction END AS first_pc290_date,
               coalesce(r.same_section_priors, 0) AS same_section_priors,
               coalesce(r.same_section_convictions, 1) AS same_section_convictions
        FROM convictions c
        JOIN subjects s USING (subject_id)
        LEFT JOIN firsts f USING (subject_id)
        LEFT JOIN ranked r USING (row_id)
        WHERE (c.prop64_section IS NOT NULL{comment}) AND {county_filter}
        """
    )


def decide(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    as_of: dt.date,
    law: Prop64Law,
    table: str = "determinations",
) -> None:
    """One determination per evaluated conviction; never an empty one (the last rule is
    unconditional)."""
    asof = _date(as_of)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH picked AS (SELECT *, {_case(rules, "index")} AS rule_index FROM evaluated)
        SELECT p.*,
               r.outcome, r.reason, r.citation, r.rule_id, r.reason_code,
               coalesce(nullif(r.determination, ''),
                        CASE r.outcome WHEN 'dismiss' THEN 'Eligible for Dismissal'
                                       WHEN 'reduce' THEN 'Eligible for Reduction'
                                       WHEN 'not_eligible' THEN 'Not eligible'
                                       ELSE 'Hand Review' END) AS determination,
               CASE WHEN p.sentence_end > {asof} THEN 'serving' ELSE 'completed' END
                 AS sentence_status
        FROM picked p
        JOIN (SELECT unnest($1) AS rule_index, unnest($2) AS outcome, unnest($3) AS reason,
                     unnest($4) AS citation, unnest($5) AS rule_id, unnest($6) AS reason_code,
                     unnest($7) AS determination) r USING (rule_index)
        """,
        [
            list(range(len(rules))),
            [r.outcome for r in rules],
            [r.reason for r in rules],
            [r.citation for r in rules],
            [r.rule_id for r in rules],
            [r.reason_code for r in rules],
            [r.determination for r in rules],
        ],
    )
    # Still serving: the same relief comes by recall and resentencing (HS 11361.8(a)-(c)).
    con.execute(
        f"""UPDATE {table} SET citation = CASE outcome
                 WHEN 'dismiss' THEN {_q(law.cite("dismiss_serving"))}
                 ELSE {_q(law.cite("reduce_serving"))} END
            WHERE sentence_status = 'serving' AND outcome IN ('dismiss', 'reduce')
              AND rule_id NOT LIKE 'ca.prop64.misdemeanor%'"""
    )
