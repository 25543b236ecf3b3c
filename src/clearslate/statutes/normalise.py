"""Turn California charge text into statute ids, and reproduce gogen's reading of the same text.

Why this module exists. Every later decision (is this a Prop 64 conviction, is it a superstrike,
is it a related charge) depends on reading the code section out of free text such as
``11359 HS-POSSESS MARIJUANA FOR SALE``, ``664/11360(A) HS``, ``4149 BP - UNLICENSED`` or
``11360(B) SELL/FURNISH/ETC MARIJUANA/HASH``. gogen 0.2.13 reads it as "the text before the
first ``-``" and then searches it with unanchored patterns, which loses ``664-11359 HS``
(its code section is ``664``) and treats ``11357.5 HS`` and ``211360 HS`` as Prop 64 charges
(reference/gogen-behaviour.md 2.3, 5.5 and section 8 items 8 and 11).

So this module has two halves:

* :func:`parse_charge` reads the text properly into a :class:`Charge`: code (``HS``), section
  (``11359``; ``11357.5`` is a different section), subsections (``('a', '1')``), the PC 664
  attempt prefix, and a statute id such as ``ca:hs:11359:b``. A shape it does not recognise
  gives ``parsed=False`` and a ``problem`` text; it never guesses silently. The one inference
  it makes is written down: a Prop 64 section number with no code letters (``11360(B) SELL``)
  is read as Health and Safety Code.
* ``gogen_*`` functions reproduce gogen 0.2.13 exactly, bugs included, for the informational
  columns of the gogen-compatible bundle and so that the documentation can show each
  difference. They are never used for a decision.

The bulk engine runs in SQL and calls this code once per DISTINCT charge text, not per row, so
everything here is a pure function of its arguments, precompiled and cached. Only the first
:data:`HEAD_LEN` characters after leading whitespace are read for the code section; the
description after it never changes the result, which also bounds the work on pathological
input (a 1 MB field costs one ``lstrip``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = [
    "HEAD_LEN",
    "PROP64_SECTIONS",
    "STATUTE_ID_RE",
    "Charge",
    "ChargeParts",
    "charge_text",
    "clear_caches",
    "find_prop64_section",
    "format_statute_id",
    "gogen_code_section",
    "gogen_code_section_in_comment",
    "gogen_possible_other_p64",
    "gogen_prop64_number",
    "parse_charge",
    "parse_text",
    "statute_id",
]

#: The four sections Prop 64 (HS 11361.8) covers; ``prop64_section`` is one of these or None.
PROP64_SECTIONS: frozenset[str] = frozenset({"11357", "11358", "11359", "11360"})

#: The marker DOJ writes in OFFENSE_DESCR when the charge is in COMMENT_TEXT.
SEE_COMMENT = "SEE COMMENT FOR CHARGE"

#: Characters read for the code section (after leading whitespace). Real code sections,
#: even combinations such as ``213(A)(1)(A) + 186.22(B)(4) PC``, are far shorter.
HEAD_LEN = 256

#: At most this many sections are read from one combined code section (``246/186.22(B)(4) PC``).
MAX_SECTIONS = 6

#: A well-formed statute id: ``ca:<code>:<section>[:<subsection>...]``.
STATUTE_ID_RE = re.compile(r"^ca:[a-z]+:[0-9a-z.]+(:[0-9a-z]+)*$")

_MAX_SECTION_DIGITS = 6
_MAX_DECIMAL_DIGITS = 4
_MAX_SUFFIX_LETTERS = 2
_CACHE_SIZE = 1 << 17


@dataclass(frozen=True, slots=True)
class Charge:
    """One charge as read from a DOJ row (or any charge text).

    ``statute_id`` is empty exactly when ``parsed`` is False; ``code``, ``section`` and
    ``subsections`` then hold whatever could be read, for the reviewer. ``attempt`` is not part
    of the statute id: ``664-11359 HS`` is ``ca:hs:11359`` with ``attempt=True``.
    """

    text: str
    from_comment: bool
    raw_section: str
    code: str
    section: str
    subsections: tuple[str, ...]
    attempt: bool
    statute_id: str
    parsed: bool
    prop64_section: str | None
    other_statute_ids: tuple[str, ...] = ()
    problem: str = ""


class ChargeParts(NamedTuple):
    """What :func:`parse_text` reads from a charge text: :class:`Charge` without the text.

    The bulk path works on these (cheap to build and to share between equal readings)."""

    raw_section: str
    code: str
    section: str
    subsections: tuple[str, ...]
    attempt: bool
    statute_id: str
    parsed: bool
    prop64_section: str | None
    other_statute_ids: tuple[str, ...]
    problem: str


def _parts(values: tuple[Any, ...]) -> ChargeParts:
    # tuple.__new__ skips NamedTuple's Python-level __new__: several times faster, same object.
    return tuple.__new__(ChargeParts, values)


class _Grammar(NamedTuple):
    aliases: dict[str, str]
    lead: re.Pattern[str]
    attempt: re.Pattern[str]
    token: re.Pattern[str]
    connector: re.Pattern[str]
    subsection: re.Pattern[str]
    unknown_code: re.Pattern[str]
    comment_prop64: re.Pattern[str]
    fast: re.Pattern[str]


# All patterns run on an ASCII-upper-cased copy of the text (same length, same offsets), which
# is markedly faster than re.IGNORECASE; code letters are matched as a word and looked up.
_CODE_WORD = r"[A-Z][A-Z&]{1,3}(?![A-Z&])"
_SUBSECTIONS = r"(?:[ \t]*\([ \t]*[A-Z0-9]{1,4}[ \t]*\))*+"
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _ascii_upper(text: str) -> str:
    return text.upper() if text.isascii() else text.translate(_ASCII_UPPER)


@lru_cache(maxsize=1)
def _grammar() -> _Grammar:
    """Compile the parser's regular expressions once; the code letters come from the YAML data."""
    # Imported here: catalogue imports this module, and the code list lives in its data file.
    from clearslate.statutes.catalogue import load_catalogue

    return _Grammar(
        aliases=dict(load_catalogue().code_aliases),
        # "HS 11359", "HS11359", "PC. 148": code letters before the number.
        lead=re.compile(r"(?P<code>[A-Z][A-Z&]{1,3})[ \t]*\.?[ \t]*(?=[0-9])", re.ASCII),
        # "664-11359", "664/11360", "664.11357", "664 11359", and "66411357" (glued, only
        # before a Prop 64 number: the one glued form in DOJ data and gogen's tests).
        attempt=re.compile(
            r"664(?:[ \t]*[-/][ \t]*(?=[0-9])|\.(?=[0-9]{3})|[ \t]+(?=[0-9]{3})"
            r"|(?=(?:1135[789]|11360)(?![0-9])))",
            re.ASCII,
        ),
        # One section: number, glued letters, parenthesised subsections, code letters.
        token=re.compile(
            rf"(?P<num>[0-9]++(?:\.[0-9]++)?+)(?P<glued>[A-Z&]++)?(?P<subs>{_SUBSECTIONS})"
            rf"(?:[ \t]*+(?P<code>{_CODE_WORD}))?",
            re.ASCII,
        ),
        # Between two sections of one code section: "/", "+", "&", ",", "-" or blanks.
        connector=re.compile(r"(?P<ws>[ \t]*)(?P<sym>[-/+&,])?[ \t]*(?=[0-9])", re.ASCII),
        subsection=re.compile(r"\([ \t]*([A-Z0-9]{1,4})[ \t]*\)", re.ASCII),
        # Two letters where the code letters would be, but not a known code: "11359 ZZ-".
        unknown_code=re.compile(r"[ \t]*([A-Z]{2}|[A-Z]&[A-Z])(?![A-Z&])", re.ASCII),
        # A Prop 64 number standing alone in free text (comments), optionally after "664".
        comment_prop64=re.compile(
            rf"(?:(?<![0-9.])|(?<=664)|(?<=664[-/.]))(?P<num>1135[789]|11360)(?![0-9]|\.[0-9])"
            rf"{_SUBSECTIONS}(?:[ \t]*+(?P<code>{_CODE_WORD}))?",
            re.ASCII,
        ),
        # The common shape in one match ("11359 HS-...", "664/11360(A) HS", "288A PC"); any
        # other shape goes through the general reader below, which gives the same answer for
        # these (a property test checks that).
        fast=re.compile(
            r"(?P<att>664(?:[ \t]*[-/][ \t]*|\.|[ \t]+)(?=[0-9]{3}))?"
            r"(?P<num>[0-9]{1,6}(?:\.[0-9]{1,4})?)"
            r"(?:(?P<suf>[A-Z]{1,2})[ \t]|[ \t]?)"
            r"(?P<subs>(?:\([A-Z0-9]{1,4}\))*)[ \t]?"
            r"(?P<code>[A-Z]{2})(?=$|[ \t]*-|[ \t]+[A-Z(*])",
            re.ASCII,
        ),
    )


