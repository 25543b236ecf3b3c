"""Seeded, deterministic synthetic California DOJ research files (Prop 64 extracts).

The files have the 95-column layout of ``clearslate.sources.ca_doj_layout.DOJ_COLUMNS``: UTF-8,
comma separated, ``\\n`` line ends, one record per row, rows grouped by subject and in
cycle / step / count order within a subject. Every name, number and event is synthetic.

Unlike gogen's ``generate_test_data`` (gogen-behaviour.md section 7) this generator

* is reproducible: one ``random.Random(seed)`` and no clock, so the same (county, rows, seed)
  give byte-identical files, and a shorter file is a prefix of a longer one;
* keeps dates coherent: every cycle is after the subject's 15th birthday and on or before the
  extract date (2020-06-01); a court step is on or after its arrest step;
* writes exactly ``rows`` data rows, truncating the last subject's history at a record boundary;
* draws felony / misdemeanor / infraction per offence and per era (e.g. 11357(B) becomes an
  infraction in 2011; 11359 and 11360(A) are mostly misdemeanours after Prop 64), once per count;
* writes the rare features a decision engine must handle, each with a stated probability
  (see ``RARE_FEATURE_PROBABILITIES``).

SSNs start with 9 (never issued) and CII, FBI and driver licence numbers are random, so no row
can describe a real person's record.
"""

from __future__ import annotations

import bisect
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from random import Random
from typing import Generic, TypeVar

from clearslate.sources.ca_doj_layout import DOJ_COLUMNS

__all__ = [
    "CA_COUNTIES",
    "EXTRACT_DATE",
    "RARE_FEATURE_PROBABILITIES",
    "GenerateStats",
    "generate_doj_file",
]

EXTRACT_DATE = date(2020, 6, 1)
"""No event in a generated file is after this date (the DOJ extract date)."""

_EXTRACT = EXTRACT_DATE.toordinal()
_FLOOR = date(1970, 1, 1).toordinal()  # automated DOJ histories start about here
_D2011 = date(2011, 1, 1).toordinal()  # SB 1449: 11357(b) / 11360(b) become infractions
_D2012 = date(2012, 1, 1).toordinal()  # 11357.5 (synthetic cannabinoids) exists from here
_P47 = date(2014, 11, 5).toordinal()  # Prop 47: simple drug possession becomes a misdemeanour
_P64 = date(2016, 11, 9).toordinal()  # Prop 64 in force
_END = 10**7  # an ordinal after every date we use

# Probabilities of the rare features (each appears in any file of 20,000 rows or more).
# Per subject:
P_DECEASED = 0.015  # a DECEASED step, in its own last cycle
P_SEX_OFFENDER = 0.012  # a PC 290 offence conviction, then 1-3 REGISTRATION cycles
P_SUPERSTRIKE = 0.012  # a superstrike conviction (187, 664-187, 207, 269 ...), prison
P_HABITUAL = 0.02  # 3-5 Prop 64 convictions of one section
P_JUVENILE = 0.03  # first cycle at age 16-17
P_DOB_YEAR_ONLY = 0.008  # PRI_DOB YYYY0000
P_DOB_NO_DAY = 0.006  # PRI_DOB YYYYMM00
P_NO_HOME_P64 = 0.04  # no Prop 64 conviction in the requested county
# Per count:
P_COMMENT_ONLY = 0.02  # OFFENSE_DESCR SEE COMMENT FOR CHARGE (3/4) or blank (1/4)
P_ATTEMPT = 0.02  # Prop 64 counts: 664-<descr>, 664/<section> HS or 664/<descr>
P_LOWER_CASE = 0.02  # Prop 64 counts: 11357(b) HS-...
P_OTHER_P64_COMMENT = 0.025  # counts in Prop 64 cycles: COMMENT_TEXT names another section
P_PLEA_DOWN = 0.08  # Prop 64 felony charges convicted as a lesser Prop 64 section
P_BLANK_CONV_STAT = 0.01  # a conviction with blank CONV_STAT_DESCR / CODE (TOC only)
# Per court step:
P_BLANK_COURT_DATE = 0.005  # convicted court step with blank STP_EVENT_DATE and DISP_DATE
P_NULL_OFN = 0.003  # OFN is the literal "NULL  "

RARE_FEATURE_PROBABILITIES: dict[str, float] = {
    "deceased (per subject)": P_DECEASED,
    "PC 290 conviction + registration (per subject)": P_SEX_OFFENDER,
    "superstrike conviction (per subject)": P_SUPERSTRIKE,
    "habitual, 3-5 convictions of one Prop 64 section (per subject)": P_HABITUAL,
    "juvenile first cycle at 16-17 (per subject)": P_JUVENILE,
    "DOB YYYY0000 (per subject)": P_DOB_YEAR_ONLY,
    "DOB YYYYMM00 (per subject)": P_DOB_NO_DAY,
    "no Prop 64 conviction in the requested county (per subject)": P_NO_HOME_P64,
    "comment-only charge (per count)": P_COMMENT_ONLY,
    "attempt 664-/664/ (per Prop 64 count)": P_ATTEMPT,
    "lower-case subsection (per Prop 64 count)": P_LOWER_CASE,
    "COMMENT_TEXT names another Prop 64 section (per count in a Prop 64 cycle)": (
        P_OTHER_P64_COMMENT
    ),
    "plea to a lesser Prop 64 section (per convicted Prop 64 felony charge)": P_PLEA_DOWN,
    "blank CONV_STAT_DESCR on a conviction (per convicted count)": P_BLANK_CONV_STAT,
    "blank STP_EVENT_DATE on a convicted court step (per court step)": P_BLANK_COURT_DATE,
    "OFN 'NULL  ' (per court step)": P_NULL_OFN,
}

T = TypeVar("T")


class _Table(Generic[T]):
    """Weighted choice with precomputed cumulative weights (fast, deterministic)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = tuple(p[0] for p in pairs)
        cum: list[float] = []
        total = 0.0
        for _, w in pairs:
            total += w
            cum.append(total)
        self.cum = tuple(cum)
        self.total = total

    def pick(self, rng: Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _q(value: str) -> str:
    """CSV-quote a field the way Go's encoding/csv (and DOJ samples) do."""
    if value and ("," in value or '"' in value or "\n" in value or value[0] == " "):
        return '"' + value.replace('"', '""') + '"'
    return value


def _pad(width: int) -> str:
    return _q(" " * width)


# --------------------------------------------------------------------------------------------
# Counties: DOJ county codes are the alphabetical order, 01 ALAMEDA .. 58 YUBA. The weight is
# the 2020 population in thousands (floor 5, so small counties still appear), with the
# "Emerald Triangle" (Humboldt, Mendocino, Trinity) tripled for its cannabis arrest history.

