"""Whole files or none: every output is written under a temporary name and renamed into
place only when complete. Files holding personal data are readable by their owner only."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from clearslate.database import sql_string
from clearslate.idle_work import Steps, run_steps

if TYPE_CHECKING:
    import duckdb

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PARTIAL_PREFIX = ".partial-"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it to `path`. A `path` that
    is itself temporary (a caller's own `.partial-` name) is written in place."""
    tmp = (
        path if path.name.startswith(PARTIAL_PREFIX) else path.with_name(PARTIAL_PREFIX + path.name)
    )
    try:
        yield tmp
        if not tmp.exists():  # a writer that wrote nothing still leaves a whole, empty file
            tmp.touch()
        os.chmod(tmp, PRIVATE_FILE)
        if tmp != path:
            publish(tmp, path)
    except BaseException:
        discard(tmp)
        raise


# The results folders of the runs under way in this process, each with the files put in
# place in it (or in a folder under it) so far: a run that stops removes them (all_or_none).
_UNDER_WAY: dict[Path, list[Path]] = {}
_UNDER_WAY_LOCK = threading.Lock()


def publish(tmp: Path, path: Path) -> None:
    """Put the whole file `tmp` in place as `path`, and note it for the run under way in a
    folder above it, if any."""
    os.replace(tmp, path)
    if _UNDER_WAY:
        placed = path.resolve()
        with _UNDER_WAY_LOCK:
            for folder, placed_there in _UNDER_WAY.items():
                if folder in placed.parents:
                    placed_there.append(placed)


@contextmanager
def all_or_none(folder: Path) -> Iterator[None]:
    """Keep the files put in place under `folder` while the block runs only if it completes.
    A run that stops half way (a full disk, an error, Ctrl-C) then leaves none of its
    results, not only no partial file: a 20M-row run that filled the disk in its last file
    left 22 GB of whole ones, the very space the next attempt needed. Folders under `folder`
    left empty (a county's) go too. Files it did not write (the office's own) stay."""
    root = folder.resolve()
    with _UNDER_WAY_LOCK:
        if root in _UNDER_WAY:
            raise RuntimeError(f"{folder}: a run in this process writes here already")
        placed = _UNDER_WAY[root] = []
    try:
        yield
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        for made in {path.parent for path in placed} - {root}:  # a county's, left empty
            with contextlib.suppress(OSError):
                made.rmdir()
        raise
    finally:
        with _UNDER_WAY_LOCK:
            del _UNDER_WAY[root]