def statute_id(code: str, section: str, subsections: tuple[str, ...] = ()) -> str:
    """Build ``ca:<code>:<section>[:<sub>...]`` (lower case) from its parts."""
    sid = f"ca:{code.lower()}:{section.lower()}"
    return f"{sid}:{':'.join(subsections).lower()}" if subsections else sid


def format_statute_id(sid: str) -> str:
    """Render a statute id for people: ``ca:pc:148:a:1`` → ``PC 148(a)(1)``.

    Lettered sections keep their letters in the section (``ca:pc:288a`` → ``PC 288a``).
    """
    parts = sid.split(":")
    if len(parts) < 3:
        return sid
    return f"{parts[1].upper()} {parts[2]}" + "".join(f"({p})" for p in parts[3:])


def charge_text(offense_descr: str | None, comment_text: str | None) -> tuple[str, bool]:
    """Return (the charge text, whether it came from COMMENT_TEXT).

    COMMENT_TEXT is used when OFFENSE_DESCR, trimmed, is empty or reads
    ``SEE COMMENT FOR CHARGE`` (any case). gogen's test is case-sensitive and trims only
    Go whitespace; see :func:`gogen_code_section_in_comment`.
    """
    offense = offense_descr or ""
    trimmed = offense.strip()
    if not trimmed or (len(trimmed) == len(SEE_COMMENT) and trimmed.upper() == SEE_COMMENT):
        return comment_text or "", True
    return offense, False


