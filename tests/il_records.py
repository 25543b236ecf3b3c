"""Hand-made Illinois canonical records for tests: readable keys in, il_records rows out.

A test names only what matters to it; everything else takes a plain default (one person,
one case and one arrest, Cook County, fingerprinted, born 1980). Only fictional data.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from clearslate.sources.il_canonical import IL_PERSON_LINK_COLUMNS, IL_RECORD_COLUMNS, create_sql

RECORD_COLUMNS = [c[0] for c in IL_RECORD_COLUMNS]

# Short keys a case may use, and the canonical column each one sets.
ALIASES = {"statute": "statute_raw", "case": "case_number", "arrest": "arrest_id",
           "class": "offense_class", "description": "charge_description"}  # fmt: skip
EXTRA_KEYS = {"person", "link_status", "date", "decide"}


def record(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    """One il_records row (plus person_id and link_status) from a case's entry."""
    unknown = set(entry) - set(ALIASES) - EXTRA_KEYS - set(RECORD_COLUMNS)
    assert not unknown, f"unknown keys in a record: {sorted(unknown)}"
    row: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    date = entry.get("date", dt.date(2015, 3, 1))
    row.update(
        record_id=f"court:0:{index + 2}", source="court", source_file="case.csv",
        source_line=index + 2, case_number="2015CR000001", arrest_id="A1", charge_seq=index + 1,
        last_name="EXAMPLE", first_name="PAT", dob=dt.date(1980, 1, 1), disposition="convicted",
        offense_date=date, arrest_date=date, county="COOK",
        court="CIRCUIT COURT OF COOK COUNTY", fingerprinted=True, attempt=False,
    )  # fmt: skip
    for key, value in entry.items():
        if key not in EXTRA_KEYS:
            row[ALIASES.get(key, key)] = value
    row["person_id"] = str(entry.get("person", "P1"))
    row["link_status"] = entry.get("link_status", "linked")
    return row


def load(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Create il_records and il_person_links holding `rows`."""
    con.execute(create_sql("il_records", IL_RECORD_COLUMNS))
    con.execute(create_sql("il_person_links", IL_PERSON_LINK_COLUMNS))
    marks = ", ".join("?" * len(RECORD_COLUMNS))
    con.executemany(
        f"INSERT INTO il_records VALUES ({marks})", [[r[c] for c in RECORD_COLUMNS] for r in rows]
    )
    con.executemany(
        "INSERT INTO il_person_links VALUES (?, ?, 1.0, ?, 'dob,last_name')",
        [[r["record_id"], r["person_id"], r["link_status"]] for r in rows],
    )


def write_canonical(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A canonical CSV (`--input-canonical`): il_records columns plus person_id/link_status."""
    columns = [*RECORD_COLUMNS, "person_id", "link_status"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in columns])
    return path
