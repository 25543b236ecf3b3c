"""Office policy: what a prosecutor's office chose, validated, kept apart from the law.

The law (which sections Prop 64 covers, its effective date, the statutory disqualifiers) lives in
the law data under ``clearslate/laws``. This module holds only the office's *choices*: which
sections to dismiss or reduce, the gogen "additional relief" thresholds, and a few clearslate
options that say how to act on facts gogen only displayed (disqualifying priors, the effective
date, doubtful data, misdemeanours, related convictions, people still serving a sentence).
Instead of gogen's chain an office may write its own ordered decision steps, a ``flow`` (the
pilot counties' trees): conditions from a fixed vocabulary (:data:`FLOW_CONDITIONS`, each
with its boundary) and a decision per step, validated here and compiled to SQL by the engine.

Two input forms give the same frozen :class:`Policy`:

* gogen 0.2.13's eligibility-options JSON, exactly as BEAR writes it (``--eligibility-options``),
  read with gogen's rules: missing keys default to false/0/[], unknown keys are ignored, key
  names match case-insensitively (Go's ``encoding/json``), a value of the wrong JSON type is an
  error, then the thresholds are range-checked in gogen's order with gogen's messages. Unlike
  gogen, an unknown section string is an error here (gogen crashed on it).
* a YAML policy file (``--policy``), a superset with readable snake_case keys. Unknown keys are
  rejected: a typo must not silently change a legal decision.

Every error is a :class:`PolicyError` whose message says where (file, line, column), which key,
what is wrong and what to do. See ``docs/policy.md`` for every option and its legal meaning.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from clearslate.shipped_yaml import load_yaml

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_RELATED_SECTIONS",
    "FLOW_CONDITIONS",
    "FLOW_REPLACES",
    "FLOW_UNKNOWN_FACTS",
    "FLOW_VALUE_KINDS",
    "GOGEN_RELATED_SECTIONS",
    "SHIPPED_POLICIES",
    "VALID_SECTIONS",
    "AdditionalRelief",
    "Disqualifiers",
    "DoubtfulData",
    "EffectiveDateRule",
    "FlowCondition",
    "FlowOutcome",
    "FlowStep",
    "FlowThen",
    "Misdemeanors",
    "Policy",
    "PolicyError",
    "PriorMeans",
    "Prop64Section",
    "RelatedConvictions",
    "StillServing",
    "load_policy",
    "resolve_policy",
    "shipped_policy",
]

DOCS_HINT = "See docs/policy.md."


# --------------------------------------------------------------------------------------------
# The error type
# --------------------------------------------------------------------------------------------


def _printable(text: str) -> str:
    """Text that encodes to UTF-8 (lone surrogates from odd input become escapes)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class PolicyError(ValueError):
    """A policy or eligibility-options file that cannot be used, explained for a person.

    ``str(error)`` is the whole message: ``FILE, line L, column C: KEY: problem. What to do.``
    The parts are also attributes. ``gogen_message`` holds gogen 0.2.13's own message where
    gogen reports the same problem (the threshold range checks), for gogen-compatible error files.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        gogen_message: str | None = None,
    ) -> None:
        self.problem = _printable(problem)
        self.file = None if file is None else _printable(file)
        self.line = line
        self.column = column
        self.key = None if key is None else _printable(key)
        self.hint = None if hint is None else _printable(hint)
        self.gogen_message = gogen_message
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}, line {self.line}" if where else f"line {self.line}"
            if self.column is not None:
                where += f", column {self.column}"
        text = self.problem.rstrip()
        if self.key:
            text = f"{self.key}: {text}"
        if where:
            text = f"{where}: {text}"
        if self.hint:
            if not text.endswith((".", "?", "!")):
                text += "."
            text += " " + self.hint
        return text

    def __str__(self) -> str:
        return self._render()

    def _located(
        self, *, file: str | None, line: int | None = None, column: int | None = None
    ) -> PolicyError:
        """The same error with a file (and position, when this error has none) filled in."""
        return PolicyError(
            self.problem,
            file=file if file is not None else self.file,
            line=self.line if self.line is not None else line,
            column=self.column if self.line is not None else column,
            key=self.key,
            hint=self.hint,
            gogen_message=self.gogen_message,
        )


# --------------------------------------------------------------------------------------------
# Option values
# --------------------------------------------------------------------------------------------


class Prop64Section(StrEnum):
    """A Prop 64 code section as gogen's options name it (HS 11357-11360, no subsection)."""

    HS_11357 = "11357"
    HS_11358 = "11358"
    HS_11359 = "11359"
    HS_11360 = "11360"


VALID_SECTIONS: tuple[str, ...] = tuple(s.value for s in Prop64Section)


class Disqualifiers(StrEnum):
    """What a statutory disqualifying prior (superstrike, PC 290) does to a decision."""

    IGNORE = "ignore"  # gogen: shown in columns, never changes a decision
    REVIEW = "review"  # send to review with the reason
    DENY = "deny"  # not eligible, citing the statute


class PriorMeans(StrEnum):
    """Which convictions count as a "prior" for the disqualifiers."""

    BEFORE_CONVICTION = "before_conviction"  # dated strictly before the one being decided
    ANYWHERE_ON_RECORD = "anywhere_on_record"  # any date (People v. Casillas reading)


class EffectiveDateRule(StrEnum):
    """What to do with convictions dated on or after Prop 64's effective date (2016-11-09)."""

    NOT_ELIGIBLE = "not_eligible"
    IGNORE = "ignore"  # gogen: shown in a column, never changes a decision


class DoubtfulData(StrEnum):
    """What to do when the data cannot support a decision (missing dates, charge in comment…)."""

    REVIEW = "review"
    GOGEN = "gogen"  # reproduce gogen 0.2.13, for compatibility checks only


class Misdemeanors(StrEnum):
    """What to do with Prop 64 misdemeanour and infraction convictions."""

    DISMISS = "dismiss"  # gogen rule 1
    ROUTE = "route"  # send to another office, labelled with ``route_to``


class RelatedConvictions(StrEnum):
    """What to do with convictions for charges often filed with cannabis charges."""

    LEAVE = "leave"
    CLEAR = "clear"
    REVIEW = "review"


class StillServing(StrEnum):
    """What to do when the person is still serving the sentence for the conviction."""

    RESENTENCE = "resentence"  # recall and resentence, HS 11361.8(a)-(c)
    REVIEW = "review"


# --------------------------------------------------------------------------------------------
# Related sections: gogen's list, or the statute catalogue's when it marks them
# --------------------------------------------------------------------------------------------

# gogen's "related charges" (matchers/code_section_matchers.go), as clearslate statute ids.
# An id names a section and everything under it: ``ca:pc:148`` covers PC 148(a)(1).
GOGEN_RELATED_SECTIONS: tuple[str, ...] = (
    "ca:pc:647:f",
    "ca:pc:602",
    "ca:pc:466",
    "ca:pc:148.9",
    "ca:pc:148",
    "ca:hs:11364",
    "ca:hs:11550",
    "ca:bp:4140",
    "ca:bp:4149",
    "ca:bp:4060",
    "ca:vc:40508",
    "ca:pc:1320",
)

_STATUTE_ID = re.compile(r"[a-z]{2}:[a-z]{2,5}:[0-9]+(?:\.[0-9]+)?[a-z]*(?::[a-z0-9]+)*")
_PROP64_IDS = re.compile(r"ca:hs:1135[7-9](?::.*)?|ca:hs:11360(?::.*)?")
_CATALOGUE = Path(__file__).parent / "statutes" / "data" / "ca_offences.yaml"


