"""Read Illinois statute citations into statute ids, and match the violent-crime catalogue.

Why this module exists. Illinois records cite the same offence in many shapes: the ILCS form
``720 ILCS 550/4(c)``, clerk-system forms such as ``720-550/4(c)``, ``720 ILCS 550.0/4-C`` or
``550/4C``, and, for records before 1993, the Illinois Revised Statutes (``Ill. Rev. Stat.
ch. 56 1/2, par. 704(c)``, ``CH 56.5 PAR 705``). Every rule of the Illinois law reads the
normalised id (``il:720-550:4:c``), never the text, so an old citation is decided exactly as
its ILCS successor.

Statute ids are ``il:<chapter>-<act>:<section>[:<subsection>...]``, lower case. The one
inference made is written down: in the Cannabis Control Act (act 550, whose section numbers
never contain a hyphen), a letter after the section (``4C``, ``4-C``) is its subsection; a
bare ``550/…`` is 720 ILCS 550 (no other chapter has an act 550 that a criminal record
cites). A text with none of these shapes is ``parsed=False`` with a ``problem``; it is never
guessed. An attempt (720 ILCS 5/8-4, or the word ATTEMPT) cited with an offence gives the
offence's id with ``attempt=True``.

The bulk run calls :func:`classify_statutes` once with the DISTINCT citations of a run and
joins the result back in SQL (no per-row Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from clearslate.shipped_yaml import load_yaml

CANNABIS_ACT = "720-550"
ATTEMPT_ID = "il:720-5:8-4"
_MAX_TEXT = 256  # characters read; real citations are far shorter

# 720 ILCS 550/4(c), 720-550/4(c), 720 ILCS 550.0/4-C, 550/4C, 720 ILCS 5/12-3.2(a)(1)
_ILCS = re.compile(
    r"(?:(?P<chapter>\d{1,3})\s*(?:ILCS|-)\s*)?(?P<act>\d{1,4})(?:\.0+)?\s*/\s*"
    r"(?P<section>\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?[A-Z]?)(?:-(?P<letter>[A-Z])\b)?"
    r"(?P<subs>(?:\s*\(\s*[0-9A-Z]{1,4}\s*\))*)"
)
# Ill. Rev. Stat. ch. 56 1/2, par. 704(c); CH 38 PAR 12-3.2; ch. 95.5 par. 11-501
_REVISED = re.compile(
    r"CH(?:APTER)?\.?\s*(?P<chapter>\d{1,3}(?:\.5|\s*1/2)?)\s*,?\s*(?:PAR(?:AGRAPH)?\.?|¶|P\.)\s*"
    r"(?P<par>\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?[A-Z]?)"
    r"(?P<subs>(?:\s*\(\s*[0-9A-Z]{1,4}\s*\))*)"
)
_SUB = re.compile(r"\(\s*([0-9A-Z]{1,4})\s*\)")
# Text that speaks of cannabis (upper case), for charges whose citation could not be read:
# they are decided as "review", never dropped. RE2 syntax: DuckDB's regexp_matches runs it.
CANNABIS_WORDS_SQL = r"CANNABIS|MARIJUANA|MARIHUANA|\b550\s*/|56\s*(1/2|\.5|½)"


@dataclass(frozen=True, slots=True)
class ILStatute:
    """One citation, read. ``statute_id`` is None when ``parsed`` is False."""

    raw: str
    statute_id: str | None
    act: str | None  # '720-550'
    section: str | None  # '4', '5.1', '12-3.2'
    subsections: tuple[str, ...] = ()
    attempt: bool = False
    parsed: bool = True
    problem: str = ""


def _subsections(text: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in _SUB.findall(text or ""))


def _make(raw: str, act: str, section: str, subs: tuple[str, ...]) -> ILStatute:
    section = section.lower()
    sid = ":".join(["il", act, section, *subs])
    return ILStatute(raw, sid, act, section, subs)


@cache
def _chapters() -> dict[str, dict[str, Any]]:
    data = _catalogue_document()["revised_statutes_chapters"]
    return {" ".join(k.split()): v for k, v in data.items()}


def _citations(text: str) -> list[ILStatute]:
    found: list[tuple[int, ILStatute]] = []
    for m in _ILCS.finditer(text):
        act = m["act"].lstrip("0") or "0"
        chapter = m["chapter"]
        if chapter is None:
            if act != "550":
                continue  # '5/12-3.2' alone could be 720 ILCS 5 or 625 ILCS 5: not guessed
            chapter = "720"
        section, subs = m["section"], _subsections(m["subs"])
        if act == "550":
            # Cannabis Control Act sections are plain numbers (4, 5.1): a letter after one,
            # joined or after a hyphen, is the subsection ('4C', '4-C' -> 4(c)).
            letter = m["letter"] or (section[-1] if section[-1].isalpha() else None)
            section = section.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if "-" in section:
                continue
            if letter:
                subs = (letter.lower(), *subs)
        elif m["letter"]:
            continue  # '5/12-3-A': not a shape this reader knows
        found.append((m.start(), _make(text, f"{int(chapter)}-{act}", section, subs)))
    for m in _REVISED.finditer(text):
        chapter = " ".join(m["chapter"].replace("1/2", " 1/2").split())
        known = _chapters().get(chapter)
        if known is None:
            continue
        par, subs = m["par"], _subsections(m["subs"])
        offset = known.get("paragraph_offset")
        if offset:
            whole, _, decimal = par.partition(".")
            if not whole.isdigit() or int(whole) <= offset:
                continue
            par = str(int(whole) - offset) + (f".{decimal}" if decimal else "")
        found.append((m.start(), _make(text, known["act"], par, subs)))
    return [s for _, s in sorted(found, key=lambda f: f[0])]


@lru_cache(maxsize=1 << 16)
def parse_statute(raw: str | None) -> ILStatute:
    """Read one citation (see the module docstring for the shapes)."""
    text = " ".join((raw or "").upper().replace("½", " 1/2").split())[:_MAX_TEXT]
    if not text:
        return ILStatute(raw or "", None, None, None, parsed=False, problem="no citation")
    cites = _citations(text)
    offences = [c for c in cites if c.statute_id and not c.statute_id.startswith(ATTEMPT_ID)]
    attempt = len(offences) < len(cites) or "ATTEMPT" in text or text.startswith("ATT ")
    if not offences:
        if cites:  # an attempt with no offence named
            return ILStatute(raw or "", None, None, None, True, False, "attempt of what?")
        return ILStatute(raw or "", None, None, None, parsed=False, problem="unrecognised")
    first = offences[0]
    return ILStatute(raw or "", first.statute_id, first.act, first.section,
                     first.subsections, attempt)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The violent-crime catalogue (statutes/data/il_offences.yaml)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViolentEntry:
    statute_id: str
    label: str
    violent: str  # 'always' | 'conditional'
    category: str


@cache
def _catalogue_document() -> dict[str, Any]:
    text = resources.files("clearslate.statutes").joinpath("data/il_offences.yaml")
    return load_yaml(text.read_text("utf-8"))


@cache
def violent_catalogue() -> tuple[ViolentEntry, ...]:
    entries = []
    for e in _catalogue_document()["violent_crimes"]:
        if e["violent"] not in ("always", "conditional") or not e["id"].startswith("il:"):
            raise ValueError(f"il_offences.yaml: bad entry {e['id']!r}")
        entries.append(ViolentEntry(e["id"], e["label"], e["violent"], e["category"]))
    return tuple(entries)


def violent_match(statute: ILStatute) -> ViolentEntry | None:
    """The catalogue entry a parsed charge falls under (its section, or a subsection path)."""
    if not statute.statute_id:
        return None
    for entry in violent_catalogue():
        sid = statute.statute_id
        if sid == entry.statute_id or sid.startswith(entry.statute_id + ":"):
            if statute.attempt and entry.violent != "always":
                continue
            return entry
    return None


CLASSIFY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("statute_raw", "VARCHAR"),
    ("statute", "VARCHAR"),
    ("statute_act", "VARCHAR"),
    ("statute_section", "VARCHAR"),
    ("statute_subsection", "VARCHAR"),  # the first subsection letter, e.g. 'c'
    ("statute_attempt", "BOOLEAN"),
    ("statute_parsed", "BOOLEAN"),
    ("cannabis_section", "VARCHAR"),  # the section of 720 ILCS 550, e.g. '4', '5.1'
    ("violent", "VARCHAR"),  # 'always' | 'conditional' | NULL
    ("violent_label", "VARCHAR"),
)


def classify_statutes(texts: list[str | None]) -> list[tuple[Any, ...]]:
    """One row (CLASSIFY_COLUMNS) per distinct citation, for the SQL engine to join."""
    rows = []
    for raw in texts:
        s = parse_statute(raw)
        v = violent_match(s)
        rows.append(
            (
                raw, s.statute_id, s.act, s.section,
                s.subsections[0] if s.subsections else None, s.attempt, s.parsed,
                s.section if s.act == CANNABIS_ACT else None,
                v.violent if v else None, v.label if v else None,
            )
        )  # fmt: skip
    return rows
