"""Deciding on Spark (local mode) gives DuckDB's determinations, column by column, for
California and Illinois.

The same engine code runs on both: `engine.spark.SparkConnection` transpiles each statement
with SQLGlot. The rows are read once, by clearslate's readers, and handed to Spark as they are.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow
import pytest

from clearslate.database import connect
from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.il_decide import decide_il
from clearslate.engine.pipeline import decide_rows
from clearslate.il_policy import resolve_il_policy
from clearslate.illinois_run import read_canonical
from clearslate.policy import Policy, load_policy
from clearslate.sources.ca_doj import read_doj_files
from clearslate.synth import generate_doj_file

from doj import conviction, csv_text, row
from il_records import varied_records, write_canonical

pyspark_sql = pytest.importorskip("pyspark.sql", reason="the `spark` extra is not installed")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (java not on PATH)", allow_module_level=True)

from clearslate.engine.spark import (  # noqa: E402
    SparkConnection,
    decide_il_on_spark,
    decide_on_spark,
)

POLICIES = Path(__file__).parents[1] / "src" / "clearslate" / "policies"
AS_OF = dt.date(2026, 11, 1)
# Values the reader's facts must read alike on both engines: dates of 7 digits (DuckDB's %d
# takes one digit), partial and impossible dates, sentence lengths that are not whole numbers,
# counts too short to key, letters that upper-case alike.
ODD_DATES = ["1999023", "19990230", "19990000", "19990400", "", " 20010203 ", "2001-02-03",
             "20010203x", "200123", "00010101", "20000229", "19000229", "99999999",
             "99991231"]  # fmt: skip
ODD_LENGTHS = ["1.5", "1e1", "0x10", "+2", " 3 ", "-1", "ABC", "", "99999999999"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("clearslate-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")  # (200 by default: slow on small data)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def odd_rows() -> list[list[str]]:
    """Hand-written convictions over the values above, in several counties."""
    hs11358 = "11358 HS-CULTIVATE MARIJUANA"
    rows = [
        conviction(f"ODD{i}", "101002001000", hs11358, date, dob=date, county=county)
        for i, (date, county) in enumerate(
            zip(ODD_DATES, ["LOS ANGELES", "ORANGE", "", " los angeles "] * 4, strict=False)
        )
    ]
    rows += [
        conviction("LEN1", f"1010020{i:02d}000", hs11358, "20150115", SENT_LENGTH=length,
                   SENT_TIME_CODE=unit)
        for i, (length, unit) in enumerate(zip(ODD_LENGTHS, "YMDYMDY D", strict=True))
    ]  # fmt: skip
    rows += [  # a sentence past the year 9999, in two parts
        conviction("LEN2", "101002001000", hs11358, "20150115", SENT_LENGTH="2000000000",
                   SENT_TIME_CODE="Y")
    ] * 2  # fmt: skip
    rows += [
        conviction("KEY1", "1010", hs11358, "20100101"),
        conviction("KEY2", "", "11360 HS-SELL MARIJUANA", "20100101"),
        conviction("KEY2", "", "11360 HS-SELL MARIJUANA", "20100101"),
        conviction("CMT1", "101002001000", "459 PC-BURGLARY", "20100101",
                   COMMENT_TEXT="11357 HS"),
        conviction("ATT1", "101002001000", "664-11359 HS-ATTEMPT", "20100101"),
        row(SUBJECT_ID="REG1", CNT_ORDER="101009001000", STP_EVENT_DATE="20000101",
            STP_TYPE_DESCR=" Registration", OFFENSE_DESCR="290 PC-REGISTRATION OF SEX OFFENDER",
            STP_ORI_CNTY_NAME="LOS ANGELES"),
        conviction("REG1", "102002001000", hs11358, "20100101"),
        conviction("SS1", "101002001000", "187 PC-MURDER", "20000101"),
        conviction("SS1", "102002001000", hs11358, "20100101"),
        conviction("STR1", "101002001000", hs11358, "20100101", PRI_NAME="STRAßE, ǅORA"),
    ]  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def research_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 synthetic rows of three counties, then the odd rows."""
    path = tmp_path_factory.mktemp("spark") / "doj.csv"
    generate_doj_file(path, county="LOS ANGELES,ORANGE,FRESNO", rows=4000, seed=11)
    with path.open("a", encoding="utf-8", newline="") as fh:
        fh.write(csv_text(odd_rows(), header=False))
    return path


def _policy(name: str) -> Policy:
    return load_policy(POLICIES / f"{name}.yaml")


def _duckdb_determinations(
    path: Path, *, raw: bool, policy: Policy, counties: list[str] | None
) -> tuple[Any, list[str], list[tuple[Any, ...]]]:
    """A connection holding the rows as read, and DuckDB's determinations in input order."""
    con = connect()
    read_doj_files(con, [path], select=None if raw else ROW_FACTS)
    decide_rows(con, counties=counties, as_of=AS_OF, policy=policy)
    rows = con.execute("SELECT * FROM determinations ORDER BY row_id").fetchall()
    return con, [d[0] for d in con.description], rows