def _catalogue_related(path: Path) -> tuple[str, ...] | None:
    """The related-charge ids the statute catalogue marks as default, or None.

    Reads ``catalogues.related.entries`` of ``ca_offences.yaml`` (the data behind
    ``clearslate.statutes.catalogue``) and keeps the ids of entries with ``default: true``, in
    file order. The file itself is validated by the catalogue module; here anything unreadable,
    or an id that is not a non-Prop 64 statute id, gives None (gogen's list is used).
    """
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        entries = data["catalogues"]["related"]["entries"]
    except Exception:
        return None
    if not isinstance(entries, list):
        return None
    found = [
        entry.get("id")
        for entry in entries
        if isinstance(entry, dict) and entry.get("default") is True
    ]
    ids = tuple(dict.fromkeys(found))
    valid = all(
        isinstance(i, str) and _STATUTE_ID.fullmatch(i) and not _PROP64_IDS.fullmatch(i)
        for i in ids
    )
    return ids if ids and valid else None


def default_related_sections(catalogue: Path = _CATALOGUE) -> tuple[str, ...]:
    """The default ``related_sections``: the catalogue's default ids, else gogen's list."""
    if catalogue.is_file():
        ids = _catalogue_related(catalogue)
        if ids:
            return ids
    return GOGEN_RELATED_SECTIONS


DEFAULT_RELATED_SECTIONS: tuple[str, ...] = default_related_sections()


# --------------------------------------------------------------------------------------------
# Field validators (their messages are the ones a person reads)
# --------------------------------------------------------------------------------------------

_SECTIONS_TEXT = ", ".join(VALID_SECTIONS)


