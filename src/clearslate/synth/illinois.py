"""Seeded synthetic Illinois exports: a circuit-clerk court export and an ISP arrest export.

Both describe the same synthetic people, each in its office's own layout, so the mappings
(`sources/il_mappings/*_generated.yaml`) and the linker are exercised:

| | court export (`court_export.csv`) | ISP export (`isp_export.csv`) |
|---|---|---|
| one row per | charge of a court case | charge of an arrest |
| name | one column, `LAST, FIRST MIDDLE SUFFIX` | four columns (last, first, middle, suffix) |
| dates | `MM/DD/YYYY` | `YYYYMMDD` |
| class / disposition | clerk's codes (`MA`, `F4`, `FG`, `SUPV`, …) | ISP codes (`A`, `4`, `CONV`, …) |
| grams | a bare number | number and unit (`12.5 G`, `0.4 OZ`) |
| state id (SID) | sometimes | always (fingerprint-based) |
| address | abbreviated (`W`, `ST`) | spelled out (`WEST`, `STREET`) |

`truth.csv` (kept apart from the exports) gives each export row's true person.

What makes linking hard, each with a stated probability: nicknames and typos in names,
transposed or mistyped birth dates, missing birth dates, missing SID, people who move; fathers
and sons with the same name and JR/SR at the same address (suffix sometimes left off);
twins (same birth date, last name and address); different people with the same common name.

Cannabis charges follow the Cannabis Control Act's bands (720 ILCS 550/4 and /5; grams and
class agree), with §7 (delivery to a minor) and §8 (plants) charges, attempts, missing grams,
and the older citation (Ill. Rev. Stat. ch. 56½, par. 704) before 1993. Co-charges are violent
(720 ILCS 5/12-3.2, 5/12-3.05, 5/18-2, 5/9-1) or not (5/16-1, 625 ILCS 5/11-501).

One `random.Random(seed)` and no clock: the same (people, seed) give byte-identical files.
Names are drawn from common-name lists; SIDs and case numbers are random: no row describes
a real person.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from clearslate.link.names import NICKNAMES

__all__ = [
    "CANNABIS_BANDS",
    "COURT_COLUMNS",
    "EXTRACT_DATE",
    "ISP_COLUMNS",
    "TRUTH_COLUMNS",
    "IlGenerateStats",
    "generate_illinois",
]

EXTRACT_DATE = date(2020, 6, 30)
ILCS_IN_FORCE = date(1993, 1, 1)  # before this, charges cite the Illinois Revised Statutes

COURT_COLUMNS = (
    "CASE_NUMBER",
    "DEFENDANT_NAME",
    "DEFENDANT_DOB",
    "SEX",
    "RACE",
    "SID_NUMBER",
    "CHARGE_NO",
    "STATUTE",
    "CHARGE_DESCRIPTION",
    "CHARGE_CLASS",
    "AMOUNT_GRAMS",
    "ATTEMPT",
    "DISPOSITION",
    "DISPOSITION_DATE",
    "OFFENSE_DATE",
    "ARREST_DATE",
    "ARRESTING_AGENCY",
    "DCN",
    "COUNTY",
    "COURTHOUSE",
    "FP_FLAG",
    "ADDRESS",
    "CITY",
    "STATE",
    "ZIP",
)
ISP_COLUMNS = (
    "DCN",
    "SID_NBR",
    "NAM_LAST",
    "NAM_FIRST",
    "NAM_MID",
    "NAM_SFX",
    "BIRTH_DT",
    "SEX_CD",
    "RACE_CD",
    "ARR_DT",
    "ARR_AGCY",
    "CHRG_SEQ",
    "STAT_CITE",
    "CHRG_DESC",
    "CHRG_CLS",
    "QTY",
    "ATT_IND",
    "DISP_CD",
    "DISP_DT",
    "CRT_CASE_NBR",
    "CNTY_NM",
    "ADDR_STREET",
    "ADDR_CITY",
    "ADDR_ST",
    "ADDR_ZIP",
)
TRUTH_COLUMNS = ("source", "source_line", "person_id")

# Cannabis Control Act bands: (section, subsection) → (min grams exclusive, max inclusive, class)
CANNABIS_BANDS: dict[tuple[str, str], tuple[float, float, str]] = {
    ("4", "a"): (0.0, 2.5, "C"),
    ("4", "b"): (2.5, 10.0, "B"),
    ("4", "c"): (10.0, 30.0, "A"),
    ("4", "d"): (30.0, 500.0, "4"),
    ("4", "e"): (500.0, 2000.0, "3"),
    ("4", "f"): (2000.0, 5000.0, "2"),
    ("4", "g"): (5000.0, 20000.0, "1"),
    ("5", "a"): (0.0, 2.5, "B"),
    ("5", "b"): (2.5, 10.0, "A"),
    ("5", "c"): (10.0, 30.0, "4"),
    ("5", "d"): (30.0, 500.0, "3"),
    ("5", "e"): (500.0, 2000.0, "2"),
    ("5", "f"): (2000.0, 5000.0, "1"),
    ("5", "g"): (5000.0, 20000.0, "X"),
}
_SUBSECTION_WEIGHTS = {
    "4": (("a", 30), ("b", 25), ("c", 22), ("d", 15), ("e", 4), ("f", 2), ("g", 2)),
    "5": (("a", 25), ("b", 28), ("c", 22), ("d", 15), ("e", 5), ("f", 3), ("g", 2)),
}
_DESCRIPTIONS = {
    "4": "POSSESSION OF CANNABIS",
    "5": "MFG/DEL CANNABIS",
    "7": "DELIVERY OF CANNABIS TO A MINOR",
    "8": "PRODUCTION OF CANNABIS PLANTS",
}
# (ILCS citation, Ill. Rev. Stat. citation, description, class, violent)
_CO_CHARGES = (
    ("720 ILCS 5/12-3.2", "Ill. Rev. Stat. ch. 38, par. 12-3.2", "DOMESTIC BATTERY", "A", True),
    ("720 ILCS 5/12-3.05", "Ill. Rev. Stat. ch. 38, par. 12-4", "AGG BATTERY", "3", True),
    ("720 ILCS 5/18-2", "Ill. Rev. Stat. ch. 38, par. 18-2", "ARMED ROBBERY", "X", True),
    ("720 ILCS 5/9-1", "Ill. Rev. Stat. ch. 38, par. 9-1", "FIRST DEGREE MURDER", "M", True),
    ("720 ILCS 5/16-1", "Ill. Rev. Stat. ch. 38, par. 16-1", "THEFT", "A", False),
    ("625 ILCS 5/11-501", "Ill. Rev. Stat. ch. 95 1/2, par. 11-501", "DUI", "A", False),
    ("720 ILCS 5/21-3", "Ill. Rev. Stat. ch. 38, par. 21-3", "CRIMINAL TRESPASS", "B", False),
)
_CO_WEIGHTS = (30, 12, 4, 1, 30, 25, 20)

# canonical disposition → (court code, ISP code)
_DISPOSITION_CODES = {
    "convicted": ("FG", "CONV"),
    "supervision": ("SUPV", "SUPV"),
    "qualified_probation": ("1410", "QPRB"),
    "dismissed": ("DISM", "DISM"),
    "nolle_prosequi": ("NOLP", "NOLL"),
    "stricken_off": ("SOL", "SOLR"),
    "acquitted": ("FNG", "ACQT"),
    "vacated": ("VAC", "VACT"),
    "pending": ("PEND", "PEND"),
}
_DISPOSITION_WEIGHTS = (
    ("convicted", 34),
    ("supervision", 24),
    ("qualified_probation", 5),
    ("dismissed", 12),
    ("nolle_prosequi", 14),
    ("stricken_off", 4),
    ("acquitted", 4),
    ("vacated", 1),
)
_COURT_CLASS = {
    "X": "FX",
    "1": "F1",
    "2": "F2",
    "3": "F3",
    "4": "F4",
    "A": "MA",
    "B": "MB",
    "C": "MC",
    "M": "FM",
}

# county → (share, [(city, zip prefix)], agencies)
_COUNTIES: dict[str, tuple[int, tuple[tuple[str, str], ...]]] = {
    "COOK": (
        60,
        (
            ("CHICAGO", "606"),
            ("EVANSTON", "602"),
            ("CICERO", "608"),
            ("OAK PARK", "603"),
            ("HARVEY", "604"),
        ),
    ),
    "DUPAGE": (7, (("WHEATON", "601"), ("NAPERVILLE", "605"))),
    "WILL": (7, (("JOLIET", "604"), ("BOLINGBROOK", "604"))),
    "LAKE": (6, (("WAUKEGAN", "600"), ("NORTH CHICAGO", "600"))),
    "KANE": (5, (("AURORA", "605"), ("ELGIN", "601"))),
    "CHAMPAIGN": (4, (("CHAMPAIGN", "618"), ("URBANA", "618"))),
    "WINNEBAGO": (4, (("ROCKFORD", "611"),)),
    "PEORIA": (3, (("PEORIA", "616"),)),
    "SANGAMON": (2, (("SPRINGFIELD", "627"),)),
    "ST. CLAIR": (2, (("EAST ST. LOUIS", "622"), ("BELLEVILLE", "622"))),
}
_STREETS = (
    "MADISON",
    "HALSTED",
    "ASHLAND",
    "WESTERN",
    "PULASKI",
    "KEDZIE",
    "COTTAGE GROVE",
    "STATE",
    "MAIN",
    "OAK",
    "MAPLE",
    "LINCOLN",
    "WASHINGTON",
    "JEFFERSON",
    "GRAND",
    "CENTRAL",
    "HARLEM",
    "63RD",
    "79TH",
    "KING",
    "DIVISION",
    "CHICAGO",
    "ROOSEVELT",
    "GARFIELD",
)
_DIRECTIONS = {"N": "NORTH", "S": "SOUTH", "E": "EAST", "W": "WEST"}
_STREET_TYPES = {"ST": "STREET", "AVE": "AVENUE", "BLVD": "BOULEVARD", "RD": "ROAD", "DR": "DRIVE"}

_MALE = (
    *(("WILLIAM", 6), ("ROBERT", 6), ("JAMES", 7), ("JOHN", 6), ("MICHAEL", 8), ("RICHARD", 3)),
    *(("JOSEPH", 4), ("THOMAS", 3), ("CHARLES", 3), ("ANTHONY", 5), ("DANIEL", 4), ("DAVID", 5)),
    *(("CHRISTOPHER", 4), ("EDWARD", 2), ("ANDREW", 2), ("MATTHEW", 2), ("STEVEN", 2)),
    *(("KENNETH", 2), ("DONALD", 2), ("RONALD", 2), ("TIMOTHY", 2), ("GREGORY", 2)),
    *(("FRANCISCO", 2), ("ALEJANDRO", 2), ("TERRENCE", 2), ("LAWRENCE", 1), ("RAYMOND", 2)),
    *(("DEMETRIUS", 2), ("DARNELL", 2), ("TERRELL", 2), ("MARCUS", 3), ("ANDRE", 2)),
    *(("JAMAL", 2), ("LUIS", 3), ("CARLOS", 3), ("JUAN", 4), ("MIGUEL", 2), ("KEVIN", 3)),
    *(("BRIAN", 3), ("ERIC", 3), ("JASON", 3), ("TYRONE", 2), ("DEANDRE", 2), ("JOSE", 5)),
    *(("ANTOINE", 1), ("LAMAR", 1), ("MAURICE", 2), ("CEDRIC", 1), ("JEROME", 1), ("VICTOR", 2)),
    *(("MARIO", 1), ("RAFAEL", 1), ("PEDRO", 1), ("JORGE", 2), ("RICARDO", 1), ("OSCAR", 1)),
)
_FEMALE = (
    *(("ELIZABETH", 3), ("JENNIFER", 3), ("PATRICIA", 2), ("MARGARET", 1), ("KATHERINE", 2)),
    *(("SUSAN", 1), ("DEBORAH", 1), ("REBECCA", 1), ("MARIA", 4), ("ANGELA", 2), ("LATOYA", 2)),
    *(("KEISHA", 2), ("TANYA", 1), ("SHANICE", 1), ("ROSA", 1), ("GUADALUPE", 1), ("JESSICA", 3)),
    *(("ASHLEY", 2), ("VICTORIA", 1), ("CYNTHIA", 1), ("PAMELA", 1), ("TIFFANY", 2)),
    *(("BRITTANY", 1), ("NICOLE", 2), ("MONIQUE", 1), ("YOLANDA", 1), ("ERICA", 1)),
)
_MIDDLES_M = ("LEE", "JAMES", "ALLEN", "EARL", "LOUIS", "RAY", "ANTONIO", "DEWAYNE", "PAUL")
_MIDDLES_F = ("MARIE", "ANN", "LYNN", "RENEE", "NICOLE", "ELENA", "DENISE", "MAE")
_LAST = (
    *(("SMITH", 30), ("JOHNSON", 28), ("WILLIAMS", 26), ("BROWN", 22), ("JONES", 22)),
    *(("GARCIA", 18), ("RODRIGUEZ", 14), ("MARTINEZ", 14), ("DAVIS", 16), ("HERNANDEZ", 14)),
    *(("LOPEZ", 12), ("GONZALEZ", 12), ("WASHINGTON", 10), ("JACKSON", 14), ("THOMAS", 10)),
    *(("TAYLOR", 10), ("MOORE", 9), ("WHITE", 8), ("HARRIS", 10), ("MARTIN", 8), ("THOMPSON", 8)),
    *(("ROBINSON", 8), ("LEWIS", 8), ("WALKER", 7), ("ALLEN", 6), ("YOUNG", 6), ("KING", 6)),
    *(("WRIGHT", 5), ("SCOTT", 5), ("GREEN", 6), ("BAKER", 4), ("ADAMS", 4), ("NELSON", 4)),
    *(("KOWALSKI", 3), ("NOWAK", 3), ("WISNIEWSKI", 2), ("OBRIEN", 3), ("MURPHY", 4)),
    *(("SULLIVAN", 3), ("KELLY", 4), ("RAMIREZ", 6), ("TORRES", 5), ("FLORES", 5), ("RIVERA", 6)),
    *(("GOMEZ", 4), ("DIAZ", 5), ("REYES", 4), ("CRUZ", 4), ("MORALES", 4), ("ORTIZ", 4)),
    *(("BUTLER", 4), ("BANKS", 3), ("FREEMAN", 3), ("HOLMES", 3), ("SIMMONS", 3), ("DIXON", 3)),
    *(("TUCKER", 2), ("PATTERSON", 3), ("HAYES", 2), ("MYERS", 2), ("FORD", 3), ("GRAHAM", 2)),
    *(("OKAFOR", 1), ("NGUYEN", 2), ("PATEL", 2), ("KIM", 2), ("SCHMIDT", 2), ("MUELLER", 1)),
    *(("PETERSON", 2), ("ANDERSEN", 1), ("LINDQUIST", 1), ("NOVAK", 1), ("RUIZ", 2), ("VEGA", 2)),
)
_RACES = (("B", 50), ("W", 25), ("H", 22), ("A", 2), ("U", 1))

# Probabilities (per record of a source, unless said otherwise)
P_NICKNAME = 0.10  # a formal first name written as a nickname
P_FIRST_TYPO = 0.03
P_LAST_TYPO = 0.03
P_SUFFIX_SHOWN = 0.75  # a JR/SR person's suffix is written
P_COURT_DOB_MISSING = 0.05
P_DOB_TRANSPOSED = 0.03  # day and month swapped, or two adjacent digits
P_COURT_SID = 0.40
P_COURT_ADDRESS = 0.92
P_ISP_ADDRESS = 0.70
P_NO_COURT_CASE = 0.15  # per arrest: no charges filed
P_GRAMS_MISSING = 0.15  # per cannabis charge (doubled before 2000)
P_ATTEMPT = 0.03
# Per person
P_FATHER_SON = 0.05
P_TWINS = 0.02
P_SAME_NAME = 0.03  # takes an earlier person's full name (a different person)
P_MOVES = 0.35


@dataclass
class IlGenerateStats:
    people: int = 0
    arrests: int = 0
    cases: int = 0
    court_rows: int = 0
    isp_rows: int = 0
    files: dict[str, str] = field(default_factory=dict)


@dataclass
class _Address:
    number: int
    direction: str
    street: str
    kind: str
    city: str
    zip: str
    since: date  # lived here from this date


@dataclass
class _Person:
    pid: str
    sex: str
    first: str
    middle: str | None
    last: str
    suffix: str | None
    dob: date
    sid: str
    race: str
    county: str
    addresses: list[_Address]


@dataclass
class _Charge:
    seq: int
    statute: str
    description: str
    klass: str | None  # canonical class, 'M' for murder (no class)
    grams: float | None
    attempt: bool
    disposition: str
    disposition_date: date | None


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)
        self.sids: set[str] = set()
        self.case_seq = 0
        self.dcn_seq = 0

    def pick(self, weighted: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]

    # -- people -------------------------------------------------------------------------------

    def sid(self) -> str:
        while True:
            sid = str(self.rng.randrange(10_000_000, 99_999_999))
            if sid not in self.sids:
                self.sids.add(sid)
                return sid

    def address(self, county: str, since: date) -> _Address:
        cities = _COUNTIES[county][1]
        city, zip3 = cities[self.rng.randrange(len(cities))]
        return _Address(
            number=self.rng.randrange(100, 12000),
            direction=self.rng.choice(tuple(_DIRECTIONS)),
            street=self.rng.choice(_STREETS),
            kind=self.rng.choice(tuple(_STREET_TYPES)),
            city=city,
            zip=f"{zip3}{self.rng.randrange(1, 99):02d}",
            since=since,
        )

    def person(self, n: int) -> _Person:
        rng = self.rng
        sex = "M" if rng.random() < 0.82 else "F"
        first = self.pick(_MALE if sex == "M" else _FEMALE)
        middles = _MIDDLES_M if sex == "M" else _MIDDLES_F
        middle = rng.choice(middles) if rng.random() < 0.8 else None
        dob = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 71 * 365))
        county = self.pick(tuple((c, v[0]) for c, v in _COUNTIES.items()))
        home = [self.address(county, dob)]
        if rng.random() < P_MOVES:
            home.append(self.address(county, _add_years(dob, rng.randrange(25, 45))))
        return _Person(
            pid=f"T{n:07d}",
            sex=sex,
            first=first,
            middle=middle,
            last=self.pick(_LAST),
            suffix=None,
            dob=dob,
            sid=self.sid(),
            race=self.pick(_RACES),
            county=county,
            addresses=home,
        )

    def people(self, count: int) -> list[_Person]:
        out: list[_Person] = []
        while len(out) < count:
            p = self.person(len(out) + 1)
            roll = self.rng.random()
            if roll < P_FATHER_SON and len(out) + 2 <= count and p.dob.year <= 1975:
                # the son: same name and home, born 20-35 years later; JR / SR
                son = self.person(len(out) + 2)
                son.sex, son.first, son.middle, son.last = "M", p.first, p.middle, p.last
                p.sex = "M"
                if p.first not in dict(_MALE):
                    son.first = p.first = self.pick(_MALE)
                son.dob = _add_years(p.dob, self.rng.randrange(20, 36)) + timedelta(
                    days=self.rng.randrange(0, 365)
                )
                son.county, son.race = p.county, p.race
                son.addresses = [p.addresses[0]]
                p.suffix, son.suffix = "SR", "JR"
                out += [p, son]
            elif roll < P_FATHER_SON + P_TWINS and len(out) + 2 <= count:
                twin = self.person(len(out) + 2)
                twin.last, twin.dob, twin.county, twin.race = p.last, p.dob, p.county, p.race
                twin.addresses = list(p.addresses)
                while twin.first == p.first or canonical(twin.first) == canonical(p.first):
                    twin.first = self.pick(_MALE if twin.sex == "M" else _FEMALE)
                out += [p, twin]
            elif roll < P_FATHER_SON + P_TWINS + P_SAME_NAME and out:
                other = out[self.rng.randrange(len(out))]
                p.sex, p.first, p.middle, p.last = other.sex, other.first, other.middle, other.last
                out.append(p)
            else:
                out.append(p)
        return out[:count]

    # -- what a clerk or an officer writes ----------------------------------------------------

    def written_name(self, p: _Person) -> tuple[str, str, str | None, str | None]:
        rng = self.rng
        first, last, middle = p.first, p.last, p.middle
        if first in NICKNAMES and rng.random() < P_NICKNAME:
            first = rng.choice(NICKNAMES[first])
        if rng.random() < P_FIRST_TYPO:
            first = self.typo(first)
        if rng.random() < P_LAST_TYPO:
            last = self.typo(last)
        if middle is not None:
            roll = rng.random()
            middle = middle if roll < 0.5 else middle[0] if roll < 0.8 else None
        suffix = p.suffix if p.suffix and rng.random() < P_SUFFIX_SHOWN else None
        return last, first, middle, suffix

    def typo(self, word: str) -> str:
        if len(word) < 4:
            return word
        i = self.rng.randrange(1, len(word) - 1)
        kind = self.rng.randrange(3)
        if kind == 0:  # two letters swapped
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == 1:  # a letter dropped
            return word[:i] + word[i + 1 :]
        return word[:i] + self.rng.choice("AEIOURSTLN") + word[i + 1 :]  # a letter replaced

    def written_dob(self, p: _Person, p_missing: float) -> date | None:
        rng = self.rng
        if rng.random() < p_missing:
            return None
        if rng.random() < P_DOB_TRANSPOSED:
            if p.dob.day <= 12 and p.dob.day != p.dob.month:
                return date(p.dob.year, p.dob.day, p.dob.month)
            text = p.dob.strftime("%Y%m%d")
            for _ in range(5):
                i = rng.randrange(4, 7)  # month and day digits: the year stays
                swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
                try:
                    d = date(int(swapped[:4]), int(swapped[4:6]), int(swapped[6:]))
                except ValueError:
                    continue
                if d != p.dob:
                    return d
        return p.dob

    def home(self, p: _Person, when: date) -> _Address:
        """The address the person lived at on `when` (the first one lived at from birth)."""
        return [a for a in p.addresses if a.since <= when][-1]

    # -- arrests and cases --------------------------------------------------------------------

    def arrest_date(self, p: _Person) -> date | None:
        start = max(1965, p.dob.year + 17)
        if start > 2019:
            return None
        years = list(range(start, 2020))
        year = self.rng.choices(years, [1.07 ** (y - 1965) for y in years])[0]
        d = date(year, 1, 1) + timedelta(days=self.rng.randrange(0, 365))
        earliest = _add_years(p.dob, 17)
        return max(d, earliest) if d.year == earliest.year else d

    def cannabis_charge(self, when: date) -> tuple[str, str, str, float | None]:
        """(statute, description, class, grams)."""
        rng = self.rng
        section = self.pick((("4", 78), ("5", 16), ("7", 2), ("8", 4)))
        old = when < ILCS_IN_FORCE
        if section == "8":
            sub, klass = ("a", "A") if rng.random() < 0.7 else ("b", "4")
            plants = "5 OR FEWER" if sub == "a" else "6-20"
            cite = self._cite("8", sub, old)
            return cite, f"{_DESCRIPTIONS['8']} {plants}", klass, None
        base = "5" if section == "7" else section
        sub = self.pick(_SUBSECTION_WEIGHTS[base])
        if section == "7":
            sub = rng.choice("abc")
        low, high, klass = CANNABIS_BANDS[(base, sub)]
        grams = round(rng.uniform(low + 0.01, high), 1 if high <= 30 else 0)
        grams = min(max(grams, low + 0.1), high)
        if section == "7":
            klass = {"B": "A", "A": "4", "4": "3"}[klass]  # §7: one class higher
            cite = self._cite("7", "a", old)
        else:
            cite = self._cite(base, sub, old)
        desc = f"{_DESCRIPTIONS[section]} {_band_text(low, high)}"
        return cite, desc, klass, grams

    @staticmethod
    def _cite(section: str, sub: str, old: bool) -> str:
        if old:
            return f"Ill. Rev. Stat. ch. 56½, par. 70{section}({sub})"
        return f"720 ILCS 550/{section}({sub})"

    def charges(self, when: date) -> list[_Charge]:
        rng = self.rng
        out: list[tuple[str, str, str | None, float | None, bool]] = []
        cite, desc, klass, grams = self.cannabis_charge(when)
        missing = P_GRAMS_MISSING * (2 if when.year < 2000 else 1)
        attempt = rng.random() < P_ATTEMPT
        if attempt:
            klass = "A" if klass in ("4", "3", "2", "1", "X") else klass
            desc = f"ATTEMPT {desc}"
        out.append((cite, desc, klass, None if rng.random() < missing else grams, attempt))
        for _ in range(rng.choices((0, 1, 2), (62, 30, 8))[0]):
            ilcs, irs, text, co_class, _violent = rng.choices(_CO_CHARGES, _CO_WEIGHTS)[0]
            out.append((irs if when < ILCS_IN_FORCE else ilcs, text, co_class, None, False))
        rng.shuffle(out)
        result = []
        for seq, (statute, text, k, g, att) in enumerate(out, start=1):
            dispo = self.pick(_DISPOSITION_WEIGHTS)
            if when.year >= 2018 and rng.random() < 0.15:
                dispo = "pending"
            days = rng.randrange(20, 500)
            dd = None if dispo == "pending" else min(when + timedelta(days=days), EXTRACT_DATE)
            result.append(_Charge(seq, statute, text, k, g, att, dispo, dd))
        return result


def canonical(name: str) -> str:
    for formal, nicks in NICKNAMES.items():
        if name == formal or name in nicks:
            return formal
    return name


def _same_band(grams: float | None, ounces: float) -> bool:
    """Whether the amount in ounces, read back in grams, stays in its band (no class change)."""
    back = ounces * 28.349523125
    return any(
        low < grams <= high and low < back <= high
        for low, high, _ in CANNABIS_BANDS.values()
        if grams is not None
    )


def _band_text(low: float, high: float) -> str:
    if low == 0:
        return f"<={high:g} GRAMS"
    return f">{low:g}-{high:g} GRAMS"


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _mdy(d: date | None) -> str:
    return d.strftime("%m/%d/%Y") if d else ""


def _ymd(d: date | None) -> str:
    return d.strftime("%Y%m%d") if d else ""


def _agency(county: str, city: str, rng: Random) -> str:
    roll = rng.random()
    if roll < 0.7:
        return f"{city} POLICE DEPARTMENT"
    if roll < 0.9:
        return f"{county} COUNTY SHERIFF"
    return "ILLINOIS STATE POLICE"


def generate_illinois(out_dir: Path, people: int, seed: int = 0) -> IlGenerateStats:
    """Write court_export.csv, isp_export.csv and truth.csv into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _Gen(seed)
    rng = gen.rng
    court_rows: list[list[str]] = []
    isp_rows: list[list[str]] = []
    truth: list[list[str]] = []
    stats = IlGenerateStats()
    for p in gen.people(people):
        stats.people += 1
        n_arrests = 1 + min(int(rng.expovariate(1.1)), 5)
        for _ in range(n_arrests):
            when = gen.arrest_date(p)
            if when is None:
                break
            stats.arrests += 1
            home = gen.home(p, when)
            agency = _agency(p.county, home.city, rng)
            gen.dcn_seq += 1
            dcn = f"{rng.randrange(1, 99):02d}{gen.dcn_seq:07d}"
            charges = gen.charges(when)
            filed = rng.random() >= P_NO_COURT_CASE
            case_number = ""
            if filed:
                stats.cases += 1
                gen.case_seq += 1
                felony = any(c.klass in ("X", "1", "2", "3", "4", "M") for c in charges)
                case_number = f"{when.year}{'CR' if felony else 'MC'}{gen.case_seq:06d}"
                last, first, middle, suffix = gen.written_name(p)
                name = f"{last}, {' '.join(x for x in (first, middle, suffix) if x)}"
                dob = gen.written_dob(p, P_COURT_DOB_MISSING)
                sid = p.sid if rng.random() < P_COURT_SID else ""
                has_addr = rng.random() < P_COURT_ADDRESS
                known_dcn = dcn if rng.random() < 0.5 else ""
                offense = when - timedelta(days=rng.choice((0, 0, 0, 1)))
                fp = "Y" if rng.random() < 0.8 else "N"
                for c in charges:
                    court_rows.append(
                        [
                            case_number,
                            name,
                            _mdy(dob),
                            p.sex,
                            p.race,
                            sid,
                            str(c.seq),
                            c.statute,
                            c.description,
                            _COURT_CLASS.get(c.klass or "", "") if c.klass else "",
                            "" if c.grams is None else f"{c.grams:g}",
                            "Y" if c.attempt else "N",
                            _DISPOSITION_CODES[c.disposition][0],
                            _mdy(c.disposition_date),
                            _mdy(offense),
                            _mdy(when),
                            agency,
                            known_dcn,
                            p.county,
                            f"CIRCUIT COURT OF {p.county} COUNTY",
                            fp,
                            *(
                                (
                                    f"{home.number} {home.direction} {home.street} {home.kind}",
                                    home.city,
                                    "IL",
                                    home.zip,
                                )
                                if has_addr
                                else ("", "", "", "")
                            ),
                        ]
                    )
                    truth.append(["court", str(len(court_rows) + 1), p.pid])
            last, first, middle, suffix = gen.written_name(p)
            dob = gen.written_dob(p, 0.0)
            has_addr = rng.random() < P_ISP_ADDRESS
            for c in charges:
                dispo = c.disposition if filed else "no_charges_filed"
                isp_code = "NCF" if not filed else _DISPOSITION_CODES[dispo][1]
                if filed and rng.random() < 0.05:
                    isp_code = "UNK"  # disposition never reported to ISP
                qty = "" if c.grams is None else f"{c.grams:g} G"
                ounces = round((c.grams or 0) / 28.349523125, 2)
                if (c.grams or 0) > 56 and rng.random() < 0.2 and _same_band(c.grams, ounces):
                    qty = f"{ounces:.2f} OZ"  # large amounts weighed in ounces
                isp_rows.append(
                    [
                        dcn,
                        p.sid,
                        last,
                        first,
                        middle or "",
                        suffix or "",
                        _ymd(dob),
                        "MALE" if p.sex == "M" else "FEMALE",
                        p.race,
                        _ymd(when),
                        agency,
                        str(c.seq),
                        c.statute,
                        c.description,
                        c.klass or "",
                        qty,
                        "A" if c.attempt else "",
                        isp_code,
                        _ymd(c.disposition_date) if filed else "",
                        case_number if filed and rng.random() < 0.6 else "",
                        p.county,
                        *(
                            (
                                f"{home.number} {_DIRECTIONS[home.direction]} {home.street} "
                                f"{_STREET_TYPES[home.kind]}",
                                home.city,
                                "IL",
                                home.zip,
                            )
                            if has_addr
                            else ("", "", "", "")
                        ),
                    ]
                )
                truth.append(["isp", str(len(isp_rows) + 1), p.pid])
    stats.court_rows, stats.isp_rows = len(court_rows), len(isp_rows)
    for name, header, rows in (
        ("court_export.csv", COURT_COLUMNS, court_rows),
        ("isp_export.csv", ISP_COLUMNS, isp_rows),
        ("truth.csv", TRUTH_COLUMNS, truth),
    ):
        path = out_dir / name
        path.write_bytes(_csv_bytes(header, rows))
        stats.files[name] = str(path)
    return stats


def _csv_bytes(header: tuple[str, ...], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")
