"""Linking people across the Illinois exports: quality on generated data with known truth,
the hard cases kept apart, the review band, stable ids, the command."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from clearslate.cli import app
from clearslate.link.evaluate import load_truth, pairwise_quality
from clearslate.link.people import _dobs_compatible, link_people
from clearslate.link.settings import LinkSettingsError, load_link_settings
from clearslate.sources.il_canonical import IL_PERSON_LINK_COLUMNS
from clearslate.sources.il_reader import read_illinois
from clearslate.synth.illinois import generate_illinois

SETTINGS = load_link_settings()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("il")
    generate_illinois(folder, people=300, seed=3)
    return folder


def _linked(folder: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    read_illinois(con, [folder / "court_export.csv"], [folder / "isp_export.csv"])
    link_people(con, SETTINGS)
    load_truth(con, folder / "truth.csv")
    con.execute(
        """CREATE TABLE j AS SELECT r.*, l.person_id, l.link_status, l.match_probability,
               t.true_id FROM il_records r JOIN il_person_links l USING (record_id)
               JOIN il_truth t USING (record_id)"""
    )
    return con


@pytest.fixture(scope="module")
def linked(data: Path) -> duckdb.DuckDBPyConnection:
    return _linked(data)


def test_quality_on_generated_data(linked: duckdb.DuckDBPyConnection) -> None:
    q = pairwise_quality(linked)
    assert q.true_pairs > 1000
    assert q.precision >= 0.99  # automatic links are trusted
    assert q.recall_with_review >= 0.95  # what is not linked is in front of a person
    assert q.recall >= 0.9
    assert q.true_pairs_in_review > 0


def test_one_link_row_per_record(linked: duckdb.DuckDBPyConnection) -> None:
    cols = [r[0] for r in linked.execute("DESCRIBE il_person_links").fetchall()]
    assert cols == [c[0] for c in IL_PERSON_LINK_COLUMNS]
    n_records, n_links, n_distinct = linked.execute(
        "SELECT (SELECT count(*) FROM il_records), count(*), count(DISTINCT record_id) "
        "FROM il_person_links"
    ).fetchall()[0]
    assert n_records == n_links == n_distinct
    statuses = {r[0] for r in linked.execute("SELECT link_status FROM il_person_links").fetchall()}
    assert statuses == {"linked", "single", "review"}


def test_automatic_links_are_above_accept_and_review_is_the_band(
    linked: duckdb.DuckDBPyConnection,
) -> None:
    low = linked.execute(
        "SELECT min(match_probability) FROM il_person_links WHERE link_fields IS NOT NULL"
    ).fetchall()[0][0]
    assert low >= SETTINGS.accept
    pairs = linked.execute(
        "SELECT match_probability, person_id_l = person_id_r, reason FROM il_link_review"
    ).fetchall()
    assert pairs
    assert all(p >= SETTINGS.review_from and not same for p, same, _ in pairs)
    # below `accept` only as 'uncertain'; above it only with a stated conflict
    assert all(reason != "uncertain" or p < SETTINGS.accept for p, _, reason in pairs)


def test_jr_and_sr_never_share_a_person(linked: duckdb.DuckDBPyConnection) -> None:
    mixed = linked.execute(
        """SELECT count(*) FROM (SELECT person_id FROM j WHERE name_suffix IN ('JR', 'SR')
           GROUP BY person_id HAVING count(DISTINCT name_suffix) > 1)"""
    ).fetchall()[0][0]
    fathers_and_sons = linked.execute(
        """SELECT count(*) FROM (SELECT DISTINCT true_id, first_name, last_name FROM j
                                  WHERE name_suffix = 'JR') a
           JOIN (SELECT DISTINCT true_id, first_name, last_name FROM j WHERE name_suffix = 'SR')
             b USING (first_name, last_name)"""
    ).fetchall()[0][0]
    assert fathers_and_sons > 0 and mixed == 0


def test_twins_are_kept_apart(linked: duckdb.DuckDBPyConnection) -> None:
    # two true people with the same birth date, last name and street, different first names
    twins = linked.execute(
        """SELECT DISTINCT a.true_id, b.true_id FROM j a JOIN j b
             ON a.dob = b.dob AND a.last_name = b.last_name AND a.city = b.city
           WHERE a.true_id < b.true_id AND a.source = 'isp' AND b.source = 'isp'"""
    ).fetchall()
    assert twins
    for t1, t2 in twins:
        shared = linked.execute(
            """SELECT count(*) FROM (SELECT person_id FROM j WHERE true_id = ?)
               JOIN (SELECT person_id FROM j WHERE true_id = ?) USING (person_id)""",
            [t1, t2],
        ).fetchall()[0][0]
        assert shared == 0


def test_spelling_variants_are_joined(linked: duckdb.DuckDBPyConnection) -> None:
    # true people written with more than one first name (nickname, typo): mostly one person
    rows = linked.execute(
        """SELECT true_id, count(DISTINCT person_id) FROM j GROUP BY true_id
           HAVING count(DISTINCT first_name) > 1"""
    ).fetchall()
    assert len(rows) > 10
    assert sum(1 for _, persons in rows if persons == 1) / len(rows) >= 0.8


def test_same_inputs_same_person_ids(data: Path, linked: duckdb.DuckDBPyConnection) -> None:
    again = _linked(data)
    query = "SELECT * FROM il_person_links ORDER BY record_id"
    assert again.execute(query).fetchall() == linked.execute(query).fetchall()
    review = "SELECT * FROM il_link_review ORDER BY ALL"
    assert again.execute(review).fetchall() == linked.execute(review).fetchall()


def test_dob_slips() -> None:
    assert _dobs_compatible("19800405", "19800504")  # day and month swapped
    assert _dobs_compatible("19800405", "19800450")  # neighbours swapped
    assert _dobs_compatible("19800405", "19800406")  # one digit
    assert not _dobs_compatible("19800405", "19810506")
    assert not _dobs_compatible("19550312", "19881114")


def test_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(LinkSettingsError, match="review_from must be below accept"):
        load_link_settings(None, review_from=0.999)
    with pytest.raises(LinkSettingsError, match=r"fixed_m\.sid: probabilities must"):
        load_link_settings(None, fixed_m={**SETTINGS.fixed_m, "sid": [0.5, 0.6]})
    bad = tmp_path / "s.yaml"
    bad.write_text("accept: [0.9\n")
    with pytest.raises(LinkSettingsError, match="not valid YAML"):
        load_link_settings(bad)


def test_link_command_writes_results_and_no_personal_data(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            *("illinois", "link", "--court", str(data / "court_export.csv")),
            *("--isp", str(data / "isp_export.csv"), "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("links.csv", "review_pairs.csv", "rejects.csv", "warnings.csv", "summary.json"):
        assert (out / name).exists()
    with (data / "isp_export.csv").open() as fh:
        names = {row["NAM_LAST"] for row in csv.DictReader(fh)}
    assert not any(name in result.output for name in names)
    missing = CliRunner().invoke(app, ["illinois", "link", "--out", str(out)])
    assert missing.exit_code == 1 and "--court" in missing.output


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_hand_made_people(tmp_path: Path) -> None:
    """A few records, as a clerk and ISP would write them: the small-input path (fixed m/u)."""
    from clearslate.synth.illinois import COURT_COLUMNS, ISP_COLUMNS

    def court(case: str, name: str, dob: str, street: str = "", sid: str = "") -> dict:
        return {
            **{"CASE_NUMBER": case, "DEFENDANT_NAME": name, "DEFENDANT_DOB": dob},
            **{"STATUTE": "720 ILCS 550/4(a)", "ADDRESS": street, "SID_NUMBER": sid},
        }

    def isp(dcn: str, last: str, first: str, sfx: str, dob: str, sid: str, street: str) -> dict:
        return {
            **{"DCN": dcn, "NAM_LAST": last, "NAM_FIRST": first, "NAM_SFX": sfx},
            **{"BIRTH_DT": dob, "SID_NBR": sid, "STAT_CITE": "720 ILCS 550/4(a)"},
            **{"ADDR_STREET": street},
        }

    # Synthetic people. PAT and TRISH are nicknames of one name (PATRICIA); the twins' first
    # names are unrelated (not nicknames, Jaro-Winkler < 0.8).
    home = "1 W EXAMPLE ST"
    courts = [
        court("2015MC1", "EXAMPLE, PAT JR", "02/01/1990", home),  # line 2: the son
        court("2016MC2", "EXAMPLE, PAT SR", "03/03/1960", home),  # 3: the father
        court("2017MC3", "EXAMPLE, PAT", "", home),  # 4: which one? review
        court("2014MC4", "TESTPERSON, JORDAN", "06/06/1988", "2 N SAMPLE ST"),  # 5: twin 1
        court("2014MC5", "TESTPERSON, JULIAN", "06/06/1988", "2 N SAMPLE ST"),  # 6: twin 2
    ]
    isps = [
        isp("A1", "EXAMPLE", "TRISH", "JR", "19900102", "1111", "1 WEST EXAMPLE STREET"),  # swap
        isp("A2", "EXAMPLE", "PAT", "SR", "19600303", "2222", "1 WEST EXAMPLE STREET"),
        isp("A3", "TESTPERSON", "JORDAN", "", "19880606", "3333", "2 NORTH SAMPLE STREET"),
    ]
    con = duckdb.connect()
    read_illinois(
        con,
        [_write(tmp_path / "court.csv", COURT_COLUMNS, courts)],
        [_write(tmp_path / "isp.csv", ISP_COLUMNS, isps)],
    )
    result = link_people(con, SETTINGS)
    assert result.training == "fixed"
    person = dict(con.execute("SELECT record_id, person_id FROM il_person_links").fetchall())
    assert person["court:0:2"] == person["isp:0:2"]  # son: nickname, day and month swapped
    assert person["court:0:3"] == person["isp:0:3"]  # father
    assert person["court:0:2"] != person["court:0:3"]
    assert person["court:0:5"] == person["isp:0:4"] != person["court:0:6"]  # twins apart
    status = dict(con.execute("SELECT record_id, link_status FROM il_person_links").fetchall())
    assert status["court:0:4"] == "review"  # name and address only: father or son?
    reasons = {r[0] for r in con.execute("SELECT reason FROM il_link_review").fetchall()}
    assert "uncertain: no birth date or SID in common" in reasons
