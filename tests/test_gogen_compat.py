"""gogen 0.2.13 compatibility of `clearslate run`, end to end through the real CLI.

What BEAR and the offices' scripts rely on (../shared/reference/gogen-behaviour.md, "the
reference"): three CSVs per input file and their names (section 4), 113 and 38 columns, every
accepted input row in input order, the 18 eligibility columns and their formats (4.2, 4.3),
Go's CSV quoting, the summary JSON (4.4), the error file (4.5), and the decisions of gogen's
configurable flow (5.2).

The decisions are checked against `gogen_decisions`, a small reimplementation of 5.2 written
here from the reference, not from clearslate's code. Where clearslate differs from gogen on
purpose, the rows the difference covers are set aside by `documented_differences`, a predicate
over the raw input (never over the answers), under the heading of docs/gogen-differences.md
that explains it.

Inputs: CfA's sample files in ../shared/samples (skipped when absent), generated files, and
hand-made rows. Every run goes through `clearslate.cli.app`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from clearslate import run as run_module
from clearslate.cli import app
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS
from clearslate.synth import generate_doj_file

from doj import conviction, csv_text, row, write

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "samples" / "cfa"
FIXTURE_OPTIONS = REPO / "src" / "clearslate" / "policies" / "gogen-fixture.json"
AS_OF = "2020-07-01"

needs_samples = pytest.mark.skipif(
    not (SHARED / "samples").is_dir(), reason="../shared/samples is not present"
)

# The CfA samples and the county their rows are in (gogen 0.2.13 ran each file on its own).
SAMPLE_FILES = {
    "BEAR file.dat": ("BEAR/test/fixtures/file.dat", "SACRAMENTO"),
    "gogen no_headers.csv": ("gogen/test_fixtures/no_headers.csv", "SAN JOAQUIN"),
    "gogen extra_comma.csv": ("gogen/test_fixtures/extra_comma.csv", "SAN JOAQUIN"),
    # One record has 94 fields: gogen refuses the whole file; clearslate rejects that record
    # (errors.csv) and decides the others, which are compared here.
    "BEAR bad_csv_file.dat": ("BEAR/test/fixtures/bad_csv_file.dat", "SACRAMENTO"),
}

# Reference 4.1 and 4.2, written out here rather than imported.
CONDENSED = (
    "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "RACE_DESCR", "CYC_DATE", "STP_EVENT_DATE",
    "STP_ORI_DESCR", "STP_ORI_CNTY_NAME", "DISP_DATE", "OFN", "OFFENSE_DESCR", "DISP_DESCR",
    "CONV_STAT_DESCR", "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE",
    "COMMENT_TEXT", "END_OF_REC",
)  # fmt: skip
ELIGIBILITY = (
    "Case Number", "# of convictions on record", "Possible Other P64 Charges",
    "Occurred after 11/9/2016", "Superstrike Code Section(s)", "PC290 Code Section(s)",
    "PC290 Registration", "Date of Conviction", "Years Since This Conviction",
    "Years Since Any Conviction", "# of Prop 64 convictions", "# of HS 11357 convictions",
    "# of HS 11358 convictions", "# of HS 11359 convictions", "# of HS 11360 convictions",
    "Deceased", "Eligibility Determination", "Eligibility Reason",
)  # fmt: skip
E = {name: 95 + i for i, name in enumerate(ELIGIBILITY)}  # column index in All_Results
DET, REASON = E["Eligibility Determination"], E["Eligibility Reason"]
C = {name: i for i, name in enumerate(DOJ_COLUMNS)}

# Every determination string gogen and gogen_pilots ever wrote (reference 5.2, 6).
GOGEN_DETERMINATIONS = {
    "Eligible for Dismissal",
    "Eligible for Reduction",
    "Not eligible",
    "Hand Review",
    "Maybe Eligible - Flag for Review",
    "To be reviewed by City Attorneys",
}
NO_RELIEF = ("Not eligible", "No relief selected for this section by office policy")

GOGEN_JSON_KEYS = [
    "county",
    "earliestConviction",
    "lineCount",
    "processingTimeInSeconds",
    "reliefWithCurrentEligibilityChoices",
    "reliefWithDismissAllProp64",
    "prop64ConvictionsCountInCountyByCodeSection",
    "subjectsWithProp64ConvictionCountInCounty",
    "prop64FelonyConvictionsCountInCounty",
    "prop64NonFelonyConvictionsCountInCounty",
    "subjectsWithSomeReliefCount",
    "convictionDismissalCountByCodeSection",
    "convictionReductionCountByCodeSection",
    "convictionDismissalCountByAdditionalRelief",
]
RELIEF_KEYS = [
    "CountSubjectsNoFelony",
    "CountSubjectsNoConviction",
    "CountSubjectsNoConvictionLast7Years",
]

runner = CliRunner()


# ------------------------------------------------------------------------------------------
# Running the CLI


def clearslate_run(
    out: Path, inputs: Sequence[Path], county: str, *extra: str, as_of: str | None = AS_OF
) -> Result:
    """`clearslate run` as BEAR calls gogen: input files joined by commas."""
    args = ["run", "--input-doj", ",".join(str(p) for p in inputs), "--county", county]
    args += ["--outputs", str(out), "--no-report"]  # the report is tested in test_report.py
    if as_of is not None:
        args += ["--compute-at", as_of]
    return runner.invoke(app, [*args, *extra])


def run_ok(out: Path, inputs: Sequence[Path], county: str, *extra: str, as_of: str = AS_OF) -> Path:
    result = clearslate_run(out, inputs, county, *extra, as_of=as_of)
    assert result.exit_code == 0, (result.output, result.exception)
    return out


def gogen_mode_policy(path: Path, options: Mapping[str, Any]) -> Path:
    """The YAML policy that asks clearslate for gogen's decisions (docs/policy.md,
    "Reproducing gogen"): the gogen options, and clearslate's own checks switched off."""
    baseline = options.get("baselineEligibility", {})
    relief = options.get("additionalRelief", {})
    policy = {
        "name": "gogen-compatible",
        "dismiss": list(baseline.get("dismiss", [])),
        "reduce": list(baseline.get("reduce", [])),
        "additional_relief": {
            "under_21_at_conviction": relief.get("subjectUnder21AtConviction", False),
            "age_threshold": relief.get("subjectAgeThreshold", 0),
            "years_since_conviction": relief.get("yearsSinceConvictionThreshold", 0),
            "years_crime_free": relief.get("yearsCrimeFreeThreshold", 0),
            "only_prop64_charges": relief.get("subjectHasOnlyProp64Charges", False),
            "deceased": relief.get("subjectIsDeceased", False),
        },
        "disqualifiers": "ignore",
        "effective_date_rule": "ignore",
        "doubtful_data": "gogen",
    }
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


def sample(name: str) -> tuple[Path, str]:
    rel, county = SAMPLE_FILES[name]
    path = SAMPLES / rel
    if not path.is_file():
        pytest.skip(f"sample {rel} is not present")
    return path, county


# ------------------------------------------------------------------------------------------
# Reading inputs and outputs independently of clearslate


def read_records(path: Path) -> tuple[list[list[str]], int]:
    """(the data records of a research file, records read), read with Python's csv module.
    A UTF-8 byte-order mark is dropped; a first record starting with RECORD_ID is the header.
    Records that do not have 95 fields are counted but not returned (clearslate rejects them)."""
    text = path.read_bytes().decode("utf-8-sig")
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    if records and records[0][0].startswith("RECORD_ID"):
        records = records[1:]
    return [r for r in records if len(r) == len(DOJ_COLUMNS)], len(records)


