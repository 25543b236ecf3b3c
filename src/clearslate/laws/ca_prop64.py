"""California Prop 64 relief law, loaded from `data/ca_prop64.yaml`.

The law is data: sections, relief, disqualifiers, the effective date and a citation for each.
A run picks the version in force on its as-of date and records its id in the manifest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from clearslate.shipped_yaml import load_yaml

PROP64_SECTIONS = ("11357", "11358", "11359", "11360")


@dataclass(frozen=True)
class Prop64Law:
    version_id: str
    valid_from: dt.date
    effective_date: dt.date
    citations: dict[str, str]
    sections: dict[str, dict[str, Any]]
    disqualifying_statutes: dict[str, str]

    def cite(self, key: str) -> str:
        return self.citations[key]


@cache
def _document() -> dict[str, Any]:
    text = resources.files("clearslate.laws").joinpath("data/ca_prop64.yaml").read_text("utf-8")
    return load_yaml(text)


def prop64_law(as_of: dt.date) -> Prop64Law:
    """The version of the law in force on `as_of` (the latest one whose valid_from <= as_of)."""
    versions = sorted(_document()["versions"], key=lambda v: v["valid_from"])
    in_force = [v for v in versions if v["valid_from"] <= as_of]
    # Before Prop 64 existed there is no relief law; use the first version so the run can
    # still say (with citations) that nothing before its effective date qualifies.
    v = in_force[-1] if in_force else versions[0]
    return Prop64Law(
        version_id=v["id"],
        valid_from=v["valid_from"],
        effective_date=v["effective_date"],
        citations=dict(v["citations"]),
        sections=dict(v["sections"]),
        disqualifying_statutes=dict(v.get("disqualifying_statutes", {})),
    )
