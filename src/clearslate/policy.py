"""Office policy: what a prosecutor's office chose, validated, kept apart from the law.

The law (which sections Prop 64 covers, its effective date, the statutory disqualifiers) lives in
the law data under ``clearslate/laws``. This module holds only the office's *choices*: which
sections to dismiss or reduce, the gogen "additional relief" thresholds, and a few clearslate
options that say how to act on facts gogen only displayed (disqualifying priors, the effective
date, doubtful data, misdemeanours, related convictions, people still serving a sentence).

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

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
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
)
from pydantic_core import PydanticCustomError

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_RELATED_SECTIONS",
    "GOGEN_RELATED_SECTIONS",
    "SHIPPED_POLICIES",
    "VALID_SECTIONS",
    "AdditionalRelief",
    "Disqualifiers",
    "DoubtfulData",
    "EffectiveDateRule",
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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
        """
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
        if self.route_to is None:
            del data["route_to"]
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