def read_output(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


# Go's unicode.IsSpace, which decides whether encoding/csv quotes a field by its first rune.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_field(value: str) -> str:
    """One field as Go's encoding/csv writes it (reference 4.2)."""
    if value == "":
        return ""
    if value == "\\." or any(ch in value for ch in ',"\r\n') or value[0] in GO_SPACE:
        return '"' + value.replace('"', '""') + '"'
    return value


def go_csv(rows: Iterable[Sequence[str]]) -> bytes:
    return "".join(",".join(go_field(f) for f in r) + "\n" for r in rows).encode("utf-8")


def bundle_names(n_files: int, suffix: str) -> list[tuple[str, str, str]]:
    """gogen's names: `_i` only with several input files, before `_S`."""
    s = f"_{suffix}" if suffix else ""
    names = []
    for i in range(1, n_files + 1):
        idx = f"_{i}" if n_files > 1 else ""
        names.append(
            (
                f"All_Results{idx}{s}.csv",
                f"All_Results_Condensed{idx}{s}.csv",
                f"Prop64_Results{idx}{s}.csv",
            )
        )
    return names


# ------------------------------------------------------------------------------------------
# gogen 0.2.13, reimplemented from the reference (2.3, 2.4, 4.3, 5.2, 5.5)

ZERO = dt.date(1, 1, 1)  # Go's zero time: what gogen makes of any date it cannot parse
P64 = re.compile(r"1135[789]|11360")  # unanchored, as gogen (5.5)
P64_STANDALONE = re.compile(r"(?<![0-9.])(1135[789]|11360)(?![0-9]|\.[0-9])")
SUB_11357 = re.compile(r"11357\(([A-D])\)")


def go_date(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 else ZERO
    except ValueError:
        return ZERO


def add_years(d: dt.date, n: int) -> dt.date:
    """Go's AddDate(n, 0, 0): 29 February plus whole years normalises to 1 March."""
    if d == ZERO and n < 0:
        return ZERO
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return dt.date(d.year + n, 3, 1)


def code_in_comment(offense: str) -> bool:
    trimmed = offense.strip(GO_SPACE)
    return trimmed == "" or trimmed == "SEE COMMENT FOR CHARGE"


def gogen_code_section(r: Sequence[str]) -> str:
    offense = r[C["OFFENSE_DESCR"]]
    source = r[C["COMMENT_TEXT"]] if code_in_comment(offense) else offense
    return source.partition("-")[0]


def gogen_is_conviction(r: Sequence[str]) -> bool:
    return r[C["DISP_DESCR"]].startswith("CONVICTED")


def gogen_is_felony(r: Sequence[str]) -> bool:
    status = r[C["CONV_STAT_DESCR"]]
    return status == "FELONY" or (status == "" and r[C["OFFENSE_TOC"]] == "F")


def possible_other_p64(offense: str, comment: str) -> str:
    """Reference 4.3."""
    if code_in_comment(offense):
        return ""
    in_comment = P64.search(comment)
    if in_comment is None:
        return ""
    in_offense = P64.search(offense)
    if in_offense is None or in_offense.group() != in_comment.group():
        return comment
    if in_offense.group() == "11357":
        sub_o, sub_c = SUB_11357.search(offense), SUB_11357.search(comment)
        if sub_o and sub_c and (sub_o.group(1) in "AB") != (sub_c.group(1) in "AB"):
            return comment
        if sub_c and not sub_o:
            return comment
    return ""


def gogen_convictions(rows: Sequence[Sequence[str]]) -> dict[str, dict[str, Any]]:
    """Per SUBJECT_ID (exact), gogen's subject of reference 2.4: DOB of the first row,
    deceased, and the convictions (first conviction row of each CNT_ORDER), in file order."""
    subjects: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(rows):
        sid = r[C["SUBJECT_ID"]]
        s = subjects.setdefault(
            sid, {"dob": go_date(r[C["PRI_DOB"]]), "deceased": False, "convictions": []}
        )
        s["deceased"] |= r[C["STP_TYPE_DESCR"]] == "DECEASED"
        if not gogen_is_conviction(r) or (sid, r[C["CNT_ORDER"]]) in seen:
            continue  # a repeated count is a further sentence part
        seen.add((sid, r[C["CNT_ORDER"]]))
        section = gogen_code_section(r)
        number = P64.search(section)
        s["convictions"].append(
            {
                "row": i,
                "date": go_date(r[C["STP_EVENT_DATE"]]),
                "section": section,
                "prop64": number.group() if number else None,
                "felony": gogen_is_felony(r),
                "county": r[C["STP_ORI_CNTY_NAME"]],
            }
        )
    return subjects


def gogen_decisions(
    rows: Sequence[Sequence[str]], county: str, as_of: dt.date, options: Mapping[str, Any]
) -> dict[int, tuple[str, str]]:
    """Row index -> (determination, reason) for every conviction gogen 0.2.13 evaluates in
    one input file: the configurable flow of reference 5.2, first rule that matches wins."""
    baseline = options.get("baselineEligibility", {})
    relief = options.get("additionalRelief", {})
    out: dict[int, tuple[str, str]] = {}
    for s in gogen_convictions(rows).values():
        convs = s["convictions"]
        dated = [c["date"] for c in convs if c["date"] != ZERO]
        s["only_prop64"] = all(c["prop64"] for c in convs)
        s["last"] = max(dated, default=ZERO)  # a zero date never wins
        for c in convs:
            if c["county"] == county and c["prop64"]:
                out[c["row"]] = _gogen_rule(c, s, as_of, baseline, relief)
    return out


def gogen_county_counts(rows: Sequence[Sequence[str]], county: str) -> dict[str, Any]:
    """gogen.json's per-county conviction counts for one input file (reference 4.4)."""
    evaluated = [
        (sid, c)
        for sid, s in gogen_convictions(rows).items()
        for c in s["convictions"]
        if c["county"] == county and c["prop64"]
    ]
    return {
        "prop64ConvictionsCountInCountyByCodeSection": dict(
            sorted(Counter(c["prop64"] for _, c in evaluated).items())
        ),
        "subjectsWithProp64ConvictionCountInCounty": len({sid for sid, _ in evaluated}),
        "prop64FelonyConvictionsCountInCounty": sum(c["felony"] for _, c in evaluated),
        "prop64NonFelonyConvictionsCountInCounty": sum(not c["felony"] for _, c in evaluated),
    }


def _gogen_rule(
    c: Mapping[str, Any],
    s: Mapping[str, Any],
    as_of: dt.date,
    baseline: Mapping[str, Any],
    relief: Mapping[str, Any],
) -> tuple[str, str]:
    dismiss = "Eligible for Dismissal"
    if not c["felony"]:
        return dismiss, "Misdemeanor or Infraction"
    for entry in baseline.get("dismiss", []):
        if entry in c["section"]:
            return dismiss, f"Dismiss all HS {entry} convictions"
    if relief.get("subjectUnder21AtConviction") and add_years(s["dob"], 21) > c["date"]:
        return dismiss, "21 years or younger"
    n = relief.get("subjectAgeThreshold", 0)
    if n and add_years(s["dob"], n) <= as_of:
        return dismiss, f"{n} years or older"
    n = relief.get("yearsSinceConvictionThreshold", 0)
    if n and c["date"] <= add_years(as_of, -n):
        return dismiss, f"Conviction occurred {n} or more years ago"
    n = relief.get("yearsCrimeFreeThreshold", 0)
    if n and s["last"] < add_years(as_of, -n):
        return dismiss, f"No convictions in the past {n} years"
    if relief.get("subjectHasOnlyProp64Charges") and s["only_prop64"]:
        return dismiss, "Only has 11357-60 charges"
    if relief.get("subjectIsDeceased") and s["deceased"]:
        return dismiss, "Individual is deceased"
    for entry in baseline.get("reduce", []):
        if entry in c["section"]:
            return "Eligible for Reduction", f"Reduce all HS {entry} convictions"
    return "", ""  # gogen leaves the determination empty (5.2 rule 10)


# The headings of docs/gogen-differences.md under which clearslate decides a row otherwise.
D_COUNTY = "County match ignores case and spaces"
D_ATTEMPT = "Attempts: 664-11359 HS"
D_ANCHORED = "11357.5 is not 11357"
D_COMMENT = "A cannabis section only in the comment text"
D_DATES = "Missing and partial dates"
D_DECEASED = "A DECEASED step is not a conviction"
D_TRIMMED = "Conviction, felony and step tests on trimmed text"
D_COUNT_KEY = "A short or empty count key"


def documented_differences(
    rows: Sequence[Sequence[str]], county: str, options: Mapping[str, Any]
) -> dict[int, str]:
    """Row index -> the documented difference under which clearslate's decision of that row
    may differ from gogen's, decided from the raw fields of one input file and the options.

    Differences that change a person's totals (convictions on record, Prop 64 convictions,
    most recent conviction) cover every row of the person; the others cover the row."""
    person: dict[str, str] = {}
    single: dict[int, str] = {}
    by_subject: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        sid = r[C["SUBJECT_ID"]]
        by_subject[sid].append(i)
        disp, step = r[C["DISP_DESCR"]], r[C["STP_TYPE_DESCR"]]
        status, toc = r[C["CONV_STAT_DESCR"]], r[C["OFFENSE_TOC"]]
        convicted = disp.strip().upper().startswith("CONVICTED")
        offense, comment = r[C["OFFENSE_DESCR"]], r[C["COMMENT_TEXT"]]
        charge = comment if code_in_comment(offense) else offense
        section = gogen_code_section(r)
        cnt_order = r[C["CNT_ORDER"]]
        if cnt_order != cnt_order.strip() or len(cnt_order.strip()) < 6:
            person.setdefault(sid, D_COUNT_KEY)
        if (
            sid != sid.strip()
            or convicted != gogen_is_conviction(r)
            or (step != step.strip().upper() and step.strip().upper() == "DECEASED")
            or (
                convicted
                and gogen_is_felony(r)
                != (
                    status.strip().upper() == "FELONY"
                    or (status.strip() == "" and toc.strip().upper() == "F")
                )
            )
        ):
            person.setdefault(sid, D_TRIMMED)
        if convicted and step.strip().upper() == "DECEASED":
            person.setdefault(sid, D_DECEASED)
        if convicted and re.match(r"\s*664\s*-", charge) and P64.search(charge):
            person.setdefault(sid, D_ATTEMPT)  # gogen's code section is "664"
        if convicted and P64.search(section) and not P64_STANDALONE.search(section):
            person.setdefault(sid, D_ANCHORED)
        if convicted and not P64.search(section) and P64_STANDALONE.search(comment):
            single[i] = D_COMMENT
        place = r[C["STP_ORI_CNTY_NAME"]]
        if place != county and place.strip().upper() in (county, ""):
            single[i] = D_COUNTY
    out = dict(single)
    for sid, why in person.items():
        for i in by_subject[sid]:
            out[i] = why
    return out


# ------------------------------------------------------------------------------------------
# The bundle contract, checked on every run


@dataclass
class Bundle:
    out: Path
    all_results: list[list[list[str]]]  # per input file, without the header
    prop64: list[list[list[str]]]
    gogen: dict[str, Any]


def check_bundle(
    out: Path,
    inputs: Sequence[Path],
    *,
    suffix: str = "",
    as_of: str = AS_OF,
    dismiss: Sequence[str],
    reduce: Sequence[str] = (),
    labels: Iterable[str] = (),
) -> Bundle:
    """Assert gogen's output contract (reference 4) and return the parsed files."""
    as_of_date = dt.date.fromisoformat(as_of)
    allowed = GOGEN_DETERMINATIONS | set(labels)
    names = bundle_names(len(inputs), suffix)
    csvs = {p.name for p in out.iterdir() if p.name.endswith(".csv")}
    assert csvs - {"determinations.csv", "errors.csv"} == {n for trio in names for n in trio}
    all_files, prop64_files = [], []
    records_read = 0
    for path, (all_name, condensed_name, prop64_name) in zip(inputs, names, strict=True):
        accepted, read = read_records(path)
        records_read += read
        full = read_output(out / all_name)
        condensed = read_output(out / condensed_name)
        p64 = read_output(out / prop64_name)
        for name, parsed in ((all_name, full), (condensed_name, condensed), (prop64_name, p64)):
            # Go's quoting, byte for byte: a field starting with a space is quoted, an empty
            # field never is, a quote is doubled, every line ends with \n.
            assert (out / name).read_bytes() == go_csv(parsed), name
        assert full[0] == [*DOJ_COLUMNS, *ELIGIBILITY] and len(full[0]) == 113
        assert p64[0] == full[0]
        assert condensed[0] == [*CONDENSED, *ELIGIBILITY] and len(condensed[0]) == 38
        full, condensed, p64 = full[1:], condensed[1:], p64[1:]
        assert {len(r) for r in full} <= {113} and {len(r) for r in p64} <= {113}
        assert {len(r) for r in condensed} <= {38}
        # Every accepted input row, in input order, its 95 fields exactly as read.
        assert [r[:95] for r in full] == accepted
        assert [r[:20] for r in condensed] == [[a[C[c]] for c in CONDENSED] for a in accepted]
        assert [r[20:] for r in condensed] == [r[95:] for r in full]
        assert p64 == [r for r in full if r[DET]]
        for r in full:
            check_eligibility_columns(r, as_of_date, allowed)
        all_files.append(full)
        prop64_files.append(p64)
    gogen = check_gogen_json(out, suffix, dismiss, reduce, prop64_files)
    assert gogen["lineCount"] == records_read
    return Bundle(out, all_files, prop64_files, gogen)


def check_eligibility_columns(r: Sequence[str], as_of: dt.date, allowed: set[str]) -> None:
    e = {name: r[95 + i] for i, name in enumerate(ELIGIBILITY)}
    offense, comment = r[C["OFFENSE_DESCR"]], r[C["COMMENT_TEXT"]]
    # 4.3: computed on every row, with or without a decision.
    assert e["Possible Other P64 Charges"] == possible_other_p64(offense, comment), r[:3]
    if not e["Eligibility Determination"]:
        assert all(v == "" for k, v in e.items() if k != "Possible Other P64 Charges"), e
        return
    assert e["Eligibility Determination"] in allowed, e["Eligibility Determination"]
    assert e["Eligibility Reason"]
    raw = r[C["STP_EVENT_DATE"]].strip()
    date = go_date(raw) if re.fullmatch(r"[0-9]{8}", raw) else ZERO
    if date == ZERO:  # not gogen's 01/01/0001 and -1.0: blank
        assert e["Date of Conviction"] == e["Years Since This Conviction"] == ""
    else:
        assert e["Date of Conviction"] == date.strftime("%m/%d/%Y")
        assert e["Years Since This Conviction"] == f"{(as_of - date).days / 365.25:.1f}"
    assert e["Occurred after 11/9/2016"] == ("Y" if date > dt.date(2016, 11, 9) else "N")
    assert re.fullmatch(r"(-?[0-9]+\.[0-9])?", e["Years Since Any Conviction"])
    counts = [e[k] for k in ELIGIBILITY[10:15]]
    assert all(c.isdigit() for c in [*counts, e["# of convictions on record"]]), e
    assert int(counts[0]) == sum(int(c) for c in counts[1:])
    assert e["Superstrike Code Section(s)"] and e["PC290 Code Section(s)"]
    assert e["PC290 Registration"] in {"Yes", "-"} and e["Deceased"] in {"Deceased", "-"}


def check_gogen_json(
    out: Path,
    suffix: str,
    dismiss: Sequence[str],
    reduce: Sequence[str],
    prop64_files: Sequence[Sequence[Sequence[str]]],
) -> dict[str, Any]:
    text = (out / f"gogen{'_' + suffix if suffix else ''}.json").read_text(encoding="utf-8")
    assert "\n" not in text  # one line
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    assert [k for k, _ in pairs] == GOGEN_JSON_KEYS
    gogen = json.loads(text)
    for key in ("reliefWithCurrentEligibilityChoices", "reliefWithDismissAllProp64"):
        assert list(gogen[key]) == RELIEF_KEYS
        assert all(isinstance(v, int) for v in gogen[key].values())
    maps = GOGEN_JSON_KEYS[6:7] + GOGEN_JSON_KEYS[11:]
    for key in maps:
        assert list(gogen[key]) == sorted(gogen[key]), key  # Go sorts map keys
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T00:00:00Z", gogen["earliestConviction"])
    assert isinstance(gogen["processingTimeInSeconds"], float)
    assert gogen["processingTimeInSeconds"] > 0
    reasons = Counter(r[REASON] for rows in prop64_files for r in rows)
    # Every configured section is a key, with its count (zero included).
    assert gogen["convictionDismissalCountByCodeSection"] == {
        s: reasons[f"Dismiss all HS {s} convictions"] for s in sorted(dismiss)
    }
    assert gogen["convictionReductionCountByCodeSection"] == {
        s: reasons[f"Reduce all HS {s} convictions"] for s in sorted(reduce)
    }
    return gogen


def fixture_options() -> dict[str, Any]:
    return json.loads(FIXTURE_OPTIONS.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------
# Samples: gogen's options file, gogen's contract


@needs_samples
def test_sample_bundle_with_gogen_options(tmp_path: Path) -> None:
    path, county = sample("BEAR file.dat")
    out = run_ok(tmp_path / "out", [path], county, "--eligibility-options", str(FIXTURE_OPTIONS))
    options = fixture_options()["baselineEligibility"]
    bundle = check_bundle(out, [path], dismiss=options["dismiss"], reduce=options["reduce"])
    # The DOJ header of the output is the sample's own header.
    with path.open(newline="", encoding="utf-8") as fh:
        assert bundle.all_results and next(csv.reader(fh)) == list(DOJ_COLUMNS)
    assert bundle.gogen["county"] == "SACRAMENTO"
    assert bundle.gogen["lineCount"] == 34
    # No documented difference touches this sample: gogen's rows and counts, exactly.
    rows, _ = read_records(path)
    assert documented_differences(rows, county, fixture_options()) == {}
    expected = gogen_decisions(rows, county, dt.date.fromisoformat(AS_OF), fixture_options())
    assert [i for i, r in enumerate(bundle.all_results[0]) if r[DET]] == sorted(expected)
    counts = gogen_county_counts(rows, county)
    assert {k: bundle.gogen[k] for k in counts} == counts


@needs_samples
def test_sample_two_files_with_suffix(tmp_path: Path) -> None:
    """Two input files: `_1`, `_2` before the suffix; one summary; county in any case."""
    first, _ = sample("gogen no_headers.csv")
    second, _ = sample("gogen extra_comma.csv")
    out = tmp_path / "out"
    run_ok(out, [first, second], "san joaquin", "--file-name-suffix", "S",
           "--eligibility-options", str(FIXTURE_OPTIONS))  # fmt: skip
    options = fixture_options()["baselineEligibility"]
    bundle = check_bundle(
        out, [first, second], suffix="S", dismiss=options["dismiss"], reduce=options["reduce"]
    )
    assert (out / "gogen_S.json").exists() and not (out / "gogen.json").exists()
    assert not list(out.glob("gogen*.err"))
    assert bundle.gogen["lineCount"] == 76  # 38 + 38: a header is not a row
    assert bundle.prop64[0]  # the county matched although given in lower case
    # The two files hold the same records: one person, one conviction per count key, so the
    # second file's rows are further sentence rows and the counts are those of one file
    # (gogen evaluated each file on its own and summed: every count doubled).
    assert bundle.prop64[1] == []
    rows, _ = read_records(first)
    counts = gogen_county_counts(rows, "SAN JOAQUIN")
    assert {k: bundle.gogen[k] for k in counts} == counts


@needs_samples
@pytest.mark.parametrize("name", list(SAMPLE_FILES))
def test_sample_decisions_match_gogen(name: str, tmp_path: Path) -> None:
    """gogen-compatible mode decides each sample as gogen 0.2.13 would (reference 5.2)."""
    path, county = sample(name)
    options = fixture_options()
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", options)
    out = run_ok(tmp_path / "out", [path], county, "--policy", str(policy))
    baseline = options["baselineEligibility"]
    bundle = check_bundle(out, [path], dismiss=baseline["dismiss"], reduce=baseline["reduce"])
    accepted, _ = read_records(path)
    compared = compare_with_gogen(accepted, bundle.all_results[0], county, options)
    assert compared >= 10


def compare_with_gogen(
    rows: Sequence[Sequence[str]],
    results: Sequence[Sequence[str]],
    county: str,
    options: Mapping[str, Any],
    as_of: str = AS_OF,
) -> int:
    """Assert clearslate's decisions equal gogen's on every row outside a documented
    difference; return how many decided rows were compared."""
    expected = gogen_decisions(rows, county, dt.date.fromisoformat(as_of), options)
    excluded = documented_differences(rows, county, options)
    got = {i: (r[DET], r[REASON]) for i, r in enumerate(results) if r[DET]}
    unexplained = []
    compared = 0
    for i in sorted(set(expected) | set(got)):
        if i in excluded:
            continue
        want = expected.get(i)
        if want == ("", ""):
            want = NO_RELIEF  # "Empty determination" in the doc: clearslate names it
        compared += want is not None
        if got.get(i) != want:
            r = rows[i]
            unexplained.append((i, r[C["SUBJECT_ID"]], r[C["OFFENSE_DESCR"]], want, got.get(i)))
    assert not unexplained, unexplained
    return compared


# ------------------------------------------------------------------------------------------
# Generated files


GENERATED_OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357"], "reduce": ["11359"]},
    "additionalRelief": {
        "subjectUnder21AtConviction": True,
        "subjectAgeThreshold": 57,
        "yearsSinceConvictionThreshold": 10,
        "yearsCrimeFreeThreshold": 5,
        "subjectHasOnlyProp64Charges": True,
        "subjectIsDeceased": True,
    },
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=3000, seed=7)
    return path


def test_generated_decisions_match_gogen(generated: Path, tmp_path: Path) -> None:
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", GENERATED_OPTIONS)
    out = run_ok(tmp_path / "out", [generated], "LOS ANGELES", "--policy", str(policy))
    baseline = GENERATED_OPTIONS["baselineEligibility"]
    bundle = check_bundle(out, [generated], dismiss=baseline["dismiss"], reduce=baseline["reduce"])
    rows, _ = read_records(generated)
    assert compare_with_gogen(rows, bundle.all_results[0], "LOS ANGELES", GENERATED_OPTIONS) > 200
    excluded = Counter(documented_differences(rows, "LOS ANGELES", GENERATED_OPTIONS).values())
    assert excluded[D_ATTEMPT] and excluded[D_ANCHORED] and excluded[D_COMMENT]
    # The generated file exercises Go's quoting and 4.3.
    fields = [f for r in bundle.all_results[0] for f in r]
    assert any(f.startswith(" ") for f in fields) and "" in fields
    assert any(r[E["Possible Other P64 Charges"]] for r in bundle.all_results[0])


class FakeClock:
    """clearslate.run's `time`, whose perf_counter stands still except while the inputs are
    read: each file takes `per_file` seconds."""

    def __init__(self, per_file: float) -> None:
        self.now = 1000.0
        self.per_file = per_file

    def perf_counter(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_generated_two_files_routing_and_processing_time(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two files split from one (a person may straddle them), LA's routing label, and a
    processing time for the whole run, not for the last file (gogen timed the last only)."""
    lines = generated.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("".join(lines[:2992]), encoding="utf-8")
    second.write_text("".join(lines[2992:]), encoding="utf-8")  # 9 rows, no header
    label = "To be reviewed by City Attorneys"
    policy = tmp_path / "route.yaml"
    policy.write_text(f"name: route\ndismiss: [11357, 11358, 11359, 11360]\n"
                      f"misdemeanors: route\nroute_to: {label}\n", encoding="utf-8")  # fmt: skip
    clock = FakeClock(per_file=20.25)
    real_read = run_module.read_doj_files

    def read_doj_files(con: Any, paths: Sequence[Path], *args: Any, **kwargs: Any) -> Any:
        clock.now += clock.per_file * len(paths)
        return real_read(con, paths, *args, **kwargs)

    monkeypatch.setattr(run_module, "time", clock)
    monkeypatch.setattr(run_module, "read_doj_files", read_doj_files)
    out = run_ok(tmp_path / "out", [first, second], "LOS ANGELES", "--policy", str(policy))
    bundle = check_bundle(
        out, [first, second], dismiss=["11357", "11358", "11359", "11360"], labels=[label]
    )
    determinations = Counter(r[DET] for rows in bundle.prop64 for r in rows)
    assert determinations[label] and determinations["Hand Review"]
    assert bundle.gogen["lineCount"] == 3000
    assert bundle.gogen["processingTimeInSeconds"] == 2 * 20.25  # both files: the whole run


# ------------------------------------------------------------------------------------------
# Hand-made rows: one per documented difference

HAND_POLICY = """\
name: hand-made
dismiss: ["11357", "11358"]
reduce: ["11360"]
additional_relief: {age_threshold: 65}
"""
HAND_OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11360"]},
    "additionalRelief": {"subjectAgeThreshold": 65},
}


def hand_rows() -> list[list[str]]:
    hs11358 = "11358 HS-CULTIVATE MARIJUANA"
    return [
        conviction("CTY1", "101002001000", hs11358, "20100101", county="Los Angeles "),
        conviction("CTY2", "101002001000", hs11358, "20100101", county="ORANGE"),
        conviction("CTY3", "101002001000", hs11358, "20100101", county=""),
        conviction("ATT1", "101002001000", "664-11358 HS-CULTIVATE MARIJUANA", "20100101"),
        conviction("ATT2", "101002001000", "664/11359 HS-POSSESS FOR SALE", "20100101"),
        conviction("CMT1", "101002001000", "459 PC-BURGLARY", "20120101",
                   COMMENT_TEXT="ORIG CHG 11359 HS"),
        conviction("SYN1", "101002001000", "11357.5 HS-SYNTHETIC CANNABINOID", "20130101",
                   felony=False),
        conviction("SYN1", "102002001000", "11357(A) HS-POSSESS CONC CANNABIS", "20100101"),
        conviction("DT1", "101002001000", hs11358, ""),
        conviction("DT2", "101002001000", hs11358, "20100000"),
        conviction("DT3", "101002001000", "11359 HS-POSSESS FOR SALE", "20100101",
                   dob="19400000"),
        conviction("EMP1", "101002001000", "11359 HS-POSSESS FOR SALE", "20100101"),
        conviction("DEC1", "101002001000", hs11358, "20100101"),
        conviction("DEC1", "103002001000", "555 PC-UH OH", "20160214",
                   STP_TYPE_DESCR="DECEASED", disposition="CONVICTED-PROBATION"),
        conviction("EXA1", "101002001000", "11360 HS-SELL MARIJUANA", "20100101",
                   disposition=" CONVICTED-JAIL", CONV_STAT_DESCR="FELONY "),
        conviction("EXA2", "101002001000", "11359 HS-POSSESS FOR SALE", "20100101",
                   CONV_STAT_DESCR="", OFFENSE_TOC=" f"),
        conviction("OFN1", "101002001000", hs11358, "20100101", ofn="NULL  "),
        conviction("OFN1", "101002002000", hs11358, "20100101", ofn="BA123456  "),
        conviction(" TRM1", "101002001000", "187 PC-MURDER", "20000101"),
        conviction("TRM1 ", "102002001000", hs11358, "20100101"),
        row(SUBJECT_ID="REG1", CNT_ORDER="101009001000", STP_EVENT_DATE="20000101",
            STP_TYPE_DESCR=" Registration", OFFENSE_DESCR="290 PC-REGISTRATION OF SEX OFFENDER",
            STP_ORI_CNTY_NAME="LOS ANGELES"),
        conviction("REG1", "102002001000", hs11358, "20100101"),
        conviction("CNT1", "1010", hs11358, "20100101"),
        conviction("CNT2", "", hs11358, "20100101"),
        conviction("CNT2", "", hs11358, "20100101"),
        conviction("SS1", "101002001000", "237 PC-FALSE IMPRISONMENT", "20000101"),
        conviction("SS1", "102002001000", "261.5 PC-UNLAWFUL SEX W/MINOR", "20010101"),
        conviction("SS1", "103002001000", hs11358, "20100101"),
        conviction("SS2", "101002001000", "187 PC-MURDER", "20000101"),
        conviction("SS2", "102002001000", "647.6(A) PC-ANNOY/MOLEST CHILD", "20010101"),
        conviction("SS2", "103002001000", hs11358, "20100101"),
        conviction("EFF1", "101002001000", hs11358, "20170312"),
        conviction("EFF0", "101002001000", hs11358, "20161109"),
        conviction("SEN1", "101002001000", hs11358, "20150115", SENT_LENGTH="1",
                   SENT_TIME_CODE="Y"),
        conviction("SEN1", "102002001000", "11360 HS-SELL MARIJUANA", "20150115",
                   SENT_LENGTH="10", SENT_TIME_CODE="D"),
        conviction("SEN1", "101002001000", hs11358, "20150115", SENT_LENGTH="6",
                   SENT_TIME_CODE="M"),
    ]  # fmt: skip


@dataclass
class HandRun:
    rows: list[list[str]]
    bundle: Bundle
    by_subject: dict[str, list[list[str]]]  # All_Results rows per SUBJECT_ID, input order
    determinations: list[dict[str, str]]
    gogen: dict[int, tuple[str, str]]  # the reference's decisions


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> HandRun:
    base = tmp_path_factory.mktemp("hand")
    rows = hand_rows()
    path = write(base / "hand.csv", rows)
    policy = base / "hand.yaml"
    policy.write_text(HAND_POLICY, encoding="utf-8")
    # The county as an analyst may type it: case and surrounding spaces do not matter.
    out = run_ok(base / "out", [path], "  los angeles ", "--policy", str(policy))
    bundle = check_bundle(out, [path], dismiss=["11357", "11358"], reduce=["11360"])
    by_subject: dict[str, list[list[str]]] = defaultdict(list)
    for r in bundle.all_results[0]:
        by_subject[r[C["SUBJECT_ID"]]].append(r)
    with (out / "determinations.csv").open(newline="", encoding="utf-8") as fh:
        determinations = list(csv.DictReader(fh))
    reference = gogen_decisions(rows, "LOS ANGELES", dt.date.fromisoformat(AS_OF), HAND_OPTIONS)
    return HandRun(rows, bundle, dict(by_subject), determinations, reference)


def decided(hand: HandRun, subject: str) -> list[list[str]]:
    return [r for r in hand.by_subject[subject] if r[DET]]


def gogen_for(hand: HandRun, subject: str) -> list[tuple[str, str]]:
    return [d for i, d in sorted(hand.gogen.items()) if hand.rows[i][C["SUBJECT_ID"]] == subject]


def test_county_match_ignores_case_and_spaces(hand: HandRun) -> None:
    (r,) = decided(hand, "CTY1")  # STP_ORI_CNTY_NAME "Los Angeles ", --county "  los angeles "
    assert (r[DET], r[REASON]) == ("Eligible for Dismissal", "Dismiss all HS 11358 convictions")
    assert gogen_for(hand, "CTY1") == []  # gogen: exact, case-sensitive equality
    assert decided(hand, "CTY2") == []
    assert hand.bundle.gogen["county"] == "LOS ANGELES"
    (blank,) = decided(hand, "CTY3")  # a blank county may be the office's: a person decides
    assert (blank[DET], blank[REASON]) == ("Hand Review", "County of the conviction unknown")
    assert gogen_for(hand, "CTY3") == []


def test_attempt_664_dash_is_decided_and_counted(hand: HandRun) -> None:
    (r,) = decided(hand, "ATT1")
    assert r[DET] == "Hand Review" and r[REASON].startswith("Attempt (PC 664)")
    assert r[E["# of Prop 64 convictions"]] == r[E["# of HS 11358 convictions"]] == "1"
    assert gogen_for(hand, "ATT1") == []  # gogen's code section is "664": no eligibility
    (att2,) = decided(hand, "ATT2")  # gogen decides 664/11359 as 11359; clearslate: review
    assert att2[DET] == "Hand Review" and att2[REASON].startswith("Attempt (PC 664)")
    assert gogen_for(hand, "ATT2") == [("", "")]


def test_comment_only_charge_goes_to_review(hand: HandRun) -> None:
    (r,) = decided(hand, "CMT1")  # 459 PC, COMMENT_TEXT "ORIG CHG 11359 HS"
    assert r[DET] == "Hand Review"
    assert r[REASON] == "Cannabis section only in the comment text, not in the offence"
    assert r[E["Possible Other P64 Charges"]] == "ORIG CHG 11359 HS"
    assert r[E["# of Prop 64 convictions"]] == "0"
    assert gogen_for(hand, "CMT1") == []  # gogen shows the comment and decides nothing


def test_11357_5_is_not_11357(hand: HandRun) -> None:
    synthetic, possession = hand.by_subject["SYN1"]
    assert synthetic[DET] == ""  # gogen: "Misdemeanor or Infraction", counted as 11357
    assert possession[E["# of convictions on record"]] == "2"
    assert possession[E["# of Prop 64 convictions"]] == possession[E["# of HS 11357 convictions"]]
    assert possession[E["# of HS 11357 convictions"]] == "1"
    assert len(gogen_for(hand, "SYN1")) == 2


def test_missing_and_partial_dates_go_to_review_and_print_blank(hand: HandRun) -> None:
    (dt1,) = decided(hand, "DT1")
    assert (dt1[DET], dt1[REASON]) == ("Hand Review", "Conviction date missing or unreadable")
    (dt2,) = decided(hand, "DT2")
    assert (dt2[DET], dt2[REASON]) == ("Hand Review", "Conviction date is partial (day or month unknown)")  # fmt: skip
    for r in (dt1, dt2):  # gogen: 01/01/0001, -1.0 and -1.0
        assert r[E["Date of Conviction"]] == r[E["Years Since This Conviction"]] == ""
        assert r[E["Years Since Any Conviction"]] == ""
    (dt3,) = decided(hand, "DT3")  # birth date 19400000 and an age rule
    assert dt3[DET] == "Hand Review" and dt3[REASON].startswith("Birth date missing or partial")
    assert gogen_for(hand, "DT3") == [("Eligible for Dismissal", "65 years or older")]
    # A missing date never pulls the earliest conviction to year 1.
    assert hand.bundle.gogen["earliestConviction"] == "2010-01-01T00:00:00Z"


def test_empty_determination_is_named_not_eligible(hand: HandRun) -> None:
    (r,) = decided(hand, "EMP1")  # felony 11359: in neither list, no relief rule applies
    assert (r[DET], r[REASON]) == NO_RELIEF
    assert gogen_for(hand, "EMP1") == [("", "")]
    (d,) = [d for d in hand.determinations if d["subject_id"] == "EMP1"]
    assert d["outcome"] == "not_eligible" and d["reason_code"] == "policy_no_relief"


def test_deceased_step_with_convicted_is_not_a_conviction(hand: HandRun) -> None:
    conviction_row, deceased_row = hand.by_subject["DEC1"]
    assert deceased_row[DET] == ""
    assert conviction_row[E["# of convictions on record"]] == "1"  # gogen: 2
    assert conviction_row[E["Deceased"]] == "Deceased"


def test_conviction_and_felony_tests_trim_and_ignore_case(hand: HandRun) -> None:
    (exa1,) = decided(hand, "EXA1")  # " CONVICTED-JAIL", "FELONY ": gogen sees no conviction
    assert (exa1[DET], exa1[REASON]) == ("Eligible for Reduction", "Reduce all HS 11360 convictions")  # fmt: skip
    assert gogen_for(hand, "EXA1") == []
    (exa2,) = decided(hand, "EXA2")  # blank status, TOC " f": a felony, not a misdemeanour
    assert (exa2[DET], exa2[REASON]) == NO_RELIEF
    assert gogen_for(hand, "EXA2") == [("Eligible for Dismissal", "Misdemeanor or Infraction")]
    (trm,) = decided(hand, "TRM1 ")  # SUBJECT_ID " TRM1" and "TRM1 ": one person
    assert trm[E["# of convictions on record"]] == "2"
    assert trm[E["Superstrike Code Section(s)"]] == "187 PC"
    (reg,) = decided(hand, "REG1")  # STP_TYPE_DESCR " Registration"
    assert reg[E["PC290 Registration"]] == "Yes"
    assert reg[DET] == "Hand Review" and reg[REASON] == "PC 290(c) registrable prior"
    assert gogen_for(hand, "REG1") == [("Eligible for Dismissal", "Dismiss all HS 11358 convictions")]  # fmt: skip


def test_short_or_missing_count_key_goes_to_review(hand: HandRun) -> None:
    """gogen crashed (exit 2) on a CNT_ORDER shorter than 6 characters, and made all rows of
    a person with an empty CNT_ORDER one conviction."""
    (cnt1,) = decided(hand, "CNT1")
    cnt2 = decided(hand, "CNT2")
    assert len(cnt2) == 2 and cnt2[0][E["# of convictions on record"]] == "2"
    for r in (cnt1, *cnt2):
        assert r[DET] == "Hand Review" and r[REASON].startswith("Count key (CNT_ORDER)")
    assert len(gogen_for(hand, "CNT2")) == 1


def test_ofn_null_is_not_a_case_number(hand: HandRun) -> None:
    rows = decided(hand, "OFN1")
    # OFN "NULL  " then "BA123456  ": gogen printed "NULL  ; BA123456  "
    assert [r[E["Case Number"]] for r in rows] == ["BA123456", "BA123456"]


def test_superstrike_and_pc290_columns_use_anchored_catalogue(hand: HandRun) -> None:
    (ss1,) = decided(hand, "SS1")  # 237 PC and 261.5 PC: gogen flags both
    assert ss1[E["Superstrike Code Section(s)"]] == ss1[E["PC290 Code Section(s)"]] == "-"
    assert (ss1[DET], ss1[REASON]) == ("Eligible for Dismissal", "Dismiss all HS 11358 convictions")  # fmt: skip
    (ss2,) = decided(hand, "SS2")
    assert ss2[E["Superstrike Code Section(s)"]] == "187 PC"
    assert ss2[E["PC290 Code Section(s)"]] == "647.6(A) PC"


def test_disqualifier_and_effective_date_defaults(hand: HandRun) -> None:
    (ss2,) = decided(hand, "SS2")  # a superstrike prior: review by default
    assert ss2[DET] == "Hand Review" and "superstrike" in ss2[REASON]
    assert gogen_for(hand, "SS2") == [("Eligible for Dismissal", "Dismiss all HS 11358 convictions")]  # fmt: skip
    (eff1,) = decided(hand, "EFF1")
    assert (eff1[DET], eff1[REASON]) == ("Not eligible", "Occurred on or after 11/09/2016")
    assert eff1[E["Occurred after 11/9/2016"]] == "Y"
    (eff0,) = decided(hand, "EFF0")  # on the day: not eligible, yet gogen's column says N
    assert eff0[DET] == "Not eligible" and eff0[E["Occurred after 11/9/2016"]] == "N"


def test_sentence_parts_add_by_count_key_in_calendar_units(hand: HandRun) -> None:
    """SEN1: count A (1 year), count B (10 days), count A again (6 months). gogen adds the
    6 months to B, the last conviction appended, in 366-day years and 30.5-day months."""
    ends = {d["code_section_raw"]: d["sentence_end"] for d in hand.determinations
            if d["subject_id"] == "SEN1"}  # fmt: skip
    assert ends == {"11358 HS": "2016-07-15", "11360 HS": "2015-01-25"}
    first, second, repeat = hand.by_subject["SEN1"]
    assert first[DET] and second[DET] and not repeat[DET]
    assert repeat not in hand.bundle.prop64[0]


def test_a_sentence_length_is_read_as_a_whole_number_or_not_at_all(tmp_path: Path) -> None:
    """gogen reads SENT_LENGTH with Go's Atoi: a sign and digits, else 0 (behaviour 2.3). A
    cast alone read '1.5' years as 2, '1e1' as 10 and '0x10' as 16. A negative length is
    unreadable too: it took the sentence's end before the year 1, and the run stopped."""
    lengths = ["1.5", "1e1", "0x10", "1_000", "12.0", "-2000000000", "+2", " 3 "]
    path = write(tmp_path / "sentences.csv", [
        conviction("SEN2", f"1010020{i:02d}000", "11358 HS-CULTIVATE MARIJUANA", "20150115",
                   SENT_LENGTH=length, SENT_TIME_CODE="Y")
        for i, length in enumerate(lengths)
    ])  # fmt: skip
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES")
    with (out / "determinations.csv").open(newline="", encoding="utf-8") as fh:
        ends = [d["sentence_end"] for d in csv.DictReader(fh)]
    assert ends == ["2015-01-15"] * 6 + ["2017-01-15", "2018-01-15"]


def test_gogen_mode_switches_the_defaults_off(tmp_path: Path) -> None:
    """disqualifiers: ignore, effective_date_rule: ignore, doubtful_data: gogen give gogen's
    decisions on the same rows (the displayed columns stay clearslate's)."""
    rows = hand_rows()
    path = write(tmp_path / "hand.csv", rows)
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", HAND_OPTIONS)
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES", "--policy", str(policy))
    bundle = check_bundle(out, [path], dismiss=["11357", "11358"], reduce=["11360"])
    got = {r[C["SUBJECT_ID"]]: (r[DET], r[REASON]) for r in bundle.all_results[0] if r[DET]}
    dismiss_11358 = ("Eligible for Dismissal", "Dismiss all HS 11358 convictions")
    assert got["SS2"] == got["EFF1"] == got["EFF0"] == got["DT1"] == got["DT2"] == dismiss_11358
    assert got["DT3"] == ("Eligible for Dismissal", "65 years or older")
    assert compare_with_gogen(rows, bundle.all_results[0], "LOS ANGELES", HAND_OPTIONS) >= 12


# ------------------------------------------------------------------------------------------
# Summary JSON, files and errors


def test_one_person_across_files_shows_the_whole_record(tmp_path: Path) -> None:
    first = write(tmp_path / "a.csv", [
        conviction("P1", "102002001000", "11358 HS-CULTIVATE MARIJUANA", "20100101"),
    ])  # fmt: skip
    second = write(tmp_path / "b.csv", [
        conviction("P1", "101002001000", "187 PC-MURDER", "20050101", county="ORANGE"),
    ])  # fmt: skip
    out = run_ok(tmp_path / "out", [first, second], "LOS ANGELES")
    bundle = check_bundle(out, [first, second], dismiss=["11357", "11358", "11359", "11360"])
    (r,) = bundle.prop64[0]
    assert r[E["# of convictions on record"]] == "2"  # gogen, file by file: 1
    assert r[E["Superstrike Code Section(s)"]] == "187 PC"  # gogen: "-"
    assert r[DET] == "Hand Review"  # gogen: Dismiss all HS 11358 convictions
    assert bundle.prop64[1] == []


def last_7_years_file(path: Path) -> Path:
    return write(path, [
        conviction("L1", "101002001000", "11358 HS-CULTIVATE MARIJUANA", "20150214"),
        conviction("L2", "101002001000", "11358 HS-CULTIVATE MARIJUANA", "20100101"),
    ])  # fmt: skip


def test_last_7_years_follows_compute_at_not_the_clock(tmp_path: Path) -> None:
    path = last_7_years_file(tmp_path / "in.csv")
    counts = {}
    for as_of in ("2020-07-01", "2023-07-01"):
        out = run_ok(tmp_path / as_of, [path], "LOS ANGELES", as_of=as_of)
        gogen = check_bundle(out, [path], as_of=as_of, dismiss=["11357", "11358", "11359", "11360"]).gogen  # fmt: skip
        counts[as_of] = gogen["reliefWithCurrentEligibilityChoices"]
    # Window (as-of - 7 years, as-of]: L1 (2015) is in it for 2020-07-01 only. With the clock,
    # as gogen, both runs would give the same count, and that count would change with the day.
    assert counts["2020-07-01"]["CountSubjectsNoConvictionLast7Years"] == 1
    assert counts["2023-07-01"]["CountSubjectsNoConvictionLast7Years"] == 0
    assert counts["2020-07-01"]["CountSubjectsNoConviction"] == 2


def test_earliest_conviction_without_any_is_the_as_of_date(tmp_path: Path) -> None:
    path = last_7_years_file(tmp_path / "in.csv")
    out = run_ok(tmp_path / "out", [path], "ALPINE")
    gogen = check_bundle(out, [path], dismiss=["11357", "11358", "11359", "11360"]).gogen
    assert gogen["earliestConviction"] == f"{AS_OF}T00:00:00Z"  # gogen: the clock, with ns
    assert gogen["prop64ConvictionsCountInCountyByCodeSection"] == {}


def test_bom_header_is_detected_and_errors_have_physical_lines(tmp_path: Path) -> None:
    good = conviction("B1", "101002001000", "11359 HS-SALE", "20100101", COMMENT_TEXT="A\nB")
    short = conviction("B2", "101002001000", "11359 HS-SALE", "20100101")[:94]
    last = conviction("B3", "101002001000", "11359 HS-SALE", "20100101")
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([good, short, last]).encode("utf-8"))
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES")
    bundle = check_bundle(out, [path], dismiss=["11357", "11358", "11359", "11360"])
    assert [r[C["SUBJECT_ID"]] for r in bundle.all_results[0]] == ["B1", "B3"]
    assert bundle.gogen["lineCount"] == 3  # gogen: 4, the header read as a row
    with (out / "errors.csv").open(newline="", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    # Header line 1, B1 on lines 2-3 (a quoted line end), B2 on line 4.
    assert [(e["source_file"], e["line"]) for e in errors] == [(str(path), "4")]


# Error handling (reference 4.5): {key: {errorType, errorMessage}}, exit code 1.


def gogen_err(out: Path, suffix: str = "") -> dict[str, Any]:
    text = (out / f"gogen{'_' + suffix if suffix else ''}.err").read_text(encoding="utf-8")
    err = json.loads(text)
    assert isinstance(err, dict) and len(err) == 1
    ((key, value),) = err.items()
    assert isinstance(key, str) and list(value) == ["errorType", "errorMessage"]
    assert value["errorType"] in {"OTHER", "PARSING"} and value["errorMessage"]
    return err


def test_missing_input_file_writes_gogen_err(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = clearslate_run(tmp_path / "out", [missing], "SACRAMENTO", "--file-name-suffix", "S")
    assert result.exit_code == 1 and "Traceback" not in result.output
    err = gogen_err(tmp_path / "out", "S")
    assert err[""]["errorType"] == "OTHER" and str(missing) in err[""]["errorMessage"]
    assert not (tmp_path / "out" / "gogen_S.json").exists()


INVALID_OPTIONS = {
    "unknown section": (
        {"baselineEligibility": {"dismiss": ["11357(a)"]}},
        "is not a Prop 64 section",
    ),
    "age out of range": (
        {"additionalRelief": {"subjectAgeThreshold": 30}},
        "SubjectAgeThreshold should be between 40 and 65, or 0",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_OPTIONS))
def test_invalid_options_is_a_clear_error(case: str, tmp_path: Path) -> None:
    """gogen crashed (exit 2, no .err) on an unknown section string; clearslate says what is
    wrong and where, and exits 1."""
    options, message = INVALID_OPTIONS[case]
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    data = last_7_years_file(tmp_path / "in.csv")
    result = clearslate_run(tmp_path / "out", [data], "LOS ANGELES",
                            "--eligibility-options", str(path))  # fmt: skip
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not a crash
    assert message in result.output and str(path) in result.output


@pytest.mark.parametrize("case", list(INVALID_OPTIONS))
def test_invalid_options_writes_gogen_err(case: str, tmp_path: Path) -> None:
    options, message = INVALID_OPTIONS[case]
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    data = last_7_years_file(tmp_path / "in.csv")
    result = clearslate_run(tmp_path / "out", [data], "LOS ANGELES",
                            "--eligibility-options", str(path), "--file-name-suffix", "S")  # fmt: skip
    assert result.exit_code == 1
    err = gogen_err(tmp_path / "out", "S")
    assert err[""]["errorType"] == "OTHER" and message in err[""]["errorMessage"]


def test_compute_at_is_required(tmp_path: Path) -> None:
    data = last_7_years_file(tmp_path / "in.csv")
    result = clearslate_run(tmp_path / "out", [data], "LOS ANGELES", as_of=None)
    assert result.exit_code == 1 and "--compute-at is required" in result.output


@needs_samples
def test_file_with_no_good_record_is_not_a_crash(tmp_path: Path) -> None:
    path = SAMPLES / "gogen/test_fixtures/bad.csv"  # every record has 94 fields
    if not path.is_file():
        pytest.skip("sample gogen/test_fixtures/bad.csv is not present")
    with path.open(newline="", encoding="utf-8") as fh:
        _header, *records = csv.reader(fh)
    bad = [r for r in records if len(r) != len(DOJ_COLUMNS)]
    assert bad == records  # no good record in the sample
    result = clearslate_run(tmp_path / "out", [path], "SAN JOAQUIN")
    assert result.exit_code == 0, (result.output, result.exception)
    assert not list((tmp_path / "out").glob("gogen*.err"))
    with (tmp_path / "out" / "errors.csv").open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(bad)  # every record rejected


# Defects of gogen-compatible mode found by these tests, now fixed; each test keeps it fixed.


def test_gogen_mode_leaves_comment_only_charges_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", [
        conviction("C1", "101002001000", "459 PC-BURGLARY", "20050101",
                   COMMENT_TEXT="ORIG CHG 11359 HS"),
    ])  # fmt: skip
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", GENERATED_OPTIONS)
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES", "--policy", str(policy))
    (r,) = read_output(out / "All_Results.csv")[1:]
    assert r[E["Possible Other P64 Charges"]] == "ORIG CHG 11359 HS"
    assert (
        r[DET] == ""
    )  # gogen: no eligibility; clearslate: "Conviction occurred 10 or more years ago"


def test_summary_counts_only_prop64_convictions(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", [
        conviction("CMT1", "101002001000", "459 PC-BURGLARY", "19990101",
                   COMMENT_TEXT="ORIG CHG 11359 HS"),
        conviction("P1", "101002001000", "11358 HS-CULTIVATE MARIJUANA", "20100101"),
    ])  # fmt: skip
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES")
    gogen = check_bundle(out, [path], dismiss=["11357", "11358", "11359", "11360"]).gogen
    assert gogen["prop64ConvictionsCountInCountyByCodeSection"] == {"11358": 1}
    assert gogen["earliestConviction"] == "2010-01-01T00:00:00Z"
    # Dismissing every Prop 64 conviction relieves P1, not the burglary of CMT1.
    assert gogen["reliefWithDismissAllProp64"]["CountSubjectsNoConviction"] == 1


def test_gogen_mode_leaves_blank_county_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", [
        conviction("K1", "101002001000", "11358 HS-CULTIVATE MARIJUANA", "20100101", county=""),
    ])  # fmt: skip
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", fixture_options())
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES", "--policy", str(policy))
    (r,) = read_output(out / "All_Results.csv")[1:]
    assert r[DET] == ""  # clearslate: "Dismiss all HS 11358 convictions"


