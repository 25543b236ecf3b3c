"""A large research file (1 GB by default) with bad rows scattered in it, run through
`clearslate run`: every good row is read, every bad row is reported on its physical line,
and nothing is lost. Optionally also interrupted (SIGINT, SIGTERM, SIGKILL) at random
moments, each followed by a run that must complete.

    PYTHONPATH=src python fuzz/big_file.py [--rows 1250000] [--bad 25] [--kills 3] [--keep]
        [--memory-limit 4GB]

The file is generated with clearslate.synth into a temporary folder (about 1 GB for
1,250,000 rows; the run needs about 3x that on disk) and removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clearslate.synth import generate_doj_file

SRC = Path(__file__).resolve().parents[1] / "src"
BAD_ROWS = (
    b"999999999,A,TOO FEW FIELDS,#\n",
    b"999999998," + b",".join([b"x"] * 95) + b"\n",  # too many
    b'999999997,A,"OPENS A QUOTE,' + b",".join([b"z"] * 92) + b"\n",  # never closed
)


def insert_bad_rows(path: Path, count: int, rng: random.Random) -> list[int]:
    """Rewrite `path` with `count` bad rows inserted at random line starts; returns their
    physical lines."""
    size = path.stat().st_size
    cuts = sorted(rng.randrange(size // 100, size) for _ in range(count))
    tmp = path.with_suffix(".tmp")
    lines: list[int] = []
    line = 1
    with path.open("rb") as src, tmp.open("wb") as dst:
        pos = 0
        for cut in cuts:
            chunk = src.read(max(cut - pos, 0))
            chunk += src.readline()  # to the end of the line
            pos += len(chunk)
            dst.write(chunk)
            line += chunk.count(b"\n")
            dst.write(rng.choice(BAD_ROWS))
            lines.append(line)
            line += 1
        shutil.copyfileobj(src, dst, 16 * 1024 * 1024)
    os.replace(tmp, path)
    return lines


def run(path: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "clearslate", "run", "--input-doj", str(path), "--county",
         "LOS ANGELES", "--compute-at", "2020-07-01", "--outputs", str(out), "--no-report",
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_250_000)
    ap.add_argument("--bad", type=int, default=25)
    ap.add_argument("--kills", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    # 1 GB with the gogen bundle needs more than the default 1GB (docs/performance.md)
    ap.add_argument("--memory-limit", default="4GB")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="clearslate-big-"))
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(work)}
    try:
        path = work / "big.csv"
        t = time.monotonic()
        generate_doj_file(path, county="LOS ANGELES", rows=args.rows, seed=args.seed)
        bad = insert_bad_rows(path, args.bad, rng)
        print(f"generated {path.stat().st_size / 1e9:.2f} GB, {args.rows:,} rows + "
              f"{len(bad)} bad, in {time.monotonic() - t:.0f} s")  # fmt: skip
        out = work / "out"
        for k in range(args.kills):
            sig = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
            proc = run(path, out, env, "--force", "--memory-limit", args.memory_limit)
            time.sleep(rng.uniform(1, 60))
            if proc.poll() is None:
                proc.send_signal(sig)
            o, e = proc.communicate()
            left = sorted(p.name for p in out.iterdir()) if out.exists() else []
            print(f"kill {k + 1}: {sig.name} -> exit {proc.returncode}; left {left}")
            assert "Traceback" not in o + e
            assert proc.returncode == 0 or not (out / "manifest.json").exists()
        t = time.monotonic()
        proc = run(path, out, env, "--force", "--memory-limit", args.memory_limit)
        o, e = proc.communicate()
        seconds = time.monotonic() - t
        assert proc.returncode == 0, o + e
        summary = json.loads((out / "summary.json").read_text())
        with (out / "errors.csv").open(newline="") as fh:
            errors = [int(r["line"]) for r in csv.DictReader(fh)]
        rows = summary["rows"]
        print(f"run: {seconds:.0f} s; rows {rows}; errors on lines {errors[:10]}...")
        assert rows == {"read": args.rows + len(bad), "accepted": args.rows, "rejected": len(bad)}
        assert errors == bad, (errors, bad)
        assert not [p for p in work.iterdir() if p.name.startswith("clearslate-")]
        print("big_file: OK, 0 rows lost")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
