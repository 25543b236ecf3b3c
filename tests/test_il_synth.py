"""The synthetic Illinois generator: seeded, and realistic where the law and the linker care."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from clearslate.cli import app
from clearslate.sources.il_reader import read_illinois
from clearslate.synth.illinois import CANNABIS_BANDS, ILCS_IN_FORCE, generate_illinois

FILES = ("court_export.csv", "isp_export.csv", "truth.csv")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    out = tmp_path_factory.mktemp("il")
    generate_illinois(out, people=600, seed=11)
    con = duckdb.connect()
    read_illinois(con, [out / "court_export.csv"], [out / "isp_export.csv"])
    con.execute(
        f"""CREATE TABLE truth AS SELECT * FROM read_csv('{out / "truth.csv"}', all_varchar=true);
            CREATE TABLE r AS SELECT il_records.*, t.person_id FROM il_records JOIN truth t
              ON t.source = il_records.source AND t.source_line::BIGINT = il_records.source_line"""
    )
    return con


def test_same_seed_same_bytes_through_the_command(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b", "c"):
        seed = "9" if name != "c" else "10"
        args = ["illinois", "generate", "--people", "120", "--seed", seed, "--out"]
        result = runner.invoke(app, [*args, str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    for f in FILES:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / FILES[0]).read_bytes() != (tmp_path / "c" / FILES[0]).read_bytes()


def test_every_row_has_its_true_person(generated: duckdb.DuckDBPyConnection) -> None:
    rows, joined = generated.execute(
        "SELECT (SELECT count(*) FROM il_records), (SELECT count(*) FROM r)"
    ).fetchone()
    assert rows == joined > 0


def test_no_event_before_birth_or_after_the_extract(generated: duckdb.DuckDBPyConnection) -> None:
    bad = generated.execute(
        """SELECT count(*) FROM r WHERE arrest_date < dob + INTERVAL 16 YEAR
           OR disposition_date < arrest_date OR disposition_date > DATE '2020-06-30'
           OR arrest_date NOT BETWEEN DATE '1965-01-01' AND DATE '2019-12-31'"""
    ).fetchone()[0]
    assert bad == 0


_CITE = re.compile(r"^(?:720 ILCS 550/|Ill\. Rev\. Stat\. ch\. 56½, par\. 70)([45])\(([a-g])\)$")


def test_grams_and_class_follow_the_statute_bands(generated: duckdb.DuckDBPyConnection) -> None:
    rows = generated.execute(
        "SELECT statute_raw, offense_class, grams FROM r WHERE NOT attempt OR attempt IS NULL"
    ).fetchall()
    checked = 0
    for statute, klass, grams in rows:
        m = _CITE.match(statute)
        if not m:
            continue
        low, high, band_class = CANNABIS_BANDS[(m.group(1), m.group(2))]
        assert klass == band_class
        if grams is not None:
            assert low < grams <= high + 1e-9
            checked += 1
    assert checked > 100
    missing = generated.execute(
        "SELECT count(*) FROM r WHERE statute_raw LIKE '%550/4%' AND grams IS NULL"
    ).fetchone()[0]
    assert missing > 0


def test_old_citations_before_1993_only(generated: duckdb.DuckDBPyConnection) -> None:
    old, new = generated.execute(
        f"""SELECT count(*) FILTER (WHERE statute_raw LIKE 'Ill. Rev. Stat.%'
                                      AND arrest_date >= DATE '{ILCS_IN_FORCE}'),
                  count(*) FILTER (WHERE statute_raw LIKE '%ILCS%'
                                      AND arrest_date < DATE '{ILCS_IN_FORCE}')
            FROM r"""
    ).fetchone()
    assert (old, new) == (0, 0)


def test_hard_identity_cases_are_present(generated: duckdb.DuckDBPyConnection) -> None:
    # fathers and sons: two true people, same first and last name, JR and SR
    jr_sr = generated.execute(
        """SELECT count(*) FROM (SELECT DISTINCT person_id, first_name, last_name, name_suffix
               FROM r WHERE source = 'isp' AND name_suffix = 'JR') a
           JOIN (SELECT DISTINCT person_id, first_name, last_name FROM r
                 WHERE source = 'isp' AND name_suffix = 'SR') b
             USING (first_name, last_name) WHERE a.person_id <> b.person_id"""
    ).fetchone()[0]
    # twins (or namesakes born the same day): two true people, same birth date and last name
    twins = generated.execute(
        """SELECT count(*) FROM (SELECT DISTINCT person_id, dob, last_name, sid FROM r
                                  WHERE source = 'isp') a
           JOIN (SELECT DISTINCT person_id, dob, last_name, sid FROM r WHERE source = 'isp') b
             USING (dob, last_name) WHERE a.person_id < b.person_id AND a.sid <> b.sid"""
    ).fetchone()[0]
    variants = generated.execute(
        """SELECT count(*) FROM (SELECT person_id FROM r GROUP BY person_id
                                  HAVING count(DISTINCT first_name) > 1)"""
    ).fetchone()[0]
    missing_dob = generated.execute("SELECT count(*) FROM r WHERE dob IS NULL").fetchone()[0]
    assert jr_sr > 0 and twins > 0 and variants > 10 and missing_dob > 0
