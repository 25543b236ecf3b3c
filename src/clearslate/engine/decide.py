"""Decide every evaluated conviction: law (dated data) + office policy -> outcome.

The decision is an ordered list of rules; the first whose condition holds wins. The same list
drives the bulk run (one SQL CASE over all convictions) and `explain` (each condition shown for
one person), so the two cannot disagree.

The list has three parts:

1. clearslate's own checks, each switchable by policy: doubtful data, the effective date, the
   statutory disqualifiers, people still serving a sentence. gogen had none of them.
2. The office's chain. Either gogen 0.2.13's configurable flow, with its reason strings and
   boundaries (gogen-behaviour.md 5.2), ending in a named fall-through ("no relief selected by
   policy") where gogen left the determination empty; or the policy's own `flow:` steps (the
   pilot counties' decision trees, gogen-behaviour.md 6), ending in its `otherwise` step.
3. Related convictions (policy `related_convictions`): convictions for charges filed with a
   Prop 64 charge in the same arrest cycle. HS 11361.8 does not reach them; clearing them is
   the office's discretion, so they have rules of their own and never reach a Prop 64 rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from clearslate.database import create_table_from_columns
from clearslate.database import sql_string as _q
from clearslate.laws.ca_prop64 import Prop64Law
from clearslate.policy import FLOW_CONDITIONS, FlowStep, Policy

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
    words: str = ""  # the condition in words, for docs/rules.md


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


@dataclass(frozen=True)
class _Ctx:
    """What every rule's SQL is built from: the policy, the law, the as-of date, and the SQL
    for the dates rules read. In gogen mode a missing date is gogen's "zero date", year 1,
    with its consequences (gogen-behaviour.md 8 item 1); otherwise it stays NULL, and a rule
    that needs it does not hold."""

    policy: Policy
    law: Prop64Law
    as_of: dt.date
    asof: str  # the as-of date as SQL
    conv_date: str
    dob: str
    last: str  # the person's most recent conviction date
    sentence_end: str
    prior: str  # SQL suffix for "a first date that counts as a prior" (prior_means)
    review_doubt: bool


def _context(policy: Policy, law: Prop64Law, as_of: dt.date) -> _Ctx:
    review_doubt = policy.doubtful_data == "review"

    def zero(column: str) -> str:
        return column if review_doubt else f"coalesce({column}, DATE '0001-01-01')"

    conv_date = zero("conviction_date")
    prior = "IS NOT NULL" if policy.prior_means == "anywhere_on_record" else f"< {conv_date}"
    return _Ctx(
        policy=policy,
        law=law,
        as_of=as_of,
        asof=_date(as_of),
        conv_date=conv_date,
        dob=zero("dob"),
        last=zero("last_conviction_date"),  # gogen: no dated conviction -> year 1
        sentence_end=zero("sentence_end"),
        prior=prior,
        review_doubt=review_doubt,
    )


def check_rules(policy: Policy, law: Prop64Law, as_of: dt.date) -> list[Rule]:
    """Part 1 of the list: clearslate's own checks, as the policy's options switch them."""
    c = _context(policy, law, as_of)
    return [
        *_doubtful_data_rules(c),
        *_effective_date_rules(c),
        *_disqualifier_rules(c),
        *_serving_rules(c),
    ]


def build_rules(policy: Policy, law: Prop64Law, as_of: dt.date) -> list[Rule]:
    """The ordered rule list for one policy, law version and as-of date."""
    c = _context(policy, law, as_of)
    rules = check_rules(policy, law, as_of)
    if policy.flow is None:
        # Related convictions come before the chain: its first rule ("not a felony: dismiss")
        # would otherwise give them Prop 64 relief they have no right to.
        rules += _related_rules(c)
        rules += _gogen_chain(c)
    else:
        rules += _flow_rules(c, policy.flow)
    return rules


# --------------------------------------------------------------------------------------------
# 1. clearslate's checks
# --------------------------------------------------------------------------------------------


def _doubtful_data_rules(c: _Ctx) -> list[Rule]:
    if not c.review_doubt:
        return []
    doubt = c.law.cite("doubtful_data")
    return [
        Rule(
            "ca.prop64.review.county_unknown", "county = ''", "review",
            "County of the conviction unknown", doubt, "county_unknown",
            uses=("county",), words="The conviction's county is blank.",
        ),
        Rule(
            "ca.prop64.review.count_key", "NOT cnt_order_ok", "review",
            "Count key (CNT_ORDER) shorter than 6 characters: counts cannot be told apart",
            doubt, "count_key_malformed",
            uses=("cnt_order",), words="CNT_ORDER has fewer than 6 characters.",
        ),
        Rule(
            "ca.prop64.review.partial_conviction_date",
            "conviction_date IS NULL AND conviction_date_partial", "review",
            "Conviction date is partial (day or month unknown)", doubt,
            "partial_disposition_date", uses=("conviction_date_raw",),
            words="The conviction date has only a year, or a year and a month.",
        ),
        Rule(
            "ca.prop64.review.missing_conviction_date", "conviction_date IS NULL", "review",
            "Conviction date missing or unreadable", doubt, "missing_disposition_date",
            uses=("conviction_date_raw",), words="The conviction date is missing or unreadable.",
        ),
        Rule(
            "ca.prop64.review.conviction_before_birth",
            "dob IS NOT NULL AND conviction_date < dob", "review",
            "Conviction dated before the date of birth", doubt, "conviction_before_birth",
            uses=("dob", "conviction_date"), words="The conviction is dated before the birth date.",
        ),
        Rule(
            "ca.prop64.review.attempt", "attempt", "review",
            "Attempt (PC 664) of a Prop 64 offence: relief for attempts needs a lawyer",
            doubt, "attempt", uses=("code_section_raw",),
            words="The charge is an attempt (PC 664).",
        ),
        Rule(
            "ca.prop64.review.comment_only",
            "prop64_section IS NULL AND comment_prop64_section IS NOT NULL", "review",
            "Cannabis section only in the comment text, not in the offence", doubt,
            "charge_only_in_comment", uses=("code_section_raw", "comment_prop64_section"),
            words="A Prop 64 section appears only in COMMENT_TEXT, not in the offence.",
        ),
    ]  # fmt: skip


def _effective_date_rules(c: _Ctx) -> list[Rule]:
    if c.policy.effective_date_rule != "not_eligible":
        return []
    eff = c.law.effective_date
    return [
        Rule(
            "ca.prop64.effective_date",
            f"{c.conv_date} >= {_date(eff)}",
            "not_eligible",
            f"Occurred on or after {eff:%m/%d/%Y}",
            c.law.cite("effective_date"),
            "after_effective_date",
            uses=("conviction_date",),
            words=f"The conviction is dated on or after {eff.isoformat()} (law data).",
        )
    ]


def _disqualifier_rules(c: _Ctx) -> list[Rule]:
    policy, law = c.policy, c.law
    if policy.disqualifiers == "ignore":
        return []
    mode = "review" if policy.disqualifiers == "review" else "not_eligible"
    disq_sections = [s for s, d in law.sections.items() if d.get("disqualifiers")]
    applies = f"felony AND prop64_section IN ({', '.join(_q(s) for s in disq_sections)})"
    felony_in = f"A felony under HS {', '.join(disq_sections)}"
    prior_words = (
        "anywhere on the record"
        if policy.prior_means == "anywhere_on_record"
        else "dated before this conviction"
    )
    rules = [
        Rule(
            f"ca.prop64.disqualifier.{key}",
            f"statute_id = {_q(statute)}",
            mode,
            f"Statutory disqualifier: {key.replace('_', ' ')} ({statute})",
            law.cite(key),
            key,
            uses=("statute_id",),
            words=f"The conviction is under {statute} (law data).",
        )
        for statute, key in sorted(law.disqualifying_statutes.items())
    ]
    two = (
        "same_section_convictions - 1"
        if policy.prior_means == "anywhere_on_record"
        else "same_section_priors"
    )
    rules += [
        Rule(
            "ca.prop64.disqualifier.superstrike_prior",
            f"{applies} AND first_superstrike_date {c.prior}",
            mode,
            "PC 667(e)(2)(C)(iv) superstrike prior",
            law.cite("superstrike_prior"),
            "superstrike_prior",
            uses=("superstrike_sections", "first_superstrike_date"),
            words=f"{felony_in}, and a superstrike conviction {prior_words}.",
        ),
        Rule(
            "ca.prop64.disqualifier.pc290_prior",
            f"{applies} AND first_pc290_date {c.prior}",
            mode,
            "PC 290(c) registrable prior",
            law.cite("pc290_prior"),
            "pc290_prior",
            uses=("pc290_sections", "pc290_registration", "first_pc290_date"),
            words=f"{felony_in}, and a PC 290(c) offence conviction {prior_words}, or a PC 290 "
            "registration (of any date: the registrable conviction may be missing from the "
            "record).",
        ),
        Rule(
            "ca.prop64.disqualifier.two_priors",
            f"{applies} AND {two} >= 2",
            mode,
            "Two or more priors under the same section",
            law.cite("two_priors"),
            "two_priors",
            uses=("same_section_priors", "same_section_convictions"),
            words=f"{felony_in}, and two or more convictions under the same section {prior_words}.",
        ),
    ]
    return rules


def _serving_rules(c: _Ctx) -> list[Rule]:
    if c.policy.still_serving != "review":
        return []
    return [
        Rule(
            "ca.prop64.review.serving",
            f"sentence_end > {c.asof}",
            "review",
            "Currently serving sentence",
            c.law.cite("dismiss_serving"),
            "serving_sentence",
            uses=("sentence_end",),
            words="This conviction's sentence ends after the as-of date.",
        )
    ]


# --------------------------------------------------------------------------------------------
# 3. Related convictions (the office's discretion, never Prop 64 relief)
# --------------------------------------------------------------------------------------------

RELATED_REASON = "Related to a Prop 64 charge in the same case"


def _related_rules(c: _Ctx) -> list[Rule]:
    mode = c.policy.related_convictions
    if mode == "leave":  # not evaluated at all (build_evaluated), so no rule is needed
        return []
    words = (
        "The conviction is for a related charge (policy related_sections) in an arrest cycle "
        "that holds a Prop 64 charge."
    )
    uses = ("statute_id", "related_charge", "prop64_in_cycle")
    if mode == "clear":
        return [
            Rule(
                "ca.prop64.related.clear", "related_charge", "dismiss", RELATED_REASON,
                c.law.cite("related_clear"), "related_charge", uses=uses, words=words,
            )
        ]  # fmt: skip
    return [
        Rule(
            "ca.prop64.related.review", "related_charge", "review", RELATED_REASON,
            c.law.cite("related_review"), "related_charge", uses=uses, words=words,
        )
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# 2a. gogen 0.2.13's configurable flow
# --------------------------------------------------------------------------------------------


def _gogen_chain(c: _Ctx) -> list[Rule]:
    policy, law = c.policy, c.law
    ar = policy.additional_relief
    rules: list[Rule] = []
    add = rules.append
    if policy.misdemeanors == "route":
        add(
            Rule(
                "ca.prop64.misdemeanor.route", "NOT felony", "review",
                "Misdemeanor or Infraction", law.cite("misdemeanor"), "routed",
                determination=policy.route_to or "", uses=("felony",),
                words=f"Not a felony: routed to \u201c{policy.route_to}\u201d.",
            )
        )  # fmt: skip
    else:
        add(
            Rule(
                "ca.prop64.misdemeanor", "NOT felony", "dismiss", "Misdemeanor or Infraction",
                law.cite("misdemeanor"), uses=("felony",),
                words="Not a felony (a misdemeanour or an infraction).",
            )
        )  # fmt: skip

    if policy.hand_review_11357_other:
        add(
            Rule(
                "ca.prop64.review.11357_other",
                "prop64_section = '11357' AND NOT (subsections LIKE 'a%' OR subsections LIKE 'b%')",
                "review", "Other 11357", law.cite("doubtful_data"), "11357_subsection",
                uses=("statute_id",),
                words="HS 11357 under a subsection other than (a) or (b), or none.",
            )
        )  # fmt: skip

    for s in policy.dismiss:
        add(
            Rule(
                f"ca.prop64.policy.dismiss.{s}", f"prop64_section = {_q(s)}", "dismiss",
                f"Dismiss all HS {s} convictions", law.cite("dismiss_completed"),
                uses=("prop64_section",), words=f"A felony under HS {s} (policy dismiss).",
            )
        )  # fmt: skip

    def needs_dob(rule_id: str, when: str, reason: str, words: str) -> None:
        if c.review_doubt:
            add(
                Rule(
                    f"{rule_id}.dob_unknown", "dob IS NULL", "review",
                    "Birth date missing or partial: the age rule cannot be applied",
                    law.cite("doubtful_data"), "missing_birth_date", uses=("dob_raw",),
                    words="The birth date is missing or partial.",
                )
            )  # fmt: skip
        add(
            Rule(
                rule_id, when, "dismiss", reason, law.cite("dismiss_completed"),
                uses=("dob", "conviction_date"), words=words,
            )
        )  # fmt: skip

    if ar.under_21_at_conviction:
        needs_dob(
            "ca.prop64.relief.under_21",
            f"{_plus_years(c.dob, 21)} > {c.conv_date}",
            "21 years or younger",
            "Under 21 on the conviction date (a conviction on the 21st birthday is not).",
        )
    if ar.age_threshold:
        n = ar.age_threshold
        needs_dob(
            "ca.prop64.relief.age",
            f"{_plus_years(c.dob, n)} <= {c.asof}",
            f"{n} years or older",
            f"{n} or older on the as-of date (the {n}th birthday itself counts).",
        )
    if ar.years_since_conviction:
        n = ar.years_since_conviction
        add(
            Rule(
                "ca.prop64.relief.years_since",
                f"{c.conv_date} <= {_date(add_years(c.as_of, -n))}",
                "dismiss", f"Conviction occurred {n} or more years ago",
                law.cite("dismiss_completed"), uses=("conviction_date",),
                words=f"Convicted {n} or more years before the as-of date (exactly {n} counts).",
            )
        )  # fmt: skip
    if ar.years_crime_free:
        n = ar.years_crime_free
        add(
            Rule(
                "ca.prop64.relief.crime_free",
                f"{c.last} < {_date(add_years(c.as_of, -n))}",
                "dismiss", f"No convictions in the past {n} years",
                law.cite("dismiss_completed"), uses=("last_conviction_date",),
                words=f"The most recent conviction is more than {n} years before the as-of "
                f"date (exactly {n} does not count).",
            )
        )  # fmt: skip
    if ar.only_prop64_charges:
        add(
            Rule(
                "ca.prop64.relief.only_prop64",
                "subject_convictions = subject_prop64_convictions",
                "dismiss", "Only has 11357-60 charges", law.cite("dismiss_completed"),
                uses=("subject_convictions", "subject_prop64_convictions"),
                words="Every conviction on the record is a Prop 64 conviction.",
            )
        )  # fmt: skip
    if ar.deceased:
        add(
            Rule(
                "ca.prop64.relief.deceased", "deceased", "dismiss", "Individual is deceased",
                law.cite("dismiss_completed"), uses=("deceased",),
                words="The DOJ record marks the person deceased.",
            )
        )  # fmt: skip
    for s in policy.reduce:
        add(
            Rule(
                f"ca.prop64.policy.reduce.{s}", f"prop64_section = {_q(s)}", "reduce",
                f"Reduce all HS {s} convictions", law.cite("reduce_completed"),
                uses=("prop64_section",), words=f"A felony under HS {s} (policy reduce).",
            )
        )  # fmt: skip
    add(
        Rule(
            "ca.prop64.policy.no_relief", "true", "not_eligible",
            "No relief selected for this section by office policy", law.cite("office_policy"),
            "policy_no_relief", uses=("prop64_section",),
            words="Any conviction no rule above decided.",
        )
    )  # fmt: skip
    return rules


# --------------------------------------------------------------------------------------------
# 2b. The policy's own flow
# --------------------------------------------------------------------------------------------

# Each condition of the flow vocabulary (clearslate.policy.FLOW_CONDITIONS, where each is
# documented with its boundary) as SQL over the `evaluated` columns, and the facts it reads.
# A true/false condition is written for `true`; `false` is its negation, so an unknown fact
# (NULL) holds for neither. Dates and ages use calendar arithmetic against the as-of date.


def _in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(_q(v) for v in values)})"


def _under(column: str, prefixes: Sequence[str]) -> str:
    """`column` equals one of the ':'-paths or lies under one (ca:pc:148 covers ca:pc:148:a)."""
    parts = [f"{column} = {_q(p)} OR starts_with({column}, {_q(p + ':')})" for p in prefixes]
    return "(" + " OR ".join(parts) + ")"


def _starts_with_any(texts: Sequence[str]) -> str:
    """gogen's code section starts with one of the texts, ignoring case and outer spaces."""
    code = "upper(trim(code_section_raw))"
    return "(" + " OR ".join(f"starts_with({code}, {_q(s.strip().upper())})" for s in texts) + ")"