def parse_charge(offense_descr: str | None, comment_text: str | None = "") -> Charge:
    """Read the charge of one DOJ row (OFFENSE_DESCR, COMMENT_TEXT) into a :class:`Charge`.

    Never raises for any text. Examples::

        11359 HS-POSSESS MARIJUANA FOR SALE   -> ca:hs:11359
        664/11360(A) HS                       -> ca:hs:11360:a, attempt
        148(A)(1) PC                          -> ca:pc:148:a:1
        11360(B) SELL/FURNISH/ETC             -> ca:hs:11360:b (Prop 64 number, HS assumed)
        11357.5 HS                            -> ca:hs:11357.5 (not Prop 64)
        POSSESS MARIJUANA                     -> parsed=False
    """
    text, from_comment = charge_text(offense_descr, comment_text)
    p = parse_text(text)
    return Charge(
        text=text,
        from_comment=from_comment,
        raw_section=p.raw_section,
        code=p.code,
        section=p.section,
        subsections=p.subsections,
        attempt=p.attempt,
        statute_id=p.statute_id,
        parsed=p.parsed,
        prop64_section=p.prop64_section,
        other_statute_ids=p.other_statute_ids,
        problem=p.problem,
    )


def parse_text(text: str) -> ChargeParts:
    """Parse one charge text (already chosen by :func:`charge_text`), memoised.

    :func:`parse_charge` is this plus the choice of text and the :class:`Charge` wrapper.
    """
    return _parse_head(text.lstrip()[:HEAD_LEN])


# A token is (start, end, number, suffix, subsections, code, problem): number "288" or
# "11357.5"; suffix the glued letters of a lettered section ("A" of "288A"); code canonical.
_Tok = tuple[int, int, str, str, tuple[str, ...], str, str]


