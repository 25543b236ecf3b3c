"""How one office's export maps onto the Illinois canonical table (`il_canonical.py`).

Each office writes a small YAML file: for every canonical field, the column of its export that
holds it (or a constant), with the date formats, value codes and units the office uses. The
file is validated here, so a mistake in it is reported by field name before any row is read.

    source: court                 # 'court' or 'isp'
    fields:
      case_number: {column: CASE_NUMBER}
      full_name: {column: DEFENDANT_NAME, layout: "LAST, FIRST MIDDLE SUFFIX"}
      dob: {column: DEFENDANT_DOB, formats: ["%m/%d/%Y"]}
      disposition: {column: DISPOSITION, values: {FG: convicted, DISM: dismissed}}
      grams: {column: AMOUNT, unit: g}
      fingerprinted: {constant: true}
    required: [case_number, last_name, statute_raw]

A value code the map does not list is read as NULL with a warning (never guessed); a code
mapped to `null` is known to carry no value (no warning).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clearslate.sources.il_canonical import DISPOSITIONS, IL_RECORD_COLUMNS

# Filled in by the reader, never mapped.
READER_FIELDS = ("record_id", "source", "source_file", "source_line", "disposition_raw")
CANONICAL_TYPES = {name: kind for name, kind, _ in IL_RECORD_COLUMNS}
MAPPABLE_FIELDS = tuple(n for n in CANONICAL_TYPES if n not in READER_FIELDS)
NAME_PARTS = ("last_name", "first_name", "middle_name", "name_suffix")
NAME_LAYOUTS = ("LAST, FIRST MIDDLE SUFFIX", "FIRST MIDDLE LAST SUFFIX")

OFFENSE_CLASSES = ("X", "1", "2", "3", "4", "A", "B", "C", "P")
SEXES = ("M", "F", "X")
SUFFIXES = ("JR", "SR", "II", "III", "IV")
# Codes fields take without a value map: the canonical values themselves.
CODED_FIELDS: dict[str, tuple[Any, ...]] = {
    "disposition": DISPOSITIONS,
    "offense_class": OFFENSE_CLASSES,
    "sex": SEXES,
    "name_suffix": SUFFIXES,
    "attempt": (True, False),
    "fingerprinted": (True, False),
}
# Suffix spellings every office uses; a value map may add its own.
SUFFIX_SPELLINGS = {
    "JR": "JR",
    "JR.": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SR.": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "III": "III",
    "3RD": "III",
    "IV": "IV",
    "4TH": "IV",
}
BOOLEAN_SPELLINGS = {"Y": True, "YES": True, "TRUE": True, "1": True}
BOOLEAN_SPELLINGS |= {"N": False, "NO": False, "FALSE": False, "0": False}
GRAM_UNITS = {"g": 1.0, "kg": 1000.0, "oz": 28.349523125, "lb": 453.59237}


class MappingError(Exception):
    """A mapping file that cannot be used: what is wrong and where, for the person editing it."""


class FieldSpec(BaseModel):
    """Where one canonical field comes from."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    constant: str | int | float | bool | None = None
    formats: list[str] | None = Field(default=None, description="dates: strptime formats")
    values: dict[str, Any] | None = Field(default=None, description="code in the export → value")
    unit: Literal["g", "kg", "oz", "lb"] | None = Field(
        default=None, description="grams: the unit of a bare number (a unit in the text wins)"
    )
    layout: str | None = Field(default=None, description="full_name: how the name is written")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.column is None) == (self.constant is None):
            raise ValueError("give exactly one of 'column' or 'constant'")
        return self


class Mapping(BaseModel):
    """One export's mapping onto `il_records`."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["court", "isp"]
    description: str = ""
    fields: dict[str, FieldSpec]
    required: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        problems: list[str] = []
        for name, spec in self.fields.items():
            if name != "full_name" and name not in MAPPABLE_FIELDS:
                problems.append(
                    f"fields.{name}: not a canonical field (one of {', '.join(MAPPABLE_FIELDS)}, "
                    "or full_name)"
                )
                continue
            problems += [f"fields.{name}: {p}" for p in _field_problems(name, spec)]
        if "full_name" in self.fields and any(p in self.fields for p in NAME_PARTS):
            problems.append("fields: give full_name or the name parts, not both")
        if "full_name" not in self.fields and "last_name" not in self.fields:
            problems.append("fields: a name is needed (full_name, or last_name and first_name)")
        for name in self.required:
            if not self.provides(name):
                problems.append(f"required: '{name}' is not mapped")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def provides(self, name: str) -> bool:
        """Whether the mapping fills canonical field `name`."""
        return name in self.fields or ("full_name" in self.fields and name in NAME_PARTS)

    def columns(self) -> list[str]:
        """The export's columns this mapping reads."""
        return [s.column for s in self.fields.values() if s.column is not None]


def _field_problems(name: str, spec: FieldSpec) -> list[str]:
    kind = "NAME" if name == "full_name" else CANONICAL_TYPES[name]
    problems = []
    if kind == "DATE" and spec.column is not None and not spec.formats:
        problems.append("a date column needs 'formats', e.g. ['%m/%d/%Y']")
    if spec.formats and kind != "DATE":
        problems.append("'formats' is for date fields only")
    if spec.unit and name != "grams":
        problems.append("'unit' is for grams only")
    if name == "full_name" and spec.layout not in NAME_LAYOUTS:
        problems.append(f"'layout' must be one of {list(NAME_LAYOUTS)}")
    if spec.layout and name != "full_name":
        problems.append("'layout' is for full_name only")
    if spec.values is not None:
        if name not in CODED_FIELDS:
            problems.append(f"'values' is for {', '.join(CODED_FIELDS)} only")
        else:
            bad = [v for v in spec.values.values() if v is not None and v not in CODED_FIELDS[name]]
            if bad:
                problems.append(
                    f"values {bad!r} are not canonical; use one of {list(CODED_FIELDS[name])}"
                )
    if spec.constant is not None and spec.constant not in CODED_FIELDS.get(name, (spec.constant,)):
        problems.append(f"constant {spec.constant!r} is not one of {list(CODED_FIELDS[name])}")
    return problems


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file; a bad one raises MappingError naming file and field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc.strerror}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise MappingError(f"{path}: not valid YAML{where}.") from None
    return mapping_from_dict(data, str(path))


def mapping_from_dict(data: Any, where: str = "mapping") -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"{where}: a mapping is a YAML dictionary with 'source' and 'fields'.")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {loc}: {msg}" if loc else f"  {msg}")
        raise MappingError(f"{where}: the mapping is not valid:\n" + "\n".join(lines)) from None


def bundled_mapping(name: str) -> Mapping:
    """A mapping shipped with clearslate (`il_mappings/<name>.yaml`), e.g. 'court_generated'."""
    ref = resources.files("clearslate.sources") / "il_mappings" / f"{name}.yaml"
    with resources.as_file(ref) as path:
        return load_mapping(path)