def _subsection_path(text: str) -> str:
    return text.strip("()").replace(")(", ":")  # "(a)(1)" -> "a:1", as statute ids write it


_ALL_SENTENCES_REVIEW = (
    "CASE WHEN subject_last_sentence_end > {asof} THEN false "
    "WHEN subject_undated_convictions > 0 THEN NULL "
    "ELSE subject_last_sentence_end <= {asof} END"
)

_FlowSql = Callable[[Any, _Ctx], str]
FLOW_SQL: dict[str, tuple[_FlowSql, tuple[str, ...]]] = {
    "felony": (lambda v, c: "felony", ("felony",)),
    "section_in": (lambda v, c: _in_list("prop64_section", v), ("prop64_section",)),
    "subsection_in": (
        lambda v, c: _under("subsections", [_subsection_path(s) for s in v]),
        ("statute_id",),
    ),
    "statute_in": (lambda v, c: _under("statute_id", v), ("statute_id",)),
    "code_section_starts_with": (lambda v, c: _starts_with_any(v), ("code_section_raw",)),
    "related_charge": (lambda v, c: "related_charge", ("related_charge",)),
    "prop64_in_cycle": (lambda v, c: "prop64_in_cycle", ("prop64_in_cycle",)),
    "convicted_before": (
        lambda v, c: f"{c.conv_date} < DATE {_q(v)}",
        ("conviction_date",),
    ),
    "convicted_on_or_after": (
        lambda v, c: f"{c.conv_date} >= DATE {_q(v)}",
        ("conviction_date",),
    ),
    "on_or_after_effective_date": (
        lambda v, c: f"{c.conv_date} >= {_date(c.law.effective_date)}",
        ("conviction_date",),
    ),
    "sentence_completed": (lambda v, c: f"{c.sentence_end} <= {c.asof}", ("sentence_end",)),
    "under_21_at_conviction": (
        lambda v, c: f"{_plus_years(c.dob, 21)} > {c.conv_date}",
        ("dob", "conviction_date"),
    ),
    "age_at_as_of_at_least": (lambda v, c: f"{_plus_years(c.dob, v)} <= {c.asof}", ("dob",)),
    "age_at_as_of_at_most": (lambda v, c: f"{_plus_years(c.dob, v + 1)} > {c.asof}", ("dob",)),
    "more_than_one_conviction": (
        lambda v, c: "subject_convictions > 1",
        ("subject_convictions",),
    ),
    "only_prop64_convictions": (
        lambda v, c: "subject_convictions = subject_prop64_convictions",
        ("subject_convictions", "subject_prop64_convictions"),
    ),
    "years_since_any_conviction_over": (
        lambda v, c: f"{c.last} < {_date(add_years(c.as_of, -v))}",
        ("last_conviction_date",),
    ),
    "no_conviction_within_years": (
        lambda v, c: f"{c.last} <= {_date(add_years(c.as_of, -v))}",
        ("last_conviction_date",),
    ),
    "all_sentences_completed": (
        lambda v, c: (
            _ALL_SENTENCES_REVIEW.format(asof=c.asof)
            if c.review_doubt  # gogen: an undated conviction's sentence ended in year 1
            else f"coalesce(subject_last_sentence_end, DATE '0001-01-01') <= {c.asof}"
        ),
        ("subject_last_sentence_end", "subject_undated_convictions"),
    ),
    "superstrike_prior": (
        lambda v, c: f"first_superstrike_date {c.prior}",
        ("superstrike_sections", "first_superstrike_date"),
    ),
    "pc290_prior": (
        lambda v, c: f"first_pc290_conviction {c.prior}",
        ("pc290_sections", "first_pc290_conviction"),
    ),
    "pc290_registration": (lambda v, c: "pc290_registration", ("pc290_registration",)),
    "two_priors": (
        lambda v, c: (
            "same_section_convictions - 1 >= 2"
            if c.policy.prior_means == "anywhere_on_record"
            else "same_section_priors >= 2"
        ),
        ("same_section_priors", "same_section_convictions"),
    ),
    "deceased": (lambda v, c: "deceased", ("deceased",)),
}
# tests/test_policy.py checks that FLOW_SQL and FLOW_CONDITIONS name the same conditions.

