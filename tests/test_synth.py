"""Tests of the synthetic CA DOJ research-file generator (clearslate.synth)."""

from __future__ import annotations

import calendar
import csv
import re
import tempfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearslate.sources.ca_doj_layout import DOJ_COLUMNS
from clearslate.synth import GenerateStats, generate_doj_file
from clearslate.synth import generator as synth

COL = {name: i for i, name in enumerate(DOJ_COLUMNS)}
EXTRACT = "20200601"
PROP64_IN_FORCE = "20161109"
PROP64_SECTION = re.compile(r"^(?:664[-/])?(1135[789]|11360)(?:\(([A-Da-d])\))?(?![\d.])")
RELATED = ("11364", "647(F) PC", "148(A)(1) PC", "4060 BP")
SUPERSTRIKE = ("187 PC", "187(A) PC", "664-187 PC", "664/187(A) PC", "207 PC", "207(A) PC",
               "209(B)(1) PC", "269 PC", "191.5(A) PC")  # fmt: skip
PC290 = ("288(A) PC", "288(B)(1) PC", "261(A)(2) PC", "311.11(A) PC", "243.4(A) PC",
         "647.6(A) PC", "269 PC")  # fmt: skip


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, strict=True))


def charge(row: list[str]) -> str:
    """The charge text: OFFENSE_DESCR, or COMMENT_TEXT for comment-only charges."""
    descr = row[COL["OFFENSE_DESCR"]].strip()
    if descr in ("", "SEE COMMENT FOR CHARGE"):
        return row[COL["COMMENT_TEXT"]]
    return descr


def is_conviction(row: list[str]) -> bool:
    return row[COL["DISP_DESCR"]].startswith("CONVICTED")


def parse_date(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def latest_birth(dob: str) -> date:
    """The latest date a (possibly partial) DOB can stand for."""
    year, month, day = int(dob[:4]), int(dob[4:6]), int(dob[6:8])
    if month == 0:
        return date(year, 12, 31)
    return date(year, month, day or calendar.monthrange(year, month)[1])


def age_on(dob: date, when: date) -> int:
    return when.year - dob.year - ((when.month, when.day) < (dob.month, dob.day))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerateStats, list[list[str]]]:
    """One 30,000-row Los Angeles file, parsed once for the feature tests."""
    path = tmp_path_factory.mktemp("synth") / "la30k.csv"
    stats = generate_doj_file(path, rows=30_000, seed=0)
    rows = read_rows(path)
    assert rows[0] == list(DOJ_COLUMNS)
    return stats, rows[1:]


# -- bytes, counts and shape -------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generate_doj_file(a, rows=3000, seed=11)
    generate_doj_file(b, rows=3000, seed=11)
    generate_doj_file(c, rows=3000, seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_exact_rows_95_fields_utf8_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    stats = generate_doj_file(path, rows=1234, seed=5)
    data = path.read_bytes()
    assert b"\r" not in data
    assert data.endswith(b"\n")
    data.decode("utf-8")
    rows = read_rows(path)
    assert rows[0] == list(DOJ_COLUMNS)
    assert len(rows) - 1 == 1234 == stats.rows
    assert all(len(r) == 95 for r in rows)
    assert {r[COL["END_OF_REC"]] for r in rows[1:]} == {"#"}
    assert [r[COL["RECORD_ID"]] for r in rows[1:]] == [f"{i:09d}" for i in range(1, 1235)]


def test_header_off_gives_the_same_records(tmp_path: Path) -> None:
    with_header, without = tmp_path / "h.csv", tmp_path / "n.csv"
    generate_doj_file(with_header, rows=500, seed=2, header=True)
    generate_doj_file(without, rows=500, seed=2, header=False)
    head, _, body = with_header.read_bytes().partition(b"\n")
    assert head.decode() == ",".join(DOJ_COLUMNS)
    assert without.read_bytes() == body
    assert not without.read_bytes().startswith(b"RECORD_ID")


def test_zero_rows_and_shorter_file_is_a_prefix(tmp_path: Path) -> None:
    empty, short, long = tmp_path / "e.csv", tmp_path / "s.csv", tmp_path / "l.csv"
    assert generate_doj_file(empty, rows=0).rows == 0
    assert read_rows(empty) == [list(DOJ_COLUMNS)]
    generate_doj_file(short, rows=777, seed=9)
    generate_doj_file(long, rows=2000, seed=9)
    assert long.read_bytes().startswith(short.read_bytes())


def test_stats_match_the_file(big: tuple[GenerateStats, list[list[str]]]) -> None:
    stats, rows = big
    seen: set[tuple[str, str]] = set()
    convictions = p64 = p64_la = 0
    for r in rows:
        key = (r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]])
        if is_conviction(r) and key not in seen:
            seen.add(key)
            convictions += 1
            if PROP64_SECTION.match(charge(r)):
                p64 += 1
                p64_la += r[COL["STP_ORI_CNTY_NAME"]] == "LOS ANGELES"
    subjects = len({r[COL["SUBJECT_ID"]] for r in rows})
    assert stats == GenerateStats(30_000, subjects, convictions, p64, p64_la)
    assert p64_la > 0.9 * p64 > 0