def _read_token(g: _Grammar, up: str, pos: int) -> _Tok | None:
    m = g.token.match(up, pos)
    if m is None:
        return None
    num, glued, subs_text, code_word = m.group("num", "glued", "subs", "code")
    end = m.end()
    code = ""
    if code_word is not None:
        code = g.aliases.get(code_word, "")
        if not code:  # a word that is not a code ("SELL"): the token ends before it
            end = m.end("subs")
    subs = tuple(s.lower() for s in g.subsection.findall(subs_text)) if subs_text else ()
    suffix = ""
    problem = ""
    if glued is not None:
        if glued in g.aliases and subs_text[:1] == "(":
            problem = f"subsection after the code letters {glued!r}"
        elif glued in g.aliases:
            # "11359HS-...": code letters glued to the number end the section; what follows
            # is description ("11359HS PC" is HS 11359).
            code = g.aliases[glued]
            subs = ()
            end = m.end("glued")
        elif len(glued) <= _MAX_SUFFIX_LETTERS and glued.isalpha():
            suffix = glued  # a lettered section: "288A", "653F", "273AB"
        else:
            problem = f"unexpected letters {glued!r} after section {num}"
    whole, _, decimals = num.partition(".")
    if len(whole) > _MAX_SECTION_DIGITS or len(decimals) > _MAX_DECIMAL_DIGITS:
        problem = problem or "section number too long to be a code section"
    if suffix and num in PROP64_SECTIONS:
        # "11357A HS": HS 11357a does not exist; 11357(a)? a stray letter? Ask a person.
        problem = f"letter {suffix!r} glued to Prop 64 section {num}: subsection or typo?"
    return (m.start(), end, num, suffix, subs, code, problem)


def _unparsed(
    raw: str, problem: str, code: str = "", section: str = "", subs: tuple[str, ...] = ()
) -> ChargeParts:
    return _parts((raw.strip(), code, section.lower(), subs, False, "", False, None, (), problem))


class _Memo(dict[Any, Any]):
    """A dict that empties itself when full.

    Bounded memory, and cheaper than ``lru_cache`` when most keys are new, which is the bulk
    path's case: each distinct text arrives once, but thousands share one code section.
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int = _CACHE_SIZE) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> Any:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


_NOT_FAST = object()
_SPAN_MEMO = _Memo()  # code-section text matched by the fast pattern -> ChargeParts
_HEAD_MEMO = _Memo()  # head of a text of any other shape -> ChargeParts
_COMMENT_MEMO = _Memo()  # comment text -> Prop 64 section or None


def clear_caches() -> None:
    """Empty this module's memos (for benchmarks and tests; results never depend on them)."""
    _SPAN_MEMO.clear()
    _HEAD_MEMO.clear()
    _COMMENT_MEMO.clear()


def _parse_head(head: str) -> ChargeParts:
    g = _grammar()
    up = _ascii_upper(head)
    m = g.fast.match(up)
    if m is not None:
        # The fast result depends only on the matched text, which thousands of distinct
        # descriptions share ("11359 HS" in "11359 HS-POSSESS ..."): memoise on it.
        span = head[: m.end()]
        parts = _SPAN_MEMO.get(span)
        if parts is None:
            parts = _SPAN_MEMO.put(span, _parse_fast(g, m, span))
        if parts is not _NOT_FAST:
            return parts  # type: ignore[no-any-return]
    parts = _HEAD_MEMO.get(head)
    if parts is None:
        parts = _HEAD_MEMO.put(head, _parse_general(head, up))
    return parts  # type: ignore[no-any-return]


def _parse_fast(g: _Grammar, m: re.Match[str], span: str) -> ChargeParts | object:
    att, number, suffix, subs_text, code = m.group("att", "num", "suf", "subs", "code")
    code = g.aliases.get(code, "")
    if not code or (suffix and (number in PROP64_SECTIONS or suffix in g.aliases)):
        return _NOT_FAST
    # subs_text is "(A)(1)": no blanks on this path.
    subs = tuple(subs_text[1:-1].lower().split(")(")) if subs_text else ()
    section = (number + suffix).lower() if suffix else number
    sid = f"ca:{code.lower()}:{section}"
    if subs:
        sid = f"{sid}:{':'.join(subs)}"
    prop64 = section if code == "HS" and section in PROP64_SECTIONS else None
    return _parts((span.strip(), code, section, subs, att is not None, sid, True, prop64, (), ""))