def _show(value: Any, limit: int = 40) -> str:
    """A short, printable rendering of a value for an error message."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=True)
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section_problem(value: Any) -> str:
    return f"{_show(value)} is not a Prop 64 section. Valid values: {_SECTIONS_TEXT}"


def _section_hint(value: Any) -> str:
    if isinstance(value, str) and value.strip()[:5] in VALID_SECTIONS and value.strip() != "":
        return (
            f'Write the bare section number, e.g. "{value.strip()[:5]}": sections are chosen '
            "whole, not by subsection (gogen 0.2.13 crashed on such values)."
        )
    return 'Write one of the four section numbers, e.g. "11357".'


def _check_section(value: Any) -> Any:
    if isinstance(value, Prop64Section):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # YAML reads [11357, 11358] as numbers
    if isinstance(value, str) and value in VALID_SECTIONS:
        return value
    raise PydanticCustomError("prop64_section", _section_problem(value))


Section = Annotated[Prop64Section, BeforeValidator(_check_section)]


def _check_statute_id(value: str) -> str:
    if not _STATUTE_ID.fullmatch(value):
        raise PydanticCustomError(
            "statute_id",
            f"{_show(value)} is not a statute id (jurisdiction:code:section[:subsection…], "
            "lower case, e.g. ca:pc:647:f for PC 647(f))",
        )
    if _PROP64_IDS.fullmatch(value):
        raise PydanticCustomError(
            "statute_id",
            f"{_show(value)} is a Prop 64 section; related sections are other charges "
            "(dismiss and reduce choose the Prop 64 sections)",
        )
    return value


StatuteId = Annotated[StrictStr, AfterValidator(_check_statute_id)]

_GOGEN_RANGE_MESSAGES = {
    "age_threshold": ("SubjectAgeThreshold should be between 40 and 65, or 0", 40, 65),
    "years_since_conviction": (
        "YearsSinceConvictionThreshold should be between 1 and 15, or 0",
        1,
        15,
    ),
    "years_crime_free": ("YearsCrimeFreeThreshold should be between 1 and 15, or 0", 1, 15),
}


def _range_check(field: str, value: int) -> None:
    message, low, high = _GOGEN_RANGE_MESSAGES[field]
    if value != 0 and not low <= value <= high:
        raise PydanticCustomError("gogen_range", message)


# --------------------------------------------------------------------------------------------
# Custom flows: an office's own ordered decision steps (the pilot counties' decision trees)
# --------------------------------------------------------------------------------------------

# A flow replaces gogen's chain (dismiss, reduce, additional relief, and the misdemeanour and
# "Other 11357" steps that sit in it). Setting one of these keys next to `flow` would have no
# effect, so it is an error, as `route_to` without routing is.
FLOW_REPLACES: tuple[str, ...] = (
    "dismiss",
    "reduce",
    "additional_relief",
    "misdemeanors",
    "route_to",
    "hand_review_11357_other",
)


class FlowOutcome(StrEnum):
    """What a flow step decides."""

    DISMISS = "dismiss"
    REDUCE = "reduce"
    NOT_ELIGIBLE = "not_eligible"
    REVIEW = "review"


@dataclass(frozen=True)
class FlowCondition:
    """One word of the flow vocabulary.

    ``kind`` says what value it takes (see ``FLOW_VALUE_KINDS``); ``meaning`` says when it
    holds; ``boundary`` says on which side of the line the boundary day falls. The engine
    (``clearslate.engine.decide``) compiles each word to SQL over the decided convictions, and
    a test checks that the two lists name the same words.
    """

    name: str
    kind: str
    about: str  # "conviction" (this conviction) or "person" (the whole record)
    meaning: str
    boundary: str = ""


FLOW_VALUE_KINDS: dict[str, str] = {
    "bool": "true or false",
    "years": "a whole number of years, 1 to 100",
    "age": "a whole number of years of age, 1 to 120",
    "date": "a date, YYYY-MM-DD",
    "sections": "a list of Prop 64 sections (11357, 11358, 11359, 11360)",
    "subsections": "a list of subsections written as in the code, e.g. [(a), (b)(1)]",
    "statutes": "a list of statute ids, e.g. [ca:bp:4060, ca:pc:148]",
    "texts": "a text or a list of texts",
}

FLOW_UNKNOWN_FACTS = (
    "A condition whose facts are unknown (a missing date) does not hold, whether the step asks "
    "for true or for false: the otherwise step then decides, unless doubtful_data: review has "
    "sent the conviction to review first. With doubtful_data: gogen a missing date is year 1, "
    "as in gogen."
)

FLOW_CONDITIONS: dict[str, FlowCondition] = {
    c.name: c
    for c in (
        FlowCondition(
            "felony", "bool", "conviction",
            "The conviction is a felony: CONV_STAT_DESCR is FELONY, or it is blank and "
            "OFFENSE_TOC is F. `false` is a misdemeanour or an infraction.",
        ),
        FlowCondition(
            "section_in", "sections", "conviction",
            "The conviction's Prop 64 section is one of these (any subsection).",
        ),
        FlowCondition(
            "subsection_in", "subsections", "conviction",
            "The conviction's subsections begin with one of these: (b) covers (b) and (b)(1). "
            "A conviction with no subsection never matches. Letters are read without regard "
            "to case, so 11357(B) and 11357(b) are the same.",
        ),
        FlowCondition(
            "statute_in", "statutes", "conviction",
            "The conviction's statute is one of these statute ids or under one: ca:bp:4060 "
            "covers BP 4060(a).",
        ),
        FlowCondition(
            "code_section_starts_with", "texts", "conviction",
            "gogen's code section (the offence text before its first '-', or the comment's "
            "when the offence says SEE COMMENT FOR CHARGE) starts with one of these texts. Case "
            "and surrounding spaces are ignored.",
        ),
        FlowCondition(
            "related_charge", "bool", "conviction",
            "The conviction is a related charge: its statute is under one of the policy's "
            "related_sections and it is not a Prop 64 conviction. Only a step that names this "
            "condition can decide a related conviction; every other step decides Prop 64 "
            "convictions only. Needs related_convictions: clear or review.",
        ),
        FlowCondition(
            "prop64_in_cycle", "bool", "conviction",
            "The conviction's arrest cycle (the person's CNT_ORDER characters 1-3) holds a "
            "Prop 64 charge on any row: arrest or court, convicted or not. Always true for a "
            "related conviction that is decided, since only those are decided.",
        ),
        FlowCondition(
            "convicted_before", "date", "conviction",
            "The conviction is dated before this date.",
            "Exclusive: a conviction on the date itself does not count.",
        ),
        FlowCondition(
            "convicted_on_or_after", "date", "conviction",
            "The conviction is dated on or after this date.",
            "Inclusive: a conviction on the date itself counts.",
        ),
        FlowCondition(
            "on_or_after_effective_date", "bool", "conviction",
            "The conviction is dated on or after Prop 64's effective date, read from the law "
            "data (2016-11-09), not from the policy.",
            "Inclusive: a conviction on the effective date itself counts.",
        ),
        FlowCondition(
            "sentence_completed", "bool", "conviction",
            "This conviction's sentence has ended by the as-of date. The end is the "
            "conviction date plus every sentence part, in calendar days, months and years.",
            "Inclusive: a sentence that ends on the as-of date is completed.",
        ),
        FlowCondition(
            "under_21_at_conviction", "bool", "conviction",
            "The person was under 21 on the conviction date.",
            "Exclusive: a conviction on the 21st birthday is not under 21 (gogen's rule).",
        ),
        FlowCondition(
            "age_at_as_of_at_least", "age", "person",
            "The person is at least N years old on the as-of date.",
            "Inclusive: a person whose Nth birthday is the as-of date counts. A 29 February "
            "birthday falls on 1 March in other years.",
        ),
        FlowCondition(
            "age_at_as_of_at_most", "age", "person",
            "The person is at most N years old on the as-of date, in whole years: until the "
            "day before the (N+1)th birthday.",
            "Inclusive: a person whose (N+1)th birthday is the day after the as-of date "
            "counts; on that birthday they do not.",
        ),
        FlowCondition(
            "more_than_one_conviction", "bool", "person",
            "The person has more than one conviction on the record: any offence, any county, "
            "any date, every input file.",
        ),
        FlowCondition(
            "only_prop64_convictions", "bool", "person",
            "Every conviction on the person's record is a Prop 64 conviction.",
        ),
        FlowCondition(
            "years_since_any_conviction_over", "years", "person",
            "The person's most recent conviction (any offence, any county) is more than N "
            "years before the as-of date.",
            "Exclusive: a most recent conviction exactly N years before the as-of date does "
            "not count (gogen's crime-free rule).",
        ),
        FlowCondition(
            "no_conviction_within_years", "years", "person",
            "No conviction on the person's record is dated after the as-of date minus N years.",
            "Inclusive: a most recent conviction exactly N years before the as-of date counts "
            "(the Los Angeles pilot's rule).",
        ),
        FlowCondition(
            "all_sentences_completed", "bool", "person",
            "Every sentence on the person's record has ended by the as-of date. Unknown when "
            "no sentence is still running but a conviction has no date.",
            "Inclusive: a sentence that ends on the as-of date is completed.",
        ),
        FlowCondition(
            "superstrike_prior", "bool", "person",
            "A superstrike conviction (PC 667(e)(2)(C)(iv), from the statute catalogue) is "
            "dated before this conviction; with prior_means: anywhere_on_record, anywhere on "
            "the record.",
            "Exclusive: a superstrike on the same day is not a prior.",
        ),
        FlowCondition(
            "pc290_prior", "bool", "person",
            "A conviction for a PC 290(c) registrable offence is dated before this "
            "conviction; with prior_means: anywhere_on_record, anywhere on the record. A "
            "registration without that conviction on the record is not a dated prior: use "
            "pc290_registration for it.",
            "Exclusive: a conviction on the same day is not a prior.",
        ),
        FlowCondition(
            "pc290_registration", "bool", "person",
            "The record holds a PC 290 registration (a REGISTRATION step of a 290 offence), "
            "whatever its date.",
        ),
        FlowCondition(
            "two_priors", "bool", "person",
            "Two or more convictions under this conviction's Prop 64 section are dated before "
            "it; with prior_means: anywhere_on_record, two or more others anywhere.",
            "Exclusive: a conviction on the same day is not a prior.",
        ),
        FlowCondition(
            "deceased", "bool", "person",
            "The DOJ record marks the person deceased.",
        ),
    )
}  # fmt: skip

_SUBSECTIONS = re.compile(r"(?:\([0-9a-z]+\))+", re.IGNORECASE)
_STEP_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
_REASON_CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,59}")


class _FlowProblem(ValueError):
    """A problem in a flow, with where it is (a path under `flow`) and what to do."""

    def __init__(self, message: str, at: tuple[str | int, ...] = (), hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.at = at
        self.hint = hint


def _valid_conditions_hint() -> str:
    return f"Valid conditions: {', '.join(FLOW_CONDITIONS)}. See docs/policy.md."


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _condition_value(cond: FlowCondition, value: Any) -> Any:
    """The validated value of one condition (lists become tuples), or _FlowProblem."""
    kind = cond.kind
    expected = FLOW_VALUE_KINDS[kind]
    if kind == "bool":
        if not isinstance(value, bool):
            raise _FlowProblem(f"expected true or false, got {_show(value)}")
        return value
    if kind in ("years", "age"):
        high = 100 if kind == "years" else 120
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise _FlowProblem(f"expected {expected}, got {_show(value)}")
        return value
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            with contextlib.suppress(ValueError):
                return dt.date.fromisoformat(value).isoformat()
        raise _FlowProblem(f"expected {expected}, got {_show(value)}")
    items = _as_list(value)
    if not items:
        raise _FlowProblem(f"is empty; expected {expected}")
    out: list[str] = []
    for item in items:
        if kind == "sections":
            text = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if text not in VALID_SECTIONS:
                raise _FlowProblem(_section_problem(item))
        elif kind == "subsections":
            if not isinstance(item, str) or not _SUBSECTIONS.fullmatch(item.strip()):
                raise _FlowProblem(
                    f"{_show(item)} is not a subsection; expected {expected}",
                    hint="Write subsections in parentheses, e.g. (b) or (a)(1).",
                )
            text = item.strip().lower()
        elif kind == "statutes":
            if not isinstance(item, str) or not _STATUTE_ID.fullmatch(item):
                raise _FlowProblem(
                    f"{_show(item)} is not a statute id (jurisdiction:code:section[:subsection…],"
                    " lower case, e.g. ca:bp:4060)"
                )
            text = item
        else:  # texts
            if not isinstance(item, str) or not item.strip():
                raise _FlowProblem(f"expected {expected}, got {_show(item)}")
            text = item
        out.append(text)
    return tuple(out)


def _check_when(raw: Any) -> tuple[tuple[str, Any], ...]:
    """Validate a step's `when` mapping; the result keeps the order written."""
    pairs = list(raw.items()) if isinstance(raw, Mapping) else raw
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(p, list | tuple) and len(p) == 2 for p in pairs
    ):
        raise _FlowProblem(
            "expected a mapping of conditions to values",
            hint="Write e.g. when: {felony: true, section_in: [11359]}.",
        )
    if not pairs:
        raise _FlowProblem(
            "has no condition",
            hint="Give at least one condition, or make this the final otherwise step.",
        )
    checked: list[tuple[str, Any]] = []
    for name, value in pairs:
        cond = FLOW_CONDITIONS.get(name) if isinstance(name, str) else None
        if cond is None:
            close = difflib.get_close_matches(str(name), FLOW_CONDITIONS, n=1, cutoff=0.6)
            suggestion = f" Did you mean {close[0]}?" if close else ""
            raise _FlowProblem(
                f"unknown condition {_show(name)}",
                at=(str(name),),
                hint=_valid_conditions_hint() + suggestion,
            )
        try:
            checked.append((name, _condition_value(cond, value)))
        except _FlowProblem as problem:
            raise _FlowProblem(
                problem.message,
                at=(name,),
                hint=problem.hint or "See the flow conditions in docs/policy.md.",
            ) from None
    return tuple(checked)