def test_subjects_grouped_and_records_ordered(big: tuple[GenerateStats, list[list[str]]]) -> None:
    _, rows = big
    ids = [int(r[COL["SUBJECT_ID"]]) for r in rows]
    assert ids == sorted(ids)  # grouped and ascending
    assert all(len(str(i)) == 8 for i in ids)
    ciis: dict[str, str] = {}
    last: dict[str, str] = {}
    for r in rows:
        sid, cnt = r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]]
        assert re.fullmatch(r"[1-9]\d{2}00[12]\d{3}000", cnt), cnt
        assert cnt[:3] == r[COL["CYC_ORDER"]]
        assert cnt[3:6] == r[COL["STP_ORDER"]]
        assert cnt >= last.get(sid, "")  # cycle, step, count order (sentence rows repeat)
        last[sid] = cnt
        assert ciis.setdefault(sid, r[COL["CII_NUMBER"]]) == r[COL["CII_NUMBER"]]
        assert re.fullmatch(r"\d{10}", r[COL["CII_NUMBER"]])
        assert r[COL["REQ_CII_NUMBER"]] == r[COL["CII_NUMBER"]]
        assert re.fullmatch(r"[A-Z' -]+,[A-Z]+(?: [A-Z])?", r[COL["PRI_NAME"]])
        assert r[COL["GENDER"]] in ("MALE", "FEMALE")
        assert r[COL["STP_ORI_CNTY_NAME"]] == r[COL["STP_ORI_CNTY_NAME"]].upper()
    assert len(set(ciis.values())) == len(ciis)  # CIIs are unique


# -- dates -------------------------------------------------------------------------------------


def test_dates_are_valid_or_deliberately_partial(
    big: tuple[GenerateStats, list[list[str]]],
) -> None:
    _, rows = big
    convicting_steps = {
        (r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]][:6]) for r in rows if is_conviction(r)
    }
    for r in rows:
        dob = r[COL["PRI_DOB"]]
        assert re.fullmatch(r"\d{8}", dob), dob
        if dob.endswith("0000"):
            assert 1935 <= int(dob[:4]) <= 2002
        elif dob.endswith("00"):
            assert 1 <= int(dob[4:6]) <= 12
        else:
            assert date(1935, 1, 1) <= parse_date(dob) <= date(2002, 12, 31)
        assert r[COL["REQ_DOB"]] == dob
        for name in ("CYC_DATE", "STP_EVENT_DATE", "DISP_DATE"):
            value = r[COL[name]]
            if value or name == "CYC_DATE":
                parse_date(value)  # a real calendar date
                assert value <= EXTRACT
        if r[COL["STP_EVENT_DATE"]] == "":  # blank only on court steps with a conviction
            assert r[COL["STP_TYPE_DESCR"]] == "COURT ACTION"
            assert (r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]][:6]) in convicting_steps
            assert r[COL["DISP_DATE"]] == ""
        if r[COL["STP_TYPE_DESCR"]] == "COURT ACTION" and r[COL["STP_EVENT_DATE"]]:
            assert r[COL["STP_EVENT_DATE"]] >= r[COL["CYC_DATE"]]


