"""Floor A and clearslate on a machine whose page cache cannot hold the input.

On a 2-core machine with less memory than the input, every read of the input after the
first comes from the disk, where the benches of `run_bench.py` (on a machine that keeps the
file in its page cache) see none of it. This emulates such a machine here: each command runs
in a cgroup (v1) with MEMORY of memory (page cache included) and reads from the input's disk
throttled to READ_MB per second, after the page cache is dropped. Needs root and the cgroup
v1 memory and blkio controllers (as on this project's machines); it says so otherwise.

    sudo python bench/small_memory.py --input bench/out/doj_la_10000000_s1.csv \
        [--memory 3G] [--read-mb 500] [--full]

It prints each command's seconds, the bytes it read from the disk and its peak RSS, and the
ratio of clearslate's run to floor A measured the same way.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run_bench import LABELS, commands  # (bench/ is on the path of a script run from it)

CGROUP = Path("/sys/fs/cgroup")
NAME = "clearslate-bench-small-memory"


def _bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].isalpha() else int(text)


def cgroups(memory: int, read_bps: int, disk: str) -> list[Path]:
    groups = [CGROUP / "memory" / NAME, CGROUP / "blkio" / NAME]
    if not all(g.parent.is_dir() for g in groups):
        sys.exit("small_memory: needs the cgroup v1 memory and blkio controllers")
    for g in groups:
        g.mkdir(exist_ok=True)
    (groups[0] / "memory.limit_in_bytes").write_text(str(memory))
    (groups[1] / "blkio.throttle.read_bps_device").write_text(f"{disk} {read_bps}")
    return groups


def device(path: Path) -> str:
    """The whole disk the file is on, as major:minor (throttling takes disks, not parts)."""
    dev = os.stat(path).st_dev
    major, minor = os.major(dev), os.minor(dev)
    part = Path(f"/sys/dev/block/{major}:{minor}")
    if (part / "partition").exists():
        return (part.resolve().parent / "dev").read_text().strip()
    return f"{major}:{minor}"


def measure(command: list[str], groups: list[Path], log: Path) -> tuple[float, int, int, int]:
    """Seconds, bytes read from the disk, peak RSS (KiB) and exit code of `command`, run in
    `groups` after the page cache is dropped; its output goes to `log`."""

    def enter() -> None:
        for g in groups:
            (g / "cgroup.procs").write_text(str(os.getpid()))

    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3")
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, preexec_fn=enter, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    read = usage.ru_inblock * 512
    return seconds, read, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def remove(groups: list[Path]) -> None:
    for g in groups:
        # (empty once its processes have ended)
        subprocess.run(["rmdir", str(g)], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--memory", default="3G", help="memory of the cgroup (default 3G)")
    parser.add_argument("--read-mb", type=int, default=500, help="MB/s read (default 500)")
    parser.add_argument("--full", action="store_true", help="the full run too (the bundle)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("small_memory: needs root (cgroups and dropping the page cache)")
    groups = cgroups(_bytes(args.memory), args.read_mb * 1_000_000, device(args.input))
    work = Path(tempfile.mkdtemp(prefix="small-memory-"))
    # The commands of run_bench.py's floor A, decisions only and full run, at its 1GB.
    settings = argparse.Namespace(memory_limit="1GB")
    names = ["floor A", "run", *(["full"] if args.full else [])]
    measures = [(LABELS[name], commands(name, args.input, work, settings)[0]) for name in names]
    print(f"{args.input} ({args.input.stat().st_size / 2**30:.1f} GiB), cgroup of "
          f"{args.memory} memory, reads at {args.read_mb} MB/s, page cache dropped before each")  # fmt: skip
    floor_seconds = None
    try:
        for name, command in measures:
            log = work / "output.txt"
            seconds, read, rss, code = measure(command, groups, log)
            ratio = "" if floor_seconds is None else f"  {seconds / floor_seconds:.2f} x floor A"
            floor_seconds = floor_seconds or seconds
            state = "ok" if code == 0 else f"exit {code}"
            print(f"{name:34} {seconds:8.2f} s  read {read / 1e6:8,.0f} MB  "
                  f"peak {rss / 1024:6.0f} MiB  {state}{ratio}")  # fmt: skip
            if code != 0:
                print(log.read_text(errors="replace")[-2000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
        remove(groups)


if __name__ == "__main__":
    main()
