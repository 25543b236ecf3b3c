"""What differs between jurisdictions in the documents, in one place.

A run folder says its jurisdiction in ``manifest.json`` (``"jurisdiction": "il"``; California
runs have no such key, or ``"ca"``). Everything after loading works on the same table
``det`` (one row per conviction, the columns of ``data.COMMON_COLUMNS``): the jurisdiction
says how its determinations become that table, which outcomes are relief, what a decision may
say, the exhibit's columns, the words of each kind of relief and the shipped templates
(``templates/`` for California, ``templates/il/`` for Illinois, falling back to the former).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearslate.documents.data import (
    DocumentsError,
    count_number,
    dob_label,
    statute_label,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _date(value: Any) -> str:
    return f"{value.month:02d}/{value.day:02d}/{value.year}" if value else "unknown"


def _level(felony: Any) -> str:
    if felony is None:
        return ""
    return "Felony" if felony else "Misd./Infr."


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # points, in the landscape exhibit table (720 in all)
    right: bool  # right-aligned (numbers)
    cell: Callable[[int, dict[str, Any]], str]  # (row number, exhibit row) -> text


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    templates: tuple[Path, ...]  # shipped template folders, first wins
    reliefs: tuple[str, ...]  # outcomes that go out (may be widened by an option)
    decisions: tuple[str, ...]  # what a row of --decisions may decide
    titles: dict[str, str]  # relief or "relief/track" -> the words of that relief
    offences: dict[str, tuple[str, str]]  # section -> plain words (English, Spanish)
    default_offence: tuple[str, str]
    columns: tuple[Column, ...]  # the exhibit's PDF table
    extra_fields: tuple[str, ...]  # exhibit fields beyond data.EXHIBIT_FIELDS
    csv_columns: tuple[tuple[str, Callable[[int, dict[str, Any]], Any]], ...]
    section_prefix: str  # "HS " before a section number in the motion's list
    # decisions that put a conviction in a motion filed per deadline tier (Illinois): a row
    # of --decisions that says one for a record of no tier is refused
    tiered_decisions: tuple[str, ...] = ()

    def title(self, relief: str, track: str) -> str:
        return self.titles.get(f"{relief}/{track}") or self.titles.get(relief, relief)

    def offence(self, section: str | None, related: bool) -> tuple[str, str]:
        if related:
            return ("Related charge", "Cargo relacionado")
        return self.offences.get(section or "", self.default_offence)


def _ca_relief(n: int, r: dict[str, Any]) -> str:
    if r["relief"] == "reduce" and r["felony"] is False:
        return "Redesignate (reduce)"
    return CA.title(r["relief"], r["track"])


def _ca_statute(n: int, r: dict[str, Any]) -> str:
    return statute_label(r["statute"], r["code_section_raw"], bool(r["attempt"]))


CA = Jurisdiction(
    code="ca",
    templates=(TEMPLATES,),
    reliefs=("dismiss", "reduce"),
    decisions=("dismiss", "reduce", "not_eligible"),
    titles={
        "dismiss/completed": "Dismiss and seal",
        "dismiss/serving": "Recall sentence; dismiss",
        "reduce/completed": "Redesignate as misdemeanor",
        "reduce/serving": "Recall sentence; resentence as misdemeanor",
        "dismiss/related": "Dismiss related charge (office discretion)",
        "reduce/related": "Reduce related charge (office discretion)",
    },
    offences={
        "11357": ("Possession of cannabis", "Posesión de cannabis"),
        "11358": ("Growing cannabis", "Cultivo de cannabis"),
        "11359": ("Possession of cannabis for sale", "Posesión de cannabis para la venta"),
        "11360": (
            "Selling, moving or giving away cannabis",
            "Venta, transporte o regalo de cannabis",
        ),
    },
    default_offence=("Cannabis offense", "Delito de cannabis"),
    columns=(
        Column("No.", 34.0, True, lambda n, r: str(n)),
        Column("Case number", 80.0, False, lambda n, r: r["case_number"] or "(none)"),
        Column("Count", 30.0, True, lambda n, r: count_number(r["cnt_order"])),
        Column("Name", 148.0, False, lambda n, r: r["name"] or ""),
        Column("Date of birth", 56.0, False, lambda n, r: dob_label(r["dob"])),
        Column("CII", 60.0, False, lambda n, r: r["cii_number"] or ""),
        Column("Code section", 88.0, False, _ca_statute),
        Column("Level", 44.0, False, lambda n, r: _level(r["felony"])),
        Column("Disposition", 52.0, False, lambda n, r: _date(r["disposition_date"])),
        Column("Relief", 128.0, False, _ca_relief),
    ),
    extra_fields=(),
    csv_columns=(
        ("row", lambda n, r: n),
        ("case_number", lambda n, r: r["case_number"] or ""),
        ("count", lambda n, r: count_number(r["cnt_order"])),
        ("name", lambda n, r: r["name"] or ""),
        ("dob", lambda n, r: dob_label(r["dob"])),
        ("cii_number", lambda n, r: r["cii_number"] or ""),
        ("code_section", _ca_statute),
        ("code_section_raw", lambda n, r: r["code_section_raw"] or ""),
        ("level", lambda n, r: _level(r["felony"])),
        ("disposition_date", lambda n, r: r["disposition_date"]),
        ("relief", _ca_relief),
        ("citation", lambda n, r: r["relief_citation"] or ""),
        ("sentence_status", lambda n, r: r["sentence_status"] or ""),
        ("subject_id", lambda n, r: r["subject_id"] or ""),
        ("cnt_order", lambda n, r: r["cnt_order"] or ""),
        ("source_file", lambda n, r: Path(r["source_file"] or "").name),
        ("source_line", lambda n, r: r["source_line"]),
        ("decided_by", lambda n, r: r["decided_by"] or ""),
    ),
    section_prefix="HS ",
)

IL_TIERS = ("2013-2019", "2000-2012", "before-2000")  # statutory order: newest records first
IL_CLASSES = {"X": "Class X felony", "1": "Class 1 felony", "2": "Class 2 felony",
              "3": "Class 3 felony", "4": "Class 4 felony", "A": "Class A misd.",
              "B": "Class B misd.", "C": "Class C misd.", "P": "Petty offense"}  # fmt: skip


def _il_relief(n: int, r: dict[str, Any]) -> str:
    return IL.title(r["relief"], r["track"])


IL = Jurisdiction(
    code="il",
    templates=(TEMPLATES / "il", TEMPLATES),
    reliefs=("vacate_and_expunge",),
    decisions=("vacate_and_expunge", "eligible_on_motion", "not_eligible"),
    titles={
        "vacate_and_expunge": "Vacate and expunge",
        "eligible_on_motion": "Vacate and expunge (more than 30 g, on motion)",
    },
    offences={
        "4": ("Possession of cannabis", "Posesión de cannabis"),
        "5": ("Making or delivering cannabis", "Fabricación o entrega de cannabis"),
    },
    default_offence=("Cannabis offense", "Delito de cannabis"),
    columns=(
        Column("No.", 34.0, True, lambda n, r: str(n)),
        Column("Case number", 92.0, False, lambda n, r: r["case_number"] or "(none)"),
        Column("Name", 128.0, False, lambda n, r: r["name"] or ""),
        Column("Date of birth", 58.0, False, lambda n, r: dob_label(r["dob"])),
        Column("Statute", 96.0, False, lambda n, r: r["code_section_raw"] or ""),
        Column("Class", 72.0, False, lambda n, r: IL_CLASSES.get(r["offense_class"] or "", "")),
        Column("Disposition", 58.0, False, lambda n, r: _date(r["disposition_date"])),
        Column("Record date", 58.0, False, lambda n, r: _date(r["record_date"])),
        Column("Tier", 124.0, False, lambda n, r: f"{r['track']} (by {_date(r['deadline'])})"),
    ),
    extra_fields=("offense_class", "record_date", "deadline"),
    csv_columns=(
        ("row", lambda n, r: n),
        ("case_number", lambda n, r: r["case_number"] or ""),
        ("name", lambda n, r: r["name"] or ""),
        ("dob", lambda n, r: dob_label(r["dob"])),
        ("statute", lambda n, r: r["code_section_raw"] or ""),
        ("offense_class", lambda n, r: r["offense_class"] or ""),
        ("disposition_date", lambda n, r: r["disposition_date"]),
        ("record_date", lambda n, r: r["record_date"]),
        ("tier", lambda n, r: r["track"] or ""),
        ("deadline", lambda n, r: r["deadline"]),
        ("relief", _il_relief),
        ("citation", lambda n, r: r["relief_citation"] or ""),
        ("person_id", lambda n, r: r["subject_id"] or ""),
        ("record_id", lambda n, r: r["cnt_order"] or ""),
        ("sid", lambda n, r: r["cii_number"] or ""),
        ("source_file", lambda n, r: Path(r["source_file"] or "").name),
        ("source_line", lambda n, r: r["source_line"]),
        ("decided_by", lambda n, r: r["decided_by"] or ""),
    ),
    section_prefix="720 ILCS 550/",
    tiered_decisions=("vacate_and_expunge", "eligible_on_motion"),
)

JURISDICTIONS = {"ca": CA, "il": IL}


def detect(run_dir: Path) -> Jurisdiction:
    """The run's jurisdiction, from its manifest.json (no key: California)."""
    path = run_dir / "manifest.json"
    try:
        code = json.loads(path.read_text(encoding="utf-8")).get("jurisdiction") or "ca"
    except (OSError, ValueError, AttributeError):
        return CA  # open_run says what is wrong with the manifest
    if code not in JURISDICTIONS:
        raise DocumentsError(
            f"{path}: jurisdiction {code!r} is not one documents can be made for "
            f"({', '.join(sorted(JURISDICTIONS))})."
        )
    return JURISDICTIONS[code]
