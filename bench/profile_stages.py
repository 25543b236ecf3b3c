"""Where a clearslate run spends its time: one in-process run, every stage timed.

It calls `clearslate.run.run` as the CLI does, with timers wrapped around the functions that
`run._run` calls (found by name; a name that is gone is skipped), and around every SQL
statement sent to the run's DuckDB connection. It prints a tree in call order:
inclusive seconds, the process's CPU seconds in them (user + system, all threads: a stage
at 1 CPU-second per second left a core idle on a 2-core machine), the peak RSS so far
(ru_maxrss) at the end of the stage, and the SQL statements that took at least --min-sql
seconds.

    PYTHONPATH=src python bench/profile_stages.py --input bench/out/doj_la_1000000_s1.csv \
        --outputs /tmp/prof [--no-gogen-bundle] [--statewide] [--memory-limit 1GB]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib
import json
import os
import re
import resource
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

COUNTY = "LOS ANGELES"
COMPUTE_AT = dt.date(2020, 7, 1)

# (module, function) pairs to time, the module being the one whose global the caller reads.
WRAP = [
    ("clearslate.run", "read_doj_files"),
    ("clearslate.sources.ca_doj", "runaway_lines"),
    ("clearslate.sources.ca_doj", "_read_one_file"),
    ("clearslate.sources.ca_doj", "_read_segment"),
    ("clearslate.sources.ca_doj", "_join_facts"),
    ("clearslate.sources.ca_doj", "_reject_header_lines"),
    ("clearslate.run", "decide_rows"),
    ("clearslate.engine.pipeline", "build_facts"),
    ("clearslate.engine.facts", "build_row_facts"),
    ("clearslate.engine.facts", "classify_distinct_charges"),
    ("clearslate.engine.facts", "build_rows"),
    ("clearslate.engine.facts", "build_convictions"),
    ("clearslate.engine.facts", "build_subjects"),
    ("clearslate.engine.pipeline", "build_evaluated"),
    ("clearslate.engine.pipeline", "build_rules"),
    ("clearslate.engine.pipeline", "decide"),
    ("clearslate.run", "_check_accounting"),
    ("clearslate.run", "_write_bundles"),
    ("clearslate.run", "build_bundle_rows"),
    ("clearslate.run", "write_bundle"),
    ("clearslate.run", "write_county_bundles"),
    ("clearslate.run", "write_determinations"),
    ("clearslate.run", "_errors_csv"),
    ("clearslate.run", "gogen_summary"),
    ("clearslate.run", "clearslate_summary"),
    ("clearslate.run", "_manifest"),
]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    return sum(os.times()[:2])


class Timer:
    def __init__(self) -> None:
        # [depth, label, seconds, peak MiB, is_sql, CPU seconds]
        self.events: list[list[Any]] = []
        self.depth = 0

    @contextmanager
    def span(self, label: str, sql: bool = False) -> Iterator[None]:
        index = len(self.events)
        self.events.append([self.depth, label, None, None, sql, None])
        self.depth += 1
        started, cpu = time.perf_counter(), _cpu_seconds()
        try:
            yield
        finally:
            self.depth -= 1
            self.events[index][2] = time.perf_counter() - started
            self.events[index][3] = _peak_mib()
            self.events[index][5] = _cpu_seconds() - cpu

    def wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.span(label):
                return fn(*args, **kwargs)

        return timed


def _sql_head(sql: str) -> str:
    text = re.sub(r"\s+", " ", sql).strip()
    # The 95 column names and read_csv options say nothing: keep the statement's opening.
    text = re.sub(r"\{'[A-Z_]+': 'VARCHAR'.*?\}", "{…95 columns…}", text)
    return text[:64] + ("…" if len(text) > 64 else "")


class TimedConnection:
    """A DuckDB connection whose execute() calls are timed; everything else is passed on."""

    def __init__(self, con: Any, timer: Timer) -> None:
        self._con = con
        self._timer = timer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        with self._timer.span("SQL " + _sql_head(sql), sql=True):
            return self._con.execute(sql, *args, **kwargs)

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        with self._timer.span("SQL many " + _sql_head(sql), sql=True):
            return self._con.executemany(sql, *args, **kwargs)


def install(timer: Timer) -> None:
    for module_name, name in WRAP:
        module = importlib.import_module(module_name)
        fn = getattr(module, name, None)
        if fn is None:
            print(f"(not timed: {module_name}.{name} is gone)", file=sys.stderr)
            continue
        setattr(module, name, timer.wrap(fn, name))
    run_mod = importlib.import_module("clearslate.run")
    connect = run_mod.connect
    run_mod.connect = lambda *a, **k: TimedConnection(connect(*a, **k), timer)


def report(timer: Timer, total: float, cpu: float, min_sql: float) -> None:
    print(f"{'stage':<80} {'seconds':>8} {'share':>6} {'cpu s':>6} {'peak MiB':>9}")
    for depth, label, seconds, peak, is_sql, cpu_s in timer.events:
        if seconds is None or (is_sql and seconds < min_sql):
            continue
        name = ("  " * depth + label)[:80]
        print(f"{name:<80} {seconds:8.2f} {seconds / total:6.1%} {cpu_s:6.2f} {peak:9.0f}")
    total_label = "total (clearslate.run.run)"
    print(f"{total_label:<80} {total:8.2f} {1:6.1%} {cpu:6.2f} {_peak_mib():9.0f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", type=Path, required=True, action="append")
    ap.add_argument("--outputs", type=Path, required=True)
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-gogen-bundle", action="store_true")
    ap.add_argument("--statewide", action="store_true", help="--county ALL")
    ap.add_argument("--min-sql", type=float, default=0.2, help="show SQL at least this long")
    ap.add_argument("--json", type=Path, help="also write the events as JSON")
    args = ap.parse_args(argv)

    timer = Timer()
    install(timer)
    from clearslate.policy import load_policy, shipped_policy
    from clearslate.run import RunOptions, run

    policy_path = shipped_policy("dismiss-all")
    opts = RunOptions(
        inputs=args.input,
        outputs=args.outputs,
        counties=None if args.statewide else [COUNTY],
        as_of=COMPUTE_AT,
        policy=load_policy(policy_path),
        policy_source=str(policy_path),
        gogen_bundle=not args.no_gogen_bundle,
        force=True,
        memory_limit=args.memory_limit,
        threads=args.threads,
    )
    started, cpu = time.perf_counter(), _cpu_seconds()
    try:
        run(opts)
    except Exception as exc:  # report how far it got: that is the point of a profile
        print(f"run failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        # where: the frames of the error under it (code lines only: its text may quote data)
        cause = exc.__cause__ or exc
        print(f"  from {type(cause).__name__} at:")
        for frame in traceback.extract_tb(cause.__traceback__):
            print(f"    {Path(frame.filename).name}:{frame.lineno} {frame.name}")
        code = 1
    else:
        code = 0
    total, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    report(timer, total, cpu, args.min_sql)
    if args.json:
        events = {"total": total, "cpu": cpu, "events": timer.events}
        args.json.write_text(json.dumps(events, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main())
