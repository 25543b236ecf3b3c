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


STATUTES = ("720 ILCS 550/4(a)", "720 ILCS 550/4(b)", "720 ILCS 550/4(c)", "720 ILCS 550/4(d)",
            "720-550/4(c)", "550/4C", "720 ILCS 550/5(b)", "720 ILCS 550/5(c)",
            "720 ILCS 550/5.2(b)", "720 ILCS 550/8(a)", "720 ILCS 550/4",
            "Ill. Rev. Stat. ch. 56 1/2, par. 704(b)", "720 ILCS 5/12-3.2(a)(1)",
            "720 ILCS 5/16-25", "720 ILCS 5/12-3", "POSS CANNABIS")  # fmt: skip
DISPOSITIONS = ("convicted", "convicted", "dismissed", "nolle_prosequi", "supervision",
                "qualified_probation", "acquitted", "pending", "unknown")  # fmt: skip
COURTS = ("CIRCUIT COURT OF COOK COUNTY - DALEY CENTER", "CIRCUIT COURT OF COOK COUNTY - MARKHAM")


def varied_records(people: int, seed: int) -> list[dict[str, Any]]:
    """A seeded mix of fictional people and charges over every tier, outcome and source."""
    import random

    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for p in range(people):
        dob = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 50 * 365))
        for case in range(rng.randint(1, 3)):
            day = dt.date(1985, 1, 1) + dt.timedelta(days=rng.randrange(0, 35 * 365))
            for _charge in range(rng.randint(1, 2)):
                entry: dict[str, Any] = {
                    "person": f"P{p:04d}", "statute": rng.choice(STATUTES),
                    "case": f"{day.year}CR{p:04d}{case}", "arrest": f"A{p:04d}{case}",
                    "date": day, "dob": dob, "disposition": rng.choice(DISPOSITIONS),
                    "court": rng.choice(COURTS), "source": rng.choice(("court", "isp")),
                    "grams": rng.choice((None, 2.5, 10, 30, 30.01, 250, 600)),
                    "class": rng.choice((None, "A", "B", "4")),
                    "link_status": "review" if rng.random() < 0.05 else "linked",
                }  # fmt: skip
                row = record(len(rows), entry)
                row["record_id"] = f"{row['source']}:0:{len(rows) + 2}"
                rows.append(row)
    return rows
