"""Deciding on Spark (local mode) beside deciding on DuckDB, from the same inputs.

    python bench/spark_decide.py --input F               # California: a DOJ research file
    python bench/spark_decide.py --illinois-people N     # Illinois: N synthetic people
    [--threads 2] [--driver-memory 2g]

The inputs are read once by clearslate's readers (Illinois's exports read and their people
linked) and the tables the deciding starts from written to Parquet (not timed). Then, each in
one run: DuckDB decides them (the engine as `clearslate run` runs it, on views of the Parquet
files), and Spark decides them through `engine.spark` (its session's start timed apart).
Both write their determinations to Parquet, and the two are compared row by row. Prints the
seconds, their ratio, and how many rows differ."""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from clearslate.database import connect, sql_string
from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.il_decide import decide_il
from clearslate.engine.pipeline import decide_rows
from clearslate.il_policy import resolve_il_policy
from clearslate.illinois_run import ILRunOptions, load_inputs
from clearslate.policy import resolve_policy
from clearslate.sources.ca_doj import read_doj_files

CA_AS_OF, IL_AS_OF = dt.date(2020, 7, 1), dt.date(2021, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, help="a DOJ research file (California)")
    source.add_argument("--illinois-people", type=int, help="synthetic Illinois people")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads, Spark cores")
    parser.add_argument("--driver-memory", default="2g", help="Spark's driver memory")
    args = parser.parse_args()
    ca_policy = resolve_policy("dismiss-all")
    il_policy, _source = resolve_il_policy("cook-county")
    with tempfile.TemporaryDirectory(prefix="clearslate-spark-") as tmp:
        folder = Path(tmp)
        con = connect(config={"threads": args.threads})
        if args.input:
            read = read_doj_files(con, [args.input], select=ROW_FACTS)
            print(f"rows read: {read.rows_read:,}")
            tables, result = ["doj_rows"], "determinations"
        else:
            from clearslate.synth.illinois import generate_illinois

            generate_illinois(folder / "exports", people=args.illinois_people, seed=1)
            load_inputs(con, ILRunOptions(
                outputs=folder / "unused", as_of=IL_AS_OF, policy=il_policy,
                court_exports=[folder / "exports" / "court_export.csv"],
                isp_exports=[folder / "exports" / "isp_export.csv"],
            ))  # fmt: skip
            print(f"rows read: {con.execute('SELECT count(*) FROM il_records').fetchall()[0][0]:,}")
            tables, result = ["il_records", "il_person_links"], "il_determinations"
        parquet = {t: folder / f"{t}.parquet" for t in tables}
        for table, path in parquet.items():
            con.execute(f"COPY {table} TO {sql_string(str(path))}")
        con.close()

        con = connect(config={"threads": args.threads})
        start = time.perf_counter()
        for table, path in parquet.items():
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet({sql_string(str(path))})"
            )
        if args.input:
            decide_rows(con, counties=["LOS ANGELES"], as_of=CA_AS_OF, policy=ca_policy)
        else:
            decide_il(con, il_policy, IL_AS_OF)
        duckdb_file = folder / "duckdb.parquet"
        con.execute(f"COPY {result} TO {sql_string(str(duckdb_file))}")
        duckdb_s = time.perf_counter() - start

        from pyspark.sql import SparkSession

        from clearslate.engine.spark import decide_il_on_spark, decide_on_spark

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
        inputs = [spark.read.parquet(str(parquet[t])) for t in tables]
        if args.input:
            decided = decide_on_spark(
                spark, *inputs, policy=ca_policy, as_of=CA_AS_OF, counties=["LOS ANGELES"]
            )
        else:
            decided = decide_il_on_spark(spark, *inputs, policy=il_policy, as_of=IL_AS_OF)
        spark_dir = folder / "spark"
        decided.write.parquet(str(spark_dir))
        spark_s = time.perf_counter() - start
        spark.stop()

        # the same rows with the same values: nothing in one that is not in the other
        a = f"read_parquet({sql_string(str(duckdb_file))})"
        b = f"read_parquet({sql_string(str(spark_dir / '*.parquet'))})"
        (differ,) = con.execute(
            f"""SELECT count(*) FROM ((SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})
                UNION ALL (SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a}))"""
        ).fetchall()[0]
        (count,) = con.execute(f"SELECT count(*) FROM {a}").fetchall()[0]
    print(f"{'convictions' if args.input else 'charges'} decided: {count:,}")
    print(f"DuckDB deciding:            {duckdb_s:8.2f} s")
    print(f"Spark session start:        {session_s:8.2f} s")
    print(f"Spark deciding:             {spark_s:8.2f} s  ({spark_s / duckdb_s:.1f} x DuckDB)")
    print(f"rows that differ: {differ:,}")


if __name__ == "__main__":
    main()
