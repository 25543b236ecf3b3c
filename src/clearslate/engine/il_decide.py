"""Decide every Illinois cannabis charge, per linked person: law (dated data) + office policy.

Input: the canonical tables `il_records` (one row per charge, any source) and `il_person_links`
(one row per record: its person). Output: `il_determinations`, one row per evaluated cannabis
charge with exactly one named outcome (IL_OUTCOMES), its rule id, citation, review reason and
the facts the rules read.

Three set-based steps, all SQL on DuckDB:

1. `il_statutes`: each DISTINCT citation read once (statutes.il_normalise) and joined back.
2. `il_evaluated`: the cannabis charges with their facts as columns: the amount band (grams,
   else the subsection's band, else the class's, by the Cannabis Control Act in force on the
   offence date), the track (arrest or conviction), the deadline tier, and what the linked
   person's other records say (a violent crime or a Section 7 enhancement associated with
   the charge, a disposition the state-police row lacks but the court row of the same arrest
   has).
3. `il_determinations`: an ordered rule list, first rule that holds wins, compiled into one SQL
   CASE. `explain` evaluates the same list for one person (engine/il_explain.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from clearslate.database import create_table_from_columns
from clearslate.engine.decide import Rule, _date, _plus_years, _q, create_rules_table
from clearslate.il_policy import Association, ILPolicy
from clearslate.laws.il_crta import CrtaLaw, crta_law
from clearslate.statutes.il_normalise import CANNABIS_WORDS_SQL, CLASSIFY_COLUMNS, classify_statutes

NO_CONVICTION = ("dismissed", "nolle_prosequi", "stricken_off", "acquitted", "vacated",
                 "no_charges_filed")  # fmt: skip

# The facts each determination carries (its `facts` JSON), in this order.
FACT_COLUMNS: tuple[str, ...] = (
    "statute", "cannabis_section", "statute_subsection", "attempt", "offense_class", "grams",
    "band_lo", "band_hi", "band_source", "grams_inferred", "disposition", "disposition_used",
    "disposition_from", "track", "offense_when", "record_date", "tier", "deadline",
    "arrest_old_enough", "juvenile", "fingerprinted", "county", "link_status",
    "section7_associated", "violent_associated", "possibly_violent_associated",
    "associated_violent_statutes",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


def _typed_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """`table` (replaced) of `rows`, its `columns` (name, SQL type) in their order."""
    con.execute(f"DROP TABLE IF EXISTS {table}")
    values = {name: [r[i] for r in rows] for i, (name, _) in enumerate(columns)}
    create_table_from_columns(con, table, values, types=[kind for _, kind in columns])


def _statutes(con: duckdb.DuckDBPyConnection, records: str) -> None:
    texts = [r[0] for r in con.execute(f"SELECT DISTINCT statute_raw FROM {records}").fetchall()]
    _typed_table(con, "il_statutes", CLASSIFY_COLUMNS, classify_statutes(texts))


_BAND_COLUMNS = (
    ("in_force_from", "DATE"), ("in_force_to", "DATE"), ("section", "VARCHAR"),
    ("subsection", "VARCHAR"), ("offense_class", "VARCHAR"), ("lo", "DOUBLE"), ("hi", "DOUBLE"),
)  # fmt: skip


def _bands(con: duckdb.DuckDBPyConnection, law: CrtaLaw) -> None:
    _typed_table(con, "il_bands", _BAND_COLUMNS, [
        (b.in_force_from, b.in_force_to, b.section, b.subsection, b.offense_class, b.lo,
         None if b.hi == float("inf") else b.hi)
        for b in law.bands
    ])  # fmt: skip


def _associated(policy: ILPolicy, c: str = "c", o: str = "o") -> str:
    """SQL: record `o` is associated with record `c` (same person) under the policy."""
    parts = {
        Association.SAME_CASE: f"{o}.case_number = {c}.case_number",
        Association.SAME_ARREST: f"{o}.arrest_id = {c}.arrest_id",
        Association.SAME_PERSON_AND_DATE: f"{o}.record_date = {c}.record_date",
    }
    return "(" + " OR ".join(parts[a] for a in policy.associated_means) + ")"


def _track_sql(policy: ILPolicy) -> tuple[str, str]:
    """SQL for (track, track_problem) from `disposition_used`."""
    no_conv = ", ".join(_q(d) for d in NO_CONVICTION)
    whens_track = [f"WHEN disposition_used IN ({no_conv}) THEN 'arrest'",
                   "WHEN disposition_used = 'convicted' THEN 'conviction'"]  # fmt: skip
    whens_problem = ["WHEN disposition_used = 'pending' THEN 'pending'"]
    for dispo, choice in (("supervision", policy.supervision),
                          ("qualified_probation", policy.qualified_probation)):  # fmt: skip
        if choice.value == "review":
            whens_problem.append(f"WHEN disposition_used = '{dispo}' THEN '{dispo}'")
        else:
            whens_track.append(f"WHEN disposition_used = '{dispo}' THEN '{choice.value}'")
    track = "CASE " + " ".join(whens_track) + " END"
    problem = (
        "CASE WHEN disposition_used = 'conflicting' THEN 'conflicting' "
        + " ".join(whens_problem)
        + f" WHEN ({track}) IS NULL THEN 'unknown' END"
    )
    return track, problem


def build_il_evaluated(
    con: duckdb.DuckDBPyConnection,
    policy: ILPolicy,
    law: CrtaLaw,
    as_of: dt.date,
    records: str = "il_records",
    links: str = "il_person_links",
) -> None:
    """The cannabis charges to decide, with every fact the rules read as a column."""
    _statutes(con, records)
    _bands(con, law)
    tier_end = policy.first_tier_end_date
    lower = "DATE '0001-01-01'"
    in_tier = [
        f"WHEN b.record_date >= {_date(t.start) if t.start else lower} "
        f"AND b.record_date < {_date(t.end or tier_end)} THEN"
        for t in law.tiers
    ]
    tier = (
        "CASE "
        + " ".join(f"{w} {_q(t.tier_id)}" for w, t in zip(in_tier, law.tiers, strict=True))
        + " END"
    )
    deadline = (
        "CASE "
        + " ".join(f"{w} {_date(t.deadline)}" for w, t in zip(in_tier, law.tiers, strict=True))
        + " END"
    )
    counties = "true"
    if policy.counties is not None:
        names = ", ".join(_q(x) for x in policy.counties)
        counties = f"(b.county IN ({names}) OR b.county IS NULL)"
    track, track_problem = _track_sql(policy)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE il_charges AS
        SELECT r.*, l.person_id, l.link_status, l.match_probability,
               s.statute, s.statute_section, s.statute_subsection, s.statute_parsed,
               s.cannabis_section, s.violent,
               coalesce(r.attempt, false) OR coalesce(s.statute_attempt, false) AS is_attempt,
               coalesce(r.arrest_date, r.offense_date) AS record_date,
               coalesce(r.offense_date, r.arrest_date) AS offense_when,
               (s.cannabis_section IS NOT NULL OR (NOT coalesce(s.statute_parsed, false) AND
                 regexp_matches(upper(coalesce(r.statute_raw, '') || ' ' ||
                                      coalesce(r.charge_description, '')), {_q(CANNABIS_WORDS_SQL)})))
                 AS is_cannabis
        FROM {records} r
        JOIN {links} l USING (record_id)
        LEFT JOIN il_statutes s ON s.statute_raw IS NOT DISTINCT FROM r.statute_raw
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE il_evaluated AS
        WITH assoc AS (
            SELECT c.record_id,
                   bool_or(o.violent = 'always') AS violent_associated,
                   bool_or(o.violent = 'conditional') AS possibly_violent_associated,
                   list_sort(list_distinct(list(o.statute) FILTER (WHERE o.violent IS NOT NULL)))
                     AS associated_violent_statutes
            FROM il_charges c JOIN il_charges o
              ON o.person_id = c.person_id AND o.record_id <> c.record_id
             AND {_associated(policy)}
            WHERE c.is_cannabis AND o.violent IS NOT NULL
            GROUP BY c.record_id
        ),
        sec7 AS (  -- Section 7 (delivery to a minor) in the charge's own case or arrest
            SELECT DISTINCT c.record_id
            FROM il_charges c JOIN il_charges o
              ON o.person_id = c.person_id AND o.cannabis_section = '7'
             AND (o.case_number = c.case_number OR o.arrest_id = c.arrest_id)
            WHERE c.is_cannabis
        ),
        borrowed AS (  -- the disposition of the same charge in another source's record
            SELECT c.record_id, count(DISTINCT o.disposition) AS n, min(o.disposition) AS dispo,
                   min(o.record_id) AS from_record
            FROM il_charges c JOIN il_charges o
              ON o.person_id = c.person_id AND o.record_id <> c.record_id
             AND (o.case_number = c.case_number OR o.arrest_id = c.arrest_id)
             AND o.cannabis_section IS NOT DISTINCT FROM c.cannabis_section
             AND coalesce(o.disposition, 'unknown') <> 'unknown'
            WHERE c.is_cannabis AND coalesce(c.disposition, 'unknown') = 'unknown'
            GROUP BY c.record_id
        ),
        dispo AS (
            SELECT c.*,
                   CASE WHEN coalesce(c.disposition, 'unknown') <> 'unknown' THEN c.disposition
                        WHEN b.n > 1 THEN 'conflicting'
                        ELSE coalesce(b.dispo, 'unknown') END AS disposition_used,
                   CASE WHEN coalesce(c.disposition, 'unknown') = 'unknown' AND b.n = 1
                        THEN b.from_record END AS disposition_from
            FROM il_charges c LEFT JOIN borrowed b USING (record_id)
            WHERE c.is_cannabis
        ),
        banded AS (
            SELECT d.*,
                   coalesce(sb.lo, cb.lo) AS inferred_lo, coalesce(sb.hi, cb.hi) AS inferred_hi,
                   CASE WHEN sb.section IS NOT NULL THEN 'subsection'
                        WHEN cb.section IS NOT NULL THEN 'class' END AS inferred_from
            FROM dispo d
            LEFT JOIN il_bands sb
              ON sb.subsection IS NOT NULL AND sb.section = d.cannabis_section
             AND sb.subsection = d.statute_subsection
             AND d.offense_when >= sb.in_force_from
             AND (sb.in_force_to IS NULL OR d.offense_when < sb.in_force_to)
            LEFT JOIN il_bands cb
              ON cb.offense_class IS NOT NULL AND cb.section = d.cannabis_section
             AND cb.offense_class = d.offense_class
             AND d.offense_when >= cb.in_force_from
             AND (cb.in_force_to IS NULL OR d.offense_when < cb.in_force_to)
        )
        SELECT b.record_id, b.person_id, b.link_status, b.statute, b.cannabis_section,
               b.statute_subsection, b.is_attempt AS attempt, b.offense_class, b.grams,
               CASE WHEN b.grams IS NOT NULL THEN b.grams ELSE b.inferred_lo END AS band_lo,
               CASE WHEN b.grams IS NOT NULL THEN b.grams ELSE b.inferred_hi END AS band_hi,
               CASE WHEN b.grams IS NOT NULL THEN 'grams' ELSE b.inferred_from END AS band_source,
               b.grams IS NULL AND b.inferred_from IS NOT NULL AS grams_inferred,
               b.disposition, b.disposition_used, b.disposition_from,
               {track} AS track, {track_problem} AS track_problem,
               b.offense_when, b.record_date,
               {tier} AS tier, {deadline} AS deadline,
               {_plus_years("b.record_date", policy.arrest_min_years)} <= {_date(as_of)}
                 AS arrest_old_enough,
               {_plus_years("b.dob", 18)} > b.offense_when AS juvenile,
               b.fingerprinted, b.county, b.court,
               coalesce(s7.record_id IS NOT NULL, false) AS section7_associated,
               coalesce(a.violent_associated, false) AS violent_associated,
               coalesce(a.possibly_violent_associated, false) AS possibly_violent_associated,
               coalesce(a.associated_violent_statutes, []) AS associated_violent_statutes
        FROM banded b
        LEFT JOIN assoc a USING (record_id)
        LEFT JOIN sec7 s7 USING (record_id)
        WHERE {counties}
        """
    )


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