# Conditions that read the birth date: with doubtful data sent to review, a step using one is
# preceded by a review rule for people whose birth date is missing (never "50 or older").
_NEEDS_DOB = frozenset({"under_21_at_conviction", "age_at_as_of_at_least", "age_at_as_of_at_most"})

# A step whose condition names one of these statutory disqualifiers, and that denies or
# reviews, cites the statute rather than the office's policy.
_DISQUALIFIER_CITATION = {
    "superstrike_prior": "superstrike_prior",
    "pc290_prior": "pc290_prior",
    "pc290_registration": "pc290_prior",
    "two_priors": "two_priors",
}


def _condition_sql(name: str, value: Any, c: _Ctx) -> str:
    sql = FLOW_SQL[name][0](value, c)
    if FLOW_CONDITIONS[name].kind == "bool" and value is False:
        return f"NOT ({sql})"
    return f"({sql})"


def _condition_words(name: str, value: Any) -> str:
    shown = ", ".join(value) if isinstance(value, tuple) else str(value).lower()
    return f"{name}: {shown}"


def _step_sql(step: FlowStep, c: _Ctx, skip: frozenset[str] = frozenset()) -> str:
    parts = [_condition_sql(n, v, c) for n, v in step.when if n not in skip]
    # A step decides Prop 64 convictions only, unless it is about related charges.
    if "related_charge" not in step.conditions:
        parts.insert(0, "NOT related_charge")
    return " AND ".join(parts) or "true"