CA_COUNTIES: tuple[tuple[str, float], ...] = (
    ("ALAMEDA", 1671), ("ALPINE", 5), ("AMADOR", 40), ("BUTTE", 220), ("CALAVERAS", 46),
    ("COLUSA", 22), ("CONTRA COSTA", 1154), ("DEL NORTE", 28), ("EL DORADO", 193),
    ("FRESNO", 1000), ("GLENN", 29), ("HUMBOLDT", 408), ("IMPERIAL", 181), ("INYO", 18),
    ("KERN", 900), ("KINGS", 153), ("LAKE", 65), ("LASSEN", 31), ("LOS ANGELES", 10040),
    ("MADERA", 157), ("MARIN", 258), ("MARIPOSA", 17), ("MENDOCINO", 261), ("MERCED", 277),
    ("MODOC", 9), ("MONO", 14), ("MONTEREY", 434), ("NAPA", 137), ("NEVADA", 99),
    ("ORANGE", 3186), ("PLACER", 398), ("PLUMAS", 19), ("RIVERSIDE", 2471),
    ("SACRAMENTO", 1552), ("SAN BENITO", 62), ("SAN BERNARDINO", 2180), ("SAN DIEGO", 3338),
    ("SAN FRANCISCO", 881), ("SAN JOAQUIN", 762), ("SAN LUIS OBISPO", 283), ("SAN MATEO", 766),
    ("SANTA BARBARA", 446), ("SANTA CLARA", 1927), ("SANTA CRUZ", 273), ("SHASTA", 180),
    ("SIERRA", 5), ("SISKIYOU", 44), ("SOLANO", 447), ("SONOMA", 494), ("STANISLAUS", 550),
    ("SUTTER", 97), ("TEHAMA", 65), ("TRINITY", 39), ("TULARE", 466), ("TUOLUMNE", 54),
    ("VENTURA", 846), ("YOLO", 220), ("YUBA", 78),
)  # fmt: skip
assert len(CA_COUNTIES) == 58
_COUNTY_CODE = {name: f"{i + 1:02d}" for i, (name, _) in enumerate(CA_COUNTIES)}

# Los Angeles Superior Court case-number prefixes (BA, the central felony court, twice);
# other counties use their initials plus F or M.
_LA_OFN_PREFIXES = ("BA", "LA", "SA", "PA", "KA", "VA", "GA", "MA", "YA", "TA", "NA", "BA")


def _parse_counties(county: str) -> list[tuple[str, float]]:
    spec = county.strip().upper()
    if spec == "ALL":
        return list(CA_COUNTIES)
    weights = dict(CA_COUNTIES)
    chosen: list[tuple[str, float]] = []
    for part in spec.split(","):
        name = " ".join(part.split())
        if not name:
            continue
        if name not in weights:
            raise ValueError(
                f"unknown California county {part.strip()!r}: use one of the 58 county names "
                "(e.g. 'LOS ANGELES'), a comma-separated list of them, or 'ALL'"
            )
        if all(name != c for c, _ in chosen):
            chosen.append((name, weights[name]))
    if not chosen:
        raise ValueError("county is empty: give a county name, a comma-separated list or 'ALL'")
    return chosen


# --------------------------------------------------------------------------------------------
# Offences. Levels: a tuple of (until_ordinal, p_felony, p_misdemeanor) segments; the first
# segment whose until_ordinal is after the event date applies; the rest of the mass is an
# infraction. The arrest (charged) level is F when p_felony >= 0.3, else M when p_misd > 0.

_Levels = tuple[tuple[int, float, float], ...]
_LV_P64_FEL: _Levels = ((_P64, 0.85, 0.15), (_END, 0.10, 0.90))
_LV_P64_WOB: _Levels = ((_P64, 0.35, 0.65), (_END, 0.0, 1.0))
_LV_SMALL: _Levels = ((_D2011, 0.0, 1.0), (_END, 0.0, 0.0))  # misd, then infraction
_LV_SMALL_GIFT: _Levels = ((_D2011, 0.0, 1.0), (_END, 0.0, 0.15))
_LV_PLAIN_11357: _Levels = ((_D2011, 0.0, 1.0), (_END, 0.0, 0.3))
_LV_DRUG_POSS: _Levels = ((_P47, 0.75, 0.25), (_END, 0.03, 0.97))
_LV_F: _Levels = ((_END, 0.95, 0.05),)
_LV_F_ONLY: _Levels = ((_END, 1.0, 0.0),)
_LV_FM: _Levels = ((_END, 0.65, 0.35),)
_LV_WOB: _Levels = ((_END, 0.35, 0.65),)
_LV_M: _Levels = ((_END, 0.0, 1.0),)
_LV_MI: _Levels = ((_END, 0.0, 0.7),)


@dataclass(frozen=True, slots=True)
class _Offence:
    descr: str  # OFFENSE_DESCR as written
    section: str  # "11359", "11357(B)", "245(A)(1)": text before the first space
    code: str  # OFFENSE_CODE (a synthetic 5-digit DOJ offence code)
    levels: _Levels
    comment: str  # the short form used in COMMENT_TEXT for comment-only charges
    prop64: bool
    min_ord: int = 0  # the section does not exist before this date

    def arrest_toc(self, when: int) -> str:
        _, pf, pm = self._segment(when)
        return "F" if pf >= 0.3 else ("M" if pm > 0 else "I")

    def draw_level(self, rng: Random, when: int) -> str:
        _, pf, pm = self._segment(when)
        r = rng.random()
        return "F" if r < pf else ("M" if r < pf + pm else "I")

    def _segment(self, when: int) -> tuple[int, float, float]:
        for seg in self.levels:
            if when < seg[0]:
                return seg
        return self.levels[-1]


_CODE_SEQ = iter(range(10001, 99999, 37))


def _off(descr: str, levels: _Levels, comment: str = "", min_ord: int = 0) -> _Offence:
    section = descr.split(" ", 1)[0]
    prop64 = section[:5] in ("11357", "11358", "11359", "11360") and (
        len(section) == 5 or section[5] == "("
    )
    return _Offence(
        descr, section, f"{next(_CODE_SEQ):05d}", levels, comment or descr, prop64, min_ord
    )


_PROP64 = _Table[_Offence](
    [
        (_off("11359 HS-POSSESS MARIJUANA FOR SALE", _LV_P64_FEL, "11359 HS-POSSESS FOR SALE"), 22),
        (
            _off("11360(A) HS-SELL/TRANSPORT/ETC MARIJUANA", _LV_P64_FEL, "11360(A) HS-SELL/TRANS"),
            12,
        ),
        (_off("11360 HS-SELL/FURNISH/ETC MARIJUANA/HASH", _LV_P64_FEL, "11360 HS-SELL"), 4),
        (_off("11358 HS-CULTIVATE MARIJUANA", _LV_P64_FEL, "11358 HS-CULTIVATE"), 8),
        (
            _off("11357(A) HS-POSSESS CONCENTRATED CANNABIS", _LV_P64_WOB, "11357(A) HS-POSS CONC"),
            10,
        ),
        (
            _off(
                "11357(B) HS-POSSESS 28.5 GRAMS OR LESS MARIJUANA",
                _LV_SMALL,
                "11357(B) HS-POSS 28.5 GRAMS OR LESS",
            ),
            18,
        ),
        (
            _off(
                "11357(C) HS-POSSESS MORE THAN 28.5 GRAMS MARIJUANA",
                _LV_M,
                "11357(C) HS-POSS OVER 28.5 GRAMS",
            ),
            12,
        ),
        (
            _off(
                "11357(D) HS-POSSESS MARIJUANA ON SCHOOL GROUNDS",
                _LV_M,
                "11357(D) HS-POSS ON SCHOOL GROUNDS",
            ),
            2,
        ),
        (_off("11357 HS-POSSESS MARIJUANA", _LV_PLAIN_11357, "11357 HS-POSS MARIJUANA"), 5),
        (
            _off(
                "11360(B) HS-GIVE/TRANSPORT 28.5 GRAMS OR LESS MARIJUANA",
                _LV_SMALL_GIFT,
                "11360(B) HS-GIVE/TRANS 28.5 GRAMS",
            ),
            7,
        ),
    ]
)
_PROP64_BY_SECTION = {o.section: o for o in _PROP64.items}
# Pleas at court: a felony Prop 64 charge pleaded down to a lesser Prop 64 section.
_PLEA_TO = ("11357(C)", "11357(A)", "11357(B)", "11360(B)")

