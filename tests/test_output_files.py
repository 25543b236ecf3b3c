"""Output files are whole or absent, keep their query's row order, and a COPY that fails
always returns."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest

from clearslate import database
from clearslate.outputs import files
from clearslate.outputs.files import (
    HashingStopped,
    StreamedFile,
    all_or_none,
    atomic_path,
    copy_each,
    copy_to,
    discard,
    output_sha256,
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


def test_a_run_that_stops_leaves_none_of_its_results(tmp_path: Path) -> None:
    """Within `all_or_none(folder)`, each file put in place under the folder (in a county's
    folder too, by a thread of its own too) goes if the block stops; files of the office's
    own there, and files written elsewhere, stay. A block that completes keeps them all."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "LOS_ANGELES").mkdir(parents=True)
    elsewhere.mkdir()
    (out / "office-notes.txt").write_text("ours")

    def write_results() -> None:
        files.write_text(out / "determinations.csv", "a\n")
        files.write_text(elsewhere / "report.txt", "b\n")
        writer = threading.Thread(
            target=files.write_text, args=(out / "LOS_ANGELES" / "All_Results.csv", "c\n")
        )
        writer.start()
        writer.join()
        with atomic_path(out / ".partial-unchecked-Prop64.csv") as tmp:
            tmp.write_text("d\n")
        files.publish(tmp, out / "Prop64.csv")

    with pytest.raises(OSError, match="No space left"), all_or_none(out):
        write_results()
        assert (out / "LOS_ANGELES" / "All_Results.csv").exists()
        raise OSError(28, "No space left on device")
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["elsewhere", "elsewhere/report.txt", "out", "out/office-notes.txt"]

    (out / "LOS_ANGELES").mkdir()
    with all_or_none(out):
        write_results()
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert left == [
        "LOS_ANGELES/All_Results.csv", "Prop64.csv", "determinations.csv", "office-notes.txt"
    ]  # fmt: skip
    # Once the block has ended, a later file is nobody's to remove.
    files.write_text(out / "later.csv", "e\n")
    with pytest.raises(RuntimeError, match="stopped"), all_or_none(tmp_path / "other"):
        raise RuntimeError("stopped")
    assert (out / "later.csv").exists()


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


def _streamed(path: Path, pieces: list[bytes]) -> bytes:
    """Write `pieces` to `path` as the bundle's writers do: a StreamedFile under a temporary
    name, renamed into place."""
    with atomic_path(path) as tmp, StreamedFile(tmp) as out:
        for piece in pieces:
            out.write(piece)
    return b"".join(pieces)


def test_a_streamed_files_digest_is_taken_as_it_is_written_and_read_once_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's digest of All_Results is the one its writer took (the file is not read
    again), while the file is the one written, and once (then it is read: a server that
    makes many runs keeps none); a file changed since (a mended copy renamed over it, a
    line added) is read."""
    path = tmp_path / "All_Results.csv"
    data = _streamed(path, [b"a,b\n" * 1000, b"c,d\n"])
    assert path.read_bytes() == data
    reads: list[Path] = []
    monkeypatch.setattr(files, "sha256_file", lambda p, halt=None: reads.append(p) or "read")
    assert output_sha256(path) == hashlib.sha256(data).hexdigest()
    assert reads == []
    assert output_sha256(path) == "read" and reads == [path]
    reads.clear()

    _streamed(path, [data])
    mended = path.with_name("mended.csv")  # (the mending writes a copy and renames it)
    mended.write_bytes(data.replace(b"c,d", b"x,y"))
    os.replace(mended, path)
    assert output_sha256(path) == "read"
    _streamed(path, [data])
    with path.open("ab") as fh:
        fh.write(b"e,f\n")
    assert output_sha256(path) == "read" and reads == [path, path]


def test_a_streamed_file_stopped_by_an_error_leaves_no_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "half.csv"
    with pytest.raises(RuntimeError), StreamedFile(path) as out:
        out.write(b"a,b\n")
        raise RuntimeError("stopped")
    monkeypatch.setattr(files, "sha256_file", lambda p, halt=None: "read")
    assert output_sha256(path) == "read"


def test_a_streamed_file_thrown_away_takes_its_digest_with_it(tmp_path: Path) -> None:
    """A file written whole and then not kept (the files of a failed check) leaves no
    digest behind: a server that makes many runs keeps none."""
    before = dict(files._STREAMED)
    path = tmp_path / "copy.csv"
    _streamed(path, [b"a,b\n" * 10])
    assert len(files._STREAMED) == len(before) + 1
    discard(path)
    assert not path.exists() and before == files._STREAMED
    discard(path)  # (gone already)


def test_a_streamed_file_lets_its_pages_go_as_it_writes_until_that_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 1 MB here (32 MB in a run) the written pages are let go of the page cache (the
    real call, watched); once letting go waits too long (a disk slower than the writing) or
    fails (a file system without it), the rest of the file is left to the page cache. The
    file is whole either way."""
    monkeypatch.setattr(files, "_LET_GO_EVERY", 1 << 20)
    piece = bytes(range(256)) * 2048  # 512 KB
    advice = os.posix_fadvise

    def watched(slow_at: int | None = None, fails_at: int | None = None) -> list[int]:
        calls: list[int] = []

        def posix_fadvise(fd: int, offset: int, length: int, how: int) -> None:
            assert (offset, length, how) == (0, 0, os.POSIX_FADV_DONTNEED)
            calls.append(os.fstat(fd).st_size)
            advice(fd, offset, length, how)
            if len(calls) == slow_at:
                files.time.sleep(files._LET_GO_WAIT + 0.05)
            if len(calls) == fails_at:
                raise OSError("not supported")

        monkeypatch.setattr(os, "posix_fadvise", posix_fadvise)
        path = tmp_path / f"out-{slow_at}-{fails_at}.csv"
        assert _streamed(path, [piece] * 10) == path.read_bytes()
        return calls

    mib = 1 << 20
    assert watched() == [mib, 2 * mib, 3 * mib, 4 * mib, 5 * mib]
    assert watched(slow_at=2) == [mib, 2 * mib]
    assert watched(fails_at=1) == [mib]
