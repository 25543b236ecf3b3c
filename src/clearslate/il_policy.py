"""Illinois office policy: the points the law notes leave open, chosen by the office.

The Illinois law as clearslate holds it (``laws/data/il_crta.yaml``) has points that the
sources do not settle (reference/law-notes.md section 2, marked UNCERTAIN there) or that are
an office's own choice. Each is an option here, never a hard-coded guess: how old an arrest
must be, where the first deadline tier ends, Cook County's class filter, whether supervision
and qualified probation count as convictions, what "associated" means for the violent-crime
exclusion, whether amounts inferred from the offense class are trusted, whether the >30 g
motion tier is included, juvenile and unfingerprinted records, uncertain person links.

A policy is a YAML file validated by :class:`ILPolicy` (pydantic, unknown keys rejected); every
error is a :class:`~clearslate.policy.PolicyError` naming file, line, column, key and the
allowed values. Shipped policies: ``policies/il/*.yaml`` (``--policy cook-county``).
docs/illinois.md explains each option and why the shipped policies chose as they did.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from pydantic import field_validator as _field_validator

from clearslate.policy import (
    PolicyError,
    _key_text,
    _mark,
    _node_at,
    _PolicyLoader,
    _read_text,
)

POLICIES_DIR = Path(__file__).parent / "policies" / "il"
DOCS_HINT = "See docs/illinois.md."
OFFENSE_CLASSES = ("X", "1", "2", "3", "4", "A", "B", "C", "P")


class TrackChoice(StrEnum):
    ARREST = "arrest"  # decided as a record with no conviction (arrest track)
    CONVICTION = "conviction"
    REVIEW = "review"


class Association(StrEnum):
    SAME_CASE = "same_case"
    SAME_ARREST = "same_arrest"
    SAME_PERSON_AND_DATE = "same_person_and_date"


class AcceptOrReview(StrEnum):
    ACCEPT = "accept"
    REVIEW = "review"


class IncludeOrExclude(StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"


class Delivery30(StrEnum):
    VACATE_AND_EXPUNGE = "vacate_and_expunge"
    ELIGIBLE_ON_MOTION = "eligible_on_motion"


class RecordChoice(StrEnum):
    INCLUDE = "include"
    REVIEW = "review"
    NOT_ELIGIBLE = "not_eligible"


class LinkChoice(StrEnum):
    REVIEW = "review"
    DECIDE = "decide"


class TierEnd(StrEnum):
    ISP = "2019-06-25"
    COUNTY_RELEASES = "2020-01-01"


class ILPolicy(BaseModel):
    """One Illinois office's choices. Frozen; build it with :func:`load_il_policy`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=200)] = "unnamed"
    description: StrictStr = ""
    counties: tuple[StrictStr, ...] | None = None  # None: every county
    arrest_min_years: Annotated[StrictInt, Field(ge=0, le=10)] = 1
    first_tier_end: TierEnd = TierEnd.ISP
    conviction_classes: tuple[StrictStr, ...] | None = None  # None: any class
    supervision: TrackChoice = TrackChoice.ARREST
    qualified_probation: TrackChoice = TrackChoice.ARREST
    associated_means: Annotated[tuple[Association, ...], Field(min_length=1)] = (
        Association.SAME_CASE,
        Association.SAME_ARREST,
    )
    inferred_grams: AcceptOrReview = AcceptOrReview.ACCEPT
    motion_tier: IncludeOrExclude = IncludeOrExclude.INCLUDE
    delivery_30g_or_less: Delivery30 = Delivery30.VACATE_AND_EXPUNGE
    attempts: AcceptOrReview = AcceptOrReview.REVIEW
    juvenile: RecordChoice = RecordChoice.REVIEW
    without_fingerprints: RecordChoice = RecordChoice.INCLUDE
    uncertain_links: LinkChoice = LinkChoice.REVIEW

    @_field_validator("counties")
    @classmethod
    def _upper(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            value = tuple(v.strip().upper() for v in value)
            if not value or not all(value):
                raise ValueError("must list county names, or be left out for every county")
        return value

    @_field_validator("conviction_classes")
    @classmethod
    def _classes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        value = tuple(v.strip().upper() for v in value)
        bad = [v for v in value if v not in OFFENSE_CLASSES]
        if bad or not value:
            raise ValueError(f"{bad[0] if bad else '[]'} is not an offense class")
        return value

    @property
    def first_tier_end_date(self) -> dt.date:
        return dt.date.fromisoformat(self.first_tier_end.value)

    def canonical_json(self) -> str:
        """Every field, sorted keys, no spaces: the text hashed into run manifests."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


ALLOWED: dict[str, str] = {
    "name": "one line of text",
    "description": "any text",
    "counties": "a list of county names, e.g. [COOK]; leave out for every county",
    "arrest_min_years": "a whole number of years from 0 to 10 (law-notes: 1 or 3)",
    "first_tier_end": '"2019-06-25" (ISP) or "2020-01-01" (county releases)',
    "conviction_classes": f"a list of offense classes from {', '.join(OFFENSE_CLASSES)}, "
    "e.g. [A, B, '4']; leave out for any class",
    "supervision": "arrest, conviction or review",
    "qualified_probation": "arrest, conviction or review",
    "associated_means": "a list from same_case, same_arrest, same_person_and_date",
    "inferred_grams": "accept or review",
    "motion_tier": "include or exclude",
    "delivery_30g_or_less": "vacate_and_expunge or eligible_on_motion",
    "attempts": "accept or review",
    "juvenile": "include, review or not_eligible",
    "without_fingerprints": "include, review or not_eligible",
    "uncertain_links": "review or decide",
}
_KEYS = tuple(ILPolicy.model_fields)


def _error(exc: ValidationError, root: yaml.Node | None) -> PolicyError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    field = next((p for p in loc if isinstance(p, str)), "")
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _KEYS, n=1, cutoff=0.6)
        line, column = _mark(_node_at(root, loc, key=True))
        return PolicyError(
            f"unknown key {loc[-1]!r}",
            key=_key_text(loc),
            line=line,
            column=column,
            hint=f"Valid keys: {', '.join(_KEYS)}."
            + (f" Did you mean {close[0]}?" if close else "")
            + " A misspelt key is an error so that a typo cannot change a legal decision.",
        )
    value = error.get("input")
    problem = error["msg"].removeprefix("Value error, ")
    if error["type"] in ("enum", "literal_error"):
        problem = f"{value!r} is not one of the allowed values"
    line, column = _mark(_node_at(root, loc))
    allowed = ALLOWED.get(field)
    return PolicyError(
        problem,
        key=_key_text(loc),
        line=line,
        column=column,
        hint=f"Allowed: {allowed}. {DOCS_HINT}" if allowed else DOCS_HINT,
    )


def il_policy_from_text(text: str, *, source: str | None = None) -> ILPolicy:
    try:
        loader = _PolicyLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyError(
            f"not valid YAML: {exc.problem or 'cannot be read'}",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="Fix the YAML syntax at that position.",
        ) from None
    if not isinstance(data, Mapping):
        raise PolicyError(
            "an Illinois policy must be a mapping of keys to values",
            file=source,
            hint="Start with a key, e.g. 'name: My office'. src/clearslate/policies/il/"
            "statewide.yaml is a complete example.",
        )
    try:
        return ILPolicy.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, root)._located(file=source) from None


def load_il_policy(path: Path | str) -> ILPolicy:
    """Read an Illinois policy file. Raises PolicyError (never another exception)."""
    return il_policy_from_text(_read_text(Path(path)), source=str(path))


def shipped_il_policies() -> dict[str, Path]:
    return {p.stem: p for p in sorted(POLICIES_DIR.glob("*.yaml"))}


def resolve_il_policy(value: str | Path | None) -> tuple[ILPolicy, str]:
    """What ``--policy VALUE`` means for Illinois: a file, else a shipped policy's name;
    nothing means the shipped ``statewide`` policy."""
    shipped = shipped_il_policies()
    if value is None:
        return load_il_policy(shipped["statewide"]), "statewide (default)"
    path = Path(value)
    if not path.exists() and str(value) in shipped:
        path = shipped[str(value)]
    elif not path.exists():
        raise PolicyError(
            f"no file and no shipped Illinois policy named {str(value)!r}",
            hint=f"Give a .yaml file, or one of: {', '.join(shipped)}.",
        )
    return load_il_policy(path), str(path)


def _options_doc() -> dict[str, Any]:
    """Each option with its default and allowed values (for the generated docs)."""
    defaults = ILPolicy().model_dump(mode="json")
    return {k: (defaults[k], ALLOWED[k]) for k in _KEYS}