def _one_line(value: str, limit: int) -> str:
    if not value.strip() or "\n" in value or "\r" in value or len(value) > limit:
        raise PydanticCustomError(
            "one_line", f"must be one non-blank line of at most {limit} characters"
        )
    return value


class FlowThen(BaseModel):
    """What a flow step decides: the outcome and the words a person reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: FlowOutcome
    reason: Annotated[StrictStr, AfterValidator(lambda v: _one_line(v, 200))]
    determination: Annotated[StrictStr, AfterValidator(lambda v: _one_line(v, 100))] | None = None
    reason_code: StrictStr | None = None

    @field_validator("reason_code")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        if value is not None and not _REASON_CODE.fullmatch(value):
            raise PydanticCustomError(
                "reason_code", "must be lower-case letters, digits and _, e.g. serving_sentence"
            )
        return value


class FlowStep(BaseModel):
    """One step of a flow: when every condition holds, ``then`` decides.

    The final step of a flow has no conditions (``when`` is empty): it is the ``otherwise``
    step, which decides whatever the steps before it left.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: StrictStr | None = None
    when: tuple[tuple[str, Any], ...] = ()
    then: FlowThen

    @field_validator("id")
    @classmethod
    def _step_id(cls, value: str | None) -> str | None:
        if value is not None and not _STEP_ID.fullmatch(value):
            raise PydanticCustomError(
                "step_id", "must be lower-case letters, digits, _ and -, e.g. la-misdemeanor"
            )
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _conditions(cls, value: Any) -> tuple[tuple[str, Any], ...]:
        if value in ((), [], None):
            return ()
        try:
            return _check_when(value)
        except _FlowProblem as problem:
            where = ".".join(map(str, problem.at))
            raise ValueError(f"{where}: {problem}. {problem.hint}") from None

    @property
    def is_otherwise(self) -> bool:
        return not self.when

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.when)

    @model_serializer
    def _as_written(self) -> dict[str, Any]:
        """The YAML form: {id, when, then} or {id, otherwise}, lists for tuples."""
        then = {k: v for k, v in self.then.model_dump(mode="json").items() if v is not None}
        data: dict[str, Any] = {} if self.id is None else {"id": self.id}
        if self.is_otherwise:
            data["otherwise"] = then
        else:
            data["when"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.when}
            data["then"] = then
        return data


def _flow_step(raw: Any, index: int, last: bool) -> FlowStep:
    """One raw step (a mapping from YAML) as a FlowStep, or _FlowProblem naming where."""
    if isinstance(raw, FlowStep):  # built in Python: only its place in the flow is left to check
        if raw.is_otherwise != last:
            raise _FlowProblem(
                f"step {index + 1}: "
                + ("otherwise must be the last step" if raw.is_otherwise else
                   "the last step must be otherwise (a step with no conditions)"),
                at=(index,),
            )  # fmt: skip
        return raw
    if not isinstance(raw, Mapping):
        raise _FlowProblem(
            f"step {index + 1}: expected a mapping with when and then (or otherwise)",
            at=(index,),
        )
    keys = set(raw)
    allowed = {"id", "otherwise"} if "otherwise" in keys else {"id", "when", "then"}
    for key in raw:
        if key not in allowed:
            raise _FlowProblem(
                f"step {index + 1}: unknown key {_show(key)}",
                at=(index, str(key)),
                hint="A step has when and then (and an optional id); the last step has "
                "otherwise (and an optional id).",
            )
    if "otherwise" in keys and not last:
        raise _FlowProblem(
            f"step {index + 1}: otherwise must be the last step",
            at=(index, "otherwise"),
            hint="Steps after otherwise could never decide anything; move them before it.",
        )
    if "otherwise" not in keys and last:
        raise _FlowProblem(
            f"step {index + 1}: the last step must be otherwise",
            at=(index,),
            hint="End the flow with - otherwise: {outcome: review, reason: ...} so that no "
            "conviction is left without a decision.",
        )
    if "otherwise" not in keys:
        for key in ("when", "then"):
            if key not in keys:
                raise _FlowProblem(f"step {index + 1}: {key} is missing", at=(index,))
    try:
        when = () if "otherwise" in keys else _check_when(raw["when"])
    except _FlowProblem as problem:
        raise _FlowProblem(
            f"step {index + 1}: {problem.message}", (index, "when", *problem.at), problem.hint
        ) from None
    then_key = "otherwise" if "otherwise" in keys else "then"
    try:
        return FlowStep(id=raw.get("id"), when=when, then=raw[then_key])
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        where = (then_key, *loc[1:]) if loc and loc[0] == "then" else loc
        field = next((p for p in reversed(where) if isinstance(p, str)), "")
        problem = _PYDANTIC_PROBLEMS.get(error["type"], error["msg"])
        if error["type"] == "missing":
            problem = "is missing"
        elif error["type"] == "enum":
            problem = f"{_show(error.get('input'))} is not one of the allowed values"
        hint = {
            "outcome": "Allowed: dismiss, reduce, not_eligible or review.",
            "reason": "Write the reason a person reads, in quotes if it has a colon.",
            "id": 'Write the id as text; quote a number, e.g. id: "11357".',
        }.get(field, "")
        raise _FlowProblem(
            f"step {index + 1}: {problem}", (index, *where), hint or DOCS_HINT
        ) from None