def _spark_determinations(spark: Any, con: Any, columns: list[str], **decide: Any) -> list:
    rows = spark.createDataFrame(con.sql("SELECT * FROM doj_rows").to_arrow_table())
    determinations = decide_on_spark(spark, rows, as_of=AS_OF, **decide)
    assert determinations.columns == columns  # (in DuckDB's order too)
    return [tuple(r) for r in determinations.orderBy("row_id").collect()]


@pytest.mark.parametrize(
    ("policy", "counties"),
    [
        ("los-angeles", ["LOS ANGELES"]),  # gogen's chain, doubtful data to review
        ("san-francisco", None),  # a pilot's flow, every county
        ("dismiss-all", ["ORANGE", "FRESNO"]),
    ],
)
def test_spark_decides_as_duckdb_does(
    spark: Any, research_file: Path, policy: str, counties: list[str] | None
) -> None:
    chosen = _policy(policy)
    con, columns, expected = _duckdb_determinations(
        research_file, raw=False, policy=chosen, counties=counties
    )
    got = _spark_determinations(spark, con, columns, policy=chosen, counties=counties)
    assert len(expected) > 100
    assert {r[columns.index("outcome")] for r in expected} >= {"dismiss", "review"}
    assert got == expected


def test_spark_decides_from_the_raw_columns_as_duckdb_does(spark: Any, research_file: Path) -> None:
    """Rows with the 95 raw DOJ columns: the row facts are computed on Spark too."""
    policy = _policy("los-angeles")
    con, columns, expected = _duckdb_determinations(
        research_file, raw=True, policy=policy, counties=None
    )
    assert "PRI_DOB" in {d[0] for d in con.execute("SELECT * FROM doj_rows LIMIT 0").description}
    got = _spark_determinations(spark, con, columns, policy=policy, counties=None)
    assert got == expected


def test_the_row_facts_of_odd_values_are_read_alike(spark: Any) -> None:
    """Each fact of the reader, over values that engines read differently when not told
    how: the dates and sentence lengths above, one per row."""
    values = [*ODD_DATES, *ODD_LENGTHS]
    raw = {name: values for name in ("STP_EVENT_DATE", "PRI_DOB", "SENT_LENGTH")}
    table = pyarrow.table(
        {
            **{column: [v] * len(values) for column, v in _blank_raw_columns().items()},
            **raw,
            "n": list(range(len(values))),
        }
    )
    select = ", ".join(f"{expr} AS {name}" for name, expr in ROW_FACTS)
    sql = f"SELECT n, {select} FROM odd ORDER BY n"
    duck = connect()
    duck.register("odd", table)
    on_spark = SparkConnection(spark)
    on_spark.register("odd", table)
    expected = duck.execute(sql).fetchall()
    assert on_spark.execute(sql).fetchall() == expected
    sent_length = 1 + [name for name, _ in ROW_FACTS].index("sent_length")
    read = [r[sent_length] for r in expected[len(ODD_DATES) :]]
    assert read == [None, None, None, 2, 3, None, None, None, None]  # (the last too large)


def _blank_raw_columns() -> dict[str, str]:
    """Every raw column the row facts read, with a value of its own."""
    return {
        "SUBJECT_ID": " S1 ", "CNT_ORDER": "101002001000", "STP_TYPE_DESCR": "court action",
        "STP_ORI_CNTY_NAME": " los angeles ", "STP_ORI_DESCR": "CASC LOS ANGELES",
        "OFN": "BA1", "DISP_DESCR": "convicted-jail", "CONV_STAT_DESCR": "",
        "OFFENSE_TOC": "f", "SENT_TIME_CODE": "y", "OFFENSE_DESCR": "11358 HS-CULTIVATE",
        "COMMENT_TEXT": "", "PRI_NAME": "STRAßE, ǅORA", "CII_NUMBER": "A1",
        "GENDER": "F", "RACE_DESCR": "X",
    }  # fmt: skip


def test_statement_parameters_are_refused_with_what_to_do(spark: Any) -> None:
    with pytest.raises(ValueError, match="create_table_from_columns"):
        SparkConnection(spark).execute("SELECT unnest($1)", [[1, 2]])


@pytest.mark.parametrize("policy", ["cook-county", "statewide"])
def test_spark_decides_illinois_as_duckdb_does(spark: Any, tmp_path: Path, policy: str) -> None:
    """Illinois: 300 synthetic people's charges (cannabis and other, every disposition, the
    record dates of every tier, violent associations), linked, decided on both engines."""
    path = write_canonical(tmp_path / "canonical.csv", varied_records(300, seed=9))
    con = connect()
    read_canonical(con, [path])
    chosen, _source = resolve_il_policy(policy)
    as_of = dt.date(2021, 6, 1)
    decide_il(con, chosen, as_of)
    expected = con.execute("SELECT * FROM il_determinations ORDER BY record_id").fetchall()
    columns = [d[0] for d in con.description]
    records, links = (
        spark.createDataFrame(con.sql(f"SELECT * FROM {t}").to_arrow_table())
        for t in ("il_records", "il_person_links")
    )
    determinations = decide_il_on_spark(spark, records, links, policy=chosen, as_of=as_of)
    assert determinations.columns == columns
    assert len(expected) > 500
    assert {r[columns.index("outcome")] for r in expected} >= {"vacate_and_expunge", "review"}
    assert [tuple(r) for r in determinations.orderBy("record_id").collect()] == expected