# Charges that travel with cannabis counts ("related charges", gogen-behaviour.md 5.4).
_RELATED = _Table[_Offence](
    [
        (_off("11364 HS-POSSESS PARAPHERNALIA", _LV_M), 14),
        (_off("11364(A) HS-POSSESS PARAPHERNALIA", _LV_M), 6),
        (_off("647(F) PC-DRUNK IN PUBLIC", _LV_M), 8),
        (_off("148(A)(1) PC-OBSTRUCT/RESIST PUBLIC OFFICER/ETC", _LV_M), 10),
        (_off("4060 BP-POSSESS CONTROLLED SUBSTANCE WITHOUT PRESCRIPTION", _LV_M), 5),
        (_off("4140 BP-POSSESS HYPODERMIC NEEDLE/SYRINGE", _LV_M), 3),
        (_off("602 PC-TRESPASS", _LV_M), 3),
        (_off("602(L) PC-TRESPASS:REFUSE TO LEAVE PROPERTY", _LV_M), 2),
        (_off("466 PC-POSSESS BURGLARY TOOLS", _LV_M), 2),
        (_off("148.9(A) PC-FALSE ID TO PEACE OFFICER", _LV_M), 3),
        (_off("40508(A) VC-FAIL TO APPEAR AFTER WRITTEN PROMISE", _LV_M), 4),
        (_off("11550(A) HS-UNDER INFLUENCE OF CONTROLLED SUBSTANCE", _LV_M), 5),
        (_off("1320(B) PC-FAIL TO APPEAR ON FELONY CHARGE", _LV_FM), 1),
    ]
)

_OTHER = _Table[_Offence](
    [
        (_off("459 PC-BURGLARY", _LV_FM), 8),
        (_off("459 PC-BURGLARY:SECOND DEGREE", _LV_FM), 3),
        (_off("23152(A) VC-DUI ALCOHOL", _LV_M), 12),
        (_off("23152(B) VC-DUI ALCOHOL/0.08 PERCENT", _LV_M), 8),
        (_off("11350(A) HS-POSSESS NARCOTIC CONTROLLED SUBSTANCE", _LV_DRUG_POSS), 9),
        (_off("11377(A) HS-POSSESS CONTROLLED SUBSTANCE", _LV_DRUG_POSS), 8),
        (_off("11378 HS-POSSESS CONTROLLED SUBSTANCE FOR SALE", _LV_F), 3),
        (_off("11351 HS-POSSESS/PURCHASE FOR SALE NARCOTIC/CONTROLLED SUBSTANCE", _LV_F), 2),
        (_off("11352(A) HS-TRANSPORT/SELL NARCOTIC/CONTROLLED SUBSTANCE", _LV_F), 2),
        (_off("273.5(A) PC-INFLICT CORPORAL INJURY ON SPOUSE/COHABITANT", _LV_WOB), 5),
        (_off("245(A)(1) PC-ASSAULT WITH DEADLY WEAPON NOT FIREARM", _LV_FM), 4),
        (_off("242 PC-BATTERY", _LV_M), 4),
        (_off("243(E)(1) PC-BATTERY ON SPOUSE/EX SPOUSE/DATE/ETC", _LV_M), 3),
        (_off("484(A) PC-THEFT", _LV_M), 7),
        (_off("488 PC-PETTY THEFT", _LV_M), 4),
        (_off("487(A) PC-GRAND THEFT:MONEY/LABOR/PROPERTY", _LV_FM), 2),
        (_off("496(A) PC-RECEIVE/ETC KNOWN STOLEN PROPERTY", _LV_WOB), 3),
        (_off("10851(A) VC-TAKE VEHICLE W/O OWNER'S CONSENT/VEHICLE THEFT", _LV_FM), 3),
        (_off("14601.1(A) VC-DRIVE WHILE LICENSE SUSPENDED/ETC", _LV_M), 6),
        (_off("12500(A) VC-DRIVE WITHOUT LICENSE", _LV_M), 4),
        (_off("211 PC-ROBBERY", _LV_F_ONLY), 2),
        (_off("594(A) PC-VANDALISM", _LV_WOB), 3),
        (_off("166(A)(4) PC-CONTEMPT:DISOBEY COURT ORDER/ETC", _LV_M), 2),
        (_off("29800(A)(1) PC-FELON/ADDICT/ETC POSSESS/ETC FIREARM", _LV_F_ONLY), 2),
        (_off("12025(A)(1) PC-CARRY CONCEALED WEAPON IN VEHICLE", _LV_WOB), 1),
        (_off("11357.5 HS-SYNTHETIC CANNABINOID", _LV_MI, min_ord=_D2012), 1.5),
        (_off("11357.5(B) HS-USE/POSSESS SYNTHETIC CANNABINOID", _LV_MI, min_ord=_D2012), 1),
    ]
)

_SUPERSTRIKE = _Table[_Offence](
    [
        (_off("187 PC-MURDER", _LV_F_ONLY), 3),
        (_off("187(A) PC-MURDER", _LV_F_ONLY), 2),
        (_off("664-187 PC-ATTEMPTED MURDER", _LV_F_ONLY), 3),
        (_off("664/187(A) PC-ATTEMPTED MURDER", _LV_F_ONLY), 1),
        (_off("207 PC-KIDNAP", _LV_F_ONLY), 2),
        (_off("207(A) PC-KIDNAPPING", _LV_F_ONLY), 1),
        (_off("209(B)(1) PC-KIDNAP FOR ROBBERY/RAPE/ETC", _LV_F_ONLY), 1),
        (_off("269 PC-AGGRAVATED SEXUAL ASSAULT OF CHILD", _LV_F_ONLY), 1),
        (_off("191.5(A) PC-GROSS VEHICULAR MANSLAUGHTER WHILE INTOXICATED", _LV_F_ONLY), 1),
    ]
)

_SEX_OFFENCE = _Table[_Offence](
    [
        (_off("288(A) PC-LEWD ACT W/CHILD UNDER 14", _LV_F_ONLY), 4),
        (_off("261(A)(2) PC-RAPE BY FORCE/FEAR/ETC", _LV_F_ONLY), 3),
        (_off("288(B)(1) PC-LEWD ACT W/CHILD UNDER 14 BY FORCE", _LV_F_ONLY), 1),
        (_off("311.11(A) PC-POSSESS/ETC CHILD PORNOGRAPHY", _LV_WOB), 2),
        (_off("243.4(A) PC-SEXUAL BATTERY", _LV_WOB), 2),
        (_off("647.6(A) PC-ANNOY/MOLEST CHILD UNDER 18", _LV_M), 1),
    ]
)
_REGISTRATION_DESCR = "290 PC-REGISTRATION OF SEX OFFENDER"
_REGISTRATION_CODE = "29000"
_SEE_COMMENT = "SEE COMMENT FOR CHARGE"