def _step_citation(step: FlowStep, c: _Ctx) -> str:
    law, outcome, conditions = c.law, step.then.outcome, step.conditions
    if conditions.get("related_charge") is True:
        return law.cite("related_clear" if outcome in ("dismiss", "reduce") else "related_review")
    if outcome in ("not_eligible", "review"):
        if conditions.get("on_or_after_effective_date") is True:
            return law.cite("effective_date")
        for name, key in _DISQUALIFIER_CITATION.items():
            if conditions.get(name) is True:
                return law.cite(key)
        return law.cite("office_policy")
    if conditions.get("felony") is False:
        return law.cite("misdemeanor")
    return law.cite("dismiss_completed" if outcome == "dismiss" else "reduce_completed")


def _flow_rules(c: _Ctx, flow: Sequence[FlowStep]) -> list[Rule]:
    rules: list[Rule] = []
    *steps, otherwise = flow
    for number, step in enumerate(steps, 1):
        rule_id = f"policy.flow.{step.id or number}"
        uses = tuple(dict.fromkeys(f for name, _ in step.when for f in FLOW_SQL[name][1]))
        words = "; ".join(_condition_words(name, value) for name, value in step.when)
        dob_conditions = _NEEDS_DOB & set(step.conditions)
        if c.review_doubt and dob_conditions:
            rest = _step_sql(step, c, skip=dob_conditions)
            others = "; ".join(_condition_words(k, v) for k, v in step.when if k not in _NEEDS_DOB)
            guard_words = "The birth date is missing or partial, so the next step cannot be applied"
            guard_words += f" (its other conditions hold: {others})." if others else "."
            rules.append(
                Rule(
                    f"{rule_id}.dob_unknown", f"dob IS NULL AND {rest}", "review",
                    "Birth date missing or partial: the age rule cannot be applied",
                    c.law.cite("doubtful_data"), "missing_birth_date", uses=("dob_raw",),
                    words=guard_words,
                )
            )  # fmt: skip
        rules.append(_flow_rule(rule_id, step, _step_sql(step, c), c, uses, words))
    # Related convictions no step decided get the policy's related_convictions choice.
    rules += _related_rules(c)
    rules.append(
        _flow_rule(
            f"policy.flow.{otherwise.id or 'otherwise'}", otherwise, "true", c,
            ("prop64_section",), "Any conviction no rule above decided.",
        )
    )  # fmt: skip
    return rules


