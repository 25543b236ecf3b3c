"""Deciding on Spark (local mode) beside deciding on DuckDB, from the same row facts.

    python bench/spark_decide.py --input F [--threads 2] [--driver-memory 2g]

The research file is read once by clearslate's reader and its row facts written to Parquet
(not timed). Then, each in one run: DuckDB decides them (the engine as `clearslate run` runs
it, on a view of the Parquet file), and Spark decides them through `engine.spark` (its
session's start timed apart). Both write their determinations to Parquet, and the two are
compared row by row. Prints the seconds, their ratio, and whether the two agree."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from clearslate.database import connect, sql_string
from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.pipeline import decide_rows
from clearslate.policy import load_policy
from clearslate.sources.ca_doj import read_doj_files

POLICY = Path(__file__).parents[1] / "src" / "clearslate" / "policies" / "dismiss-all.yaml"
AS_OF = dt.date(2020, 7, 1)
COUNTIES = ["LOS ANGELES"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads, Spark cores")
    parser.add_argument("--driver-memory", default="2g", help="Spark's driver memory")
    args = parser.parse_args()
    policy = load_policy(POLICY)
    with tempfile.TemporaryDirectory(prefix="clearslate-spark-") as tmp:
        rows = Path(tmp) / "rows.parquet"
        con = connect(config={"threads": args.threads})
        read = read_doj_files(con, [args.input], select=ROW_FACTS)
        con.execute(f"COPY doj_rows TO {sql_string(str(rows))}")
        con.close()
        print(f"rows read: {read.rows_read:,}")

        con = connect(config={"threads": args.threads})
        start = time.perf_counter()
        con.execute(f"CREATE VIEW doj_rows AS SELECT * FROM read_parquet({sql_string(str(rows))})")
        decide_rows(con, counties=COUNTIES, as_of=AS_OF, policy=policy)
        on_duckdb = Path(tmp) / "duckdb.parquet"
        con.execute(f"COPY determinations TO {sql_string(str(on_duckdb))}")
        duckdb_s = time.perf_counter() - start

        from pyspark.sql import SparkSession

        from clearslate.engine.spark import decide_on_spark

        start = time.perf_counter()
        spark = (
            SparkSession.builder.master(f"local[{args.threads}]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", args.driver_memory)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", tmp)
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        session_s = time.perf_counter() - start
        start = time.perf_counter()
        determinations = decide_on_spark(
            spark, spark.read.parquet(str(rows)), policy=policy, as_of=AS_OF, counties=COUNTIES
        )
        on_spark = Path(tmp) / "spark.parquet"
        determinations.write.parquet(str(on_spark))
        spark_s = time.perf_counter() - start
        spark.stop()

        # the same rows with the same values: nothing in one that is not in the other
        differ = con.execute(
            f"""SELECT count(*) FROM (
                  (SELECT * FROM read_parquet({sql_string(str(on_duckdb))})
                   EXCEPT ALL SELECT * FROM read_parquet({sql_string(str(on_spark))} || '/*.parquet'))
                  UNION ALL
                  (SELECT * FROM read_parquet({sql_string(str(on_spark))} || '/*.parquet')
                   EXCEPT ALL SELECT * FROM read_parquet({sql_string(str(on_duckdb))})))"""
        ).fetchall()[0][0]
        decided = con.execute("SELECT count(*) FROM determinations").fetchall()[0][0]
    print(f"convictions decided: {decided:,}")
    print(f"DuckDB deciding:            {duckdb_s:8.2f} s")
    print(f"Spark session start:        {session_s:8.2f} s")
    print(f"Spark deciding:             {spark_s:8.2f} s  ({spark_s / duckdb_s:.1f} x DuckDB)")
    print(f"rows that differ: {differ:,}")


if __name__ == "__main__":
    main()
