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


def decide_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    counties: Sequence[str] | None,
    as_of: dt.date,
    policy: Policy,
    table: str = "doj_rows",
) -> tuple[Prop64Law, list[Rule]]:
    """Build facts from `table` and decide every evaluated conviction into `determinations`."""
    law = prop64_law(as_of)
    build_facts(con, table)
    build_evaluated(con, counties, policy)
    rules = build_rules(policy, law, as_of)
    decide(con, rules, as_of, law)
    return law, rules
