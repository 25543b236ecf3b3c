"""Mailing addresses: the office's address file, read, matched to people and normalised to
USPS Publication 28 form.

The DOJ research file has no addresses, so the office supplies a CSV keyed by ``subject_id``
or ``cii_number`` (docs/documents.md). Street addresses are normalised with
usaddress-scourgify (Publication 28 abbreviations, upper case, no punctuation); post office
boxes, rural routes, highway contracts, military and General Delivery addresses, which
scourgify does not parse, are put in Publication 28 form here. An address that cannot be used
is an *exception* with a reason code, never a guess: a letter about a criminal record must
not go to the wrong house.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clearslate.documents.textfile import read_office_text
from clearslate.sources.office_csv import OfficeCsvError, header_and_records

STATES = {
    "ALABAMA": "AL",
    "ALASKA": "AK",
    "ARIZONA": "AZ",
    "ARKANSAS": "AR",
    "CALIFORNIA": "CA",
    "COLORADO": "CO",
    "CONNECTICUT": "CT",
    "DELAWARE": "DE",
    "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL",
    "GEORGIA": "GA",
    "HAWAII": "HI",
    "IDAHO": "ID",
    "ILLINOIS": "IL",
    "INDIANA": "IN",
    "IOWA": "IA",
    "KANSAS": "KS",
    "KENTUCKY": "KY",
    "LOUISIANA": "LA",
    "MAINE": "ME",
    "MARYLAND": "MD",
    "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI",
    "MINNESOTA": "MN",
    "MISSISSIPPI": "MS",
    "MISSOURI": "MO",
    "MONTANA": "MT",
    "NEBRASKA": "NE",
    "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH",
    "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM",
    "NEW YORK": "NY",
    "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND",
    "OHIO": "OH",
    "OKLAHOMA": "OK",
    "OREGON": "OR",
    "PENNSYLVANIA": "PA",
    "RHODE ISLAND": "RI",
    "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN",
    "TEXAS": "TX",
    "UTAH": "UT",
    "VERMONT": "VT",
    "VIRGINIA": "VA",
    "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI",
    "WYOMING": "WY",
    "PUERTO RICO": "PR",
    "GUAM": "GU",
    "VIRGIN ISLANDS": "VI",
    "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
    "MARSHALL ISLANDS": "MH",
    "MICRONESIA": "FM",
    "PALAU": "PW",
    "CALIF": "CA",
    "CAL": "CA",
}
STATE_CODES = frozenset(STATES.values()) | {"AA", "AE", "AP"}

# Words that say there is no place to deliver to.
NOT_MAILABLE = re.compile(
    r"^(TRANSIENT|HOMELESS|UNKNOWN|UNK|NONE|N/?A|NO ADDRESS|NO FIXED ADDRESS|NFA|REFUSED|"
    r"DECLINED|DECEASED|IN CUSTODY|UNHOUSED|NOT AVAILABLE|X+|\?+|-+)\b"
)
_PO_BOX = re.compile(
    r"^(?:P\s*\.?\s*O\s*\.?|POST\s+OFFICE|POST|PO|P\s+O)\s*(?:BOX|BX|DRAWER)\s*#?\s*([A-Z0-9-]+)$"
)
_ROUTE = re.compile(
    r"^(RR|R\s*R|RURAL\s+ROUTE|RURAL\s+RTE|RT|RTE|ROUTE|HC|HCR|HIGHWAY\s+CONTRACT(?:\s+ROUTE)?|"
    r"STAR\s+ROUTE)\s*#?\s*(\d+)\s*,?\s*(?:BOX|BX)\s*#?\s*([A-Z0-9-]+)$"
)
_MILITARY = re.compile(r"^(PSC|UNIT|CMR)\s*#?\s*(\d+)\s*,?\s*BOX\s*#?\s*([A-Z0-9-]+)$")
_GENERAL_DELIVERY = re.compile(r"^GENERAL\s+DELIVERY$")
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[.,;:]")
MAX_LINE = 40  # characters of a delivery line that fit the envelope window at 10 points


class AddressFileError(ValueError):
    """An address file that cannot be read at all (not a row-level problem)."""


@dataclass(frozen=True)
class Address:
    """An address in Publication 28 form."""

    line1: str  # the delivery address line
    line2: str  # the secondary unit (APT 4), "" when none
    city: str
    state: str
    zip5: str
    zip4: str

    @property
    def zip(self) -> str:
        return f"{self.zip5}-{self.zip4}" if self.zip4 else self.zip5

    @property
    def last_line(self) -> str:
        return f"{self.city} {self.state} {self.zip}"

    def delivery_lines(self) -> list[str]:
        """Publication 28, section 213: the secondary unit (APT, STE) goes at the end of the
        delivery address line, or on the line above it when it does not fit."""
        if not self.line2:
            return [self.line1]
        joined = f"{self.line1} {self.line2}"
        if len(joined) <= MAX_LINE:
            return [joined]
        return [self.line2, self.line1]


@dataclass(frozen=True)
class Problem:
    code: str
    reason: str


def _clean(text: str | None) -> str:
    return _SPACES.sub(" ", (text or "").upper()).strip()


def _plain(text: str) -> str:
    return _SPACES.sub(" ", _PUNCT.sub(" ", text)).strip()


def _state(text: str) -> str | None:
    t = _plain(_clean(text))
    if t in STATE_CODES:
        return t
    return STATES.get(t)


def _special_line(line1: str) -> str | None:
    """Publication 28 form of the delivery lines scourgify does not parse; None otherwise."""
    t = _plain(_clean(line1).replace("#", " # ")).replace(" # ", " #")
    t = _SPACES.sub(" ", t)
    if m := _PO_BOX.match(t):
        return f"PO BOX {m.group(1)}"
    if m := _ROUTE.match(t):
        kind = m.group(1)
        prefix = "HC" if kind.startswith(("HC", "HIGHWAY", "STAR")) else "RR"
        return f"{prefix} {m.group(2)} BOX {m.group(3)}"
    if m := _MILITARY.match(t):
        return f"{m.group(1)} {m.group(2)} BOX {m.group(3)}"
    if _GENERAL_DELIVERY.match(t):
        return "GENERAL DELIVERY"
    return None


def normalise(
    line1: str | None, line2: str | None, city: str | None, state: str | None, zip_: str | None
) -> Address | Problem:
    """One address in Publication 28 form, or the reason it cannot be used."""
    l1, l2, c, s, z = (_clean(v) for v in (line1, line2, city, state, zip_))
    if not l1 and not l2:
        return Problem("no_street", "no street address")
    if NOT_MAILABLE.match(l1 or l2):
        return Problem("not_mailable", "the address says there is no place to deliver to")
    zm = _ZIP.match(z.replace(" ", ""))
    if not z:
        return Problem("no_zip", "no ZIP code")
    if not zm:
        return Problem("bad_zip", "the ZIP code is not 5 digits or ZIP+4")
    st = _state(s)
    if not s:
        return Problem("no_state", "no state")
    if st is None:
        return Problem("bad_state", "the state is not a USPS state or territory")
    if not c:
        return Problem("no_city", "no city")
    city_out = _SPACES.sub(" ", re.sub(r"[^A-Z0-9 '\-]", " ", c)).strip()
    special = _special_line(l1)
    if special is not None:
        unit = _plain(l2)
        return Address(special, unit, city_out, st, zm.group(1), zm.group(2) or "")
    if not re.search(r"\d", l1):
        return Problem("no_house_number", "the street address has no house number")
    try:
        from scourgify import normalize_address_record
        from scourgify.exceptions import AddressNormalizationError
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RuntimeError("usaddress-scourgify is needed to normalise addresses") from exc
    try:
        out = normalize_address_record(
            {
                "address_line_1": l1,
                "address_line_2": l2 or None,
                "city": city_out,
                "state": st,
                "postal_code": zm.group(1),
            }
        )
    except AddressNormalizationError as exc:
        name = type(exc).__name__
        if "Incomplete" in name:
            return Problem("incomplete", "the address is incomplete")
        return Problem("unparseable", "the street address could not be read")
    except Exception:  # scourgify's parser fails on some odd text with other errors
        return Problem("unparseable", "the street address could not be read")
    out_l1 = _clean(out.get("address_line_1"))
    out_l2 = _clean(out.get("address_line_2"))
    if not re.search(r"\d", out_l1):
        return Problem("no_house_number", "the street address has no house number")
    return Address(
        out_l1,
        out_l2,
        _clean(out.get("city")) or city_out,
        _clean(out.get("state")) or st,
        zm.group(1),
        zm.group(2) or "",
    )


def normalise_many(rows: list[tuple[str, str, str, str, str]]) -> list[Address | Problem]:
    """For a worker process: normalise a chunk of addresses."""
    return [normalise(*r) for r in rows]


# ---------------------------------------------------------------------------------------------
# The address file

COLUMNS = {
    "subject_id": ("subject_id", "subject", "subjectid"),
    "cii_number": ("cii_number", "cii", "cii_no"),
    "name": ("name", "addressee", "full_name"),
    "address_line_1": ("address_line_1", "address1", "address_1", "street", "address"),
    "address_line_2": ("address_line_2", "address2", "address_2", "unit", "apt"),
    "city": ("city",),
    "state": ("state", "st"),
    "zip": ("zip", "zip_code", "zipcode", "postal_code"),
    "language": ("language", "lang"),
}
REQUIRED = ("address_line_1", "city", "state", "zip")
LANGUAGES = {
    "": "en",
    "en": "en",
    "eng": "en",
    "english": "en",
    "es": "es",
    "spa": "es",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
}


@dataclass
class AddressRow:
    line: int
    subject_id: str
    cii_number: str
    name: str
    fields: tuple[str, str, str, str, str]
    language: str


@dataclass
class RowError:
    source_file: str
    line: int
    column: str
    reason: str


@dataclass
class AddressFile:
    rows: list[AddressRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _header_map(header: list[str], label: str) -> dict[str, int]:
    norm = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    found: dict[str, int] = {}
    for col, aliases in COLUMNS.items():
        for i, h in enumerate(norm):
            if h in aliases and col not in found:
                found[col] = i
    missing = [c for c in REQUIRED if c not in found]
    if "subject_id" not in found and "cii_number" not in found:
        missing.insert(0, "subject_id or cii_number")
    if missing:
        # Only the names it knows: a first line without a header is a person's address.
        known = [h for h in norm if any(h in aliases for aliases in COLUMNS.values())]
        raise AddressFileError(
            f"{label}, line 1: the address file needs the column(s) {', '.join(missing)}. "
            f"Of its {len(header)} column(s) these are known: "
            f"{', '.join(known) or 'none (is the header line missing?)'}. "
            "See docs/documents.md, 'The address file'."
        )
    return found


def read_address_file(path: Path) -> AddressFile:
    """Read and check the address file, row by row. Problems of a row are RowErrors (file,
    line, column, reason; no values: they are personal data)."""
    try:
        text = read_office_text(path)
    except OSError as exc:
        raise AddressFileError(f"{path}: cannot read the address file ({exc.strerror}).") from None
    return read_address_text(text, str(path), path.name)


def read_address_text(text: str, label: str, name: str) -> AddressFile:
    """An address file's text, read as read_address_file reads the file: a problem of the
    whole file (no header, a required column missing) is an AddressFileError naming the file
    as `label`; a row's is a RowError naming it as `name`. The workspace checks an uploaded
    address file with it before a run starts."""
    result = AddressFile()
    try:
        header, records = header_and_records(text, "the address file")
    except OfficeCsvError as exc:
        raise AddressFileError(f"{label}: {exc}") from None
    cols = _header_map(header, label)
    for line, rec, problem in records:
        if rec is None:
            result.errors.append(RowError(name, line, "", problem))
            continue
        if not rec or not any(v.strip() for v in rec):
            continue
        if len(rec) != len(header):
            result.errors.append(
                RowError(name, line, "", f"{len(rec)} fields, the header has {len(header)}")
            )
            continue

        def get(col: str, rec: list[str] = rec) -> str:
            i = cols.get(col)
            return rec[i].strip() if i is not None else ""

        sid, cii = get("subject_id"), get("cii_number")
        if not sid and not cii:
            result.errors.append(
                RowError(name, line, "subject_id", "neither subject_id nor cii_number")
            )
            continue
        lang_raw = get("language").lower()
        lang = LANGUAGES.get(lang_raw)
        if lang is None:
            result.errors.append(
                RowError(name, line, "language", "language must be en or es; used en")
            )
            lang = "en"
        result.rows.append(
            AddressRow(
                line=line,
                subject_id=sid,
                cii_number=cii,
                name=get("name"),
                fields=(
                    get("address_line_1"),
                    get("address_line_2"),
                    get("city"),
                    get("state"),
                    get("zip"),
                ),
                language=lang,
            )
        )
    return result


def chunks(items: list[AddressRow], size: int) -> Iterator[list[AddressRow]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
