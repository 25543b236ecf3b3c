"""The office's own policy as an HTML form: one field per policy option, the decision `flow`
as YAML, and every validation error shown beside its field.

The form builds the same mapping a policy YAML file holds; `Policy` (pydantic) checks it and
reports each wrong field, then `load_policy` reads the YAML text exactly as `clearslate run
--policy` would, so a policy saved here runs the same from the command line.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clearslate.policy import (
    Disqualifiers,
    DoubtfulData,
    EffectiveDateRule,
    Misdemeanors,
    Policy,
    PolicyError,
    PriorMeans,
    RelatedConvictions,
    StillServing,
    load_policy,
)

CHOICES: dict[str, type[StrEnum]] = {
    "disqualifiers": Disqualifiers,
    "prior_means": PriorMeans,
    "effective_date_rule": EffectiveDateRule,
    "doubtful_data": DoubtfulData,
    "misdemeanors": Misdemeanors,
    "related_convictions": RelatedConvictions,
    "still_serving": StillServing,
}
RELIEF_FLAGS = ("under_21_at_conviction", "only_prop64_charges", "deceased")
RELIEF_NUMBERS = ("age_threshold", "years_since_conviction", "years_crime_free")


@dataclass
class PolicyForm:
    """The form's values (as strings and booleans) and its errors by field name."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the policy YAML, when valid

    @property
    def choices(self) -> dict[str, list[str]]:
        return {k: [m.value for m in e] for k, e in CHOICES.items()}


def form_from_policy(policy: Policy) -> PolicyForm:
    data = policy.model_dump(mode="json")
    relief = data.pop("additional_relief")
    values: dict[str, Any] = {k: data.get(k) for k in ("name", "description", *CHOICES)}
    values["dismiss"] = ", ".join(data["dismiss"])
    values["reduce"] = ", ".join(data["reduce"])
    values["route_to"] = data.get("route_to") or ""
    values["related_sections"] = (
        "\n".join(data["related_sections"]) if data["related_convictions"] != "leave" else ""
    )
    values["hand_review_11357_other"] = bool(data["hand_review_11357_other"])
    for k in RELIEF_FLAGS:
        values[k] = bool(relief[k])
    for k in RELIEF_NUMBERS:
        values[k] = str(relief[k])
    flow = data.get("flow")
    values["flow"] = yaml.safe_dump(flow, sort_keys=False, allow_unicode=True) if flow else ""
    return PolicyForm(values)


def _sections(text: str) -> list[str]:
    return [s.strip() for s in text.replace("\n", ",").split(",") if s.strip()]


def _number(text: str) -> int | str:
    text = text.strip()
    # ASCII digits only ("²".isdigit() is true, and int() refused it); a non-number, or one
    # too large for any field, goes on as text, and pydantic says what is expected
    return int(text) if re.fullmatch(r"-?[0-9]{1,18}", text) else text


def form_from_post(form: Mapping[str, Any]) -> PolicyForm:
    """Read the posted form and check it; `errors` is empty when the policy is valid."""

    def get(key: str) -> str:
        value = form.get(key)
        return value.strip() if isinstance(value, str) else ""

    values: dict[str, Any] = {k: get(k) for k in ("name", "description", "dismiss", "reduce",
                                                   "route_to", "related_sections", "flow",
                                                   *CHOICES, *RELIEF_NUMBERS)}  # fmt: skip
    for k in (*RELIEF_FLAGS, "hand_review_11357_other"):
        values[k] = form.get(k) == "on"
    result = PolicyForm(values)
    data: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "dismiss": _sections(values["dismiss"]),
        "reduce": _sections(values["reduce"]),
        "additional_relief": {
            **{k: values[k] for k in RELIEF_FLAGS},
            **{k: _number(values[k]) for k in RELIEF_NUMBERS},
        },
        **{k: values[k] for k in CHOICES},
        "hand_review_11357_other": values["hand_review_11357_other"],
    }
    # Options left at their default are left out, as a person would write the file (and a
    # policy with a flow must not set the options its flow replaces).
    defaults = Policy().model_dump(mode="json")
    data = {k: v for k, v in data.items() if k == "name" or v != defaults.get(k)}
    if values["route_to"]:
        data["route_to"] = values["route_to"]
    if values["related_sections"]:
        data["related_sections"] = _sections(values["related_sections"])
    if values["flow"]:
        try:
            data["flow"] = yaml.safe_load(values["flow"])
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            result.errors["flow"] = f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"
    try:
        Policy.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]] or ["_form"]
            key = loc[1] if loc[0] == "additional_relief" and len(loc) > 1 else loc[0]
            rest = loc[1:] if key == loc[0] else loc[2:]
            detail = " ".join(f"item {int(p) + 1}" if p.isdigit() else p for p in rest)
            message = err["msg"].removeprefix("Value error, ")
            result.errors.setdefault(key, f"{detail}: {message}" if detail else message)
    if result.errors:
        return result
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    problem = check_text(text)
    if problem is not None:
        key, message = problem
        result.errors[key if key in values else "name"] = message
        return result
    result.text = text
    return result


def load_text(text: str) -> Policy:
    """Read policy YAML exactly as `clearslate run --policy FILE` would. Raises PolicyError."""
    with tempfile.TemporaryDirectory(prefix="clearslate-policy-") as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)


def check_text(text: str) -> tuple[str, str] | None:
    """The field and the problem of policy YAML that cannot be used, or None."""
    try:
        load_text(text)
    except PolicyError as exc:
        key = (exc.key or "").split(".")[-1].split("[")[0]
        return key, exc.problem + (f" {exc.hint}" if exc.hint else "")
    return None