def test_no_conviction_before_birth_and_ages_at_least_12(
    big: tuple[GenerateStats, list[list[str]]],
) -> None:
    _, rows = big
    checked = 0
    for r in rows:
        born = latest_birth(r[COL["PRI_DOB"]])
        cycle = parse_date(r[COL["CYC_DATE"]])
        assert cycle > born
        assert age_on(born, cycle) >= 12
        if is_conviction(r) and r[COL["STP_EVENT_DATE"]]:
            convicted = parse_date(r[COL["STP_EVENT_DATE"]])
            assert convicted > born
            assert age_on(born, convicted) >= 12
            checked += 1
        if not r[COL["PRI_DOB"]].endswith("00"):
            assert int(r[COL["CYC_AGE"]]) == age_on(born, cycle) >= 15
    assert checked > 5000


# -- realism and rare features ------------------------------------------------------------------


def test_every_rare_feature_is_present(big: tuple[GenerateStats, list[list[str]]]) -> None:
    _, rows = big
    steps = Counter(r[COL["STP_TYPE_DESCR"]] for r in rows)
    assert steps["DECEASED"] > 0 and steps["REGISTRATION"] > 0
    assert {"ARREST/DETAINED/CITED", "COURT ACTION"} <= set(steps)

    by_subject: dict[str, list[list[str]]] = defaultdict(list)
    for r in rows:
        by_subject[r[COL["SUBJECT_ID"]]].append(r)
    registered = [
        s for s, rs in by_subject.items()
        if any(r[COL["STP_TYPE_DESCR"]] == "REGISTRATION"
               and r[COL["OFFENSE_DESCR"]].startswith("290 PC") for r in rs)
    ]  # fmt: skip
    assert registered
    for s in registered:  # each registrant has a PC 290 offence conviction
        assert any(is_conviction(r) and charge(r).startswith(PC290) for r in by_subject[s])

    convicted = [r for r in rows if is_conviction(r)]
    superstrikes = {charge(r).split(" ")[0] for r in convicted if charge(r).startswith(SUPERSTRIKE)}
    assert len(superstrikes) >= 2

    descrs = [r[COL["OFFENSE_DESCR"]] for r in rows]
    comment_only = [
        r for r in rows
        if r[COL["OFFENSE_DESCR"]] in ("", "SEE COMMENT FOR CHARGE")
        and r[COL["STP_TYPE_DESCR"]] in ("ARREST/DETAINED/CITED", "COURT ACTION")
    ]  # fmt: skip
    assert any(r[COL["OFFENSE_DESCR"]] == "SEE COMMENT FOR CHARGE" for r in comment_only)
    assert any(r[COL["OFFENSE_DESCR"]] == "" for r in comment_only)
    assert all(r[COL["COMMENT_TEXT"]] for r in comment_only)
    assert any(PROP64_SECTION.match(r[COL["COMMENT_TEXT"]]) for r in comment_only)
    assert any(d.startswith("664-1135") or d.startswith("664-11360") for d in descrs)
    assert any(d.startswith("664/1135") or d.startswith("664/11360") for d in descrs)
    assert any(
        re.match(r"11357\([a-d]\) HS", d) or re.match(r"11360\([ab]\) HS", d) for d in descrs
    )
    assert any(d.startswith("11357.5") for d in descrs)
    assert not any(PROP64_SECTION.match(d) for d in descrs if d.startswith("11357.5"))

    # A COMMENT_TEXT naming a Prop 64 section other than the offence's own.
    other_p64 = [
        r for r in rows
        if PROP64_SECTION.match(r[COL["OFFENSE_DESCR"]])
        and (c := re.search(r"(1135[789]|11360)(?![\d.])", r[COL["COMMENT_TEXT"]]))
        and c.group(1) != PROP64_SECTION.match(r[COL["OFFENSE_DESCR"]]).group(1)
    ]  # fmt: skip
    assert other_p64

    # Related charges in the same cycle as a cannabis count.
    cycles: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        cycles[(r[COL["SUBJECT_ID"]], r[COL["CYC_ORDER"]])].append(charge(r))
    mixed = [
        cs for cs in cycles.values()
        if any(PROP64_SECTION.match(c) for c in cs) and any(c.startswith(RELATED) for c in cs)
    ]  # fmt: skip
    assert len(mixed) > 50
    for related in RELATED:
        assert any(c.startswith(related) for cs in mixed for c in cs), related

    p64_conv = [r for r in convicted if PROP64_SECTION.match(charge(r))]
    dated = [r for r in p64_conv if r[COL["STP_EVENT_DATE"]]]
    assert any(r[COL["STP_EVENT_DATE"]] >= PROP64_IN_FORCE for r in dated)
    assert any(
        age_on(latest_birth(r[COL["PRI_DOB"]]), parse_date(r[COL["STP_EVENT_DATE"]])) < 21
        for r in dated
    )
    assert any(r[COL["PRI_DOB"]] < "19700601" for r in p64_conv)  # over 50 at the extract date
    assert any(r[COL["CYC_AGE"]] in ("16", "17") for r in rows)  # a few juvenile cycles

    # Two or more prior convictions of the same section: 3+ convictions of one section.
    per_section = Counter(
        (r[COL["SUBJECT_ID"]], PROP64_SECTION.match(charge(r)).group(1))
        for r in unique_convictions(p64_conv)
    )
    assert max(per_section.values()) >= 3

    dobs = {r[COL["PRI_DOB"]] for r in rows}
    assert any(d.endswith("0000") for d in dobs)
    assert any(d.endswith("00") and not d.endswith("0000") for d in dobs)
    assert any(r[COL["STP_EVENT_DATE"]] == "" for r in convicted)
    assert any(r[COL["CONV_STAT_DESCR"]] == "" and r[COL["OFFENSE_TOC"]] for r in convicted)
    assert any(r[COL["OFN"]] == "NULL  " for r in rows)

    # Sentence parts: one conviction repeated on 2-3 rows with different parts.
    parts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in convicted:
        parts[(r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]])].append(r[COL["SENT_LOC_DESCR"]])
    sizes = Counter(len(p) for p in parts.values())
    assert sizes[2] > 0 and sizes[3] > 0 and max(sizes) <= 3
    assert any(p[:2] == ["JAIL", "PROBATION"] for p in parts.values())