def build_il_rules(policy: ILPolicy, law: CrtaLaw, as_of: dt.date) -> list[Rule]:
    """The ordered rule list for one policy, law version and as-of date. Rule.reason_code is
    the review reason (empty unless the outcome is review)."""
    cite = law.cite
    minor, motion = law.minor_max_grams, law.motion_max_grams
    rules: list[Rule] = []

    def add(rule_id: str, when: str, outcome: str, reason: str, citation: str,
            code: str = "", uses: tuple[str, ...] = (), words: str = "") -> None:  # fmt: skip
        rules.append(Rule(rule_id, when, outcome, reason, citation, code, uses=uses, words=words))

    # 1. Whose record is it, and which charge is it?
    if policy.uncertain_links.value == "review":
        add("il.crta.review.uncertain_link", "link_status = 'review'", "review",
            "The person link is uncertain: a person confirms whose record this is",
            cite("doubtful_data"), "uncertain_link", ("link_status",),
            "The linker left this record apart from a possible match (link_status review).")  # fmt: skip
    if policy.counties is not None:
        add("il.crta.review.county_unknown", "county IS NULL", "review",
            "County unknown: it may be another office's record", cite("doubtful_data"),
            "county_unknown", ("county",), "The record has no county.")  # fmt: skip
    add("il.crta.review.statute_unparsed", "cannabis_section IS NULL", "review",
        "Cannabis charge whose citation could not be read", cite("doubtful_data"),
        "statute_unparsed", ("statute",),
        "The charge mentions cannabis but its citation is not one clearslate can read.")  # fmt: skip
    for section, data in sorted(law.excluded_sections.items()):
        add(f"il.crta.excluded.section_{section.replace('.', '_')}",
            f"cannabis_section = {_q(section)}", "not_eligible",
            f"Not Section 4 or 5: {data['title']} ({data['citation']})",
            f"{data['citation']}; {cite('excluded_section')}", "", ("cannabis_section",),
            f"The charge is under 720 ILCS 550/{section} ({data['title']}).")  # fmt: skip
    add("il.crta.review.other_section", "cannabis_section NOT IN ('4', '5')", "review",
        "Another section of the Cannabis Control Act (not an offence section the law names)",
        cite("doubtful_data"), "other_cannabis_section", ("cannabis_section",),
        "The charge is under another section of 720 ILCS 550 (e.g. 550/10, probation).")  # fmt: skip

    # 2. When, and how did it end?
    add("il.crta.review.offense_date_missing", "offense_when IS NULL", "review",
        "Offence and arrest dates missing", cite("doubtful_data"), "offense_date_missing",
        ("offense_when",), "Neither the offence date nor the arrest date is known.")  # fmt: skip
    before = law.offense_before
    add("il.crta.offense_date", f"offense_when >= {_date(before)}", "not_eligible",
        f"Offence on or after {before:%d %b %Y}", cite("offense_date"), "",
        ("offense_when",),
        f"The offence (else the arrest) is dated on or after {before.isoformat()} (exclusive "
        "boundary: relief covers offences before it).")  # fmt: skip
    for problem, reason in (
        ("pending", "The case is pending"),
        ("unknown", "Disposition unknown in every linked record"),
        ("conflicting", "Linked records give different dispositions for the charge"),
        ("supervision", "Order of supervision: policy sends it to review"),
        ("qualified_probation", "Qualified probation: policy sends it to review"),
    ):
        add(f"il.crta.review.disposition_{problem}", f"track_problem = {_q(problem)}", "review",
            reason, cite("doubtful_data"), f"disposition_{problem}",
            ("disposition", "disposition_used", "disposition_from"),
            f"The disposition is {problem.replace('_', ' ')} (after looking at the same "
            "charge's record in the other source).")  # fmt: skip

    # 3. The statutory exclusions.
    add("il.crta.section7", "section7_associated", "not_eligible",
        "Penalty enhancement under Section 7 (delivery to a minor)", cite("section7"), "",
        ("section7_associated",),
        "A 720 ILCS 550/7 charge is in the same case or arrest.")  # fmt: skip
    assoc = ", ".join(a.value.replace("_", " ") for a in policy.associated_means)
    add("il.crta.violent_associated", "violent_associated", "not_eligible",
        "Associated with a violent crime (725 ILCS 120/3(c))", cite("violent"), "",
        ("violent_associated", "associated_violent_statutes"),
        f"A charge on the violent-crime list is associated with it ({assoc}).")  # fmt: skip
    add("il.crta.review.possibly_violent", "possibly_violent_associated", "review",
        "Associated with a charge that is a violent crime only on facts the record lacks",
        cite("violent"), "possibly_violent_associated",
        ("possibly_violent_associated", "associated_violent_statutes"),
        f"An associated charge ({assoc}) is violent only if force, injury or great bodily "
        "harm was involved.")  # fmt: skip

    # 4. The office's choices about whole kinds of record.
    if policy.attempts.value == "review":
        add("il.crta.review.attempt", "attempt", "review",
            "Attempt (720 ILCS 5/8-4): the law notes do not say whether it is covered",
            cite("doubtful_data"), "attempt", ("attempt",), "The charge is an attempt.")  # fmt: skip
    if policy.juvenile.value != "include":
        outcome = policy.juvenile.value
        add("il.crta.juvenile", "juvenile", outcome,
            "Under 18 at the offence (juvenile record)", cite("adult"),
            "juvenile" if outcome == "review" else "", ("juvenile",),
            "The person was under 18 on the offence date (the 18th birthday is adult).")  # fmt: skip
        add("il.crta.review.adult_unknown", "track = 'conviction' AND juvenile IS NULL",
            "review", "Birth date unknown: cannot tell the conviction was as an adult",
            cite("adult"), "adult_unknown", ("juvenile",),
            "A conviction, and the birth date is missing.")  # fmt: skip
    if policy.without_fingerprints.value != "include":
        outcome = policy.without_fingerprints.value
        add("il.crta.fingerprints", "fingerprinted IS NOT TRUE", outcome,
            "Not a fingerprint-supported record", cite("fingerprints"),
            "no_fingerprints" if outcome == "review" else "", ("fingerprinted",),
            "The record is not marked fingerprint-supported.")  # fmt: skip

    # 5. The amount.
    hi = "coalesce(band_hi, 'infinity'::DOUBLE)"
    add("il.crta.review.amount_unknown", "band_source IS NULL", "review",
        "Amount unknown: no grams, and no subsection or class that sets a band",
        cite("doubtful_data"), "amount_unknown", ("grams", "statute", "offense_class"),
        "Grams are missing and neither the subsection nor the class gives a band.")  # fmt: skip
    add("il.crta.review.band_spans_30g", f"band_lo < {minor} AND {hi} > {minor}", "review",
        f"The amount band inferred from the subsection or class crosses {minor:g} g",
        cite("minor_offense"), "amount_band_spans_30g", ("band_lo", "band_hi", "band_source"),
        f"The inferred band (lo, hi] includes amounts on both sides of {minor:g} g.")  # fmt: skip
    over_minor = f"band_lo >= {minor} AND {hi} > {minor}"
    over_motion = f"band_lo >= {motion} AND {hi} > {motion}"
    add("il.crta.over_limit",
        f"({over_minor} AND (track = 'arrest' OR cannabis_section = '5')) OR ({over_motion})",
        "not_eligible", "Amount over the limit (more than 30 g; possession more than 500 g)",
        cite("over_limit"), "", ("band_lo", "band_hi", "track", "cannabis_section"),
        f"More than {minor:g} g on the arrest track or under Section 5; more than "
        f"{motion:g} g of possession.")  # fmt: skip
    add("il.crta.review.band_spans_500g", f"band_lo < {motion} AND {hi} > {motion}", "review",
        f"The amount band inferred crosses {motion:g} g", cite("eligible_on_motion"),
        "amount_band_spans_500g", ("band_lo", "band_hi", "band_source"),
        f"The inferred band includes amounts on both sides of {motion:g} g.")  # fmt: skip
    if policy.inferred_grams.value == "review":
        add("il.crta.review.grams_inferred", "grams_inferred", "review",
            "Grams missing: the amount band comes from the subsection or class",
            cite("doubtful_data"), "grams_inferred", ("grams_inferred", "band_source"),
            "Grams are missing; the band is read from the statute (policy: review).")  # fmt: skip

    # 6. The deadline tier, then the two tracks.
    add("il.crta.review.no_tier", "tier IS NULL", "review",
        f"Record created on or after the first tier's end ({policy.first_tier_end.value})",
        cite("expunge_arrest"), "record_after_first_tier", ("record_date", "tier"),
        "The record date falls in no deadline tier (policy first_tier_end).")  # fmt: skip
    n = policy.arrest_min_years
    add("il.crta.arrest.too_recent", "track = 'arrest' AND NOT arrest_old_enough",
        "not_eligible", f"Arrest less than {n} year(s) before the as-of date",
        cite("arrest_age"), "", ("record_date", "arrest_old_enough"),
        f"No conviction, and the arrest is less than {n} year(s) before the as-of date "
        "(exactly that many years is enough).")  # fmt: skip
    add("il.crta.arrest.expunge", f"track = 'arrest' AND {hi} <= {minor}", "expunge_arrest",
        "Minor cannabis offense with no conviction: expunge the arrest record",
        cite("expunge_arrest"), "", ("track", "band_hi", "tier"),
        f"No conviction; {minor:g} g or less (inclusive).")  # fmt: skip
    motion_outcome = (
        "eligible_on_motion" if policy.motion_tier.value == "include" else "not_eligible"
    )
    motion_cite = (
        cite("eligible_on_motion") if motion_outcome != "not_eligible" else cite("office_policy")
    )
    minor_conv = f"track = 'conviction' AND {hi} <= {minor}"
    if policy.conviction_classes is not None:
        classes = ", ".join(_q(c) for c in policy.conviction_classes)
        add("il.crta.review.class_missing", f"{minor_conv} AND offense_class IS NULL", "review",
            "Offense class missing: the office's class filter cannot be applied",
            cite("office_policy"), "offense_class_missing", ("offense_class",),
            "A minor conviction with no offense class (policy conviction_classes).")  # fmt: skip
        add("il.crta.policy.class_filter", f"{minor_conv} AND offense_class NOT IN ({classes})",
            "not_eligible", f"Class not in the office's list ({', '.join(policy.conviction_classes)})",
            cite("office_policy"), "", ("offense_class",),
            f"A minor conviction of a class outside {', '.join(policy.conviction_classes)}.")  # fmt: skip
    if policy.delivery_30g_or_less.value == "eligible_on_motion":
        add("il.crta.conviction.delivery_on_motion", f"{minor_conv} AND cannabis_section = '5'",
            motion_outcome, "Manufacture/delivery of 30 g or less: on motion (office policy)",
            motion_cite, "", ("cannabis_section", "band_hi"),
            f"A Section 5 conviction of {minor:g} g or less (policy delivery_30g_or_less).")  # fmt: skip
    add("il.crta.conviction.vacate", minor_conv, "vacate_and_expunge",
        "Minor cannabis conviction: vacate and expunge", cite("vacate_and_expunge"), "",
        ("track", "band_hi", "tier"), f"A conviction of {minor:g} g or less (inclusive).")  # fmt: skip
    add("il.crta.conviction.motion",
        f"track = 'conviction' AND cannabis_section = '4' AND {over_minor} AND {hi} <= {motion}",
        motion_outcome,
        "Possession of more than 30 g up to 500 g: eligible on motion"
        + ("" if motion_outcome == "eligible_on_motion" else " (excluded by office policy)"),
        motion_cite, "", ("cannabis_section", "band_lo", "band_hi"),
        f"A Section 4 conviction of more than {minor:g} g up to {motion:g} g (inclusive).")  # fmt: skip
    add("il.crta.review.otherwise", "true", "review", "No rule decided this charge",
        cite("doubtful_data"), "no_rule_applies", (), "Anything no rule above decided.")  # fmt: skip
    return rules


def _case(rules: Sequence[Rule]) -> str:
    whens = " ".join(f"WHEN coalesce({r.when}, false) THEN {i}" for i, r in enumerate(rules))
    return f"CASE {whens} END"


def decide_il(
    con: duckdb.DuckDBPyConnection,
    policy: ILPolicy,
    as_of: dt.date,
    records: str = "il_records",
    links: str = "il_person_links",
) -> tuple[CrtaLaw, list[Rule]]:
    """Facts then decisions: `il_evaluated`, then one row per charge in `il_determinations`."""
    law = crta_law(as_of)
    build_il_evaluated(con, policy, law, as_of, records, links)
    rules = build_il_rules(policy, law, as_of)
    create_rules_table(con, "il_rules", rules)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE il_determinations AS
        WITH picked AS (SELECT *, {_case(rules)} AS rule_index FROM il_evaluated)
        SELECT p.*, r.outcome, nullif(r.reason_code, '') AS review_reason, r.rule_id,
               r.citation, r.reason
        FROM picked p
        JOIN il_rules r ON r.rule_index = p.rule_index
        """
    )
    con.execute("DROP TABLE il_rules")
    return law, rules
