"""Reproduce, with DuckDB alone, why clearslate sets the bundle's columns in UPDATEs of
about 250,000 rows (`gogen_bundle._update_rows`), not in one.

One `UPDATE t SET … FROM s WHERE t.row_id = s.row_id` that gives some 180 MB of new text to
11 % of a 10M-row table (as a 10M-row run fills its bundle's columns) takes longer than the
same UPDATE cut into 8 row-id ranges, one statement each; with 22 % of the rows it runs out of
memory at 1GB where the ranges complete, whether the table is in memory or in a database file
(docs/upstream/duckdb-update-memory.md).

    python bench/duckdb_update_in_ranges.py                     # 10M rows, 1GB
    python bench/duckdb_update_in_ranges.py --rows 1000000 --limit 200MB
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time

import duckdb


def update(rows: int, updated: int, statements: int, in_file: bool, limit: str) -> str:
    """One table of `rows` rows, `updated` of them (evenly spread) given two text columns
    from a second table, in `statements` UPDATEs by row-id range; the seconds it took, or
    where it ran out of memory."""
    folder = tempfile.mkdtemp(prefix="duckdb-update-")
    path = f"{folder}/t.duckdb" if in_file else ":memory:"
    config = {"memory_limit": limit, "temp_directory": folder, "async_threads": 0}
    con = duckdb.connect(path, config=config)
    try:
        con.execute(
            f"""CREATE TABLE t AS SELECT i AS row_id, repeat('x', 180) || i AS line,
                NULL::VARCHAR AS folder, NULL::VARCHAR AS eligibility FROM range({rows}) r(i)"""
        )
        con.execute(
            f"""CREATE TEMP TABLE s AS SELECT i * {rows // updated} AS row_id,
                'LOS_ANGELES' AS folder, repeat('y', 150) || i AS eligibility
                FROM range({updated}) r(i)"""
        )
        cuts = [round(k * rows / statements) for k in range(statements + 1)]
        started = time.perf_counter()
        try:
            for low, high in itertools.pairwise(cuts):
                con.execute(
                    f"""UPDATE t SET folder = s.folder, eligibility = s.eligibility FROM s
                        WHERE t.row_id = s.row_id AND s.row_id >= {low} AND s.row_id < {high}"""
                )
        except duckdb.OutOfMemoryException:
            return f"out of memory after {time.perf_counter() - started:.2f} s"
        seconds = time.perf_counter() - started
        assert con.execute("SELECT count(eligibility) FROM t").fetchall() == [(updated,)]
        return f"{seconds:.2f} s"
    finally:
        con.close()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--limit", default="1GB", help="DuckDB's memory_limit")
    args = parser.parse_args()
    print(f"duckdb {duckdb.__version__}, memory_limit {args.limit}, {args.rows:,} rows")
    print("| rows updated | table | one UPDATE | 8 UPDATEs by row-id range |")
    print("|---|---|---|---|")
    for updated in (args.rows * 11 // 100, args.rows * 22 // 100):  # (a 10M-row run: 11 %)
        for in_file in (False, True):
            one, ranges = (
                update(args.rows, updated, statements, in_file, args.limit) for statements in (1, 8)
            )
            table = "in a database file" if in_file else "in memory"
            print(f"| {updated:,} | {table} | {one} | {ranges} |", flush=True)


if __name__ == "__main__":
    main()
