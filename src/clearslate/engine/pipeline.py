"""Facts then decisions over rows already read: the one path the bulk run, `explain` and the
rule tests all take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from clearslate.engine.decide import Rule, build_evaluated, build_rules, decide
from clearslate.engine.facts import build_facts
from clearslate.laws.ca_prop64 import Prop64Law, prop64_law
from clearslate.policy import Policy
from clearslate.progress import Parts, no_parts, statement_gauge


def decide_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    counties: Sequence[str] | None,
    as_of: dt.date,
    policy: Policy,
    table: str = "doj_rows",
    part: Parts = no_parts,
) -> tuple[Prop64Law, list[Rule]]:
    """Build facts from `table` and decide every evaluated conviction into `determinations`;
    `part` is told each step as it begins, with its share of deciding (`progress`)."""
    law = prop64_law(as_of)
    build_facts(con, table, part)
    part(0.19, None)  # (two statements)
    build_evaluated(con, counties, policy)
    rules = build_rules(policy, law, as_of)
    part(0.17, statement_gauge(con))
    decide(con, rules, as_of, law)
    return law, rules
