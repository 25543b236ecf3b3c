"""Reproduce DuckDB 2.0.0's deadlock of a COPY that stops early, with DuckDB alone.

A COPY whose query fails near its end (here `error()` on the last row) is repeated on one
connection, one thread. With DuckDB's asynchronous file writes on (`async_threads`, 8 by
default) some try never returns: the query's thread holds the write queue's lock while it
waits for the queued write tasks, and the I/O thread running one of them waits for that lock
(docs/upstream/duckdb-copy-deadlock.md). With `async_threads = 0` it always returns, which is
why clearslate opens every database so (`clearslate.database`). DuckDB 2.0.1 did not hang
with the async threads on, in 68,000 tries (2026-11-25).

The loop runs in a child process that prints each hundredth try; the parent reports how many
tries passed before the child stopped answering, so a hang ends this script instead of
holding it.

    python bench/duckdb_copy_deadlock.py                    # DuckDB's default: 2.0.0 hangs
    python bench/duckdb_copy_deadlock.py --async-threads 0  # clearslate's setting: no hang
"""

from __future__ import annotations

import argparse
import queue
import subprocess
import sys
import tempfile
import threading

CHILD = """
import sys
import duckdb

async_threads, tries, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
config = {} if async_threads == "default" else {"async_threads": int(async_threads)}
con = duckdb.connect(config=config)
con.execute("CREATE TABLE t AS SELECT i, 'row ' || i AS text FROM range(5000) t(i)")
con.execute("SET threads = 1")
failing = "SELECT i, CASE WHEN i = 4999 THEN error('bad row') END FROM t"
for n in range(1, tries + 1):
    try:
        con.execute(f"COPY ({failing}) TO '{folder}/x.csv' (FORMAT csv)")
    except duckdb.Error as exc:
        assert "bad row" in str(exc), exc
    if n % 100 == 0:
        print(n, flush=True)
print("done", flush=True)
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--async-threads", default="default", help="DuckDB's async_threads")
    ap.add_argument("--tries", type=int, default=5000)
    ap.add_argument(
        "--stall", type=float, default=30.0, help="seconds without progress that count as a hang"
    )
    args = ap.parse_args(argv)
    import duckdb

    print(f"duckdb {duckdb.__version__}, async_threads {args.async_threads}, {args.tries} tries")
    with tempfile.TemporaryDirectory(prefix="duckdb-copy-deadlock-") as folder:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, args.async_threads, str(args.tries), folder],
            stdout=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(x) for x in child.stdout or ()], daemon=True
        ).start()
        passed = 0
        try:
            while True:
                try:
                    line = lines.get(timeout=args.stall).strip()
                except queue.Empty:
                    if child.poll() is not None:  # it ended without "done": it failed
                        print(f"the loop failed after {passed} tries (exit {child.returncode})")
                        return 2
                    print(f"HUNG: no progress for {args.stall:.0f} s after {passed} tries")
                    return 1
                if line == "done":
                    break
                passed = int(line)
        finally:
            child.kill()
            child.wait()
    print(f"no hang in {args.tries} tries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
