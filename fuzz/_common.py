"""What the fuzz scripts share: their arguments (--examples, --seed), the hypothesis settings
of a long run, and the way a run reports (a line of counts; the first failure, shrunk by
hypothesis, written to the system's temporary folder and the exit code 1)."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory, gettempdir
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st


def run_property(
    script: str,
    *,
    default_examples: int,
    tmp_prefix: str,
    strategies: dict[str, st.SearchStrategy[Any]],
    example: Callable[..., None],
    tried: Callable[[], str],
) -> int:
    """Run `example(tmp, **drawn)` on --examples inputs drawn from `strategies`, in a temporary
    folder `tmp` removed afterwards; print `tried()` and the failures; 1 if a property failed.
    """
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=default_examples)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    failures: list[str] = []

    with TemporaryDirectory(prefix=tmp_prefix) as tmpdir:
        tmp = Path(tmpdir)

        # No deadline, no example database and no health checks: a long run on generated
        # files is slow per example by design, and each run starts from its seed alone.
        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @seed(args.seed)
        @given(**strategies)
        def prop(**drawn: Any) -> None:
            example(tmp, **drawn)

        started = time.monotonic()
        try:
            prop()
        except Exception:
            failures.append(traceback.format_exc())
        seconds = time.monotonic() - started
    print(f"{script}: {tried()}, {len(failures)} failing property, {seconds:.0f} s")
    if failures:
        report = Path(gettempdir()) / f"{script}_failure.txt"
        report.write_text(failures[0])
        print(failures[0][-3000:], file=sys.stderr)
        print(f"the whole report (with the shrunk failing input): {report}", file=sys.stderr)
        return 1
    return 0
