"""Output files are whole or absent, keep their query's row order, and a COPY that fails
always returns."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from clearslate import database
from clearslate.outputs.files import (
    HashingStopped,
    atomic_path,
    copy_each,
    copy_to,
    sha256_file,
)

# Beyond one row group (122,880 rows), where a parallel writer could reorder.
ROWS = "SELECT i, 'row ' || i AS text FROM range(300000) t(i) ORDER BY i"


@pytest.mark.parametrize("at_once", [True, False], ids=["at-once", "one-after-the-other"])
def test_files_written_at_once_hold_what_one_at_a_time_writes(
    tmp_path: Path, at_once: bool
) -> None:
    con = database.connect()
    con.execute(f"CREATE TABLE t AS {ROWS}; SET threads = 3")
    copy_to(con, "SELECT * FROM t", tmp_path / "one.csv", "FORMAT csv, HEADER true")
    copy_each(
        con,
        [
            ("SELECT * FROM t", tmp_path / "each.csv", "FORMAT csv, HEADER true"),
            ("SELECT * FROM t", tmp_path / "each.parquet", "FORMAT parquet"),
        ],
        at_once=at_once,
    )
    assert (tmp_path / "each.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    in_order = con.execute(
        f"SELECT bool_and(i = n - 1), count(*) FROM (SELECT i, row_number() OVER () AS n "
        f"FROM '{tmp_path / 'each.parquet'}')"
    ).fetchone()
    assert in_order == (True, 300000)
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 3  # restored


@pytest.mark.parametrize("at_once", [True, False], ids=["at-once", "one-after-the-other"])
def test_a_failing_copy_leaves_neither_file(tmp_path: Path, at_once: bool) -> None:
    con = database.connect()
    con.execute(f"CREATE TABLE t AS {ROWS}")
    failing = "SELECT i, CASE WHEN i = 299999 THEN error('bad row') END FROM t"
    for copies in (
        [("SELECT * FROM t", tmp_path / "a.csv", "FORMAT csv"), (failing, tmp_path / "b.csv", "FORMAT csv")],
        [(failing, tmp_path / "a.csv", "FORMAT csv"), ("SELECT * FROM t", tmp_path / "b.csv", "FORMAT csv")],
    ):  # fmt: skip
        with pytest.raises(duckdb.Error, match="bad row"):
            copy_each(con, copies, at_once=at_once)
        assert list(tmp_path.iterdir()) == []  # no file, and no partial one


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    """Results are written under a temporary name and renamed when complete: a writer that
    fails halfway leaves the earlier file as it was, and no temporary one. (The interrupt
    tests catch a run between files; this is the guarantee inside one.)"""
    result = tmp_path / "determinations.csv"
    result.write_text("the earlier run's\n")
    with pytest.raises(RuntimeError, match="halfway"), atomic_path(result) as tmp:
        assert tmp != result and tmp.parent == result.parent
        tmp.write_text("half of the new")
        assert result.read_text() == "the earlier run's\n"  # not yet touched
        raise RuntimeError("halfway")
    assert [p.name for p in tmp_path.iterdir()] == [result.name]
    assert result.read_text() == "the earlier run's\n"
    with atomic_path(result) as tmp:
        tmp.write_text("the new run's\n")
    assert [p.name for p in tmp_path.iterdir()] == [result.name]
    assert result.read_text() == "the new run's\n"


def test_a_file_under_a_temporary_name_gets_no_second_one(tmp_path: Path) -> None:
    # The bundle writes under `.partial-unchecked-` names until its lines are checked: the
    # COPY writes there directly, not under `.partial-.partial-unchecked-` and renamed.
    con = database.connect()
    unchecked = tmp_path / ".partial-unchecked-a.csv"
    with atomic_path(unchecked) as tmp:
        assert tmp == unchecked
        copy_to(con, "SELECT 1 AS one", tmp, "FORMAT csv, HEADER true")
        assert [p.name for p in tmp_path.iterdir()] == [unchecked.name]
    assert unchecked.read_text() == "one\n1\n"
    with pytest.raises(duckdb.Error, match="bad row"):
        copy_to(con, "SELECT error('bad row')", unchecked, "FORMAT csv")
    assert list(tmp_path.iterdir()) == []


def test_a_copy_that_fails_always_returns(tmp_path: Path) -> None:
    """DuckDB 2.0.0's asynchronous file writes could deadlock a COPY that stopped early
    (clearslate.database): this loop hung within 2 to 1,436 tries on a plain connection. It
    runs in a child process, so that a hang fails the test instead of stopping the suite."""
    script = textwrap.dedent(
        f"""
        import duckdb
        from clearslate import database
        con = database.connect()
        con.execute("CREATE TABLE t AS SELECT i, 'row ' || i AS text FROM range(5000) t(i)")
        con.execute("SET threads = 1")
        failing = "SELECT i, CASE WHEN i = 4999 THEN error('bad row') END FROM t"
        for _ in range(1000):
            for options in ("FORMAT csv", "FORMAT parquet"):
                try:
                    con.execute(f"COPY ({{failing}}) TO '{tmp_path}/x' ({{options}})")
                except duckdb.Error as exc:
                    assert "bad row" in str(exc), exc
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_a_hash_stops_when_its_run_stops(tmp_path: Path) -> None:
    """A stopped run sets `halt`, so that it does not wait for an 8 GB input's hash."""
    sparse = tmp_path / "input.csv"
    with sparse.open("wb") as fh:
        fh.truncate(20 * 1024 * 1024)  # 20 MB of zero bytes: three chunks
    halt = threading.Event()
    assert sha256_file(sparse, halt) == hashlib.sha256(bytes(20 * 1024 * 1024)).hexdigest()
    halt.set()
    with pytest.raises(HashingStopped):
        sha256_file(sparse, halt)