def test_gogen_mode_29_february_birthdays(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", [
        conviction("F1", "101002001000", "11359 HS-SALE", "20210228", dob="20000229"),
    ])  # fmt: skip
    options = {"additionalRelief": {"subjectUnder21AtConviction": True}}
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", options)
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES", "--policy", str(policy),
                 as_of="2021-03-01")  # fmt: skip
    (r,) = read_output(out / "All_Results.csv")[1:]
    rows, _ = read_records(path)
    assert gogen_decisions(rows, "LOS ANGELES", dt.date(2021, 3, 1), options) == {
        0: ("Eligible for Dismissal", "21 years or younger")
    }
    assert (r[DET], r[REASON]) == ("Eligible for Dismissal", "21 years or younger")


def test_gogen_mode_crime_free_without_any_dated_conviction(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", [
        conviction("Z1", "101002001000", "11359 HS-SALE", ""),
    ])  # fmt: skip
    options = {"additionalRelief": {"yearsCrimeFreeThreshold": 5}}
    policy = gogen_mode_policy(tmp_path / "gogen.yaml", options)
    out = run_ok(tmp_path / "out", [path], "LOS ANGELES", "--policy", str(policy))
    (r,) = read_output(out / "All_Results.csv")[1:]
    assert (r[DET], r[REASON]) == ("Eligible for Dismissal", "No convictions in the past 5 years")


