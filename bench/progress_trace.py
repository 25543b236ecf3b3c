"""How well a run's progress bar follows the run's time: one in-process run, its RunMeter read
every 0.1 s as the command line's bar reads it.

It prints when each stage began (seconds, and share of the run's time) against where the
bar was then, the bar at each tenth of the run's time, and the largest gap between the bar
and the share of time gone. A bar whose stages' shares (`clearslate.run._Plan`) match the
machine's and the file's keeps that gap small, and its time left (at the run's pace so far)
holds.

    PYTHONPATH=src python bench/progress_trace.py --input bench/out/doj_la_1000000_s1.csv \
        --outputs /tmp/trace [--no-gogen-bundle] [--statewide]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
import time
from pathlib import Path

from clearslate.policy import DEFAULT_POLICY
from clearslate.progress import RunMeter
from clearslate.run import RunOptions, run

COUNTY = "LOS ANGELES"
COMPUTE_AT = dt.date(2020, 7, 1)


def trace(opts: RunOptions, every: float = 0.1) -> tuple[float, list[tuple[float, str, float]]]:
    """The run's seconds, and (seconds, stage, fraction) as the bar read them."""
    meter = RunMeter()
    samples: list[tuple[float, str, float]] = []
    stop = threading.Event()
    started = time.perf_counter()

    def poll() -> None:
        while not stop.wait(every):
            samples.append((time.perf_counter() - started, meter.stage, meter.fraction()))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        run(opts, meter=meter)
    finally:
        stop.set()
        poller.join()
    seconds = time.perf_counter() - started
    samples.append((seconds, meter.stage, meter.fraction()))
    return seconds, samples


def report(seconds: float, samples: list[tuple[float, str, float]]) -> dict[str, object]:
    stages: list[dict[str, object]] = []
    for at, stage, fraction in samples:
        if not stages or stages[-1]["stage"] != stage:
            stages.append({"stage": stage, "seconds": at, "time": at / seconds, "bar": fraction})
    tenths = [min(samples, key=lambda s: abs(s[0] - q * seconds / 10))[2] for q in range(1, 10)]
    worst = max(abs(fraction - at / seconds) for at, _, fraction in samples)
    return {"seconds": seconds, "stages": stages, "tenths": tenths, "worst_gap": worst,
            "end": samples[-1][2]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--outputs", type=Path, required=True)
    ap.add_argument("--no-gogen-bundle", action="store_true")
    ap.add_argument("--statewide", action="store_true", help="--county ALL")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    opts = RunOptions(
        inputs=[args.input],
        outputs=args.outputs,
        counties=None if args.statewide else [COUNTY],
        as_of=COMPUTE_AT,
        policy=DEFAULT_POLICY,
        gogen_bundle=not args.no_gogen_bundle,
        force=True,
    )
    figures = report(*trace(opts))
    print(f"run: {figures['seconds']:.2f} s")
    print(f"{'stage':<24} {'began at':>9} {'of the time':>12} {'bar':>6}")
    for s in figures["stages"]:  # type: ignore[attr-defined]
        print(f"{s['stage']:<24} {s['seconds']:>8.2f}s {s['time']:>12.1%} {s['bar']:>6.1%}")
    tenths = " ".join(f"{f:.0%}" for f in figures["tenths"])  # type: ignore[attr-defined]
    print(f"the bar at each tenth of the run's time: {tenths}")
    print(f"largest gap between the bar and the time gone: {figures['worst_gap']:.1%}")
    print(f"the bar at the end: {figures['end']:.0%}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
