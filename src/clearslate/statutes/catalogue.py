"""Offence catalogues (superstrike priors, PC 290 offences, related charges) and bulk classification.

Why this module exists. Prop 64 relief depends on lists written in other statutes: a
superstrike prior (PC 667(e)(2)(C)(iv)) or a PC 290(c) registrable prior keeps an HS 11358,
11359 or 11360 conviction a possible felony, and offices choose which "related charges" to clear
with the cannabis ones (reference/law-notes.md 1.2, 1.4). gogen 0.2.13 keeps these lists as
unanchored regular expressions in code, so ``237 PC`` is a superstrike, ``261.5 PC`` a PC 290
offence, and its related-charge list never matches ``647(F) PC`` or ``148(A)(1) PC``
(reference/gogen-behaviour.md 5.4, 5.6 and section 8 item 11).

Here the lists are data (``data/ca_offences.yaml``): each entry is a statute id, a label, the
subsection forms it covers, and a note where the law is in doubt. They are matched against a
parsed :class:`~clearslate.statutes.normalise.Charge`, anchored on code, section and
subsections. The file is loaded once and validated; a malformed entry raises
:class:`StatuteDataError` naming the file and the entry.

:func:`classify_charges` is the bridge to the SQL engine: the engine collects the distinct
(OFFENSE_DESCR, COMMENT_TEXT) pairs of a file, this function classifies each pair in Python
(no per-row loop, only per distinct pair), and the engine joins the rows back. Every value is
a plain ``str`` or ``bool`` so the list loads into DuckDB in one call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from clearslate.shipped_yaml import load_yaml
from clearslate.statutes.normalise import (
    HEAD_LEN,
    Charge,
    ChargeParts,
    _Memo,
    _parse_head,
    charge_text,
    find_prop64_section,
    format_statute_id,
    gogen_code_section_in_comment,
    gogen_possible_other_p64,
    gogen_prop64_number,
)
from clearslate.statutes.normalise import clear_caches as _clear_normalise_caches

__all__ = [
    "CLASSIFY_COLUMNS",
    "Catalogue",
    "CatalogueEntry",
    "StatuteDataError",
    "classify_charges",
    "default_related_ids",
    "gogen_is_pc290",
    "gogen_is_related",
    "gogen_is_superstrike",
    "is_pc290_offence",
    "is_related_charge",
    "is_superstrike",
    "load_catalogue",
]

DATA_FILE = "ca_offences.yaml"
SCHEMA_VERSION = 1

_SECTION_ID_RE = re.compile(r"^ca:[a-z]+:[0-9a-z.]+$")
_PREFIX_ID_RE = re.compile(r"^ca:[a-z]+:[0-9a-z.]+(:[0-9a-z]+)*$")
_SUBSECTION_GROUP_RE = re.compile(r"\(([0-9a-z]+|\[[0-9a-z]+\])\)(\?)?")
_CODE_RE = re.compile(r"^[A-Z]{2,4}$")
_ALIAS_RE = re.compile(r"^[A-Z&]{2,4}$")


class StatuteDataError(ValueError):
    """The statute data file is malformed. The message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One member of a catalogue, as returned by the matchers.

    ``id`` is the statute id of the section (for related charges: the prefix it covers);
    ``statute`` is its human form (``PC 286``); ``citation`` is the authority for the list
    (``PC 667(e)(2)(C)(iv)``).
    """

    catalogue: str
    id: str
    statute: str
    label: str
    citation: str
    note: str = ""
    subsections: tuple[str, ...] = ()
    attempts_included: bool = False
    with_statute: str = ""
    member: bool = True
    legal_review: bool = False
    differs_from_gogen: str = ""
    default: bool = False
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rule:
    entry: CatalogueEntry
    code: str
    section: str
    section_re: re.Pattern[str] | None
    subsections_re: re.Pattern[str]


@dataclass(frozen=True)
class Catalogue:
    """The loaded data file: codes, the three catalogues, and gogen's patterns."""

    path: str
    code_aliases: Mapping[str, str]
    code_names: Mapping[str, str]
    superstrike: tuple[CatalogueEntry, ...]
    pc290: tuple[CatalogueEntry, ...]
    related: tuple[CatalogueEntry, ...]
    default_related: tuple[str, ...]
    gogen_superstrike: _GogenList
    gogen_pc290: _GogenList
    gogen_related: _GogenList
    _superstrike_rules: Mapping[tuple[str, str], tuple[_Rule, ...]] = field(repr=False)
    _superstrike_regex_rules: tuple[_Rule, ...] = field(repr=False)
    _pc290_rules: Mapping[tuple[str, str], tuple[_Rule, ...]] = field(repr=False)
    _pc290_regex_rules: tuple[_Rule, ...] = field(repr=False)
    _related_by_id: Mapping[str, CatalogueEntry] = field(repr=False)