def _parse_general(head: str, up: str) -> ChargeParts:
    g = _grammar()
    pos = 0
    lead_code = ""
    if up and not up[0].isdigit():
        lead = g.lead.match(up)
        if lead is not None and lead["code"] in g.aliases:
            lead_code = g.aliases[lead["code"]]
            pos = lead.end()
    attempt = False
    if up.startswith("664", pos):
        att = g.attempt.match(up, pos)
        if att is not None:
            attempt = True
            pos = att.end()
    first = _read_token(g, up, pos)
    if first is None:
        if not head.strip():
            return _unparsed("", "no charge text")
        return _unparsed("", "no code section at the start of the charge text")

    # Further sections of a combined code section ("246/186.22(B)(4) PC", "484-487(A) PC").
    tokens = [first]
    seen_code = bool(first[5])
    end = first[1]
    while len(tokens) < MAX_SECTIONS and end < len(up) and up[end] in " \t-/+&,":
        c = g.connector.match(up, end)
        if c is None or (c["sym"] is None and not c["ws"]):
            break
        nxt = _read_token(g, up, c.end())
        if nxt is None:
            break
        # A dash joins sections only before the code letters ("519-186.22(B)(4) PC"); after
        # them, or when no code follows ("11360-28.5 GRAMS"), it starts the description.
        if c["sym"] == "-" and (seen_code or not nxt[5]):
            break
        tokens.append(nxt)
        seen_code = seen_code or bool(nxt[5])
        end = nxt[1]

    # Code letters: a leading code applies to every section without its own; otherwise a
    # section takes the code written after it ("246/186.22(B)(4) PC": both PC). Sections
    # after the last code letters are description ("187 PC 1ST DEGREE").
    codes = [t[5] for t in tokens]
    if lead_code:
        if first[5] and first[5] != lead_code:
            return _unparsed(head[: first[1]], f"two different codes: {lead_code} and {first[5]}")
        codes = [c or lead_code for c in codes]
    elif len(tokens) > 1:
        if seen_code:
            nxt_code = ""
            for i in range(len(tokens) - 1, -1, -1):
                nxt_code = codes[i] = codes[i] or nxt_code
            while not codes[-1]:
                tokens.pop()
                codes.pop()
        else:
            tokens, codes = [first], [""]

    end = tokens[-1][1]
    raw = head[:end]
    _start, _end, number, suffix, subs, _c, _p = first
    code = codes[0]
    section = (number + suffix).lower()
    others: list[str] = []
    for t, c in zip(tokens[1:], codes[1:], strict=True):
        if t[2] == "664" and not t[3] and not t[4]:
            attempt = True  # a bare 664 among the sections ("187/664 PC") marks an attempt
        else:
            others.append(statute_id(c, t[2] + t[3], t[4]))
    for t in tokens:
        if t[6]:
            return _unparsed(raw, t[6], code, section, subs)

    if not code:
        if number not in PROP64_SECTIONS or suffix:
            return _unparsed(raw, "no code letters (HS, PC, VC ...) after the section", "", section)
        following = up[end:]
        unknown = g.unknown_code.match(following)
        if unknown is not None:
            word = unknown.group(1)
            return _unparsed(raw, f"unknown code letters {word!r}", "", section, subs)
        if following and following[0] not in " \t-/,;:":
            return _unparsed(
                raw, f"unexpected {following[0]!r} after the section", "", section, subs
            )
        code = "HS"  # A Prop 64 number without code letters is read as Health and Safety.

    sid = statute_id(code, section, subs)
    prop64 = section if code == "HS" and section in PROP64_SECTIONS else None
    return _parts((raw.strip(), code, section, subs, attempt, sid, True, prop64, tuple(others), ""))


