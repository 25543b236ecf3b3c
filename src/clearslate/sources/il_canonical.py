"""Illinois canonical records: the one table every Illinois source is read into.

Illinois has no single bulk file like California's research file. Records come from the
circuit clerk's case system (one row per charge) and from the Illinois State Police
criminal-history repository (one row per arrest charge), each office with its own column
names (mapped by a small YAML file). Every source is read into the same table, `il_records`,
one row per charge, and people are linked across sources into `il_person_links`. The law
(`laws/il_crta.py`) reads only these two tables, never a source's own columns.

This module is the contract between the readers and linkage (`sources/il_*.py`,
`link/`), the law (`laws/il_crta.py`, …) and the documents (`documents/`), which read an
Illinois run's `determinations.csv` (IL_DETERMINATION_COLUMNS): change it in one place.
"""

from __future__ import annotations

from typing import Final

# (column, DuckDB type, meaning). NULL means "not in the source" or "unreadable there"
# (the reader says which in il_rejects / the row's warnings); it is never guessed.
IL_RECORD_COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("record_id", "VARCHAR", "unique id of the charge row: '<source>:<file_index>:<line>'"),
    ("source", "VARCHAR", "'court' (circuit clerk export) or 'isp' (state police export)"),
    ("source_file", "VARCHAR", "path of the file as given"),
    ("source_line", "BIGINT", "physical line of the row in its file (1 = header)"),
    ("case_number", "VARCHAR", "court case number, e.g. '2016CR001234' (ISP: when known)"),
    ("arrest_id", "VARCHAR", "arrest / document control number (court: when known)"),
    ("charge_seq", "INTEGER", "the charge's number within its case or arrest (1, 2, …)"),
    ("last_name", "VARCHAR", "upper case, trimmed"),
    ("first_name", "VARCHAR", "upper case, trimmed"),
    ("middle_name", "VARCHAR", "upper case, trimmed"),
    ("name_suffix", "VARCHAR", "'JR', 'SR', 'II', 'III', 'IV' or NULL"),
    ("dob", "DATE", "date of birth"),
    ("sid", "VARCHAR", "Illinois State ID (SID / IR number), when the source has it"),
    ("sex", "VARCHAR", "'M', 'F', 'X' or NULL"),
    ("race", "VARCHAR", "as the source gives it"),
    ("statute_raw", "VARCHAR", "the citation as given, e.g. '720 ILCS 550/4(a)'"),
    ("charge_description", "VARCHAR", "the charge's text as given"),
    ("offense_class", "VARCHAR", "'X', '1', '2', '3', '4', 'A', 'B', 'C', 'P' (petty) or NULL"),
    ("grams", "DOUBLE", "amount of cannabis in grams, when recorded"),
    ("attempt", "BOOLEAN", "charged as an attempt (720 ILCS 5/8-4)"),
    (
        "disposition",
        "VARCHAR",
        "one of: 'convicted', 'supervision', 'qualified_probation', 'dismissed', "
        "'nolle_prosequi', 'stricken_off', 'acquitted', 'vacated', 'no_charges_filed', "
        "'pending', 'unknown'",
    ),
    ("disposition_raw", "VARCHAR", "the disposition as given"),
    ("disposition_date", "DATE", "date of the disposition"),
    ("offense_date", "DATE", "date of the offence"),
    ("arrest_date", "DATE", "date of the arrest"),
    ("agency", "VARCHAR", "arresting agency"),
    ("county", "VARCHAR", "county, upper case, e.g. 'COOK'"),
    ("court", "VARCHAR", "court / courthouse, e.g. 'CIRCUIT COURT OF COOK COUNTY'"),
    ("fingerprinted", "BOOLEAN", "fingerprint-supported record (ISP rows: true)"),
    ("street", "VARCHAR", "last known address: street line"),
    ("city", "VARCHAR", "last known address: city"),
    ("state", "VARCHAR", "last known address: state"),
    ("zip", "VARCHAR", "last known address: ZIP code"),
)

DISPOSITIONS: Final[tuple[str, ...]] = (
    "convicted",
    "supervision",
    "qualified_probation",
    "dismissed",
    "nolle_prosequi",
    "stricken_off",
    "acquitted",
    "vacated",
    "no_charges_filed",
    "pending",
    "unknown",
)

# People linked across sources (link/): one row per il_records row.
IL_PERSON_LINK_COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("record_id", "VARCHAR", "the il_records row"),
    ("person_id", "VARCHAR", "the linked person: stable for the same inputs and settings"),
    ("match_probability", "DOUBLE", "weakest accepted link joining the row to its person; 1 alone"),
    ("link_status", "VARCHAR", "'linked', 'single' or 'review' (an uncertain link was left apart)"),
    ("link_fields", "VARCHAR", "the fields that drove the link, e.g. 'dob,last_name,sid'"),
)

# An Illinois run's determinations.csv: one row per evaluated cannabis charge (a charge under
# 720 ILCS 550, or its older citation), decided for the linked person.
IL_OUTCOMES: Final[tuple[str, ...]] = (
    "expunge_arrest",  # no conviction: the arrest record is expunged (20 ILCS 2630/5.2(i))
    "vacate_and_expunge",  # minor cannabis conviction, 30 g or less: vacate and expunge
    "eligible_on_motion",  # more than 30 g up to 500 g: eligible on a motion (SA may object)
    "not_eligible",
    "review",  # a person decides; `review_reason` says why
)
IL_DETERMINATION_COLUMNS: Final[tuple[tuple[str, str, str], ...]] = (
    ("person_id", "VARCHAR", "the linked person (il_person_links)"),
    *(c for c in IL_RECORD_COLUMNS if c[0] not in ("race", "sex", "charge_description")),
    ("link_status", "VARCHAR", "the row's link_status"),
    ("statute", "VARCHAR", "normalised statute id, e.g. 'il:720-550:4:c'; NULL if unparsed"),
    ("grams_inferred", "BOOLEAN", "grams were missing and the band comes from offense_class"),
    ("track", "VARCHAR", "'arrest' (no conviction) or 'conviction'"),
    ("record_date", "DATE", "the date that sets the deadline tier (arrest, else offense date)"),
    ("tier", "VARCHAR", "deadline tier: '2013-2019', '2000-2012' or 'before-2000'"),
    ("deadline", "DATE", "statutory deadline of the tier (1 Jan 2021, 2023 or 2025)"),
    ("outcome", "VARCHAR", "one of IL_OUTCOMES"),
    ("review_reason", "VARCHAR", "reason code when outcome = 'review', else NULL"),
    ("rule_id", "VARCHAR", "the rule that decided, e.g. 'il.crta.violent_associated'"),
    ("citation", "VARCHAR", "the rule's citation"),
    ("facts", "VARCHAR", "JSON of the facts the rule used"),
    ("reason", "VARCHAR", "the rule's reason in words (for exhibits and reviewers)"),
    # Last, so earlier columns keep their places: the person's race and sex as the row's
    # source gives them, for the impact report's breakdowns (never used to decide).
    *(c for c in IL_RECORD_COLUMNS if c[0] in ("race", "sex")),
)


def create_sql(table: str, columns: tuple[tuple[str, str, str], ...]) -> str:
    """CREATE TABLE statement for one of the canonical tables."""
    body = ", ".join(f'"{name}" {kind}' for name, kind, _ in columns)
    return f'CREATE TABLE "{table}" ({body})'
