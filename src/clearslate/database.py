"""The one way clearslate opens an embedded DuckDB, with the setting every database needs.

DuckDB 2.0.0 writes a COPY's file through its asynchronous I/O threads (`async_threads`, 8 by
default). When such a COPY stops before its end (a bad row, a full disk, an interrupt from
Ctrl-C or SIGTERM), its query aborts the writes still queued, and that can deadlock for good:
the query's thread holds the write queue's lock while it waits for the queued write tasks
(`AsyncWriteQueue::AbortWrites` → `TaskExecutor::DrainTasks`), and the I/O thread running one
of them waits for that same lock (`ManagedAsyncWriteStreamQueue::SchedulePendingWritesInternal`).
Seen with gdb on a process that hung; a failing one-thread COPY of 5,000 rows, repeated, hung
within 2 to 1,436 tries in each of three runs, and in none of three runs of 2,000 tries
with `async_threads = 0` (tests/test_output_files.py). With no async threads the COPY
writes on its own thread; its speed did not change (determinations at 1M rows, CSV and
Parquet: within noise).

DuckDB 2.0.1, pinned since 2026-11-25, did not hang in 68,000 tries of that loop with its
async threads on (`bench/duckdb_copy_deadlock.py`: 3,000, then 13 runs of 5,000), where
2.0.0 hung after 3,600 tries in one of four runs of 5,000 the same hour. Without 2.0.1's
release notes at hand that may be luck, not a fix, and the setting costs nothing (a full
run of 1M rows with the async threads on: 8.61, 8.52, 8.61 s against 9.18, 8.46, 8.77 s
without, in turn), so it stays.

Every `duckdb.connect` in clearslate goes through `connect` (ruff bans the direct call). The
report for DuckDB, ready to file: docs/upstream/duckdb-copy-deadlock.md."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

# See above: no asynchronous file writes, so that a stopped COPY always returns.
SAFE_CONFIG: dict[str, Any] = {"async_threads": 0}


def connect(
    database: str = ":memory:", config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect(database, config)` with SAFE_CONFIG added."""
    return duckdb.connect(database, config={**(config or {}), **SAFE_CONFIG})  # noqa: TID251


# The units DuckDB shows a memory limit in ('953.6 MiB' for 1GB).
_UNITS = {unit: 1 << 10 * i for i, unit in enumerate(("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"))}


def sql_string(text: str) -> str:
    """`text` as an SQL string literal (a path, a name, a reason), its quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """The connection's memory limit in bytes, as DuckDB reports it."""
    # (fetchall: a result fetched in part keeps the connection busy for register())
    shown = con.execute("SELECT current_setting('memory_limit')").fetchall()
    number, _, unit = str(shown[0][0] if shown else "").partition(" ")
    return int(float(number) * _UNITS[unit])


def insert_rows(
    con: duckdb.DuckDBPyConnection, table: str, types: list[str], rows: Sequence[Sequence[object]]
) -> None:
    """Insert Python rows, each column of the SQL type given, through one Arrow table.
    (executemany inserts one row per call: more than 10 minutes for 75,000 rows of 99 text
    fields; a list parameter per column took 7.1 s, Arrow 2.7 s.)"""
    if not rows:
        return
    import pyarrow

    columns = {f"c{i}": pyarrow.array(col) for i, col in enumerate(zip(*rows, strict=True))}
    cast = ", ".join(f"c{i}::{kind}" for i, kind in enumerate(types))
    name = f"_insert_rows_{id(columns)}"
    con.register(name, pyarrow.table(columns))
    try:
        con.execute(f"INSERT INTO {table} SELECT {cast} FROM {name}")
    finally:
        con.unregister(name)


def create_table_from_columns(
    con: Any,
    table: str,
    columns: Mapping[str, Sequence[object]],
    *,
    types: Sequence[str] | None = None,
    keep_rows: bool = True,
) -> None:
    """CREATE TABLE `table` from Python values, one list per column, each of its SQL type in
    `types` (else typed by the values given). `con` is a DuckDB connection or the engine's
    Spark connection (`engine.spark`), which takes no statement parameters: it gets an Arrow
    table registered for the one statement. With `keep_rows` false the table has the
    columns and no rows."""
    kinds = list(types) if types is not None else [""] * len(columns)
    named = list(zip(columns, kinds, strict=True))

    def select(values: list[str]) -> str:  # each value as its column, of its type
        return ", ".join(
            f"CAST({v} AS {k}) AS {n}" if k else f"{v} AS {n}"
            for v, (n, k) in zip(values, named, strict=True)
        )

    keep = str(keep_rows).lower()
    if isinstance(con, duckdb.DuckDBPyConnection):
        # the lists as parameters, zipped into rows by unnest(): as before Spark, and no
        # PyArrow to import
        unnest = select([f"unnest(${i + 1})" for i in range(len(named))])
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM (SELECT {unnest}) WHERE {keep}",
            [list(values) for values in columns.values()],
        )
        return
    import pyarrow

    name = f"_columns_{id(columns)}"
    con.register(name, pyarrow.table({n: pyarrow.array(v) for n, v in columns.items()}))
    try:
        con.execute(
            f"CREATE TABLE {table} AS SELECT {select(list(columns))} FROM {name} WHERE {keep}"
        )
    finally:
        con.unregister(name)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, as a container or taskset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_at_most_one_per_cpu(flag: str, value: int | None) -> None:
    """More DuckDB threads or document workers than CPUs gain nothing, and each holds
    buffers of its own: `--threads 100000` took every process slot of the machine. A
    ValueError says so."""
    cpus = usable_cpus()
    if value is not None and value > cpus:
        raise ValueError(f"{flag} {value}: this machine has {cpus} CPUs; give at most {cpus}.")
