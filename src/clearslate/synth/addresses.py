"""A seeded, synthetic office address file for a run (the demo, tests and the benchmark).

The DOJ research file has no addresses; an office joins them from its case system. This writes
such a file for the people of a run's ``determinations``: fictional street addresses in the
county's cities, written the untidy ways people type them ("north main street apt 4",
"P.O. Box 12", "Los Angeles, California"), keyed by ``subject_id`` or only by ``cii_number``,
with a stated share of rows that cannot be used (TRANSIENT, no ZIP, a bad state, a street with
no number), people with two different addresses, people with none, and rows for people who
are not in the run. Same run and seed, same file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from random import Random

import duckdb

from clearslate import database
from clearslate.outputs.files import atomic_path

__all__ = ["AddressStats", "AddressesError", "generate_addresses"]

_CITIES = (
    ("Los Angeles", "90012"), ("Los Angeles", "90018"), ("Los Angeles", "90026"),
    ("Los Angeles", "90044"), ("Los Angeles", "90063"), ("Long Beach", "90802"),
    ("Long Beach", "90813"), ("Pasadena", "91101"), ("Compton", "90220"),
    ("Inglewood", "90301"), ("Pomona", "91766"), ("Lancaster", "93534"),
    ("Palmdale", "93550"), ("Glendale", "91205"), ("Torrance", "90501"),
    ("El Monte", "91731"), ("Downey", "90241"), ("West Covina", "91790"),
    ("Norwalk", "90650"), ("Burbank", "91502"), ("Santa Monica", "90404"),
    ("Whittier", "90602"), ("Carson", "90745"), ("Hawthorne", "90250"),
    ("San Pedro", "90731"), ("Van Nuys", "91405"), ("North Hollywood", "91606"),
)  # fmt: skip
_STREETS = (
    "Main", "Broadway", "Figueroa", "Vermont", "Western", "Crenshaw", "Sunset", "Pico",
    "Olympic", "Washington", "Adams", "Slauson", "Florence", "Manchester", "Century",
    "Atlantic", "Alameda", "Central", "Hoover", "Normandie", "Oak", "Maple", "Pine", "Cedar",
    "Elm", "Lincoln", "Garfield", "Orange", "Magnolia", "Cypress", "1st", "3rd", "7th", "54th",
    "Martin Luther King Jr", "Cesar E Chavez", "San Fernando", "Colorado", "Lakewood",
)  # fmt: skip
_SUFFIXES = (
    ("Street", "St", "St."), ("Avenue", "Ave", "Ave."), ("Boulevard", "Blvd", "Blvd."),
    ("Drive", "Dr", "Dr."), ("Place", "Pl", "Pl."), ("Road", "Rd", "Rd."),
    ("Court", "Ct", "Ct."), ("Way", "Way", "Way"), ("Lane", "Ln", "Ln."),
)  # fmt: skip
_DIRECTIONS = (("North", "N", "N."), ("South", "S", "S."), ("East", "E", "E."), ("West", "W", "W."))
_UNITS = (("Apt", "Apartment", "Apt."), ("Unit", "Unit", "Unit"), ("#", "#", "No."),
          ("Ste", "Suite", "Suite"), ("Spc", "Space", "Spc"))  # fmt: skip
# Per person (of the run):
P_NO_ADDRESS = 0.06  # no row at all
P_BY_CII = 0.10  # keyed by CII only
P_BOTH_KEYS = 0.05  # both keys
P_CONFLICT = 0.01  # a second row with another address
P_SAME_TWICE = 0.01  # a second row with the same address, typed differently
P_UNUSABLE = 0.035  # a row that cannot be used (the kind drawn from _PROBLEMS)
P_PO_BOX = 0.04
P_UNIT = 0.25
P_NAME = 0.6  # the office's own spelling of the name
P_SPANISH = 0.25
P_ENGLISH = 0.5  # the rest: language left blank
P_STRANGER = 0.02  # rows for people not in the run, per person
_PROBLEMS = ("TRANSIENT", "HOMELESS", "no_zip", "bad_zip", "bad_state", "no_number", "no_city")


class AddressesError(ValueError):
    """A run folder whose determinations cannot be read."""


@dataclass(frozen=True)
class AddressStats:
    people: int
    rows: int
    without_address: int
    unusable: int
    conflicting: int


def _case(rng: Random, text: str) -> str:
    r = rng.random()
    if r < 0.5:
        return text
    if r < 0.8:
        return text.upper()
    return text.lower()


def _street(rng: Random) -> str:
    number = str(rng.randint(1, 19999))
    parts = [number]
    if rng.random() < 0.3:
        parts.append(rng.choice(_DIRECTIONS)[rng.randrange(3)])
    parts.append(rng.choice(_STREETS))
    parts.append(rng.choice(_SUFFIXES)[rng.randrange(3)])
    return " ".join(parts)


def _unit(rng: Random) -> str:
    kind = rng.choice(_UNITS)[rng.randrange(3)]
    num = str(rng.randint(1, 40)) if rng.random() < 0.8 else rng.choice("ABCDEF")
    return f"{kind}{num}" if kind in ("#",) else f"{kind} {num}"


def _address(rng: Random) -> list[str]:
    city, zip5 = rng.choice(_CITIES)
    if rng.random() < P_PO_BOX:
        line1 = (
            rng.choice(("PO Box", "P.O. Box", "Post Office Box", "po box"))
            + " "
            + str(rng.randint(1, 99999))
        )
        line2 = ""
    else:
        line1 = _street(rng)
        line2 = ""
        if rng.random() < P_UNIT:
            if rng.random() < 0.5:
                line2 = _unit(rng)
            else:
                line1 = f"{line1} {_unit(rng)}"
    state = rng.choice(("CA", "CA", "CA", "Ca", "California", "CALIF"))
    zip_ = zip5 if rng.random() < 0.8 else f"{zip5}-{rng.randint(1000, 9999)}"
    return [_case(rng, line1), _case(rng, line2), _case(rng, city), state, zip_]


def _problem(rng: Random, kind: str) -> list[str]:
    a = _address(rng)
    if kind in ("TRANSIENT", "HOMELESS"):
        return [rng.choice((kind, kind.lower(), kind.title())), "", a[2], a[3], a[4]]
    if kind == "no_zip":
        a[4] = ""
    elif kind == "bad_zip":
        a[4] = a[4][:4]
    elif kind == "bad_state":
        a[3] = "XX"
    elif kind == "no_number":
        a[0] = f"{rng.choice(_STREETS)} {rng.choice(_SUFFIXES)[0]}"
    elif kind == "no_city":
        a[2] = ""
    return a


def _display(doj_name: str) -> str:
    last, _, first = doj_name.partition(",")
    return " ".join(w.capitalize() for w in (first.split() + last.split()))


def generate_addresses(run_dir: Path, output: Path, *, seed: int = 0) -> AddressStats:
    """Write a synthetic address file for the people of the run in ``run_dir``."""
    parquet = run_dir / "determinations.parquet"
    path = parquet if parquet.exists() else run_dir / "determinations.csv"
    # the path as a parameter: a folder named q'dir broke the SQL it was pasted into
    source = "read_parquet($1)" if path == parquet else "read_csv($1, all_varchar = true)"
    con = database.connect()
    try:
        people = con.execute(
            f"""SELECT subject_id, first(cii_number ORDER BY source_line),
                       first(name ORDER BY source_line)
                FROM {source} GROUP BY subject_id ORDER BY subject_id""",
            [str(path)],
        ).fetchall()
    except duckdb.Error:
        # DuckDB's text is left out: it may quote a row (personal data)
        raise AddressesError(
            f"{path}: cannot be read as a run's determinations; run clearslate run again."
        ) from None
    finally:
        con.close()
    rng = Random(seed)
    rows: list[list[str]] = []
    without = unusable = conflicting = 0
    for sid, cii, name in people:
        if rng.random() < P_NO_ADDRESS:
            without += 1
            continue
        k = rng.random()
        key_sid, key_cii = sid, ""
        if k < P_BY_CII and cii:
            key_sid, key_cii = "", cii
        elif k < P_BY_CII + P_BOTH_KEYS:
            key_cii = cii or ""
        shown = _display(name or "") if rng.random() < P_NAME else ""
        lr = rng.random()
        lang = "es" if lr < P_SPANISH else ("en" if lr < P_SPANISH + P_ENGLISH else "")
        if rng.random() < P_UNUSABLE:
            fields = _problem(rng, rng.choice(_PROBLEMS))
            unusable += 1
        else:
            fields = _address(rng)
        rows.append([key_sid, key_cii, shown, *fields, lang])
        r = rng.random()
        if r < P_CONFLICT:
            rows.append([sid, "", shown, *_address(rng), lang])
            conflicting += 1
        elif r < P_CONFLICT + P_SAME_TWICE:
            again = [f.upper() for f in fields]
            rows.append([sid, "", shown, *again, lang])
        if rng.random() < P_STRANGER:
            rows.append([str(90_000_000 + rng.randrange(10_000_000)), "", "", *_address(rng), ""])
    rng.shuffle(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    # whole or none: a file cut short by a full disk must not pass for the office's
    with atomic_path(output) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "subject_id",
                "cii_number",
                "name",
                "address_line_1",
                "address_line_2",
                "city",
                "state",
                "zip",
                "language",
            ]
        )
        w.writerows(rows)
    return AddressStats(len(people), len(rows), without, unusable, conflicting)
