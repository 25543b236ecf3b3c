"""`clearslate redact`: no identifier survives, the copy gives the same decisions, and a seed
gives the same copy. The command is registered on a local Typer app (cli.py registers it)."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from clearslate.cli import app as clearslate_app
from clearslate.cli_redact import redact as redact_command
from clearslate.policy import FLOW_CONDITIONS
from clearslate.redact import (
    DATE_COLUMNS,
    FLOW_CONDITIONS_KEPT,
    ID_COLUMNS,
    MAX_SHIFT_DAYS,
    NAME_COLUMNS,
)
from clearslate.sources.ca_doj import read_doj_files
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS
from clearslate.synth import generate_doj_file

from doj import conviction, csv_text

AS_OF = "2020-07-01"
runner = CliRunner()
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
app.command()(redact_command)


@app.command()
def _unused() -> None:  # a second command, so that `redact` is a subcommand as in clearslate
    pass


# A policy in which every dated rule can decide: nothing is dismissed outright, so the
# additional-relief rules (age, years since, crime-free, under 21) and the still-serving
# review decide many convictions.
DATED_POLICY = """\
name: every-date-rule
dismiss: []
reduce: ["11357", "11358", "11359", "11360"]
additional_relief:
  under_21_at_conviction: true
  age_threshold: 50
  years_since_conviction: 5
  years_crime_free: 3
  only_prop64_charges: false
  deceased: false