def find_prop64_section(text: str | None) -> str | None:
    """The first Prop 64 section cited anywhere in free text (a comment), or None.

    Unlike gogen, the number must stand alone: ``11357.5``, ``211360`` and ``113580`` do not
    count, and a number followed by code letters other than HS (``11359 PC``) does not count.
    ``664`` directly before the number (``66411357``) is allowed. Used to flag a cannabis
    charge that appears only in COMMENT_TEXT.
    """
    if not text:
        return None
    if len(text) > HEAD_LEN * 16:
        return _find_prop64_section(text)
    found = _COMMENT_MEMO.get(text, _NOT_FAST)
    if found is _NOT_FAST:
        found = _COMMENT_MEMO.put(text, _find_prop64_section(text))
    return found  # type: ignore[no-any-return]


def _find_prop64_section(text: str) -> str | None:
    if "113" not in text:
        return None
    g = _grammar()
    for m in g.comment_prop64.finditer(_ascii_upper(text)):
        code = m["code"]
        if code is None or g.aliases.get(code, "HS") == "HS":
            return m["num"]
    return None


# ---------------------------------------------------------------------------------------------
# gogen 0.2.13, reproduced exactly (reference/gogen-behaviour.md 2.3, 4.3, 5.5).

# Go's strings.TrimSpace removes unicode.IsSpace characters: these (Python's str.strip() also
# removes \x1c-\x1f, which Go keeps).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GOGEN_PROP64 = re.compile(r"1135[789]|11360")
_GOGEN_11357_SUB = re.compile(r"11357\(([A-D])\)")


def gogen_code_section_in_comment(offense_descr: str) -> bool:
    """gogen's test for "the charge is in COMMENT_TEXT": OFFENSE_DESCR, trimmed of Go
    whitespace, is empty or exactly ``SEE COMMENT FOR CHARGE`` (case-sensitive)."""
    trimmed = offense_descr.strip(_GO_SPACE)
    return trimmed == "" or trimmed == SEE_COMMENT


def gogen_code_section(offense_descr: str | None, comment_text: str | None) -> str:
    """gogen's code section (2.3): the text before the first ``-`` of OFFENSE_DESCR, or of
    COMMENT_TEXT when OFFENSE_DESCR is blank or ``SEE COMMENT FOR CHARGE``. Not trimmed:
    ``4149 BP - X`` gives ``"4149 BP "`` and ``664-11359 HS-...`` gives ``"664"``."""
    offense = offense_descr or ""
    source = (comment_text or "") if gogen_code_section_in_comment(offense) else offense
    return source.partition("-")[0]


def gogen_prop64_number(code_section: str | None) -> str | None:
    """gogen's Prop 64 detector (5.5): the first of 11357, 11358, 11359, 11360 found anywhere,
    with no boundaries (``11357.5 HS`` → ``11357``, ``211360`` → ``11360``), or None."""
    if not code_section:
        return None
    m = _GOGEN_PROP64.search(code_section)
    return m.group() if m else None


def _gogen_11357_subsection(text: str) -> str | None:
    m = _GOGEN_11357_SUB.search(text)
    return m.group(1) if m else None


def gogen_possible_other_p64(offense_descr: str | None, comment_text: str | None) -> str:
    """gogen's "Possible Other P64 Charges" column (4.3): COMMENT_TEXT or "".

    Applied to the whole OFFENSE_DESCR and COMMENT_TEXT (not to code sections), exactly as
    gogen 0.2.13's exporter does.
    """
    offense = offense_descr or ""
    comment = comment_text or ""
    if gogen_code_section_in_comment(offense):
        return ""
    in_comment = gogen_prop64_number(comment)
    if in_comment is None:
        return ""
    in_offense = gogen_prop64_number(offense)
    if in_offense is None or in_offense != in_comment:
        return comment
    if in_offense == "11357":
        sub_offense = _gogen_11357_subsection(offense)
        sub_comment = _gogen_11357_subsection(comment)
        if sub_offense is not None and sub_comment is not None:
            if (sub_offense in "AB") != (sub_comment in "AB"):
                return comment
            return ""
        if sub_comment is not None:
            return comment
    return ""