def test_helpers_follow_the_reference() -> None:
    """The test's own gogen pieces, on the reference's examples."""
    assert go_field("  -  ") == '"  -  "' and go_field("") == "" and go_field("a,b") == '"a,b"'
    assert go_field("\\.") == '"\\."' and go_field('say "x"') == '"say ""x"""'
    assert gogen_code_section(row(OFFENSE_DESCR="664-11359 HS-SALE")) == "664"
    assert gogen_code_section(row(OFFENSE_DESCR="4149 BP - X")) == "4149 BP "
    comment = row(OFFENSE_DESCR=" SEE COMMENT FOR CHARGE ", COMMENT_TEXT="11358 HS-X")
    assert gogen_code_section(comment) == "11358 HS"
    assert P64.search("11357.5 HS") and not P64_STANDALONE.search("11357.5 HS")
    assert add_years(dt.date(2000, 2, 29), 21) == dt.date(2021, 3, 1)
    assert go_date("19990000") == ZERO and go_date("") == ZERO
    assert possible_other_p64("11357(A) HS", "11357(C) HS") == "11357(C) HS"
    assert possible_other_p64("11357(A) HS", "11357(B) HS") == ""
    assert possible_other_p64("11357 HS", "11357(B) HS") == "11357(B) HS"
    assert possible_other_p64("SEE COMMENT FOR CHARGE", "11359 HS") == ""
    assert not gogen_is_conviction(row(DISP_DESCR=" CONVICTED"))
    assert not gogen_is_felony(row(CONV_STAT_DESCR="FELONY "))
    assert gogen_is_felony(row(CONV_STAT_DESCR="", OFFENSE_TOC="F"))