def _parse_flow(raw: Any) -> tuple[FlowStep, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not raw:
        raise _FlowProblem(
            "expected a list of steps ending with otherwise",
            hint="Write flow: as a list, e.g. - when: {felony: false} then: {...}.",
        )
    steps = tuple(_flow_step(item, i, i == len(raw) - 1) for i, item in enumerate(raw))
    # Each step's rule is policy.flow.<id>, or policy.flow.<n> / policy.flow.otherwise
    # without one: two steps must not share a rule id.
    seen: set[str] = set()
    for i, step in enumerate(steps):
        name = step.id or ("otherwise" if step.is_otherwise else str(i + 1))
        if name in seen:
            raise _FlowProblem(
                f"step {i + 1}: its rule id policy.flow.{name} is another step's too",
                at=(i, "id") if step.id else (i,),
                hint="Each step's id names its rule in explanations; make it unique.",
            )
        seen.add(name)
    return steps


# --------------------------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------------------------


class AdditionalRelief(BaseModel):
    """gogen's "additional relief": rules that dismiss a felony conviction not in ``dismiss``.

    Fields are in gogen's decision order (rules 3-8 of gogen-behaviour.md 5.2), which the
    engine checks after the ``dismiss`` list and before ``reduce``. A threshold of 0 turns its
    rule off. Boundaries (gogen's): under 21 is strict (not on the 21st birthday); age and
    years-since are inclusive; crime-free is strict.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    under_21_at_conviction: StrictBool = False
    age_threshold: StrictInt = 0
    years_since_conviction: StrictInt = 0
    years_crime_free: StrictInt = 0
    only_prop64_charges: StrictBool = False
    deceased: StrictBool = False

    @field_validator("age_threshold", "years_since_conviction", "years_crime_free")
    @classmethod
    def _in_gogen_range(cls, value: int, info: ValidationInfo) -> int:
        _range_check(str(info.field_name), value)
        return value


# The YAML key, gogen's JSON key, and the value type, in gogen's decision order.
GOGEN_RELIEF_KEYS: tuple[tuple[str, str, type], ...] = (
    ("under_21_at_conviction", "subjectUnder21AtConviction", bool),
    ("age_threshold", "subjectAgeThreshold", int),
    ("years_since_conviction", "yearsSinceConvictionThreshold", int),
    ("years_crime_free", "yearsCrimeFreeThreshold", int),
    ("only_prop64_charges", "subjectHasOnlyProp64Charges", bool),
    ("deceased", "subjectIsDeceased", bool),
)

GOGEN_OPTIONS_NAME = "gogen-options"
GOGEN_OPTIONS_DESCRIPTION = (
    "gogen eligibility options (baselineEligibility, additionalRelief); "
    "clearslate options at their defaults"
)


class Policy(BaseModel):
    """One office's Prop 64 policy. Frozen; build it with :func:`load_policy` or the factories.

    ``dismiss`` and ``reduce`` are kept as given, in order: the engine checks ``dismiss`` first,
    so a section listed in both is dismissed (gogen's rule), and the first matching entry names
    the reason.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] = "unnamed"
    description: StrictStr = ""
    dismiss: tuple[Section, ...] = ()
    reduce: tuple[Section, ...] = ()
    additional_relief: AdditionalRelief = AdditionalRelief()
    disqualifiers: Disqualifiers = Disqualifiers.REVIEW
    prior_means: PriorMeans = PriorMeans.BEFORE_CONVICTION
    effective_date_rule: EffectiveDateRule = EffectiveDateRule.NOT_ELIGIBLE
    doubtful_data: DoubtfulData = DoubtfulData.REVIEW
    misdemeanors: Misdemeanors = Misdemeanors.DISMISS
    route_to: Annotated[StrictStr | None, Field(validate_default=True)] = None
    related_convictions: RelatedConvictions = RelatedConvictions.LEAVE
    related_sections: tuple[StatuteId, ...] = DEFAULT_RELATED_SECTIONS
    still_serving: StillServing = StillServing.RESENTENCE
    hand_review_11357_other: StrictBool = False
    # Declared last: its validator reads related_convictions, and it replaces the chain above.
    flow: tuple[FlowStep, ...] | None = None

    @field_validator("name")
    @classmethod
    def _one_line_name(cls, value: str) -> str:
        if not value.strip() or "\n" in value or "\r" in value:
            raise PydanticCustomError("one_line", "must be one non-blank line of text")
        return value

    @field_validator("route_to")
    @classmethod
    def _route_to_only_when_routing(cls, value: str | None, info: ValidationInfo) -> str | None:
        mode = info.data.get("misdemeanors")
        if mode is None:  # misdemeanors itself was invalid; that error is reported
            return value
        if mode == Misdemeanors.ROUTE:
            if value is None or not value.strip():
                raise PydanticCustomError(
                    "route_to_missing", "is required when misdemeanors is route"
                )
            if "\n" in value or "\r" in value or len(value) > 100:
                raise PydanticCustomError("one_line", "must be one line of at most 100 characters")
        elif value is not None:
            raise PydanticCustomError(
                "route_to_unused",
                f"is set but misdemeanors is {mode.value}, so it would have no effect",
            )
        return value

    @field_validator("related_sections")
    @classmethod
    def _related_sections_used(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple:
        # Runs only when related_sections is given explicitly (validate_default is off).
        mode = info.data.get("related_convictions")
        if mode == RelatedConvictions.LEAVE:
            raise PydanticCustomError(
                "related_unused",
                "is set but related_convictions is leave, so it would have no effect",
            )
        if mode is not None and not value:
            raise PydanticCustomError(
                "related_empty", f"is empty, so related_convictions: {mode.value} would do nothing"
            )
        return value

    @field_validator("flow", mode="before")
    @classmethod
    def _flow_steps(cls, value: Any, info: ValidationInfo) -> tuple[FlowStep, ...] | None:
        try:
            steps = _parse_flow(value)
        except _FlowProblem as problem:
            raise PydanticCustomError(
                "flow", "{message}", {"message": problem.message, "at": problem.at,
                                      "hint": problem.hint},
            ) from None  # fmt: skip
        # A related conviction is decided only when related_convictions lets it in, so a
        # step about related charges under `leave` could never match: say so.
        if steps and info.data.get("related_convictions") == RelatedConvictions.LEAVE:
            for i, step in enumerate(steps):
                if "related_charge" in step.conditions:
                    raise PydanticCustomError(
                        "flow",
                        "{message}",
                        {
                            "message": f"step {i + 1}: related_charge is used but "
                            "related_convictions is leave, so related convictions are never "
                            "decided and this step would have no effect",
                            "at": (i, "when", "related_charge"),
                            "hint": "Set related_convictions: clear or review.",
                        },
                    )
        return steps

    @model_validator(mode="after")
    def _flow_replaces_the_chain(self) -> Policy:
        if self.flow is None:
            return self
        for key in FLOW_REPLACES:
            if key in self.model_fields_set:
                raise PydanticCustomError(
                    "flow_replaces",
                    "{message}",
                    {
                        "message": f"is set but the policy has a flow, which replaces "
                        f"{', '.join(FLOW_REPLACES)}; it would have no effect",
                        "key": key,
                    },
                )
        return self

    # ---- reading ---------------------------------------------------------------------------

    @classmethod
    def from_gogen_options(cls, options: Mapping[str, Any], *, source: str | None = None) -> Policy:
        """A policy from gogen's eligibility-options object (a decoded JSON object).

        gogen's reading: missing keys default, unknown keys are ignored, keys match
        case-insensitively, wrong JSON types are errors, then the range checks in gogen's order;
        then (clearslate only) the section strings are checked. Clearslate's own options take
        their defaults. Raises :class:`PolicyError`.
        """
        return _policy_from_gogen(options, source=source, text=None)

    @classmethod
    def from_yaml_mapping(cls, data: Any, *, source: str | None = None) -> Policy:
        """A policy from the YAML policy schema (a decoded mapping). Raises :class:`PolicyError`."""
        return _policy_from_yaml_data(data, source=source, root=None)

    @classmethod
    def from_yaml_text(cls, text: str, *, source: str | None = None) -> Policy:
        """A policy from YAML policy text. Raises :class:`PolicyError`."""
        return _policy_from_yaml_text(text, source=source)

    # ---- writing ---------------------------------------------------------------------------

    def to_gogen_options(self) -> dict[str, Any]:
        """The gogen 0.2.13 eligibility-options object for this policy (BEAR interop).

        Only the gogen options are carried; clearslate's own options have no gogen equivalent.
        A policy with a ``flow`` has none at all: :class:`PolicyError`.
        """
        if self.flow is not None:
            raise PolicyError(
                "a policy with a flow cannot be written as gogen eligibility options",
                hint="gogen's options hold only dismiss/reduce lists and additional relief.",
            )
        relief = self.additional_relief
        return {
            "baselineEligibility": {
                "dismiss": [str(s.value) for s in self.dismiss],
                "reduce": [str(s.value) for s in self.reduce],
            },
            "additionalRelief": {
                gogen_key: getattr(relief, key) for key, gogen_key, _ in GOGEN_RELIEF_KEYS
            },
        }

    def to_yaml_mapping(self) -> dict[str, Any]:
        """This policy in the YAML schema, keys in schema order, inert keys left out."""
        data = self.model_dump(mode="json")
        if self.flow is None:
            del data["flow"]
        else:  # the keys a flow replaces are at their defaults (enforced) and refused beside it
            for key in FLOW_REPLACES:
                data.pop(key, None)
        if self.route_to is None:
            data.pop("route_to", None)
        if self.related_convictions == RelatedConvictions.LEAVE:
            del data["related_sections"]
        return data

    def to_yaml(self) -> str:
        """This policy as a YAML policy file that :func:`load_policy` reads back equal."""
        return yaml.safe_dump(
            self.to_yaml_mapping(), sort_keys=False, allow_unicode=True, width=100
        )

    def canonical_json(self) -> str:
        """Every field, sorted keys, no spaces: the text hashed into run manifests."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json` in UTF-8."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def baseline_action(self, section: str) -> Literal["dismiss", "reduce"] | None:
        """The section's baseline choice: ``dismiss`` wins over ``reduce``; None if neither."""
        if section in self.dismiss:
            return "dismiss"
        if section in self.reduce:
            return "reduce"
        return None


# --------------------------------------------------------------------------------------------
# Per-key help: allowed values, used in error hints (docs/policy.md has the full table)
# --------------------------------------------------------------------------------------------

_ALLOWED: dict[str, str] = {
    "name": "one line of text, e.g. name: Yolo County DA 2024",
    "description": "any text",
    "dismiss": f"a list of sections from {_SECTIONS_TEXT}, e.g. dismiss: [11357, 11358]",
    "reduce": f"a list of sections from {_SECTIONS_TEXT}, e.g. reduce: [11359, 11360]",
    "additional_relief": "a mapping with keys " + ", ".join(k for k, _, _ in GOGEN_RELIEF_KEYS),
    "under_21_at_conviction": "true or false",
    "only_prop64_charges": "true or false",
    "deceased": "true or false",
    "age_threshold": "0 (off) or a whole number from 40 to 65",
    "years_since_conviction": "0 (off) or a whole number from 1 to 15",
    "years_crime_free": "0 (off) or a whole number from 1 to 15",
    "disqualifiers": "ignore, review or deny",
    "prior_means": "before_conviction or anywhere_on_record",
    "effective_date_rule": "not_eligible or ignore",
    "doubtful_data": "review or gogen",
    "misdemeanors": "dismiss or route (route needs route_to)",
    "route_to": 'a one-line label, e.g. route_to: "To be reviewed by City Attorneys", '
    "only with misdemeanors: route",
    "related_convictions": "leave, clear or review",
    "related_sections": "a list of statute ids such as ca:pc:647:f, only with "
    "related_convictions: clear or review",
    "still_serving": "resentence or review",
    "hand_review_11357_other": "true or false",
    "flow": "a list of steps (when: {condition: value}, then: {outcome, reason}) ending with "
    "an otherwise step",
}

_TOP_KEYS: tuple[str, ...] = tuple(Policy.model_fields)
_RELIEF_KEYS: tuple[str, ...] = tuple(AdditionalRelief.model_fields)
_GOGEN_TO_YAML: dict[str, str] = {
    "baselineEligibility": "dismiss / reduce",
    "additionalRelief": "additional_relief",
    **{g.lower(): f"additional_relief.{k}" for k, g, _ in GOGEN_RELIEF_KEYS},
    "baselineeligibility": "dismiss / reduce",
    "additionalrelief": "additional_relief",
}


# --------------------------------------------------------------------------------------------
# Positions in the source text (YAML nodes carry marks; JSON is read through the same composer)
# --------------------------------------------------------------------------------------------

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text (no policy key is a date)."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

Loc = tuple[str | int, ...]


def _mark(node: yaml.Node | None) -> tuple[int | None, int | None]:
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def _node_at(root: yaml.Node | None, loc: Loc, *, key: bool = False) -> yaml.Node | None:
    """The node at ``loc`` (the key node of its last step when ``key``), or None."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == part:
                    found = k if (key and last) else v
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            return None
        if node is None:
            return None
    return node


def _key_text(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --------------------------------------------------------------------------------------------
# gogen eligibility-options JSON
# --------------------------------------------------------------------------------------------


class _JsonObject(list):
    """A decoded JSON object as its (key, value) pairs in document order (duplicates kept)."""


class _NonStandardConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonStandardConstant(name)


def _pairs(value: Any) -> list[tuple[Any, Any]] | None:
    if isinstance(value, _JsonObject):
        return list(value)
    if isinstance(value, Mapping):
        return list(value.items())
    return None


def _fold_match(key: Any, names: Iterable[str]) -> str | None:
    """Go encoding/json field matching: exact name first, else case-insensitive."""
    if not isinstance(key, str):
        return None
    names = tuple(names)
    if key in names:
        return key
    folded = key.casefold()
    for name in names:
        if name.casefold() == folded:
            return name
    return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple) and not isinstance(value, _JsonObject):
        return "a list"
    if _pairs(value) is not None:
        return "an object"
    return f"a {type(value).__name__}"


_EXPECTED = {
    bool: ("true or false", "Write true or false, without quotes."),
    int: ("a whole number", "Write a whole number without quotes, e.g. 5; 0 turns the rule off."),
    list: ("a list of section strings", 'Write a list such as ["11357", "11358"], or [].'),
    str: ("a section string", 'Write each section as a quoted string, e.g. "11357".'),
    dict: ("an object", "Write an object in braces, e.g. {}, or remove the key."),
}


def _type_error(loc: Loc, expected: type, value: Any) -> PolicyError:
    what, hint = _EXPECTED[expected]
    shown = "" if _pairs(value) is not None or isinstance(value, list) else f" {_show(value)}"
    return PolicyError(
        f"expected {what}, got {_json_kind(value)}{shown}", key=_key_text(loc), hint=hint
    )


_INT64 = range(-(2**63), 2**63)


def _gogen_state(options: Any) -> tuple[dict[str, Any], dict[str, Loc]]:
    """Decode like gogen: defaults, case-insensitive keys, first wrong type is the error."""
    state: dict[str, Any] = {"dismiss": [], "reduce": []}
    state.update({key: (False if t is bool else 0) for key, _, t in GOGEN_RELIEF_KEYS})
    where: dict[str, Loc] = {}
    top = _pairs(options)
    if top is None:
        raise PolicyError(
            f"the eligibility options must be a JSON object, got {_json_kind(options)}",
            hint='Write an object such as {"baselineEligibility": {"dismiss": ["11357"]}}.',
        )
    for raw_key, value in top:
        name = _fold_match(raw_key, ("baselineEligibility", "additionalRelief"))
        if name is None or value is None:  # unknown keys ignored; null leaves a struct alone
            continue
        inner = _pairs(value)
        if inner is None:
            raise _type_error((raw_key,), dict, value)
        if name == "baselineEligibility":
            for inner_key, items in inner:
                field = _fold_match(inner_key, ("dismiss", "reduce"))
                if field is None:
                    continue
                loc: Loc = (raw_key, inner_key)
                if items is None:  # Go sets a slice to nil
                    state[field], where[field] = [], loc
                    continue
                if not isinstance(items, list | tuple) or isinstance(items, _JsonObject):
                    raise _type_error(loc, list, items)
                decoded = []
                for index, item in enumerate(items):
                    if item is not None and not isinstance(item, str):
                        raise _type_error((*loc, index), str, item)
                    decoded.append("" if item is None else item)  # Go: null -> ""
                state[field], where[field] = decoded, loc
        else:
            by_gogen = {g: (k, t) for k, g, t in GOGEN_RELIEF_KEYS}
            for inner_key, item in inner:
                gogen_key = _fold_match(inner_key, by_gogen)
                if gogen_key is None or item is None:  # null leaves the value alone (Go)
                    continue
                field, kind = by_gogen[gogen_key]
                loc = (raw_key, inner_key)
                if kind is bool and not isinstance(item, bool):
                    raise _type_error(loc, bool, item)
                if kind is int and (
                    isinstance(item, bool) or not isinstance(item, int) or item not in _INT64
                ):
                    raise _type_error(loc, int, item)
                state[field], where[field] = item, loc
    return state, where


def _policy_from_gogen(options: Any, *, source: str | None, text: str | None) -> Policy:
    state, where = _gogen_state(options)
    # gogen's range validation, in gogen's order, stopping at the first failure.
    for field in ("age_threshold", "years_since_conviction", "years_crime_free"):
        message, low, high = _GOGEN_RANGE_MESSAGES[field]
        value = state[field]
        if value != 0 and not low <= value <= high:
            raise PolicyError(
                f"{message} (got {value})",
                key=_key_text(where[field]),
                hint=f"Use 0 to turn this rule off, or a whole number from {low} to {high}.",
                gogen_message=message,
            )
    # Not in gogen (it crashed later): every section string must be one of the four.
    for field in ("dismiss", "reduce"):
        for index, item in enumerate(state[field]):
            if item not in VALID_SECTIONS:
                raise PolicyError(
                    _section_problem(item),
                    key=_key_text((*where[field], index)),
                    hint=_section_hint(item),
                )
    try:
        return Policy(
            name=GOGEN_OPTIONS_NAME,
            description=GOGEN_OPTIONS_DESCRIPTION,
            dismiss=tuple(state["dismiss"]),
            reduce=tuple(state["reduce"]),
            additional_relief=AdditionalRelief(**{k: state[k] for k, _, _ in GOGEN_RELIEF_KEYS}),
        )
    except ValidationError as exc:  # not expected: every value was checked above
        raise PolicyError(f"invalid eligibility options: {exc.errors()[0]['msg']}") from None


def _decode_json(text: str) -> Any:
    """Parse JSON strictly (no NaN/Infinity), objects as ordered pairs. Raises PolicyError."""
    try:
        return json.loads(text, object_pairs_hook=_JsonObject, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"not valid JSON: {exc.msg}",
            line=exc.lineno,
            column=exc.colno,
            hint="Fix the JSON syntax at that position (BEAR writes this file; "
            "a hand edit may have broken it).",
        ) from None
    except _NonStandardConstant as exc:
        offset = text.find(str(exc))
        line, column = _position(text, offset) if offset >= 0 else (None, None)
        raise PolicyError(
            f"not valid JSON: {exc} is not a JSON value",
            line=line,
            column=column,
            hint="Write a number instead.",
        ) from None
    except RecursionError:
        raise PolicyError(
            "not valid JSON: nested too deeply", hint="An options file is two levels deep."
        ) from None


def _locate_in_text(text: str | None, loc: Loc | None) -> tuple[Any, Any]:
    """Best-effort line/column of ``loc`` in JSON/YAML text."""
    if text is None or loc is None:
        return None, None
    try:
        root = yaml.compose(text, Loader=_PolicyLoader)
    except Exception:
        return None, None
    return _mark(_node_at(root, loc))


def _looks_like_yaml_policy(options: Any) -> bool:
    pairs = _pairs(options) or []
    keys = [k for k, _ in pairs]
    has_gogen = any(_fold_match(k, ("baselineEligibility", "additionalRelief")) for k in keys)
    return not has_gogen and any(k in _TOP_KEYS for k in keys)


def _load_gogen_text(text: str, *, source: str) -> Policy:
    try:
        options = _decode_json(text)
        if _looks_like_yaml_policy(options):
            raise PolicyError(
                "this looks like a clearslate policy (snake_case keys such as dismiss), not gogen "
                "eligibility options (baselineEligibility, additionalRelief); gogen would ignore "
                "every key and relieve nothing but misdemeanours",
                hint="Rename the file to .yaml (YAML reads JSON syntax) and pass it with --policy.",
            )
        return _policy_from_gogen(options, source=source, text=text)
    except PolicyError as exc:
        line, column = _locate_in_text(text, _loc_from_key(exc.key))
        raise exc._located(file=source, line=line, column=column) from None


def _loc_from_key(key: str | None) -> Loc | None:
    if not key:
        return None
    loc: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        loc.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(loc)


# --------------------------------------------------------------------------------------------
# YAML policy
# --------------------------------------------------------------------------------------------


def _unknown_key_error(key: Any, valid: tuple[str, ...], parent: str | None) -> PolicyError:
    shown = key if isinstance(key, str) else _show(key)
    suggestion = ""
    if isinstance(key, str):
        gogen = _GOGEN_TO_YAML.get(key) or _GOGEN_TO_YAML.get(key.lower())
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        if gogen:
            suggestion = (
                f" This is a gogen JSON key; in a YAML policy write {gogen}, or pass a gogen "
                "options file (.json) with --eligibility-options."
            )
        elif close:
            suggestion = f" Did you mean {close[0]}?"
    where = f" in {parent}" if parent else ""
    return PolicyError(
        f"unknown key {_show(shown)}{where}",
        key=_key_text((parent, shown) if parent else (shown,)),
        hint=f"Valid keys{where}: {', '.join(valid)}.{suggestion} A misspelt key is an error "
        "so that a typo cannot silently change a legal decision.",
    )


def _check_unknown_keys(data: dict[Any, Any], root: yaml.Node | None) -> None:
    """Reject unknown keys (top level, then additional_relief) in document order."""
    checks: list[tuple[dict[Any, Any], tuple[str, ...], str | None]] = [(data, _TOP_KEYS, None)]
    relief = data.get("additional_relief")
    if isinstance(relief, dict):
        checks.append((relief, _RELIEF_KEYS, "additional_relief"))
    for mapping, valid, parent in checks:
        for key in mapping:
            if key not in valid:
                error = _unknown_key_error(key, valid, parent)
                loc: Loc = (parent, key) if parent else (key,)
                line, column = _mark(_node_at(root, loc, key=True))
                raise error._located(file=None, line=line, column=column)


_PYDANTIC_PROBLEMS = {
    "bool_type": "expected true or false",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "string_type": "expected text",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys to values",
    "model_attributes_type": "expected a mapping of keys to values",
    "dict_type": "expected a mapping of keys to values",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
}


def _from_validation_error(exc: ValidationError, root: yaml.Node | None) -> PolicyError:
    error = exc.errors(include_url=False)[0]
    loc: Loc = tuple(error["loc"])
    value = error.get("input")
    kind = error["type"]
    field = next((p for p in reversed(loc) if isinstance(p, str)), None)
    allowed = _ALLOWED.get(field or "")
    hint = f"Allowed: {allowed}. {DOCS_HINT}" if allowed else DOCS_HINT
    gogen_message = None
    if kind in ("flow", "flow_replaces"):
        ctx = error.get("ctx") or {}
        loc = (*loc, *ctx.get("at", ())) if kind == "flow" else (ctx["key"],)
        line, column = _mark(_node_at(root, loc, key=True) or _node_at(root, loc))
        if line is None:  # a key the YAML does not hold (a missing one): point at its parent
            line, column = _mark(_node_at(root, loc[:-1]))
        return PolicyError(
            ctx["message"],
            key=_key_text(loc),
            line=line,
            column=column,
            hint=ctx.get("hint") or DOCS_HINT,
        )
    if kind == "extra_forbidden":  # only reachable through Python mappings with odd keys
        parent = _key_text(loc[:-1]) or None
        valid = _RELIEF_KEYS if parent == "additional_relief" else _TOP_KEYS
        return _unknown_key_error(loc[-1], valid, parent)
    if value is None and kind not in ("missing", "route_to_missing"):
        problem = "has no value"
        hint = f"Give a value, or remove the key to use the default. {hint}"
    elif kind == "enum":
        problem = f"{_show(value)} is not one of the allowed values"
    elif kind == "prop64_section":
        problem = error["msg"]
        hint = _section_hint(value)
    elif kind == "gogen_range":
        gogen_message = error["msg"]
        problem = f"{error['msg']} (got {value})"
    elif kind in _PYDANTIC_PROBLEMS:
        problem = _PYDANTIC_PROBLEMS[kind]
        if kind.endswith("_type") and not isinstance(value, dict | list):
            problem += f", got {_json_kind(value)} {_show(value)}"
            if isinstance(value, str) and kind in ("bool_type", "int_type"):
                hint = f"Write it without quotes. {hint}"
            elif kind == "string_type":
                hint = f"Put the text in quotes. {hint}"
    else:
        problem = error["msg"]
    node = _node_at(root, loc)
    if node is None and kind == "route_to_missing":
        node = _node_at(root, ("misdemeanors",))
    line, column = _mark(node)
    return PolicyError(
        problem,
        key=_key_text(loc),
        line=line,
        column=column,
        hint=hint,
        gogen_message=gogen_message,
    )


def _policy_from_yaml_data(data: Any, *, source: str | None, root: yaml.Node | None) -> Policy:
    try:
        if data is None:
            raise PolicyError(
                "the policy is empty",
                hint="Write at least a name and the dismiss/reduce lists; "
                "src/clearslate/policies/dismiss-all.yaml is a complete example.",
            )
        if not isinstance(data, dict):
            line, column = _mark(root)
            raise PolicyError(
                f"a policy must be a mapping of keys to values, got {_json_kind(data)}",
                line=line,
                column=column,
                hint="Start each line with a key, e.g. 'name: My office'.",
            )
        _check_unknown_keys(data, root)
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            raise _from_validation_error(exc, root) from None
    except PolicyError as exc:
        raise exc._located(file=source) from None


def check_duplicate_keys(root: yaml.Node | None, source: str | None) -> None:
    """A key given twice in one mapping: YAML keeps the last silently, so a second `dismiss:`
    further down would quietly replace the first. It is an error, as a misspelt key is."""
    todo, visited = [root], set()
    while todo:
        node = todo.pop()
        if id(node) in visited:  # an alias: a node already checked (and no billion laughs)
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    line, column = _mark(key)
                    raise PolicyError(
                        f"given twice (first on line {_mark(seen[key.value])[0]})",
                        file=source,
                        line=line,
                        column=column,
                        key=key.value[:40],
                        hint="Keep one of them: YAML would silently use the last.",
                    )
                if isinstance(key, yaml.ScalarNode):
                    seen[key.value] = key
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)


def _policy_from_yaml_text(text: str, *, source: str | None) -> Policy:
    loader = None
    try:
        loader = _PolicyLoader(text)  # the reader rejects control characters here
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "cannot be read"
        raise PolicyError(
            f"not valid YAML: {problem}",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="Fix the YAML syntax at that position (indent with spaces, "
            "put a space after each colon).",
        ) from None
    except RecursionError:
        raise PolicyError(
            "not valid YAML: nested too deeply", file=source, hint="A policy is two levels deep."
        ) from None
    except Exception as exc:  # yaml.YAMLError without a mark, or a constructor ValueError
        raise PolicyError(
            f"not valid YAML: {type(exc).__name__}: {_show(str(exc), 120)}",
            file=source,
            hint="Fix the YAML syntax.",
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    check_duplicate_keys(root, source)
    return _policy_from_yaml_data(data, source=source, root=root)


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(
            "file not found", file=source, hint="Check the path, or name a shipped policy."
        ) from None
    except IsADirectoryError:
        raise PolicyError("is a directory, not a file", file=source) from None
    except OSError as exc:
        raise PolicyError(
            f"cannot be read: {exc.strerror or exc}", file=source, hint="Check its permissions."
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line = raw.count(b"\n", 0, start) + 1
        column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        raise PolicyError(
            "is not UTF-8 text",
            file=source,
            line=line,
            column=column,
            hint="Save the file as UTF-8.",
        ) from None


def load_policy(path: Path | str) -> Policy:
    """Read a policy file: ``.json`` is gogen eligibility options, ``.yaml``/``.yml`` a policy.

    Any other suffix: a JSON object with gogen keys is read as gogen options, anything else
    as a YAML policy. Raises :class:`PolicyError` (never another exception) for bad input.
    """
    path = Path(path)
    source = str(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _load_gogen_text(text, source=source)
    if suffix not in (".yaml", ".yml") and text.lstrip().startswith("{"):
        try:
            options = _decode_json(text)
        except PolicyError:
            options = None
        pairs = _pairs(options) or []
        if any(_fold_match(k, ("baselineEligibility", "additionalRelief")) for k, _ in pairs):
            return _load_gogen_text(text, source=source)
    return _policy_from_yaml_text(text, source=source)


# --------------------------------------------------------------------------------------------
# Shipped policies
# --------------------------------------------------------------------------------------------

POLICIES_DIR = Path(__file__).parent / "policies"


def _shipped() -> Mapping[str, Path]:
    found = {}
    if POLICIES_DIR.is_dir():
        for path in sorted(POLICIES_DIR.iterdir()):
            if path.is_file() and path.suffix.lower() in (".yaml", ".yml", ".json"):
                found[path.stem] = path
    return MappingProxyType(found)


SHIPPED_POLICIES: Mapping[str, Path] = _shipped()
"""Shipped policy name (file stem, e.g. ``dismiss-all``) -> file, sorted by name."""


def shipped_policy(name: str) -> Path:
    """The file of a shipped policy, by name (``dismiss-all``) or file name. Raises PolicyError."""
    stem = Path(name).stem if Path(name).suffix.lower() in (".yaml", ".yml", ".json") else name
    try:
        return SHIPPED_POLICIES[stem]
    except KeyError:
        raise PolicyError(
            f"no shipped policy named {_show(name)}",
            hint=f"Shipped policies: {', '.join(SHIPPED_POLICIES) or '(none)'}.",
        ) from None


def resolve_policy(value: str | Path) -> Policy:
    """What ``--policy VALUE`` means: an existing file, else a shipped policy's name.

    Raises :class:`PolicyError`.
    """
    path = Path(value)
    if not path.exists():
        if str(value) in SHIPPED_POLICIES:
            return load_policy(SHIPPED_POLICIES[str(value)])
        if path.suffix.lower() not in (".json", ".yaml", ".yml"):
            raise PolicyError(
                f"no file and no shipped policy named {_show(str(value))}",
                hint="Give the path of a .yaml policy or a .json gogen options file, or one of "
                f"the shipped policies: {', '.join(SHIPPED_POLICIES)}.",
            )
    return load_policy(path)


DEFAULT_POLICY: Policy = load_policy(POLICIES_DIR / "dismiss-all.yaml")
"""BEAR's default: dismiss all four sections, BEAR's default additional relief."""