# ---------------------------------------------------------------------------------------------
# Loading and validation


def _fail(path: str, where: str, message: str) -> StatuteDataError:
    return StatuteDataError(f"{path}: {where}: {message}")


def _compile_subsections(pattern: str) -> str:
    """Translate one subsection pattern of the data file into an anchored regex fragment.

    The subsections of a charge are matched as ``":a:1"`` (each one preceded by a colon)."""
    if pattern == "bare":
        return ""
    if pattern == "any":
        return "(?::[0-9a-z]+)*"
    body, star = (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)
    out: list[str] = []
    pos = 0
    while pos < len(body):
        m = _SUBSECTION_GROUP_RE.match(body, pos)
        if m is None:
            raise ValueError(f"bad subsection pattern {pattern!r} at {body[pos:]!r}")
        atom = ":" + m.group(1)
        out.append(f"(?:{atom})?" if m.group(2) else atom)
        pos = m.end()
    if not out:
        raise ValueError(f"bad subsection pattern {pattern!r}")
    if star:
        out.append("(?::[0-9a-z]+)*")
    return "".join(out)


_ENTRY_KEYS = {
    "superstrike": {
        "id",
        "label",
        "subsections",
        "attempts",
        "with",
        "section_pattern",
        "note",
        "legal_review",
        "differs_from_gogen",
        "member",
    },
    "related": {"id", "label", "default", "used_by", "note", "legal_review", "differs_from_gogen"},
}
_ENTRY_KEYS["pc290"] = _ENTRY_KEYS["superstrike"]
_CATALOGUE_KEYS = {"title", "citation", "also_cited", "attempts", "note", "entries"}


