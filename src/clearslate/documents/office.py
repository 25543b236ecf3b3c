"""The office file (``--office``): who files the motions and signs the letters.

A YAML mapping, validated with a message that gives the file, line and column::

    office_name: Los Angeles County District Attorney's Office
    attorney_name: Jane Q. Prosecutor
    attorney_title: Deputy District Attorney        # optional
    bar_number: 123456
    address:                                        # 1 to 4 lines (or one text with newlines)
      - 211 West Temple Street, Suite 1200
      - Los Angeles, CA 90012
    phone: (213) 555-0100
    email: prop64@da.example.gov                    # optional
    district_attorney: John Doe                     # optional: the elected District Attorney
    contact:                                        # optional: for the letters; default: the above
      name: Prop 64 Help Line
      phone: (213) 555-0199
      email: help@da.example.gov
      hours: Monday to Friday, 9 a.m. to 5 p.m.
      website: da.example.gov/prop64
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator


class OfficeError(ValueError):
    """An office file that cannot be used; the message says where and what to do."""


def _text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _lines(value: Any) -> Any:
    if isinstance(value, str):
        return [ln.strip() for ln in value.strip().splitlines() if ln.strip()]
    return value


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=120)]


def _check_phone(value: str) -> str:
    if len(re.sub(r"\D", "", value)) < 10:
        raise ValueError("a telephone number needs at least 10 digits, e.g. (213) 555-0100")
    return value


def _check_email(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("not an e-mail address, e.g. prop64@da.example.gov")
    return value


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: Text | None = None
    phone: Text | None = None
    email: Text | None = None
    hours: Text | None = None
    website: Text | None = None

    _phone = field_validator("phone")(lambda v: None if v is None else _check_phone(v))
    _email = field_validator("email")(_check_email)


class Office(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    office_name: Text
    attorney_name: Text
    attorney_title: Text = "Deputy District Attorney"
    bar_number: Annotated[str, BeforeValidator(_text)]
    address: Annotated[list[Text], BeforeValidator(_lines), Field(min_length=1, max_length=4)]
    phone: Text
    email: Text | None = None
    district_attorney: Text | None = None
    contact: Contact = Contact()
    placeholder: bool = Field(default=False, exclude=True)

    @field_validator("bar_number")
    @classmethod
    def _bar_number(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"\d{1,7}", value):
            raise ValueError(
                "a bar number is 1 to 7 digits (California State Bar, Illinois ARDC), e.g. 123456"
            )
        return value

    _phone = field_validator("phone")(_check_phone)
    _email = field_validator("email")(_check_email)

    @property
    def contact_name(self) -> str:
        return self.contact.name or self.office_name

    @property
    def contact_phone(self) -> str:
        return self.contact.phone or self.phone

    @property
    def contact_email(self) -> str | None:
        return self.contact.email or self.email

    def context(self) -> dict[str, Any]:
        """The ``office`` variable of the templates."""
        data = self.model_dump()
        data["contact"] = {
            "name": self.contact_name,
            "phone": self.contact_phone,
            "email": self.contact_email,
            "hours": self.contact.hours,
            "website": self.contact.website,
        }
        data["placeholder"] = self.placeholder
        return data


PLACEHOLDER_OFFICE = Office(
    office_name="[OFFICE NAME]",
    attorney_name="[ATTORNEY NAME]",
    bar_number="0",
    address=["[STREET ADDRESS]", "[CITY, STATE ZIP]"],
    phone="(000) 000-0000",
    placeholder=True,
)


def _position(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, int] | None:
    node = root
    best = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == part:
                    found = v
                    best = k if not isinstance(v, yaml.ScalarNode) else v
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
            best = node or best
        else:
            break
        if node is None:
            break
    if best is None:
        return None
    return best.start_mark.line + 1, best.start_mark.column + 1


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    return f" Did you mean {close[0]!r}?" if close else f" Valid keys: {', '.join(valid)}."


def load_office(path: Path) -> Office:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OfficeError(f"{path}: cannot read the office file ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise OfficeError(f"{path}: the office file is not UTF-8 text.") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise OfficeError(f"{path}{where}: not valid YAML ({problem}).") from None
    from clearslate.policy import PolicyError, check_duplicate_keys

    try:
        check_duplicate_keys(root, str(path))  # YAML would keep the last of the two silently
    except PolicyError as exc:
        raise OfficeError(str(exc)) from None
    if not isinstance(data, dict):
        raise OfficeError(
            f"{path}: the office file must be a YAML mapping (office_name: ..., "
            "attorney_name: ..., bar_number: ..., address: ..., phone: ...)."
        )
    try:
        return Office.model_validate(data)
    except ValidationError as exc:
        # An unknown key first: a misspelt `office_nam` explains the missing `office_name`.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        pos = _position(root, loc)
        where = f"{path}, line {pos[0]}, column {pos[1]}" if pos else str(path)
        key = ".".join(str(p) for p in loc) or "(top)"
        kind = err["type"]
        if kind == "missing":
            problem = "is required"
            where = str(path)
        elif kind == "extra_forbidden":
            parent = Contact if len(loc) > 1 and loc[0] == "contact" else Office
            valid = [k for k in parent.model_fields if k != "placeholder"]
            problem = "unknown key." + _suggest(str(loc[-1]), valid)
        else:
            problem = str(err["msg"]).removeprefix("Value error, ")
        more = len(errors) - 1
        tail = f" ({more} more problem{'s' if more > 1 else ''} in this file)" if more else ""
        raise OfficeError(f"{where}: {key}: {problem}{tail}") from None