def unique_convictions(convicted: list[list[str]]) -> list[list[str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in convicted:
        key = (r[COL["SUBJECT_ID"]], r[COL["CNT_ORDER"]])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def test_dispositions_levels_and_sentences(big: tuple[GenerateStats, list[list[str]]]) -> None:
    _, rows = big
    arrests = [r for r in rows if r[COL["STP_TYPE_DESCR"]] == "ARREST/DETAINED/CITED"]
    assert all(r[COL["DISP_DESCR"]] == "" and r[COL["OFN"]] == "" for r in arrests)
    assert all(r[COL["STP_ORI_DESCR"]].startswith(("CAPD ", "CASO ")) for r in arrests)
    court = [r for r in rows if r[COL["STP_TYPE_DESCR"]] == "COURT ACTION"]
    assert all(r[COL["STP_ORI_DESCR"]] == "CASC " + r[COL["STP_ORI_CNTY_NAME"]] for r in court)
    assert all(r[COL["OFN"]] for r in court)
    disps = Counter(r[COL["DISP_DESCR"]] for r in court)
    for d in ("CONVICTED-JAIL", "CONVICTED-PROB", "CONVICTED-PRIS", "CONVICTED", "DISMISSED",
              "ACQUITTED"):  # fmt: skip
        assert disps[d] > 0, d
    assert any(d.startswith("PROS REL-") for d in disps)
    assert re.search(r"^BA\d{6}$", "\n".join(r[COL["OFN"]] for r in court), re.M)

    convicted = [r for r in court if is_conviction(r)]
    for r in convicted:
        stat, toc = r[COL["CONV_STAT_DESCR"]], r[COL["OFFENSE_TOC"]]
        assert toc in "FMI" and stat in (
            "",
            {"F": "FELONY", "M": "MISDEMEANOR", "I": "INFRACTION"}[toc],
        )
        if r[COL["DISP_DESCR"]] != "CONVICTED":
            assert r[COL["SENT_LOC_DESCR"]] in ("JAIL", "PROBATION", "PRISON")
            assert r[COL["SENT_LENGTH"]].isdigit() and r[COL["SENT_TIME_CODE"]] in "DMY"
    levels = Counter(r[COL["CONV_STAT_DESCR"]] for r in convicted)
    assert levels["FELONY"] and levels["MISDEMEANOR"] and levels["INFRACTION"]
    small = [r for r in convicted if charge(r).upper().startswith("11357(B)")]
    assert small and not any(r[COL["OFFENSE_TOC"]] == "F" for r in small)
    sale = [
        r for r in convicted
        if charge(r).startswith("11359 HS") and "" < r[COL["STP_EVENT_DATE"]] < PROP64_IN_FORCE
    ]  # fmt: skip
    assert sum(r[COL["OFFENSE_TOC"]] == "F" for r in sale) > 0.6 * len(sale)
    # Non-cannabis convictions and convictions in other counties exist.
    assert any(charge(r).startswith(("459 PC", "23152(A) VC", "11350(A) HS")) for r in convicted)
    assert any(r[COL["STP_ORI_CNTY_NAME"]] != "LOS ANGELES" for r in convicted)
    races = Counter(r[COL["RACE_DESCR"]] for r in rows)
    assert {"HISPANIC", "BLACK", "WHITE"} <= set(races) and len(races) >= 6


# -- counties ----------------------------------------------------------------------------------


def test_county_all_spreads_people_over_many_counties(tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    stats = generate_doj_file(path, county="ALL", rows=12_000, seed=1)
    rows = read_rows(path)[1:]
    counties = Counter(r[COL["STP_ORI_CNTY_NAME"]] for r in rows)
    assert len(counties) >= 40
    assert counties.most_common(1)[0][0] == "LOS ANGELES"
    assert set(counties) <= {name for name, _ in synth.CA_COUNTIES}
    assert stats.prop64_convictions_in_county == stats.prop64_convictions


def test_county_list_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    stats = generate_doj_file(path, county="san diego, ORANGE", rows=3000, seed=4)
    rows = read_rows(path)[1:]
    p64 = [r for r in unique_convictions([r for r in rows if is_conviction(r)])
           if PROP64_SECTION.match(charge(r))]  # fmt: skip
    here = Counter(r[COL["STP_ORI_CNTY_NAME"]] for r in p64)
    assert here["SAN DIEGO"] and here["ORANGE"]
    assert here["SAN DIEGO"] + here["ORANGE"] == stats.prop64_convictions_in_county
    with pytest.raises(ValueError, match="unknown California county"):
        generate_doj_file(tmp_path / "x.csv", county="NARNIA", rows=10)
    with pytest.raises(ValueError):
        generate_doj_file(tmp_path / "x.csv", rows=-1)
    assert not (tmp_path / "x.csv").exists()


def test_failed_run_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = synth._Generator.person

    def failing(self: synth._Generator) -> tuple[list[str], list[int]]:
        nonlocal calls
        calls += 1
        if calls > 20:
            raise KeyboardInterrupt
        return real(self)

    monkeypatch.setattr(synth._Generator, "person", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_doj_file(tmp_path / "out.csv", rows=100_000)
    assert list(tmp_path.iterdir()) == []


# -- property ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(min_value=0, max_value=400), seed=st.integers(0, 2**63))
def test_any_rows_and_seed_give_exactly_that_many_clean_records(rows: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        stats = generate_doj_file(path, rows=rows, seed=seed)
        parsed = read_rows(path)
        assert [p.name for p in Path(tmp).iterdir()] == ["p.csv"]
    assert stats.rows == rows == len(parsed) - 1
    assert all(len(r) == 95 for r in parsed)
    assert stats.subjects == len({r[COL["SUBJECT_ID"]] for r in parsed[1:]})
    assert stats.prop64_convictions <= stats.convictions


def test_the_generate_command_never_replaces_a_file_unasked(tmp_path: Path) -> None:
    """A research file of real people has the same name and shape as a generated one: the
    command replaced any existing --output, and a bad county or folder ended in "unexpected
    error"."""
    from typer.testing import CliRunner

    from clearslate.cli import app

    runner = CliRunner()
    mine = tmp_path / "research_file.csv"
    mine.write_text("the office's own\n")

    def generate(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["generate", "--rows", "20", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result.exit_code, " ".join(result.output.split())

    code, said = generate("--output", str(mine))
    assert code == 1 and "exists" in said and "--force" in said
    assert mine.read_text() == "the office's own\n"
    for args, message in (
        (["--output", str(tmp_path)], "is a folder"),
        (["--output", str(tmp_path / "no" / "x.csv")], "does not exist"),
        (["--output", str(tmp_path / "x.csv"), "--county", "NOWHERE"], "unknown California county"),
    ):
        code, said = generate(*args)
        assert code == 1 and message in said, said
    assert not (tmp_path / "x.csv").exists()
    code, _ = generate("--output", str(mine), "--force")
    assert code == 0 and mine.read_text().startswith("RECORD_ID,")