def _opt_str(raw: Mapping[str, Any], key: str, path: str, where: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise _fail(path, where, f"{key!r} must be text")
    return value.strip()


def _opt_bool(raw: Mapping[str, Any], key: str, default: bool, path: str, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(path, where, f"{key!r} must be true or false")
    return value


def _attempts(value: Any, path: str, where: str) -> bool:
    if value not in ("included", "excluded"):
        raise _fail(path, where, "'attempts' must be 'included' or 'excluded'")
    return bool(value == "included")


def _load_rules(
    name: str, raw: Any, path: str
) -> tuple[tuple[CatalogueEntry, ...], dict[tuple[str, str], tuple[_Rule, ...]], tuple[_Rule, ...]]:
    where = f"catalogues.{name}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    unknown = set(raw) - _CATALOGUE_KEYS
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}")
    citation = _opt_str(raw, "citation", path, where)
    if not citation:
        raise _fail(path, where, "'citation' is required")
    default_attempts = _attempts(raw.get("attempts", "excluded"), path, where)
    items = raw.get("entries")
    if not isinstance(items, list) or not items:
        raise _fail(path, where, "'entries' must be a non-empty list")
    entries: list[CatalogueEntry] = []
    by_section: dict[tuple[str, str], list[_Rule]] = {}
    regex_rules: list[_Rule] = []
    for i, item in enumerate(items):
        ewhere = f"{where}.entries[{i}]"
        if not isinstance(item, dict):
            raise _fail(path, ewhere, "must be a mapping")
        sid = item.get("id")
        if isinstance(sid, str):
            ewhere = f"{ewhere} ({sid})"
        unknown = set(item) - _ENTRY_KEYS[name]
        if unknown:
            raise _fail(path, ewhere, f"unknown keys {sorted(unknown)}")
        if not isinstance(sid, str) or not _SECTION_ID_RE.match(sid):
            raise _fail(path, ewhere, "'id' must be a section id such as ca:pc:187")
        label = _opt_str(item, "label", path, ewhere)
        if not label:
            raise _fail(path, ewhere, "'label' is required")
        patterns = item.get("subsections")
        if not isinstance(patterns, list) or not patterns:
            raise _fail(path, ewhere, "'subsections' must be a non-empty list of patterns")
        try:
            frags = [_compile_subsections(p) for p in patterns if isinstance(p, str)]
        except ValueError as exc:
            raise _fail(path, ewhere, str(exc)) from None
        if len(frags) != len(patterns):
            raise _fail(path, ewhere, "each subsection pattern must be text")
        with_statute = _opt_str(item, "with", path, ewhere)
        if with_statute and not _PREFIX_ID_RE.match(with_statute):
            raise _fail(path, ewhere, "'with' must be a statute id such as ca:pc:186.22:b:4")
        section_pattern = _opt_str(item, "section_pattern", path, ewhere)
        section_re = None
        if section_pattern:
            try:
                section_re = re.compile(section_pattern, re.ASCII)
            except re.error as exc:
                raise _fail(path, ewhere, f"bad 'section_pattern': {exc}") from None
        attempts = default_attempts
        if "attempts" in item:
            attempts = _attempts(item["attempts"], path, ewhere)
        _, code, section = sid.split(":")
        entry = CatalogueEntry(
            catalogue=name,
            id=sid,
            statute=format_statute_id(sid),
            label=label,
            citation=citation,
            note=_opt_str(item, "note", path, ewhere),
            subsections=tuple(patterns),
            attempts_included=attempts,
            with_statute=with_statute,
            member=_opt_bool(item, "member", True, path, ewhere),
            legal_review=_opt_bool(item, "legal_review", False, path, ewhere),
            differs_from_gogen=_opt_str(item, "differs_from_gogen", path, ewhere),
        )
        entries.append(entry)
        if not entry.member:
            continue
        rule = _Rule(
            entry=entry,
            code=code.upper(),
            section=section,
            section_re=section_re,
            subsections_re=re.compile("|".join(f"(?:{f})" for f in frags)),
        )
        if section_re is not None:
            regex_rules.append(rule)
        else:
            by_section.setdefault((rule.code, section), []).append(rule)
    frozen = {k: tuple(v) for k, v in by_section.items()}
    return tuple(entries), frozen, tuple(regex_rules)


def _load_related(raw: Any, path: str) -> tuple[CatalogueEntry, ...]:
    where = "catalogues.related"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    unknown = set(raw) - _CATALOGUE_KEYS
    if unknown:
        raise _fail(path, where, f"unknown keys {sorted(unknown)}")
    citation = _opt_str(raw, "citation", path, where)
    items = raw.get("entries")
    if not isinstance(items, list) or not items:
        raise _fail(path, where, "'entries' must be a non-empty list")
    out: list[CatalogueEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        ewhere = f"{where}.entries[{i}]"
        if not isinstance(item, dict):
            raise _fail(path, ewhere, "must be a mapping")
        sid = item.get("id")
        if isinstance(sid, str):
            ewhere = f"{ewhere} ({sid})"
        unknown = set(item) - _ENTRY_KEYS["related"]
        if unknown:
            raise _fail(path, ewhere, f"unknown keys {sorted(unknown)}")
        if not isinstance(sid, str) or not _PREFIX_ID_RE.match(sid):
            raise _fail(path, ewhere, "'id' must be a statute id such as ca:pc:148 or ca:pc:647:f")
        if sid in seen:
            raise _fail(path, ewhere, "duplicate id")
        seen.add(sid)
        label = _opt_str(item, "label", path, ewhere)
        if not label:
            raise _fail(path, ewhere, "'label' is required")
        used_by = item.get("used_by", [])
        if not isinstance(used_by, list) or not all(isinstance(u, str) for u in used_by):
            raise _fail(path, ewhere, "'used_by' must be a list of names")
        out.append(
            CatalogueEntry(
                catalogue="related",
                id=sid,
                statute=format_statute_id(sid),
                label=label,
                citation=citation,
                note=_opt_str(item, "note", path, ewhere),
                legal_review=_opt_bool(item, "legal_review", False, path, ewhere),
                differs_from_gogen=_opt_str(item, "differs_from_gogen", path, ewhere),
                default=_opt_bool(item, "default", False, path, ewhere),
                used_by=tuple(used_by),
            )
        )
    return tuple(out)


def _load_codes(raw: Any, path: str) -> tuple[dict[str, str], dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise _fail(path, "codes", "must be a non-empty list")
    aliases: dict[str, str] = {}
    names: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = f"codes[{i}]"
        if not isinstance(item, dict) or set(item) - {"code", "name", "aliases"}:
            raise _fail(path, where, "must be a mapping with code, name and aliases")
        code = item.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise _fail(path, where, "'code' must be 2 to 4 upper-case letters")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(path, f"{where} ({code})", "'name' is required")
        extra = item.get("aliases", [])
        if not isinstance(extra, list):
            raise _fail(path, f"{where} ({code})", "'aliases' must be a list")
        names[code] = name.strip()
        for alias in [code, *extra]:
            if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
                raise _fail(path, f"{where} ({code})", f"bad alias {alias!r}")
            if alias in aliases:
                raise _fail(path, f"{where} ({code})", f"alias {alias!r} is used twice")
            aliases[alias] = code
    return aliases, names


def _required_literal(pattern: str) -> str:
    """The longest run of literal text every match of ``pattern`` must contain ("" if none).

    Only what the gogen pattern lists need: top-level literals and ``\\x`` escapes; groups,
    classes and ``.`` break a run; a quantifier drops the character it applies to; a
    top-level ``|`` means nothing is required.
    """
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)

    def close() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt.isalnum():  # \d, \s ...: a class, not a literal
                close()
            else:
                run.append(nxt)
            i += 2
        elif ch in "([":
            close()
            depth, j, closing = 0, i, ")" if ch == "(" else "]"
            while j < n:
                if pattern[j] == "\\":
                    j += 2
                    continue
                if pattern[j] == ch and ch == "(":
                    depth += 1
                elif pattern[j] == closing:
                    depth -= 1
                    if depth <= 0:
                        break
                j += 1
            i = j + 1
        elif ch in "?*+{":
            if run:
                run.pop()
            close()
            if ch == "{":
                i = pattern.find("}", i) + 1 or n
            else:
                i += 1
        elif ch == "|":
            return ""
        elif ch in ".^$":
            close()
            i += 1
        else:
            run.append(ch)
            i += 1
    close()
    return max(runs, key=len, default="")


@dataclass(frozen=True, slots=True)
class _GogenList:
    """gogen's unanchored "any pattern matches" test, arranged to run fast.

    Patterns that start with literal text share one alternation (the regex engine skips
    quickly to possible starts); the others (the gang-enhancement combinations, which start
    with a group) run only when their required literal text occurs. Same answers as trying
    every pattern in turn.
    """

    main: re.Pattern[str] | None
    gated: tuple[tuple[str, re.Pattern[str]], ...]

    def search(self, text: str) -> bool:
        if self.main is not None and self.main.search(text) is not None:
            return True
        return any(lit in text and rx.search(text) is not None for lit, rx in self.gated)


def _load_gogen(raw: Any, path: str) -> tuple[_GogenList, ...]:
    if not isinstance(raw, dict):
        raise _fail(path, "gogen_0_2_13", "must be a mapping")
    out: list[_GogenList] = []
    for key in ("superstrike_patterns", "pc290_patterns", "related_patterns"):
        pats = raw.get(key)
        if not isinstance(pats, list) or not pats or not all(isinstance(p, str) for p in pats):
            raise _fail(path, f"gogen_0_2_13.{key}", "must be a non-empty list of patterns")
        plain: list[str] = []
        gated: list[tuple[str, re.Pattern[str]]] = []
        for i, p in enumerate(pats):
            try:
                rx = re.compile(p, re.ASCII)
            except re.error as exc:
                raise _fail(path, f"gogen_0_2_13.{key}[{i}]", f"bad pattern: {exc}") from None
            if p[:1].isalnum() or p[:1] == " ":
                plain.append(p)
            else:
                gated.append((_required_literal(p), rx))
        main = re.compile("|".join(f"(?:{p})" for p in plain), re.ASCII) if plain else None
        out.append(_GogenList(main, tuple(gated)))
    return tuple(out)


def _build(data: Any, path: str) -> Catalogue:
    if not isinstance(data, dict):
        raise _fail(path, "top level", "must be a mapping")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise _fail(path, "schema_version", f"must be {SCHEMA_VERSION}")
    if data.get("jurisdiction") != "ca":
        raise _fail(path, "jurisdiction", "must be 'ca'")
    aliases, names = _load_codes(data.get("codes"), path)
    cats = data.get("catalogues")
    if not isinstance(cats, dict):
        raise _fail(path, "catalogues", "must be a mapping")
    missing = {"superstrike", "pc290", "related"} - set(cats)
    if missing:
        raise _fail(path, "catalogues", f"missing {sorted(missing)}")
    ss_entries, ss_rules, ss_regex = _load_rules("superstrike", cats["superstrike"], path)
    p290_entries, p290_rules, p290_regex = _load_rules("pc290", cats["pc290"], path)
    for rules in (ss_rules, p290_rules):
        for (code, section), _ in rules.items():
            if code not in names:
                raise _fail(path, f"catalogues: ca:{code.lower()}:{section}", "unknown code")
    related = _load_related(cats["related"], path)
    gogen_ss, gogen_290, gogen_rel = _load_gogen(data.get("gogen_0_2_13"), path)
    return Catalogue(
        path=path,
        code_aliases=aliases,
        code_names=names,
        superstrike=ss_entries,
        pc290=p290_entries,
        related=related,
        default_related=tuple(e.id for e in related if e.default),
        gogen_superstrike=gogen_ss,
        gogen_pc290=gogen_290,
        gogen_related=gogen_rel,
        _superstrike_rules=ss_rules,
        _superstrike_regex_rules=ss_regex,
        _pc290_rules=p290_rules,
        _pc290_regex_rules=p290_regex,
        _related_by_id={e.id: e for e in related},
    )


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue file (the packaged ``ca_offences.yaml`` by default).

    The default file is read once per process. Raises :class:`StatuteDataError` naming the file
    and the entry when the file is malformed.
    """
    if path is None:
        return _default_catalogue()
    return _read(Path(path))


@lru_cache(maxsize=1)
def _default_catalogue() -> Catalogue:
    ref = resources.files("clearslate.statutes").joinpath("data", DATA_FILE)
    with resources.as_file(ref) as p:
        return _read(Path(p))


def _read(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StatuteDataError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise StatuteDataError(f"{path}: not valid YAML: {exc}") from None
    return _build(data, str(path))


# ---------------------------------------------------------------------------------------------
# Matchers


def _has_statute(ids: Iterable[str], prefix: str) -> bool:
    return any(i == prefix or i.startswith(prefix + ":") for i in ids)


def _match_ids(
    sid: str,
    attempt: bool,
    others: tuple[str, ...],
    rules: Mapping[tuple[str, str], tuple[_Rule, ...]],
    regex_rules: tuple[_Rule, ...],
) -> CatalogueEntry | None:
    """The first rule matching the charge's main section or one of its other sections."""
    if not sid:
        return None
    all_ids = (sid, *others)
    for idx, cid in enumerate(all_ids):
        _ca, code, section, *subs = cid.split(":")
        code = code.upper()
        found = rules.get((code, section), ())
        for r in regex_rules:
            if r.code == code and r.section_re is not None and r.section_re.fullmatch(section):
                found = (*found, r)
        if not found:
            continue
        subs_key = "".join(":" + x for x in subs)
        for rule in found:
            if not rule.subsections_re.fullmatch(subs_key):
                continue
            if attempt and idx == 0 and not rule.entry.attempts_included:
                continue
            if rule.entry.with_statute:
                rest = [x for j, x in enumerate(all_ids) if j != idx]
                if not _has_statute(rest, rule.entry.with_statute):
                    continue
            return rule.entry
    return None


def _match(
    charge: Charge,
    rules: Mapping[tuple[str, str], tuple[_Rule, ...]],
    regex_rules: tuple[_Rule, ...],
) -> CatalogueEntry | None:
    if not charge.parsed:
        return None
    return _match_ids(
        charge.statute_id, charge.attempt, charge.other_statute_ids, rules, regex_rules
    )


def is_superstrike(charge: Charge, catalogue: Catalogue | None = None) -> CatalogueEntry | None:
    """The superstrike entry (PC 667(e)(2)(C)(iv)) the charge matches, or None.

    Anchored on code, section and subsections: ``237 PC``, ``1187 PC``, ``189.2 PC`` and
    ``12022.5 PC`` are not superstrikes. Gang-enhancement combinations count when both sections
    are in the charge's code section (``246/186.22(B)(4) PC``). Attempts count only for the
    homicide offences.
    """
    cat = catalogue or load_catalogue()
    return _match(charge, cat._superstrike_rules, cat._superstrike_regex_rules)


def is_pc290_offence(charge: Charge, catalogue: Catalogue | None = None) -> CatalogueEntry | None:
    """The PC 290(c) entry the charge matches, or None. ``261.5 PC`` is not in the list."""
    cat = catalogue or load_catalogue()
    return _match(charge, cat._pc290_rules, cat._pc290_regex_rules)


def default_related_ids(catalogue: Catalogue | None = None) -> tuple[str, ...]:
    """The related-charge ids used when a policy names none (the gogen_pilots list)."""
    return (catalogue or load_catalogue()).default_related


def _related_entry(cat: Catalogue, rid: str) -> CatalogueEntry:
    entry = cat._related_by_id.get(rid)
    if entry is not None:
        return entry
    return CatalogueEntry(
        catalogue="related",
        id=rid,
        statute=format_statute_id(rid),
        label=format_statute_id(rid),
        citation="office policy",
    )


def is_related_charge(
    charge: Charge,
    related_ids: Iterable[str] | None = None,
    catalogue: Catalogue | None = None,
) -> CatalogueEntry | None:
    """The related-charge entry the charge matches, or None.

    ``related_ids`` are statute-id prefixes (``ca:pc:148`` covers ``148(A)(1) PC``;
    ``ca:pc:647:f`` covers ``647(F) PC`` only); by default the data file's default list. An id
    that is not in the data file still matches and gets a plain label.
    """
    cat = catalogue or load_catalogue()
    ids = cat.default_related if related_ids is None else tuple(related_ids)
    return _match_related(charge, ids, cat)


def _match_related(charge: Charge, ids: tuple[str, ...], cat: Catalogue) -> CatalogueEntry | None:
    if not charge.parsed:
        return None
    return _match_related_id(charge.statute_id, ids, cat)


def _match_related_id(sid: str, ids: tuple[str, ...], cat: Catalogue) -> CatalogueEntry | None:
    for rid in ids:
        if sid == rid or sid.startswith(rid + ":"):
            return _related_entry(cat, rid)
    return None


def _check_related_ids(ids: tuple[str, ...]) -> None:
    for rid in ids:
        if not isinstance(rid, str) or not _PREFIX_ID_RE.match(rid):
            raise ValueError(f"related charge id {rid!r} is not a statute id like ca:pc:148")


# gogen 0.2.13's own list matchers, applied to its code section (gogen_code_section).


def gogen_is_superstrike(code_section: str, catalogue: Catalogue | None = None) -> bool:
    """gogen 0.2.13's superstrike test on its code section (unanchored; ``237 PC`` is true)."""
    return (catalogue or load_catalogue()).gogen_superstrike.search(code_section)


def gogen_is_pc290(code_section: str, catalogue: Catalogue | None = None) -> bool:
    """gogen 0.2.13's PC 290 test on its code section (``261.5 PC`` is true)."""
    return (catalogue or load_catalogue()).gogen_pc290.search(code_section)


def gogen_is_related(code_section: str, catalogue: Catalogue | None = None) -> bool:
    """gogen 0.2.13's related-charge test on its code section (``647(F) PC`` is false)."""
    return (catalogue or load_catalogue()).gogen_related.search(code_section)


# ---------------------------------------------------------------------------------------------
# Bulk classification of distinct (OFFENSE_DESCR, COMMENT_TEXT) pairs

#: The keys of each dict returned by :func:`classify_charges`, in order.
CLASSIFY_COLUMNS: tuple[str, ...] = (
    "offense_descr",
    "comment_text",
    "statute_id",
    "code",
    "section",
    "subsections",
    "attempt",
    "from_comment",
    "parsed",
    "parse_problem",
    "raw_section",
    "other_statute_ids",
    "prop64_section",
    "subsection_changed_2016",
    "is_superstrike",
    "superstrike_id",
    "superstrike_label",
    "is_pc290",
    "pc290_id",
    "pc290_label",
    "is_related",
    "related_id",
    "related_label",
    "gogen_code_section",
    "gogen_prop64_number",
    "gogen_possible_other_p64",
    "gogen_is_superstrike",
    "gogen_is_pc290",
    "gogen_is_related",
    "comment_prop64_section",
)

_LONG = 4096  # gogen code sections longer than this are not memoised (pathological input)
_CACHE_SIZE = 1 << 17
# related ids -> {(id(ChargeParts), from_comment): (ChargeParts, charge columns)}
_COLUMNS_MEMOS: dict[tuple[str, ...], _Memo] = {}
_GOGEN_MEMO = _Memo()  # gogen code section -> gogen columns


def clear_caches() -> None:
    """Empty the memos of this module and of normalise (benchmarks and tests only)."""
    _COLUMNS_MEMOS.clear()
    _GOGEN_MEMO.clear()
    _catalogue_hits.cache_clear()
    _clear_normalise_caches()


@lru_cache(maxsize=_CACHE_SIZE)
def _catalogue_hits(
    sid: str, attempt: bool, others: tuple[str, ...], related: tuple[str, ...]
) -> tuple[CatalogueEntry | None, CatalogueEntry | None, CatalogueEntry | None]:
    # Distinct statutes are far fewer than distinct charge texts: cache on the statute.
    cat = load_catalogue()
    if not sid:
        return None, None, None
    return (
        _match_ids(sid, attempt, others, cat._superstrike_rules, cat._superstrike_regex_rules),
        _match_ids(sid, attempt, others, cat._pc290_rules, cat._pc290_regex_rules),
        _match_related_id(sid, related, cat),
    )


def _charge_columns(
    p: ChargeParts, from_comment: bool, related: tuple[str, ...]
) -> dict[str, str | bool]:
    # Keyed on the parse, not the text: many descriptions share one code section, so this
    # runs once per distinct statute reading, not once per distinct text.
    ss, p290, rel = _catalogue_hits(p.statute_id, p.attempt, p.other_statute_ids, related)
    return {
        "statute_id": p.statute_id,
        "code": p.code,
        "section": p.section,
        "subsections": ":".join(p.subsections),
        "attempt": p.attempt,
        "from_comment": from_comment,
        "parsed": p.parsed,
        "parse_problem": p.problem,
        "raw_section": p.raw_section,
        "other_statute_ids": ";".join(p.other_statute_ids),
        "prop64_section": p.prop64_section or "",
        "subsection_changed_2016": bool(
            p.prop64_section == "11357" and p.subsections and p.subsections[0] in "abcd"
        ),
        "is_superstrike": ss is not None,
        "superstrike_id": ss.id if ss else "",
        "superstrike_label": ss.label if ss else "",
        "is_pc290": p290 is not None,
        "pc290_id": p290.id if p290 else "",
        "pc290_label": p290.label if p290 else "",
        "is_related": rel is not None,
        "related_id": rel.id if rel else "",
        "related_label": rel.label if rel else "",
    }


def _gogen_columns(code_section: str) -> tuple[str, bool, bool, bool]:
    cat = load_catalogue()
    return (
        gogen_prop64_number(code_section) or "",
        cat.gogen_superstrike.search(code_section),
        cat.gogen_pc290.search(code_section),
        cat.gogen_related.search(code_section),
    )


def classify_charges(
    pairs: Iterable[tuple[str | None, str | None]],
    related_ids: Iterable[str] | None = None,
) -> list[dict[str, str | bool]]:
    """Classify distinct (OFFENSE_DESCR, COMMENT_TEXT) pairs; one dict per pair, in order.

    Keys are :data:`CLASSIFY_COLUMNS`; every value is ``str`` or ``bool`` (absent values are
    ``""``), so the engine can load the list into DuckDB in one call and join it back on the
    pair. ``related_ids`` selects the related-charge list (default: the data file's). NULLs
    (``None``) are read as empty text and returned as ``""``.
    """
    cat = load_catalogue()
    related = cat.default_related if related_ids is None else tuple(related_ids)
    _check_related_ids(related)
    out: list[dict[str, str | bool]] = []
    append = out.append
    columns_memo = _COLUMNS_MEMOS.get(related)
    if columns_memo is None:
        if len(_COLUMNS_MEMOS) > 8:
            _COLUMNS_MEMOS.clear()
        columns_memo = _COLUMNS_MEMOS[related] = _Memo()
    gogen_memo = _GOGEN_MEMO
    for offense_raw, comment_raw in pairs:
        offense = offense_raw or ""
        comment = comment_raw or ""
        text, from_comment = charge_text(offense, comment)
        parts = _parse_head(text.lstrip()[:HEAD_LEN])
        # Parses come from normalise's memos, so equal parses are mostly the same object:
        # key on identity (cheap) and keep the object in the value so the id stays valid.
        hit = columns_memo.get((id(parts), from_comment))
        if hit is not None and hit[0] is parts:
            base = hit[1]
        else:
            base = _charge_columns(parts, from_comment, related)
            columns_memo.put((id(parts), from_comment), (parts, base))
        # Go trims fewer characters than Python, so when we read OFFENSE_DESCR gogen does too;
        # only when we fall back to the comment can gogen disagree ("see comment for charge").
        g_in_comment = from_comment and gogen_code_section_in_comment(offense)
        gcs = (comment if g_in_comment else offense).partition("-")[0]
        gcols = gogen_memo.get(gcs)
        if gcols is None:
            gcols = _gogen_columns(gcs)
            if len(gcs) <= _LONG:
                gogen_memo.put(gcs, gcols)
        g_num, g_ss, g_290, g_rel = gcols
        append(
            {
                "offense_descr": offense,
                "comment_text": comment,
                **base,
                "gogen_code_section": gcs,
                "gogen_prop64_number": g_num,
                "gogen_possible_other_p64": (
                    ""
                    if g_in_comment or not comment
                    else gogen_possible_other_p64(offense, comment)
                ),
                "gogen_is_superstrike": g_ss,
                "gogen_is_pc290": g_290,
                "gogen_is_related": g_rel,
                "comment_prop64_section": (
                    "" if from_comment or not comment else (find_prop64_section(comment) or "")
                ),
            }
        )
    return out