still_serving: review
"""


def _extra_rows() -> list[list[str]]:
    """Hand-made rows: identifiers in the comment text, partial and impossible dates."""
    comment = "AKA TESTPERSON,REDACTME 01/02/1999 CII A90000001 CASE BA900001 SSN 912345678"
    return [
        conviction("90000001", "101001002000", "11359 HS-POSSESS FOR SALE", "20100102",
                   dob="19800229", ofn="BA900001", PRI_NAME="TESTPERSON,REDACTME Q",
                   PRI_SSN="912345678", COMMENT_TEXT=comment),
        conviction("90000002", "101001002000", "11357 HS-POSSESS", "20190231", dob="19750400",
                   ofn="NULL  "),
        conviction("90000003", "101001002000", "11360 HS-SELL", "99999999", dob="19600000"),
        conviction("90000003", "102001002000", "11360 HS-SELL", "20161108", dob="19600000"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redact") / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=3000, seed=64)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(csv_text(_extra_rows(), header=False))
        bad = csv_text([conviction("90000009", "1", "11359 HS", "20100102")[:40]], header=False)
        fh.write(bad)  # a row the reader rejects
    return path


def redact_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["redact", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def redacted(original: Path) -> tuple[Path, str]:
    out = original.with_name("la_redacted.csv")
    code, output = redact_cli(str(original), "--output", str(out), "--seed", "7",
                              "--compute-at", AS_OF)  # fmt: skip
    assert code == 0, output
    return out, output


def rows(path: Path) -> list[dict[str, str]]:
    """The rows the reader accepts, in order."""
    con = duckdb.connect()
    read_doj_files(con, [path])
    names = ", ".join(f'"{c}"' for c in DOJ_COLUMNS)
    data = con.execute(f"SELECT {names} FROM doj_rows ORDER BY row_id").fetchall()
    return [dict(zip(DOJ_COLUMNS, r, strict=True)) for r in data]


def _shape(value: str) -> str:
    return re.sub("[a-z]", "a", re.sub("[A-Z]", "A", re.sub("[0-9]", "9", value)))


def _ymd(value: str) -> tuple[int, int, int] | None:
    import datetime as dt

    try:
        d = dt.datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError:
        return None
    return d.toordinal(), d.year, d.month


def test_report_says_what_was_done(redacted: tuple[Path, str]) -> None:
    _, output = redacted
    assert "1 of 3,005 rows rejected" in output and "la.csv line 3006" in output
    assert "2016-11-09 (Prop 64 effective date)" in output
    assert "had no shift" not in output  # every person was moved within their lines
    assert "TESTPERSON" not in output and "REDACTME" not in output


def test_no_identifier_survives(original: Path, redacted: tuple[Path, str]) -> None:
    before, after = rows(original), rows(redacted[0])
    assert len(before) == len(after) == 3004
    id_like = (*ID_COLUMNS, *NAME_COLUMNS, "SUBJECT_ID")
    originals: set[str] = set()
    name_words: set[str] = set()
    shift: dict[str, int] = {}
    for b, a in zip(before, after, strict=True):
        # What decisions read is kept as it is.
        for c in DOJ_COLUMNS:
            if c not in (*id_like, *DATE_COLUMNS, "COMMENT_TEXT"):
                assert a[c] == b[c], c
        # Every identifier is replaced by one of the same shape (blanks and NULL kept).
        for c in id_like:
            core = b[c].strip()
            if not core or core.upper() == "NULL":
                assert a[c] == b[c], c
                continue
            originals.add(core)
            assert a[c].strip() != core, c
            if c in ID_COLUMNS:
                assert _shape(a[c]) == _shape(b[c]), c
        for c in NAME_COLUMNS:
            name_words.update(w for w in re.split("[^A-Z]+", b[c].upper()) if len(w) >= 3)
        # Every full date of a person moves by that person's days, never 0.
        for c in DATE_COLUMNS:
            ob, oa = _ymd(b[c]), _ymd(a[c])
            if ob is None:
                core = b[c].strip()
                if re.fullmatch(r"[12][0-9]{3}0000", core):
                    assert a[c] == b[c]  # a year alone is kept
                elif re.fullmatch(r"[12][0-9]{3}(0[1-9]|1[0-2])00", core):
                    assert re.fullmatch(r"[12][0-9]{3}(0[1-9]|1[0-2])00", a[c].strip())
                else:
                    assert a[c] == b[c]  # no date (20190231, 99999999, blank): kept
                continue
            assert oa is not None, (c, a[c])
            d = oa[0] - ob[0]
            assert d == shift.setdefault(b["SUBJECT_ID"], d), c
            assert 1 <= abs(d) <= MAX_SHIFT_DAYS
    # No original value appears anywhere in the copy: not as a field, not in a comment.
    copy_fields = {v.strip() for r in after for v in r.values()}
    assert not originals & copy_fields
    comments = " ".join(r["COMMENT_TEXT"] for r in after)
    assert not {w for w in originals if len(w) >= 4 and w in comments}
    copy_name_words = {
        w for r in after for c in (*NAME_COLUMNS, "COMMENT_TEXT") for w in re.split("[^A-Z]+", r[c])
    }
    assert not name_words & copy_name_words
    # The hand-made comment keeps its charge text but loses the person's identifiers.
    (special,) = [a["COMMENT_TEXT"] for a in after if a["COMMENT_TEXT"].startswith("AKA")]
    assert special.startswith("AKA XXXX,XXXX XX/XX/XXXX CII ") and "SSN XXXXXXX" in special


@pytest.mark.parametrize("policy", ["dismiss-all", "every-date-rule", "los-angeles"])
def test_redacted_copy_gives_the_same_decisions(
    original: Path, redacted: tuple[Path, str], tmp_path: Path, policy: str
) -> None:
    """Under the default policy; under one where every dated rule decides; under a pilot
    county's flow (age, crime-free years, sentences completed, effective date)."""
    extra: list[str] = []
    copy = redacted[0]  # made for the default policy
    if policy != "dismiss-all":
        if policy == "every-date-rule":
            (tmp_path / "dated.yaml").write_text(DATED_POLICY)
            policy = str(tmp_path / "dated.yaml")
        extra = ["--policy", policy]
        copy = tmp_path / "copy.csv"  # made for this policy: its lines are kept
        code, output = redact_cli(str(original), "--output", str(copy), "--seed", "8",
                                  "--compute-at", AS_OF, *extra)  # fmt: skip
        assert code == 0 and "had no shift" not in output, output
    a, b = (_run(p, tmp_path / f"out{i}", extra) for i, p in enumerate((original, copy)))
    assert a["summary"]["rows"]["read"] == b["summary"]["rows"]["read"] + 1  # the bad row
    assert a["summary"]["rows"]["accepted"] == b["summary"]["rows"]["accepted"]
    assert a["summary"]["convictions"] == b["summary"]["convictions"]
    assert a["summary"]["outcomes"] == b["summary"]["outcomes"]
    assert a["decided"] == b["decided"]  # each conviction: outcome, rule, sentence status
    if policy.endswith("dated.yaml"):  # the dated rules did decide: the test is not empty
        rules = {rule for _, rule, _ in a["decided"].values()}
        assert {"ca.prop64.relief.years_since", "ca.prop64.relief.age",
                "ca.prop64.relief.crime_free", "ca.prop64.review.serving",
                "ca.prop64.effective_date"} <= rules  # fmt: skip