def _flow_rule(
    rule_id: str, step: FlowStep, when: str, c: _Ctx, uses: tuple[str, ...], words: str
) -> Rule:
    then = step.then
    default_code = "" if then.outcome in ("dismiss", "reduce") else "policy_flow"
    return Rule(
        rule_id,
        when,
        then.outcome.value,
        then.reason,
        _step_citation(step, c),
        then.reason_code if then.reason_code is not None else default_code,
        determination=then.determination or "",
        uses=uses,
        words=words,
    )


def _case(rules: Sequence[Rule], pick: str) -> str:
    whens = []
    for i, r in enumerate(rules):
        value = str(i) if pick == "index" else _q(getattr(r, pick))
        whens.append(f"WHEN coalesce({r.when}, false) THEN {value}")
    return "CASE " + " ".join(whens) + " END"


def _related_match(policy: Policy) -> str:
    """SQL: the conviction (alias c) is a related charge under the policy, or `false`.

    A related charge is a conviction whose statute lies under one of `related_sections`
    (ca:pc:148 covers ca:pc:148:a:1) and that is not itself a Prop 64 conviction."""
    if policy.related_convictions == "leave":
        return "false"
    return f"(c.prop64_section IS NULL AND {_under('c.statute_id', policy.related_sections)})"


def build_evaluated(
    con: duckdb.DuckDBPyConnection, counties: Sequence[str] | None, policy: Policy
) -> None:
    """The convictions this run decides: Prop 64 sections (attempts included) in the chosen
    counties. With doubtful data sent to review, also sections seen only in the comment and
    convictions of unknown county (it may be the office's): a person then looks at them.
    In gogen mode neither is decided, as gogen did not.

    With related_convictions clear or review, also related convictions in those counties whose
    arrest cycle holds a Prop 64 charge (the pilots' related flow); a related conviction with no
    Prop 64 charge in its cycle has nothing to do with Prop 64 and is never decided."""
    doubtful = policy.doubtful_data == "review"
    county_filter = "true"
    if counties is not None:
        names = ", ".join(_q(c.strip().upper()) for c in counties)
        blank = " OR c.county = ''" if doubtful else ""
        county_filter = f"(c.county IN ({names}){blank})"
    comment = " OR c.comment_prop64_section IS NOT NULL" if doubtful else ""
    related = _related_match(policy)
    # One join per statement, each result a table (see facts.build_convictions): the
    # same-section counts of every Prop 64 conviction (all counties: earlier convictions
    # elsewhere count), then the convictions decided here with theirs, then their person.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE same_section AS
        SELECT row_id,
               count(*) OVER (PARTITION BY subject_id, prop64_section)
                 AS same_section_convictions,
               -- the convictions of an earlier day
               rank() OVER (PARTITION BY subject_id, prop64_section ORDER BY event_date) - 1
                 AS same_section_priors
        FROM convictions WHERE prop64_section IS NOT NULL AND event_date IS NOT NULL
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE evaluated_convictions AS
        SELECT c.*, coalesce({related}, false) AS related_charge,
               coalesce(r.same_section_priors, 0) AS same_section_priors,
               coalesce(r.same_section_convictions, 1) AS same_section_convictions
        FROM convictions c
        LEFT JOIN same_section r USING (row_id)
        WHERE (c.prop64_section IS NOT NULL{comment} OR (c.prop64_in_cycle AND {related}))
          AND {county_filter}
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE evaluated AS
        SELECT c.row_id, c.subject_id, c.file_index, c.source_file, c.source_line,
               c.cnt_order, c.cnt_order_ok, c.county, c.court, c.case_numbers,
               c.event_date AS conviction_date, c.event_date_partial AS conviction_date_partial,
               c.felony, c.statute_id, c.subsections, c.attempt, c.from_comment,
               c.prop64_section, c.comment_prop64_section, c.subsection_changed_2016,
               c.gogen_code_section AS code_section_raw, c.sentence_end,
               c.prop64_in_cycle, c.related_charge,
               s.name, s.cii_number, s.dob, s.dob_raw, s.dob_partial, s.gender, s.race,
               s.deceased, s.pc290_registration, s.superstrike_sections, s.pc290_sections,
               s.convictions AS subject_convictions,
               s.prop64_convictions AS subject_prop64_convictions,
               s.last_conviction_date,
               s.last_sentence_end AS subject_last_sentence_end,
               s.undated_convictions AS subject_undated_convictions,
               s.first_superstrike_date,
               s.first_pc290_conviction,
               -- A registration proves a registrable conviction of unknown date: for the
               -- statutory check it counts as a prior from the start of the record.
               CASE WHEN s.pc290_registration THEN DATE '0001-01-01'
                    ELSE s.first_pc290_conviction END AS first_pc290_date,
               c.same_section_priors, c.same_section_convictions
        FROM evaluated_convictions c
        JOIN subjects s USING (subject_id)
        """
    )
    con.execute("DROP TABLE same_section; DROP TABLE evaluated_convictions")


def create_rules_table(con: duckdb.DuckDBPyConnection, table: str, rules: Sequence[Rule]) -> None:
    """`table` (replaced): each rule by its index in the list (`rule_index`, as the CASE that
    picks it gives it), with what a determination takes of it. California's and Illinois's
    decisions join it."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    create_table_from_columns(
        con,
        table,
        {
            "rule_index": list(range(len(rules))),
            "outcome": [r.outcome for r in rules],
            "reason": [r.reason for r in rules],
            "citation": [r.citation for r in rules],
            "rule_id": [r.rule_id for r in rules],
            "reason_code": [r.reason_code for r in rules],
            "determination": [r.determination for r in rules],
        },
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
    create_rules_table(con, "prop64_rules", rules)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH picked AS (SELECT *, {_case(rules, "index")} AS rule_index FROM evaluated)
        SELECT p.*,
               r.outcome, r.reason,
               -- Still serving: the same relief comes by recall and resentencing
               -- (HS 11361.8(a)-(c)); not for misdemeanours (HS 11361.8(e), (f) either
               -- way), nor for related convictions, which HS 11361.8 does not reach.
               CASE WHEN p.sentence_end > {asof} AND r.outcome IN ('dismiss', 'reduce')
                         AND coalesce(p.felony, true) AND NOT p.related_charge
                    THEN CASE r.outcome WHEN 'dismiss' THEN {_q(law.cite("dismiss_serving"))}
                                        ELSE {_q(law.cite("reduce_serving"))} END
                    ELSE r.citation END AS citation,
               r.rule_id, r.reason_code,
               coalesce(nullif(r.determination, ''),
                        CASE r.outcome WHEN 'dismiss' THEN 'Eligible for Dismissal'
                                       WHEN 'reduce' THEN 'Eligible for Reduction'
                                       WHEN 'not_eligible' THEN 'Not eligible'
                                       ELSE 'Hand Review' END) AS determination,
               CASE WHEN p.sentence_end > {asof} THEN 'serving' ELSE 'completed' END
                 AS sentence_status
        FROM picked p
        JOIN prop64_rules r ON r.rule_index = p.rule_index
        -- in input order once here, so that every writer reads it in order without a sort
        -- (sorting the written rows, facts JSON and all, cost more than writing them)
        ORDER BY p.row_id
        """
    )
    con.execute("DROP TABLE prop64_rules")
