"""Statutes: read charge text into statute ids, and match offence catalogues kept as data.

Why a package of its own: every jurisdiction's rules start from "which statute is this charge?",
and the answer must be the same in the bulk run, in ``explain`` and in the documents. Parsing
is in :mod:`clearslate.statutes.normalise` (with gogen 0.2.13's own reading, reproduced for
the gogen-compatible bundle); the superstrike, PC 290 and related-charge lists are in
``data/ca_offences.yaml`` and are matched by :mod:`clearslate.statutes.catalogue`.

The bulk engine calls :func:`classify_charges` once per file with the distinct
(OFFENSE_DESCR, COMMENT_TEXT) pairs and joins the result back in SQL.
"""

from clearslate.statutes.catalogue import (
    CLASSIFY_COLUMNS,
    Catalogue,
    CatalogueEntry,
    StatuteDataError,
    classify_charges,
    default_related_ids,
    gogen_is_pc290,
    gogen_is_related,
    gogen_is_superstrike,
    is_pc290_offence,
    is_related_charge,
    is_superstrike,
    load_catalogue,
)
from clearslate.statutes.normalise import (
    PROP64_SECTIONS,
    STATUTE_ID_RE,
    Charge,
    find_prop64_section,
    format_statute_id,
    gogen_code_section,
    gogen_possible_other_p64,
    gogen_prop64_number,
    parse_charge,
    statute_id,
)

__all__ = [
    "CLASSIFY_COLUMNS",
    "PROP64_SECTIONS",
    "STATUTE_ID_RE",
    "Catalogue",
    "CatalogueEntry",
    "Charge",
    "StatuteDataError",
    "classify_charges",
    "default_related_ids",
    "find_prop64_section",
    "format_statute_id",
    "gogen_code_section",
    "gogen_is_pc290",
    "gogen_is_related",
    "gogen_is_superstrike",
    "gogen_possible_other_p64",
    "gogen_prop64_number",
    "is_pc290_offence",
    "is_related_charge",
    "is_superstrike",
    "load_catalogue",
    "parse_charge",
    "statute_id",
]
