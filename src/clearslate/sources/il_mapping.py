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

import functools
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clearslate import database
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
            raise ValueError("\n".join(problems))
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
    for fmt in spec.formats or []:
        if (problem := _strptime_problem(fmt)) is not None:
            problems.append(
                f"date format {fmt!r} cannot be used ({problem}); use strptime codes such as "
                "%Y, %m, %d, %b, e.g. '%m/%d/%Y'"
            )
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


@functools.lru_cache(maxsize=256)
def _strptime_problem(fmt: str) -> str | None:
    """Why DuckDB's strptime refuses `fmt` (the reader parses dates with it), or None. Asked of
    DuckDB itself: Python's strptime takes formats DuckDB does not (%s, %Q is neither)."""
    try:
        database.connect().execute("SELECT try_strptime('', [?])", [fmt]).fetchall()
    except duckdb.Error as exc:
        text = str(exc).split("\n")[0]  # "…: Failed to parse format specifier %Q: Unrecognized…"
        return text.split(": ", 2)[-1]
    return None


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file; a bad one raises MappingError naming file and field
    (and its line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text; save the mapping as UTF-8.") from None
    return mapping_from_text(text, str(path))


def mapping_from_text(text: str, where: str = "mapping") -> Mapping:
    """Parse and validate a mapping's YAML text; problems name `where`, line and field."""
    from clearslate.policy import PolicyError, check_duplicate_keys

    loader = None
    try:
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MappingError(f"{where}: not valid YAML{at}.") from None
    finally:
        if loader is not None:
            loader.dispose()
    try:
        # YAML keeps the last of a key given twice: a second `source:` or `dob:` would
        # silently replace the first. The policy loader refuses it; so does a mapping.
        check_duplicate_keys(root, where)
    except PolicyError as exc:
        raise MappingError(str(exc)) from None
    return mapping_from_dict(data, where, root)


def mapping_from_dict(data: Any, where: str = "mapping", root: yaml.Node | None = None) -> Mapping:
    """Validate a mapping; `root` (the YAML nodes, when read from a file) gives problems their
    line."""
    if not isinstance(data, dict):
        raise MappingError(
            f"{where}: a mapping is a YAML dictionary with 'source' and 'fields'"
            + (" (this one is empty)." if data is None else ".")
        )
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["loc"]:
                lines.append(_located(root, [str(p) for p in err["loc"]], msg))
            else:  # the whole-mapping check: its problems are "fields.dob: …", one a line
                for problem in msg.split("\n"):
                    loc, sep, text = problem.partition(": ")
                    lines.append(_located(root, loc.split("."), text) if sep else f"  {problem}")
    # Raised outside the handler, so that the pydantic error is not this one's context: with
    # it, the frames of its traceback (up to an Illinois run's DuckDB connection) were never
    # freed, not even by gc.collect(); DuckDB's bindings reported them as leaked at exit.
    raise MappingError(f"{where}: the mapping is not valid:\n" + "\n".join(lines))


def _located(root: yaml.Node | None, loc: list[str], problem: str) -> str:
    """One problem line, `  line N: fields.dob.formats: problem`, the line where the YAML holds
    the deepest key of `loc` it has (none when read from a dictionary)."""
    line, node = None, root
    for step in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        match = [
            (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step
        ]
        if not match:
            break
        line, node = match[0][0].start_mark.line + 1, match[0][1]
    where = f"line {line}: " if line is not None else ""
    return f"  {where}{'.'.join(loc)}: {problem}"


def bundled_mapping(name: str) -> Mapping:
    """A mapping shipped with clearslate (`il_mappings/<name>.yaml`), e.g. 'court_generated'."""
    ref = resources.files("clearslate.sources") / "il_mappings" / f"{name}.yaml"
    with resources.as_file(ref) as path:
        return load_mapping(path)
