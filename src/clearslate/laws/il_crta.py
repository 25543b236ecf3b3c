"""Illinois CRTA relief law (20 ILCS 2630/5.2(i)), loaded from `data/il_crta.yaml`.

The law is data: the minor-cannabis-offense limits, the offence-date cutoff, the deadline
tiers, the excluded sections, a citation for each rule, and the gram bands of the Cannabis
Control Act by the date they came into force. A run picks the relief-law version in force on
its as-of date and records its id in the manifest; each charge is read with the gram bands in
force on its offence date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from clearslate.shipped_yaml import load_yaml

UNBOUNDED = float("inf")


@dataclass(frozen=True)
class Tier:
    tier_id: str
    start: dt.date | None  # inclusive; None = no lower bound
    end: dt.date | None  # exclusive; None = set by policy (first_tier_end)
    deadline: dt.date
    citation: str


@dataclass(frozen=True)
class Band:
    """One amount band of 720 ILCS 550/4 or /5: (lo, hi] grams, in force from a date."""

    in_force_from: dt.date  # inclusive
    in_force_to: dt.date | None  # exclusive (the next table's date)
    section: str  # '4' or '5'
    subsection: str | None  # 'c'; None for a band inferred from the class alone
    offense_class: str | None  # None for a subsection band
    lo: float  # exclusive
    hi: float  # inclusive; UNBOUNDED when the Act sets no upper limit


@dataclass(frozen=True)
class CrtaLaw:
    version_id: str
    valid_from: dt.date
    offense_before: dt.date  # exclusive
    minor_max_grams: float  # inclusive
    motion_max_grams: float  # inclusive
    tiers: tuple[Tier, ...]
    citations: dict[str, str]
    excluded_sections: dict[str, dict[str, str]]
    bands: tuple[Band, ...]
    band_tables: tuple[dict[str, Any], ...]  # as in the data, for the docs

    def cite(self, key: str) -> str:
        return self.citations[key]


@cache
def _document() -> dict[str, Any]:
    text = resources.files("clearslate.laws").joinpath("data/il_crta.yaml").read_text("utf-8")
    return load_yaml(text)


def _bands(tables: list[dict[str, Any]]) -> tuple[Band, ...]:
    """Every subsection band, and per (table, section, class) the band its class implies: the
    span of every subsection that class can mean (a subsequent offense's class included)."""
    tables = sorted(tables, key=lambda t: t["in_force_from"])
    bands: list[Band] = []
    for i, table in enumerate(tables):
        start = table["in_force_from"]
        end = tables[i + 1]["in_force_from"] if i + 1 < len(tables) else None
        for section, data in table["sections"].items():
            by_class: dict[str, list[tuple[float, float]]] = {}
            for sub, b in data["subsections"].items():
                lo, hi = float(b["lo"]), UNBOUNDED if b["hi"] is None else float(b["hi"])
                bands.append(Band(start, end, str(section), sub, None, lo, hi))
                for cls in (b["class"], b.get("subsequent_class")):
                    if cls is not None:
                        by_class.setdefault(str(cls), []).append((lo, hi))
            for cls, spans in sorted(by_class.items()):
                lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
                bands.append(Band(start, end, str(section), None, cls, lo, hi))
    return tuple(bands)


def crta_law(as_of: dt.date) -> CrtaLaw:
    """The version in force on `as_of` (the latest whose valid_from <= as_of; the first one
    when as_of is earlier, so a run can still say with citations that nothing qualifies)."""
    doc = _document()
    versions = sorted(doc["versions"], key=lambda v: v["valid_from"])
    in_force = [v for v in versions if v["valid_from"] <= as_of]
    v = in_force[-1] if in_force else versions[0]
    tiers = tuple(
        Tier(
            t["id"], t["from"], None if t["to"] == "policy" else t["to"], t["deadline"],
            t["citation"],
        )
        for t in v["tiers"]
    )  # fmt: skip
    tables = doc["cannabis_control_act"]["bands"]
    return CrtaLaw(
        version_id=v["id"],
        valid_from=v["valid_from"],
        offense_before=v["offense_before"],
        minor_max_grams=float(v["minor_offense_max_grams"]),
        motion_max_grams=float(v["motion_max_grams"]),
        tiers=tiers,
        citations=dict(v["citations"]),
        excluded_sections={str(k): dict(e) for k, e in v["excluded_sections"].items()},
        bands=_bands(tables),
        band_tables=tuple(tables),
    )


def law_document() -> dict[str, Any]:
    """The whole data file, for the generated docs."""
    return _document()