_NONCONV_DISP = _Table[tuple[str, str]](
    [
        (("DISMISSED", "DI"), 55),
        (("DISMISSED-FURTHERANCE OF JUSTICE", "DF"), 10),
        (("ACQUITTED", "AQ"), 5),
        (("PROS REL-INSUFFICIENT EVIDENCE", "PR"), 15),
        (("PROS REL-INTEREST OF JUSTICE", "PJ"), 5),
    ]
)
_HARMLESS_COMMENTS = (
    "FINE $100",
    "RESTITUTION ORDERED",
    "PROB MODIFIED",
    "DNA SAMPLE COLLECTED",
    "BAIL FORFEITED",
    "CREDIT TIME SERVED",
)
_OTHER_P64_COMMENT_FORMS = ("ORIG CHG {}", "AMENDED FROM {}", "{} ALSO CHARGED")
_STAT_DESCR = {"F": "FELONY", "M": "MISDEMEANOR", "I": "INFRACTION"}

# --------------------------------------------------------------------------------------------
# People. Names are common surnames and first names drawn at random: no real record.


def _words(text: str, *extra: str) -> tuple[str, ...]:
    return (*text.split(), *extra)


_SURNAMES_HISPANIC = _words(
    "GARCIA RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ GONZALEZ PEREZ SANCHEZ RAMIREZ TORRES FLORES "
    "RIVERA GOMEZ DIAZ REYES CRUZ MORALES ORTIZ GUTIERREZ CHAVEZ RAMOS RUIZ ALVAREZ MENDOZA "
    "CASTILLO JIMENEZ MORENO ROMERO HERRERA MEDINA AGUILAR VARGAS GUZMAN SALAZAR MUNOZ "
    "CONTRERAS VASQUEZ CASTRO LUNA ESTRADA SANDOVAL OROZCO ESPINOZA NAVARRO CERVANTES "
    "SOLIS CAMPOS DOMINGUEZ VEGA ROJAS FIGUEROA ACOSTA VALENZUELA RIOS CARDENAS ZAMORA",
    "DE LA CRUZ",
    "DEL TORO",
    "GARCIA-LOPEZ",
)
_SURNAMES_GENERAL = _words(
    "SMITH JOHNSON WILLIAMS BROWN JONES MILLER DAVIS WILSON ANDERSON THOMAS TAYLOR MOORE "
    "JACKSON MARTIN THOMPSON WHITE HARRIS CLARK LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT "
    "SCOTT HILL GREEN ADAMS BAKER NELSON CARTER MITCHELL ROBERTS TURNER PHILLIPS CAMPBELL "
    "PARKER EVANS EDWARDS COLLINS STEWART MORRIS ROGERS REED COOK MORGAN BELL MURPHY BAILEY "
    "COOPER RICHARDSON COX HOWARD WARD PETERSON GRAY WATSON BROOKS KELLY SANDERS PRICE "
    "BENNETT WOOD BARNES ROSS HENDERSON COLEMAN JENKINS PERRY POWELL LONG PATTERSON HUGHES "
    "WASHINGTON BUTLER SIMMONS FOSTER BRYANT ALEXANDER RUSSELL GRIFFIN HAYES MYERS FORD "
    "HAMILTON GRAHAM SULLIVAN WALLACE WOODS COLE WEST JORDAN OWENS REYNOLDS FISHER ELLIS "
    "HARRISON GIBSON MCDONALD MARSHALL FREEMAN WELLS WEBB SIMPSON STEVENS TUCKER PORTER "
    "HUNTER HICKS CRAWFORD BOYD MASON DIXON BANKS ROBERSON",
    "O'BRIEN",
    "MCCARTHY",
    "ST JOHN",
)
_SURNAMES_BY_RACE = {
    "C": _words("WONG CHEN LEE CHAN LIU HUANG LIN ZHANG WANG WU YANG ZHAO"),
    "V": _words("NGUYEN TRAN LE PHAM HOANG HUYNH PHAN VU VO DANG BUI DO"),
    "F": _words(
        "SANTOS REYES BAUTISTA GARCIA MENDOZA VILLANUEVA RAMOS AQUINO CASTILLO", "DELA CRUZ"
    ),
    "K": _words("KIM LEE PARK CHOI JUNG KANG CHO YOON JANG LIM"),
    "A": _words("PATEL SINGH KHAN TANAKA NAKAMURA YAMAMOTO SATO KIM NGUYEN SHAH"),
    "J": _words("TANAKA NAKAMURA YAMAMOTO SATO SUZUKI WATANABE ITO KOBAYASHI"),
}
_FIRST_MALE = _words(
    "JAMES JOHN ROBERT MICHAEL WILLIAM DAVID RICHARD JOSEPH THOMAS CHARLES CHRISTOPHER DANIEL "
    "MATTHEW ANTHONY MARK DONALD STEVEN PAUL ANDREW JOSHUA KENNETH KEVIN BRIAN GEORGE TIMOTHY "
    "RONALD EDWARD JASON JEFFREY RYAN JACOB GARY NICHOLAS ERIC JONATHAN STEPHEN LARRY JUSTIN "
    "SCOTT BRANDON BENJAMIN SAMUEL RAYMOND GREGORY FRANK ALEXANDER PATRICK JACK DENNIS JERRY "
    "TYRONE DARNELL MARCUS TERRELL ANDRE JAMAL DESHAWN CEDRIC LAMAR REGINALD"
)
_FIRST_FEMALE = _words(
    "MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY "
    "BETTY MARGARET SANDRA ASHLEY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA MELISSA DEBORAH "
    "STEPHANIE REBECCA SHARON LAURA CYNTHIA KATHLEEN AMY ANGELA SHIRLEY ANNA BRENDA PAMELA "
    "TAMIKA LATOYA KEISHA EBONY SHANICE"
)
_FIRST_BY_POOL = {  # (male, female) names used for most people of a surname pool
    "H": (
        _words(
            "JOSE LUIS CARLOS JUAN JESUS MIGUEL JORGE FRANCISCO ANTONIO ALEJANDRO MANUEL RICARDO "
            "RAFAEL FERNANDO JAVIER SERGIO EDUARDO ROBERTO ARMANDO HECTOR OSCAR RAUL MARIO PEDRO"
        ),
        _words(
            "MARIA GUADALUPE ROSA ANA VERONICA ADRIANA LETICIA GABRIELA CLAUDIA YOLANDA "
            "ALEJANDRA SILVIA ELENA LUCIA"
        ),
    ),
    "C": (_words("WEI JUN MING KEVIN DAVID TONY"), _words("MEI HUA LI JENNY AMY")),
    "V": (_words("MINH TUAN HUNG DUC KHANH THANH"), _words("LINH MAI THUY LAN HOA")),
    "K": (_words("SUNG JIN MIN DANIEL JAMES"), _words("SOO JI EUNICE GRACE")),
    "J": (_words("KENJI HIROSHI TAKESHI KEN"), _words("YUKI KEIKO AKEMI")),
    "F": (_words("JOSE MARK RONALDO JOMAR ARIEL"), _words("MARIA JOCELYN MARICEL ROSALIE")),
    "A": (_words("RAJ AMIT ALI SANJAY DAVID KEVIN"), _words("PRIYA AISHA ANITA SARAH")),
}
_INITIALS = "ABCDEFGHIJKLMNOPRSTVW"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# (code, description, weight, surname pool key)
_RACES = _Table[tuple[str, str, str]](
    [
        (("H", "HISPANIC", "H"), 38),
        (("B", "BLACK", "G"), 22),
        (("W", "WHITE", "G"), 30),
        (("A", "OTHER ASIAN", "A"), 1.5),
        (("C", "CHINESE", "C"), 0.8),
        (("F", "FILIPINO", "F"), 0.9),
        (("V", "VIETNAMESE", "V"), 0.8),
        (("K", "KOREAN", "K"), 0.4),
        (("J", "JAPANESE", "J"), 0.3),
        (("I", "AMERICAN INDIAN", "G"), 1.0),
        (("P", "PACIFIC ISLANDER", "G"), 0.6),
        (("O", "OTHER", "G"), 2.5),
        (("U", "UNKNOWN", "G"), 0.8),
    ]
)
_EYES = _Table[str](
    [("BRO,BROWN", 60), ("BLK,BLACK", 8), ("BLU,BLUE", 14), ("HAZ,HAZEL", 9), ("GRN,GREEN", 6),
     ("GRY,GRAY", 1), ("XXX,UNKNOWN", 2)]
)  # fmt: skip
_HAIR = _Table[str](
    [("BLK,BLACK", 50), ("BRO,BROWN", 30), ("BLN,BLOND", 8), ("RED,RED", 2), ("GRY,GRAY", 5),
     ("BAL,BALD", 3), ("XXX,UNKNOWN", 2)]
)  # fmt: skip
_POB_HISPANIC = _Table[str](
    [("CA,CALIFORNIA,S", 52), ("MX,MEXICO,C", 36), ("ES,EL SALVADOR,C", 5),
     ("GT,GUATEMALA,C", 4), ("TX,TEXAS,S", 3)]
)  # fmt: skip
_POB_OTHER = _Table[str](
    [("CA,CALIFORNIA,S", 68), ("TX,TEXAS,S", 5), ("NY,NEW YORK,S", 4), ("IL,ILLINOIS,S", 3),
     ("LA,LOUISIANA,S", 3), ("AZ,ARIZONA,S", 3), ("WA,WASHINGTON,S", 2), ("FL,FLORIDA,S", 2),
     ("OH,OHIO,S", 2), ("VN,VIETNAM,C", 1), ("PH,PHILIPPINES,C", 1), ("CN,CHINA,C", 1)]
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Cycle kinds and fixed row parts.

_K_P64C, _K_P64N, _K_OC, _K_N, _K_SS, _K_SEX, _K_REG, _K_DEC = range(8)

_NUM_P64 = _Table[int]([(1, 76), (2, 16), (3, 6), (4, 2)])
_NUM_OTHER_CONV = _Table[int]([(0, 40), (1, 25), (2, 15), (3, 10), (4, 6), (5, 4)])
_NUM_NONCONV = _Table[int]([(0, 45), (1, 30), (2, 15), (3, 7), (4, 3)])
_NUM_COUNTS = _Table[int]([(1, 55), (2, 28), (3, 12), (4, 5)])

# Padding: DOJ extracts are fixed-width fields exported to CSV, so unused columns hold spaces
# (quoted, as Go's encoding/csv writes them). The columns gogen reads or copies are never padded.
_PAD10 = _pad(10)
_PAD12 = _pad(12)
_PAD_QUAL = _pad(20)
_PAD_OFFENCES = ",".join(  # DISP_OFFENSE_CODE .. _QUAL_LST (4), CONV_OFFENSE_ORDER .. _QUAL_LST (5)
    (_pad(6), _pad(30), _pad(1), _pad(20), _pad(3), _pad(6), _pad(30), _pad(1), _pad(20))
)
_SENT_NONE = ",".join(("#", _pad(3), _pad(1), "", "", "", _PAD10))  # SENT_SEG_SEP .. (7)
_TIME_DESCR = {"D": "DAYS      ", "M": "MONTHS    ", "Y": "YEARS     "}
_LOC_CODE = {"JAIL": "J", "PROBATION": "P", "PRISON": "S"}
_CONV_DISP_CODE = {"CONVICTED-JAIL": "CJ", "CONVICTED-PROB": "CP", "CONVICTED-PRIS": "CS"}


def _fe(docket: str = _PAD10, booking: str = _PAD12, court_case: str = _PAD12) -> str:
    """FE_NUM_ORDER .. FE_NUM_WARRANT (12 fields)."""
    return (
        f"001,{_PAD10},{_PAD10},{_PAD10},{docket},{_PAD12},{booking},{_PAD12},{_PAD10},"
        f"{_PAD10},{court_case},{_PAD10}"
    )


_FE_NONE = _fe()


def _row(
    head: str,
    step: str,
    cnt_order: str,
    disp_date: str,
    ofn: str,
    code: str,
    descr: str,
    toc: str,
    fe: str,
    disp: str,
    sent: str,
    age: str,
    comment: str,
) -> str:
    """One record (without RECORD_ID). ``head`` is SUBJECT_STATUS .. CYC_DATE plus a comma,
    ``step`` STP_SEG_SEP .. STP_ORI_CNTY_NAME plus a comma, ``disp`` DISP_ORDER ..
    CONV_STAT_DESCR (5 fields) and ``sent`` SENT_SEG_SEP .. SENT_TIME_DESCR (7 fields)."""
    return (
        f"{head}{step}#,{cnt_order},{disp_date},{ofn},{code},{descr},{toc},{_PAD_QUAL},"
        f"{_PAD_OFFENCES},{fe},{disp},{sent},{age},A,ADULT,{comment},#\n"
    )


_NO_DISP = f",,,{_PAD10},"

_HEADER = ",".join(DOJ_COLUMNS) + "\n"

_DATE_CACHE: dict[int, str] = {}


def _ymd(ordinal: int) -> str:
    s = _DATE_CACHE.get(ordinal)
    if s is None:
        d = date.fromordinal(ordinal)
        s = f"{d.year:04d}{d.month:02d}{d.day:02d}"
        _DATE_CACHE[ordinal] = s
    return s


def _add_years(d: date, years: int) -> int:
    """Ordinal of ``d`` plus whole calendar years (29 February → 1 March)."""
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:
        return date(d.year + years, 3, 1).toordinal()


def _age(dob: date, when: int) -> int:
    d = date.fromordinal(when)
    return d.year - dob.year - ((d.month, d.day) < (dob.month, dob.day))


@dataclass(frozen=True)
class GenerateStats:
    """What a generated file holds.

    ``convictions`` counts convicted counts: the first ``CONVICTED*`` row of each
    (SUBJECT_ID, CNT_ORDER); repeated sentence-part rows are not counted again.
    ``prop64_convictions`` are those whose charge is HS 11357, 11358, 11359 or 11360 (including
    attempts, comment-only charges and lower-case subsections; not 11357.5), in any county;
    ``prop64_convictions_in_county`` only those in the requested county or counties.
    """

    rows: int
    subjects: int
    convictions: int
    prop64_convictions: int
    prop64_convictions_in_county: int


# Row flags used for the statistics.
_F_NONE, _F_CONV, _F_P64, _F_P64_HOME = 0, 1, 2, 3


class _Generator:
    """Draws subjects one after another from a single ``Random(seed)``."""

    def __init__(self, counties: list[tuple[str, float]], seed: int) -> None:
        self.rng = rng = Random(seed)
        self.requested = _Table[str](counties)
        self.requested_names = frozenset(c for c, _ in counties)
        self.all_counties = _Table[str](CA_COUNTIES)
        self.next_subject = 10_000_000 + rng.randint(1, 999)
        # CII: an affine bijection of the subject index onto 10-digit numbers (unique).
        self.cii_add = rng.randrange(9_000_000_000)
        self.subject_index = 0
        self._ori_cache: dict[tuple[str, str], str] = {}

    # -- agencies and case numbers -------------------------------------------------------------

    def _step(self, order: str, when: str, code: str, descr: str, county: str, kind: str) -> str:
        """STP_SEG_SEP .. STP_ORI_CNTY_NAME (11 fields) plus a comma."""
        key = (county, kind)
        ori = self._ori_cache.get(key)
        if ori is None:
            cc = _COUNTY_CODE[county]
            ori_type, type_descr, ori_code, abbr = {
                "PD": ("P", "POLICE DEPARTMENT", f"CA0{cc}0100", "CAPD"),
                "SO": ("S", "SHERIFF", f"CA0{cc}0000", "CASO"),
                "SC": ("C", "SUPERIOR COURT", f"CA0{cc}015J", "CASC"),
                "CO": ("M", "CORONER", f"CA0{cc}009C", "CACO"),
            }[kind]
            ori = f"{ori_type},{type_descr},{ori_code},{abbr} {county},{cc},{county},"
            self._ori_cache[key] = ori
        return f"#,{order},{when},{code},{descr},{ori}"

    def _other_county(self, home: str) -> str:
        for _ in range(8):
            c = self.all_counties.pick(self.rng)
            if c != home:
                return c
        return "ORANGE" if home == "LOS ANGELES" else "LOS ANGELES"

    def _ofn(self, county: str, felony: bool) -> str:
        rng = self.rng
        r = rng.random()
        if r < P_NULL_OFN:
            return "NULL  "
        if r < 0.40:
            return str(rng.randrange(10_000_000, 100_000_000))
        if county == "LOS ANGELES":
            prefix = _LA_OFN_PREFIXES[rng.randrange(len(_LA_OFN_PREFIXES))]
        else:
            words = county.split()
            initials = words[0][0] + (words[1][0] if len(words) > 1 else words[0][1])
            prefix = initials + ("F" if felony else "M")
        return f"{prefix}{rng.randrange(1_000_000):06d}"

    # -- a subject -----------------------------------------------------------------------------

    def person(self) -> tuple[list[str], list[int]]:
        """One subject's rows (without RECORD_ID) and a statistics flag per row."""
        rng = self.rng
        self.next_subject += rng.randint(1, 9)
        sid = self.next_subject
        if sid > 99_999_999:
            raise ValueError("too many subjects for 8-digit SUBJECT_IDs: ask for fewer rows")
        self.subject_index += 1
        cii = str((self.subject_index * 7_919_300_017 + self.cii_add) % 9_000_000_000 + 10**9)

        male = rng.random() < 0.8
        race_code, race_descr, pool = _RACES.pick(rng)
        if pool == "H" or (pool == "G" and rng.random() < 0.08):
            surnames = _SURNAMES_HISPANIC
        elif pool in _SURNAMES_BY_RACE and rng.random() < 0.9:
            surnames = _SURNAMES_BY_RACE[pool]
        else:
            surnames = _SURNAMES_GENERAL
        firsts = _FIRST_MALE if male else _FIRST_FEMALE
        if surnames is not _SURNAMES_GENERAL and rng.random() < 0.8:
            firsts = _FIRST_BY_POOL["H" if surnames is _SURNAMES_HISPANIC else pool]
            firsts = firsts[0] if male else firsts[1]
        name = f"{surnames[rng.randrange(len(surnames))]},{firsts[rng.randrange(len(firsts))]}"
        if rng.random() < 0.88:
            name += " " + _INITIALS[rng.randrange(len(_INITIALS))]

        year = int(rng.triangular(1935, 2003, 1984))
        month = rng.randint(1, 12)
        day = rng.randint(1, 28 if month == 2 else (30 if month in (4, 6, 9, 11) else 31))
        dob = date(year, month, day)
        r = rng.random()
        if r < P_DOB_YEAR_ONLY:
            dob_s = f"{year:04d}0000"
        elif r < P_DOB_YEAR_ONLY + P_DOB_NO_DAY:
            dob_s = f"{year:04d}{month:02d}00"
        else:
            dob_s = _ymd(dob.toordinal())

        ssn = f"9{rng.randrange(10**8):08d}" if rng.random() < 0.8 else _pad(9)
        cdl = (
            f"{_LETTERS[rng.randrange(26)]}{rng.randrange(10**7):07d}"
            if rng.random() < 0.7
            else _pad(8)
        )
        if rng.random() < 0.9:
            fbi = (
                f"{rng.randrange(10**6):06d}{_LETTERS[rng.randrange(26)]}"
                f"{_LETTERS[rng.randrange(26)]}{rng.randrange(10)}"
            )
        else:
            fbi = _pad(9)
        inches = min(max(int(rng.gauss(69.5, 3) if male else rng.gauss(64, 2.8)), 56), 80)
        weight = min(max(int(rng.gauss(185 if male else 150, 30)), 95), 380)
        pob = (_POB_HISPANIC if race_code == "H" else _POB_OTHER).pick(rng)
        citizenship = "US" if pob.startswith(("CA,", "TX,", "NY,")) or rng.random() < 0.6 else ""
        qname = _q(name)
        prefix = ",".join(  # SUBJECT_STATUS .. CYC_SEG_SEP (35 fields)
            (
                "A",
                str(sid),
                "#",
                cii,
                qname,
                "M" if male else "F",
                dob_s,
                cdl,
                ssn,
                "#",
                cii,
                qname,
                "MALE" if male else "FEMALE",
                dob_s,
                ssn,
                cdl,
                _PAD10,  # PRI_IDN
                _PAD10,  # PRI_INN
                fbi,
                "#",
                race_code,
                race_descr,
                _EYES.pick(rng),  # code and description
                _HAIR.pick(rng),  # code and description
                f"{inches // 12}{inches % 12:02d}",
                f"{weight:03d}",
                "Y" if rng.random() < 0.7 else "N",
                "N",
                pob,  # code, name, type
                _q(citizenship.ljust(10)),
                "#",
            )
        )
        return self._history(prefix + ",", dob)

    def _history(self, prefix: str, dob: date) -> tuple[list[str], list[int]]:
        rng = self.rng
        home = self.requested.pick(rng)
        end = _EXTRACT - 1
        juvenile = rng.random() < P_JUVENILE
        start = _add_years(dob, 16) + rng.randrange(300) if juvenile else _add_years(dob, 18)
        start = max(start, _FLOOR)
        if start > end - 60:  # born too late for an adult record: cycles from age 15
            start, juvenile = _add_years(dob, 15) + 1, True
        span = end - start

        def when() -> int:
            u = rng.random()
            if rng.random() < 0.5:
                u *= u  # arrests are more common at younger ages
            return start + int(span * u)

        # (date, kind, county, offence for Prop 64 cycles or None)
        cycles: list[tuple[int, int, str, _Offence | None]] = []
        habitual = rng.random() < P_HABITUAL
        n_p64 = rng.randint(3, 5) if habitual else _NUM_P64.pick(rng)
        fixed = _PROP64.pick(rng) if habitual else None
        no_home = rng.random() < P_NO_HOME_P64
        for i in range(n_p64):
            convicted = True if (i == 0 or habitual) else rng.random() < 0.8
            county = home if (i == 0 or rng.random() < 0.88) else self._other_county(home)
            if no_home:  # the Prop 64 convictions are elsewhere, or there are none
                convicted = convicted and rng.random() < 0.5
                if convicted:
                    county = self._other_county(home)
            if fixed is not None:
                off = fixed
            elif i > 0 and rng.random() < 0.4:
                off = cycles[rng.randrange(i)][3]  # the same section again
            else:
                off = _PROP64.pick(rng)
            cycles.append((when(), _K_P64C if convicted else _K_P64N, county, off))
        for _ in range(_NUM_OTHER_CONV.pick(rng)):
            county = home if rng.random() < 0.75 else self._other_county(home)
            cycles.append((when(), _K_OC, county, None))
        for _ in range(_NUM_NONCONV.pick(rng)):
            county = home if rng.random() < 0.7 else self._other_county(home)
            cycles.append((when(), _K_N, county, None))
        if juvenile:  # one cycle at the start date (age 15-17)
            _, k0, c0, o0 = cycles[0]
            cycles[0] = (start, k0, c0, o0)
        if rng.random() < P_SUPERSTRIKE:  # after the other cycles where there is room
            lo = min(max(c[0] for c in cycles) + 60, end - 30)
            cycles.append((lo + rng.randrange(max(1, end - 30 - lo)), _K_SS, home, None))
        if rng.random() < P_SEX_OFFENDER:
            conv = start + rng.randrange(max(1, end - 730 - start))
            cycles.append((conv, _K_SEX, home, None))
            reg = conv + 120 + rng.randrange(200)
            for _ in range(rng.randint(1, 3)):
                if reg > end:
                    break
                cycles.append((reg, _K_REG, home, None))
                reg += 300 + rng.randrange(130)
        cycles.sort(key=lambda c: c[0])  # stable: ties keep their drawing order
        if rng.random() < P_DECEASED:
            lo = min(cycles[-1][0] + 200, _EXTRACT)
            cycles.append((lo + rng.randrange(_EXTRACT - lo + 1), _K_DEC, home, None))

        rows: list[str] = []
        flags: list[int] = []
        for i, (when_, kind, county, off) in enumerate(cycles):
            self._cycle(rows, flags, prefix, dob, 101 + i, when_, kind, county, off)
        return rows, flags

    # -- a cycle -------------------------------------------------------------------------------

    def _cycle(
        self,
        rows: list[str],
        flags: list[int],
        prefix: str,
        dob: date,
        cyc: int,
        cdate: int,
        kind: int,
        county: str,
        fixed: _Offence | None,
    ) -> None:
        rng = self.rng
        cyc_s = str(cyc)
        cdate_s = _ymd(cdate)
        head = f"{prefix}{cyc_s},{cdate_s},"
        age = str(_age(dob, cdate))

        if kind in (_K_DEC, _K_REG):
            if kind == _K_DEC:
                step = self._step("001", cdate_s, "D", "DECEASED", county, "CO")
                code, descr = "", ""
            else:
                agency = "SO" if rng.random() < 0.6 else "PD"
                step = self._step("001", cdate_s, "R", "REGISTRATION", county, agency)
                code, descr = _REGISTRATION_CODE, _REGISTRATION_DESCR
            rows.append(
                _row(head, step, cyc_s + "001001000", "", "", code, descr, "", _FE_NONE,
                     _NO_DISP, _SENT_NONE, age, "")
            )  # fmt: skip
            flags.append(_F_NONE)
            return

        # The counts: (charged offence, convicted?)
        p64_cycle = kind in (_K_P64C, _K_P64N)
        convicting = kind in (_K_P64C, _K_OC, _K_SS, _K_SEX)
        if kind == _K_SS:
            first = _SUPERSTRIKE.pick(rng)
        elif kind == _K_SEX:
            first = _SEX_OFFENCE.pick(rng)
        elif p64_cycle:
            first = fixed if fixed is not None else _PROP64.pick(rng)
        elif kind == _K_OC:
            first = self._other(cdate)
        else:
            r = rng.random()
            first = (
                _PROP64.pick(rng) if r < 0.15
                else _RELATED.pick(rng) if r < 0.5
                else self._other(cdate)
            )  # fmt: skip
        counts = [(first, convicting)]
        for _ in range(_NUM_COUNTS.pick(rng) - 1):
            r = rng.random()
            if p64_cycle:
                extra = (
                    _RELATED.pick(rng) if r < 0.55
                    else _PROP64.pick(rng) if r < 0.85
                    else self._other(cdate)
                )  # fmt: skip
            else:
                extra = _RELATED.pick(rng) if r < 0.4 else self._other(cdate)
            counts.append((extra, convicting and rng.random() < 0.45))

        # Arrest step: one row per count. Court plan: (offence, text, comment, level, convicted).
        agency = "PD" if rng.random() < 0.65 else "SO"
        step_a = self._step("001", cdate_s, "A", "ARREST/DETAINED/CITED", county, agency)
        fe_a = _fe(booking=f"{rng.randrange(10**9):09d}   ")
        plan: list[tuple[_Offence, str, str, str, bool]] = []
        for j, (off, convicted) in enumerate(counts, start=1):
            descr = off.descr
            comment = ""
            if off.prop64:
                r = rng.random()
                if r < P_ATTEMPT:
                    r = rng.random()
                    descr = (
                        "664-" + descr if r < 0.5
                        else f"664/{off.section} HS" if r < 0.75
                        else "664/" + descr
                    )  # fmt: skip
                elif r < P_ATTEMPT + P_LOWER_CASE:
                    n = len(off.section)
                    descr = off.section[:5] + off.section[5:].lower() + descr[n:]
            if rng.random() < P_COMMENT_ONLY:
                comment = off.comment
                descr = _SEE_COMMENT if rng.random() < 0.75 else ""
            elif p64_cycle and rng.random() < P_OTHER_P64_COMMENT:
                comment = self._other_p64_comment(off)
            toc = off.arrest_toc(cdate)
            text, comment = _q(descr), _q(comment)
            rows.append(
                _row(head, step_a, f"{cyc_s}001{j:03d}000", "", "", off.code, text, toc, fe_a,
                     _NO_DISP, _SENT_NONE, age, comment)
            )  # fmt: skip
            flags.append(_F_NONE)
            court = off
            if (
                convicted
                and off.prop64
                and toc == "F"
                and descr == off.descr
                and rng.random() < P_PLEA_DOWN
            ):
                court = _PROP64_BY_SECTION[_PLEA_TO[rng.randrange(len(_PLEA_TO))]]
                text = _q(court.descr)
            level = court.draw_level(rng, cdate) if convicted else court.arrest_toc(cdate)
            plan.append((court, text, comment, level, convicted))

        if not convicting and rng.random() < 0.2:
            return  # no court action

        # Court step: one row per count, repeated once per sentence part on convicted counts.
        delay = 0 if rng.random() < 0.1 else min(int(rng.expovariate(1 / 35)) + 1, 400)
        court_s = _ymd(min(cdate + delay, _EXTRACT))
        if convicting and rng.random() < P_BLANK_COURT_DATE:
            court_s = ""
        step_c = self._step("002", court_s, "C", "COURT ACTION", county, "SC")
        levels = [p[3] for p in plan if p[4]]
        worst = "F" if "F" in levels else ("M" if "M" in levels else "I")
        ofn = self._ofn(county, worst == "F")
        fe_c = _fe(docket=ofn.ljust(10), court_case=ofn.ljust(12))
        if convicting:
            conv_disp, parts = self._sentence(kind, worst)
            conv_code = _CONV_DISP_CODE.get(conv_disp, "CV")
            sents = [
                f"#,{k:03d},{_LOC_CODE[loc]},{loc},{length},{unit},{_TIME_DESCR[unit]}"
                for k, (loc, length, unit) in enumerate(parts, start=1)
            ] or [_SENT_NONE]
        else:
            nonconv = _NONCONV_DISP.pick(rng)
        in_county = county in self.requested_names
        for j, (off, text, comment, level, convicted) in enumerate(plan, start=1):
            cnt = f"{cyc_s}002{j:03d}000"
            if convicted:
                stat_code, stat = level, _STAT_DESCR[level]
                if rng.random() < P_BLANK_CONV_STAT:
                    stat_code = stat = ""
                disp = f"001,{conv_code},{conv_disp},{stat_code},{stat}"
                flag = (_F_P64_HOME if in_county else _F_P64) if off.prop64 else _F_CONV
                for sent in sents:
                    rows.append(
                        _row(head, step_c, cnt, court_s, ofn, off.code, text, level, fe_c, disp,
                             sent, age, comment)
                    )  # fmt: skip
                    flags.append(flag)
                    flag = _F_NONE  # later rows are sentence parts of the same conviction
            else:
                if convicting:
                    d_descr, d_code = _NONCONV_DISP.items[0 if rng.random() < 0.85 else 1]
                else:
                    d_descr, d_code = nonconv
                if not comment and rng.random() < 0.02:
                    comment = _HARMLESS_COMMENTS[rng.randrange(len(_HARMLESS_COMMENTS))]
                rows.append(
                    _row(head, step_c, cnt, court_s, ofn, off.code, text, level, fe_c,
                         f"001,{d_code},{d_descr},{_PAD10},", _SENT_NONE, age, comment)
                )  # fmt: skip
                flags.append(_F_NONE)

    def _other(self, when: int) -> _Offence:
        for _ in range(6):
            off = _OTHER.pick(self.rng)
            if off.min_ord <= when:
                return off
        return _OTHER.items[0]

    def _other_p64_comment(self, off: _Offence) -> str:
        rng = self.rng
        mine = off.section[:5] if off.prop64 else ""
        other = _PROP64.pick(rng)
        while other.section[:5] == mine:
            other = _PROP64.pick(rng)
        form = _OTHER_P64_COMMENT_FORMS[rng.randrange(len(_OTHER_P64_COMMENT_FORMS))]
        return form.format(f"{other.section} HS")

    # -- sentences -----------------------------------------------------------------------------

    def _sentence(self, kind: int, level: str) -> tuple[str, list[tuple[str, int, str]]]:
        """The disposition text and the sentence parts (location, length, time unit)."""
        rng = self.rng
        r = rng.random()
        if kind == _K_SS:
            return "CONVICTED-PRIS", [("PRISON", rng.choice((7, 9, 15, 25, 50)), "Y")]
        if level == "I":
            return "CONVICTED", []
        if level == "M":
            if r < 0.45:
                return "CONVICTED-JAIL", self._jail_and_probation()
            if r < 0.85:
                return "CONVICTED-PROB", [self._probation()]
            return "CONVICTED", []
        if r < (0.6 if kind == _K_SEX else 0.22):
            if rng.random() < 0.7:
                return "CONVICTED-PRIS", [("PRISON", rng.choice((2, 3, 4, 5, 6, 8)), "Y")]
            return "CONVICTED-PRIS", [("PRISON", 16, "M")]
        if r < 0.75:
            return "CONVICTED-JAIL", self._jail_and_probation()
        return "CONVICTED-PROB", [self._probation()]

    def _jail_and_probation(self) -> list[tuple[str, int, str]]:
        rng = self.rng
        if rng.random() < 0.85:
            jail = ("JAIL", rng.choice((1, 2, 5, 10, 30, 45, 60, 90, 120, 180, 270, 365)), "D")
        else:
            jail = ("JAIL", rng.randint(1, 12), "M")
        if rng.random() < 0.3:
            return [jail]
        parts = [jail, self._probation()]
        if rng.random() < 0.15:
            parts.append(("JAIL", rng.choice((10, 30, 60)), "D"))
        return parts

    def _probation(self) -> tuple[str, int, str]:
        rng = self.rng
        if rng.random() < 0.75:
            return ("PROBATION", rng.choice((1, 2, 3, 3, 3, 5)), "Y")
        return ("PROBATION", rng.choice((12, 18, 24, 36)), "M")


def generate_doj_file(
    path: Path,
    *,
    county: str = "LOS ANGELES",
    rows: int,
    seed: int = 0,
    header: bool = True,
) -> GenerateStats:
    """Write a synthetic CA DOJ research file of exactly ``rows`` data rows to ``path``.

    ``county`` is one of the 58 California county names, a comma-separated list of them, or
    ``"ALL"`` (subjects spread over every county, weighted by population). Most subjects have a
    Prop 64 conviction in their (requested) home county. The same (county, rows, seed) give
    byte-identical files; the file appears at ``path`` only when complete (written to a
    temporary file in the same folder, then renamed). Memory stays bounded: rows are streamed.
    """
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValueError(f"rows must be a whole number >= 0, not {rows!r}")
    gen = _Generator(_parse_counties(county), seed)
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    written = subjects = convictions = p64 = p64_in_county = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
            if header:
                out.write(_HEADER)
            while written < rows:
                body, flags = gen.person()
                take = min(len(body), rows - written)
                subjects += 1
                for flag in flags[:take]:
                    if flag != _F_NONE:
                        convictions += 1
                        p64 += flag >= _F_P64
                        p64_in_county += flag == _F_P64_HOME
                out.write(
                    "".join([f"{written + i:09d},{line}" for i, line in enumerate(body[:take], 1)])
                )
                written += take
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return GenerateStats(written, subjects, convictions, p64, p64_in_county)