def copy_to(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> None:
    """DuckDB's COPY of `query` to `path`, whole or none, in the query's row order, on one
    thread. A parallel COPY that keeps the order holds each thread's row group of output in
    memory until its turn (some 100 MB each for the gogen bundle's lines): at 10M rows it ran
    out of memory at the default 1GB. On one thread it streams, and was faster as well (1M
    rows: All_Results 1.7-2.3 s against 5.4 s, determinations.csv 0.75 s against 1.1-1.5 s)."""
    with one_thread(con), atomic_path(path) as tmp:
        _copy(con, query, tmp, options)


def copy_each(
    con: duckdb.DuckDBPyConnection, copies: Sequence[tuple[str, Path, str]], at_once: bool = True
) -> None:
    """Several `copy_to`s (query, path, options) at once, each on a thread and a cursor of
    its own: a one-thread COPY leaves the other cores idle. All files are written, or none.
    (The queries see the connection's tables but not its TEMP ones: a cursor is a
    connection of its own.) With `at_once` false, one after the other, in less memory."""
    with one_thread(con), contextlib.ExitStack() as files:
        tmps = [files.enter_context(atomic_path(path)) for _, path, _ in copies]
        if not at_once:
            for (query, _, options), tmp in zip(copies, tmps, strict=True):
                _copy(con, query, tmp, options)
            return
        (query, _, options), *others = copies
        cursors = [con.cursor() for _ in others]
        pool = ThreadPoolExecutor(max_workers=max(1, len(others)))
        try:
            done = [
                pool.submit(_copy, cursor, q, tmp, o)
                for cursor, (q, _, o), tmp in zip(cursors, others, tmps[1:], strict=True)
            ]
            try:
                _copy(con, query, tmps[0], options)
                for future in done:
                    future.result()  # waits here, where a signal interrupts them too
            except BaseException:
                for cursor in cursors:
                    with contextlib.suppress(Exception):
                        cursor.interrupt()
                raise
        finally:
            # a cursor closes only once its query has ended (see gogen_bundle._with_full_rows)
            pool.shutdown(wait=True)
            for cursor in cursors:
                cursor.close()


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> None:
    con.execute(f"COPY ({query}) TO {sql_string(str(path))} ({options})")


@contextmanager
def one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread for a while: a streamed result in order (see copy_to)."""
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {threads}")


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    if compact:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    write_text(path, text)


def make_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)


def remove_partials(path: Path) -> None:
    """A run that was killed may have left temporary files; they are never results."""
    for p in path.glob(f"{PARTIAL_PREFIX}*"):
        p.unlink(missing_ok=True)


class HashingStopped(Exception):
    """`sha256_file` was told to stop before the file's end."""


# A streamed output's pages are let go of every 32 MB written, unless letting go waits more
# than 0.1 s: the disk is then slower than the writing (see StreamedFile).
_LET_GO_EVERY, _LET_GO_WAIT = 32 << 20, 0.1

# The SHA-256 of each file written whole through StreamedFile, by what identifies the file
# as it was closed: device, inode, size, modification time (`output_sha256`).
_STREAMED: dict[tuple[int, int, int, int], str] = {}


def _identity(seen: os.stat_result) -> tuple[int, int, int, int]:
    return (seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns)


class StreamedFile:
    """A large output written in large pieces (the gogen bundle's All_Results: 850 MB at 1M
    rows), its SHA-256 taken as it is written, so that the manifest need not read it back
    (`output_sha256`), and its pages let go of the page cache as they reach the disk, 32 MB
    at a time (Linux, `posix_fadvise`).

    Why let them go: on a virtual machine whose memory the host backs on first touch (as
    the ones this was measured on), a page the page cache takes fresh cost the kernel a
    fault to the host: writing the 822 MB of a 1M-row file took 2.1-2.5 s of system time,
    and 0.5-0.6 s as a StreamedFile, whose few pages are let go and taken again
    (bench/experiments.py pagecache).
    A disk slower than the writing would make the writer wait for it: once letting go
    waits more than 0.1 s, the rest of the file is left to the page cache, as before."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self._sha256 = hashlib.sha256()
        self._since_let_go = 0
        self._let_go = hasattr(os, "posix_fadvise")

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._sha256.update(data)  # (lets go of the GIL)
        self._since_let_go += len(data)
        if self._let_go and self._since_let_go >= _LET_GO_EVERY:
            self._since_let_go = 0
            started = time.perf_counter()
            self._file.flush()
            try:
                # Starts writing back what is not on disk yet, and lets go of what is: of
                # the whole file, so that what was written back since the last time goes too.
                os.posix_fadvise(self._file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:  # (a file system that does not take the advice)
                self._let_go = False
            else:
                self._let_go = time.perf_counter() - started <= _LET_GO_WAIT

    def __enter__(self) -> StreamedFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self._file:
            if kind is None:
                self._file.flush()
                seen = os.fstat(self._file.fileno())
                _STREAMED[_identity(seen)] = self._sha256.hexdigest()


def output_sha256(path: Path, halt: threading.Event | None = None) -> str:
    """The SHA-256 of an output of this run: as it was taken while the file was written
    (a StreamedFile), if it is that file still (the same inode: a renamed file keeps it, a
    rewritten copy renamed over it does not; the same size and modification time), else
    read from the file (`sha256_file`). Checks of files against a manifest read them.
    (Taken once: a process that makes many runs, the workspace's server, keeps none.)"""
    seen = path.stat()
    streamed = _STREAMED.pop(_identity(seen), None)
    return streamed or sha256_file(path, halt)


def discard(path: Path) -> None:
    """Remove a file that is not an output after all (a StreamedFile's digest with it)."""
    try:
        seen = path.stat()
    except FileNotFoundError:
        return
    _STREAMED.pop(_identity(seen), None)
    path.unlink(missing_ok=True)


def sha256_file(path: Path, halt: threading.Event | None = None) -> str:
    """SHA-256 of a file, read in 8 MB chunks (inputs may be gigabytes). Once `halt` is set
    it stops at the next chunk with HashingStopped: a stopped run then exits at once instead
    of when an 8 GB input's hash is done (some 20 s)."""
    return run_steps(sha256_steps(path, halt))


def sha256_steps(path: Path, halt: threading.Event | None = None) -> Steps[str]:
    """`sha256_file` a chunk at a time (`IdleWork`'s steps)."""
    h = hashlib.sha256()
    chunk = memoryview(bytearray(8 * 1024 * 1024))  # (one buffer, read into again and again)
    with path.open("rb", buffering=0) as fh:
        while size := fh.readinto(chunk):
            if halt is not None and halt.is_set():
                raise HashingStopped(str(path))
            h.update(chunk[:size])
            yield
    return h.hexdigest()