def _run(path: Path, out: Path, extra: list[str]) -> dict:
    result = runner.invoke(clearslate_app, ["run", "--input-doj", str(path), "--county",
                                            "LOS ANGELES", "--compute-at", AS_OF, "--outputs",
                                            str(out), "--no-report", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    with (out / "determinations.csv").open(newline="", encoding="utf-8") as fh:
        decided = {
            (r["cnt_order"], r["code_section_raw"], i): (r["outcome"], r["rule_id"],
                                                         r["sentence_status"])
            for i, r in enumerate(csv.DictReader(fh))
        }  # fmt: skip
    return {"summary": json.loads((out / "summary.json").read_text()), "decided": decided}


def test_same_seed_same_copy_and_secret_key_otherwise(tmp_path: Path) -> None:
    original = tmp_path / "small.csv"
    generate_doj_file(original, county="LOS ANGELES", rows=300, seed=3)
    copies = {}
    for name, seed in (("a", ["--seed", "1"]), ("b", ["--seed", "1"]), ("c", ["--seed", "2"]),
                       ("d", []), ("e", [])):  # fmt: skip
        copies[name] = tmp_path / f"{name}.csv"
        code, output = redact_cli(str(original), "-o", str(copies[name]), *seed)
        assert code == 0, output
    data = {k: p.read_bytes() for k, p in copies.items()}
    assert data["a"] == data["b"]
    assert len({data["a"], data["c"], data["d"], data["e"]}) == 4
    assert "--seed" in redact_cli(str(original), "-o", str(tmp_path / "f.csv"), "--seed", "3")[1]


def test_a_person_in_two_files_stays_one_person(tmp_path: Path) -> None:
    first = [
        conviction(
            "00000009", "101001002000", "11359 HS-POSSESS FOR SALE", "20100102", dob="19900315"
        )
    ]
    second = [conviction("00000009", "102001002000", "459 PC-BURGLARY", "20190102",
                         dob="19900315")]  # fmt: skip
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(csv_text(first))
    b.write_text(csv_text(second))
    code, output = redact_cli(str(a), str(b), "-o", str(tmp_path / "copy"), "--seed", "5")
    assert code == 0, output
    ra, rb = rows(tmp_path / "copy" / "a.csv"), rows(tmp_path / "copy" / "b.csv")
    for c in ("SUBJECT_ID", "CII_NUMBER", "PRI_NAME", "PRI_DOB"):
        assert ra[0][c] == rb[0][c] != first[0][DOJ_COLUMNS.index(c)], c
    shifts = {_ymd(r["STP_EVENT_DATE"])[0] - _ymd(o)[0] for r, o in
              ((ra[0], "20100102"), (rb[0], "20190102"))}  # fmt: skip
    assert len(shifts) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: (d / "in.csv", d / "out.csv"), "no such file"),
        (lambda d: ((d / "in.csv").write_bytes(b""), d / "in.csv", d / "o.csv")[1:], "empty"),
        (lambda d: (_good(d), _good(d)), "is an input"),
        (lambda d: (_good(d), (d / "o.csv").write_text("x") and d / "o.csv"), "--force"),
        (lambda d: (_good(d), d / "nowhere" / "o.csv"), "no such folder"),
        (lambda d: (_good(d), d), "is a folder"),
    ],
)
def test_redact_refuses_with_a_plain_message(tmp_path: Path, setup, message: str) -> None:
    source, target = setup(tmp_path)
    code, output = redact_cli(str(source), "--output", str(target))
    assert code == 1 and message in output and "Traceback" not in output


