"""Linking settings (`linking.yaml`): thresholds of the review band, seed, training."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# comparison → number of non-null levels (the order of `fixed_m`'s values)
COMPARISON_LEVELS = {
    "first_name": 5,
    "last_name": 4,
    "middle_initial": 2,
    "name_suffix": 3,
    "dob": 5,
    "sid": 2,
    "address": 4,
}


class LinkSettingsError(Exception):
    """A settings file that cannot be used: what is wrong and where."""


class LinkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: float = Field(gt=0, lt=1)
    review_from: float = Field(gt=0, lt=1)
    seed: int = 42
    u_max_pairs: int = Field(default=1_000_000, gt=0)
    prior: Literal["estimate"] | float = "estimate"
    training: Literal["em", "fixed"] = "em"
    min_records_for_em: int = 2000
    fixed_prior: float = Field(default=0.01, gt=0, lt=1)
    fixed_m: dict[str, list[float]]
    fixed_u: dict[str, list[float]]

    @model_validator(mode="after")
    def _check(self) -> LinkSettings:
        problems = []
        if self.review_from >= self.accept:
            problems.append("review_from must be below accept")
        if isinstance(self.prior, float) and not 0 < self.prior < 1:
            problems.append("prior must be 'estimate' or a probability between 0 and 1")
        for key, table in (("fixed_m", self.fixed_m), ("fixed_u", self.fixed_u)):
            for name, levels in COMPARISON_LEVELS.items():
                values = table.get(name)
                if values is None or len(values) != levels:
                    problems.append(f"{key}.{name}: give {levels} probabilities")
                elif abs(sum(values) - 1) > 1e-6 or min(values) <= 0:
                    problems.append(f"{key}.{name}: probabilities must be > 0 and sum to 1")
            extra = set(table) - set(COMPARISON_LEVELS)
            if extra:
                problems.append(f"{key}: unknown comparisons {sorted(extra)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_link_settings(path: Path | str | None = None, **overrides: object) -> LinkSettings:
    """The settings in `path`, or the shipped `linking.yaml`; `overrides` replace keys."""
    if path is None:
        ref = resources.files("clearslate.link") / "linking.yaml"
        text, where = ref.read_text(encoding="utf-8"), "linking.yaml"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise LinkSettingsError(f"{path}: cannot read the settings ({exc.strerror}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise LinkSettingsError(f"{where}: not valid YAML.") from None
    if not isinstance(data, dict):
        raise LinkSettingsError(f"{where}: the settings are a YAML dictionary.")
    data.update(overrides)
    try:
        return LinkSettings.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise LinkSettingsError(
            f"{where}: the settings are not valid:\n" + "\n".join(lines)
        ) from None