def _good(d: Path) -> Path:
    path = d / "good.csv"
    path.write_text(csv_text([conviction("00000001", "101001002000", "11359 HS", "20100102")]))
    return path


def test_every_dated_flow_condition_keeps_its_line() -> None:
    """A new dated condition in the policy vocabulary must be taught to redact (its line kept
    when dates move); this fails until it is."""
    dated = {
        name
        for name, c in FLOW_CONDITIONS.items()
        if c.kind in ("date", "years", "age") or c.boundary or "date" in name
    }
    assert dated, "no dated condition found: the vocabulary's fields have changed"
    assert dated <= FLOW_CONDITIONS_KEPT, dated - FLOW_CONDITIONS_KEPT


def test_every_shift_is_in_range_per_person(original: Path, redacted: tuple[Path, str]) -> None:
    """Shifts are spread over both directions and most of the range (not all tiny)."""
    before, after = rows(original), rows(redacted[0])
    shifts: dict[str, set[int]] = defaultdict(set)
    for b, a in zip(before, after, strict=True):
        ob, oa = _ymd(b["CYC_DATE"]), _ymd(a["CYC_DATE"])
        if ob and oa:
            shifts[b["SUBJECT_ID"]].add(oa[0] - ob[0])
    values = [next(iter(s)) for s in shifts.values()]
    assert all(len(s) == 1 for s in shifts.values())
    assert min(values) < -30 and max(values) > 30


def test_a_person_on_a_line_is_moved_without_changing_a_decision(tmp_path: Path) -> None:
    """A conviction exactly 5 years before the as-of date sits between the years-since line
    (on or before) and the crime-free line (before): no shift keeps it within both. redact
    tries shifts under the run's own rules and keeps one that changes no decision."""
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "name: lines\ndismiss: []\nreduce: ['11357', '11358', '11359', '11360']\n"
        "additional_relief: {years_since_conviction: 5, years_crime_free: 5}\n"
    )
    source = tmp_path / "in.csv"
    source.write_text(csv_text([
        conviction("00000001", "101001002000", "11359 HS-POSSESS FOR SALE", "20150701",
                   dob="19800615"),
        conviction("00000002", "101001002000", "11359 HS-POSSESS FOR SALE", "20150701",
                   dob="19810615", felony=False),
    ]))  # fmt: skip
    copy = tmp_path / "copy.csv"
    code, output = redact_cli(str(source), "-o", str(copy), "--compute-at", AS_OF,
                              "--policy", str(policy), "--seed", "1")  # fmt: skip
    assert code == 0 and "had no shift" not in output, output
    # moved as far as anyone (the largest shifts are tried first), not by a day or two
    shifts = [_ymd(r["STP_EVENT_DATE"])[0] - _ymd("20150701")[0] for r in rows(copy)]
    assert all(abs(d) > 7 for d in shifts), shifts
    a, b = (_run(p, tmp_path / f"o{i}", ["--policy", str(policy)])
            for i, p in enumerate((source, copy)))  # fmt: skip
    assert a["decided"] == b["decided"]
    assert {rule for _, rule, _ in a["decided"].values()} >= {"ca.prop64.relief.years_since"}


def test_redact_refuses_an_as_of_date_without_a_day_after(tmp_path: Path) -> None:
    # the still-serving line is the day after the as-of date: 9999-12-31 has none
    code, output = redact_cli(str(_good(tmp_path)), "--output", str(tmp_path / "o.csv"),
                              "--compute-at", "9999-12-31")  # fmt: skip
    assert code == 1 and "give a date up to 9999-12-30" in output, output
    assert not (tmp_path / "o.csv").exists()
