"""clearslate benchmark: ratios to a bare DuckDB floor, measured in one run on one machine.

Absolute seconds depend on the machine and on whatever else runs on it, so this benchmark
never passes or fails on a time. It measures, in the same invocation and interleaved round by
round, what DuckDB alone needs to read (and write) the same file, and reports clearslate's time
as a ratio to that floor:

    floor A   bare DuckDB: SELECT count(*) FROM read_csv(F, header=true, all_varchar=true)
    floor B   bare DuckDB: COPY (SELECT * FROM read_csv(F, ...)) TO 'x.csv'  (read + write once)
    floor B'  floor B at DuckDB's own default memory limit (80% of RAM), not --memory-limit
    run       clearslate run --no-gogen-bundle      ratio to floor A, target <= 2.0
    full      clearslate run (with the gogen bundle) ratio to floor B, target <= 1.5,
              and (a second row, same samples) to floor B'
    gogen     gogen 0.2.13 (only with --gogen PATH)  ratio to floor B, for comparison
    help      clearslate --help                     start-up, target < 0.5 s

Every floor and clearslate get --memory-limit (default 1GB, clearslate's own default), except
floor B'. Within 1GB DuckDB's ordered COPY is held back: at 1M rows floor B took 7.0-8.5 s
where floor B' took 4.8-5.5 s; at 10M rows 120-151 s against 55-62 s (with 4.8 GiB of
memory). Floor B' is the bare copy with nothing held back; the full run is shown against both.

Each is a separate subprocess. Wall time is measured around it; peak memory two ways:
"tree MiB" is the sum of the RSS of the child and all its descendants, polled with psutil every
50 ms (a sampled peak: a spike shorter than 50 ms can be missed), and "maxrss MiB" is the
kernel's exact ru_maxrss of the child from os.wait4 (the largest single process, not a sum).

Inputs are generated with clearslate.synth into bench/out/ (git-ignored) and reused.

    python bench/run_bench.py --rows 50000,1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import psutil
except ImportError:  # the tree peak needs psutil; ru_maxrss from os.wait4 does not
    psutil = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"
COUNTY = "LOS ANGELES"
COMPUTE_AT = "2020-07-01"
POLICY = "dismiss-all"
POLL_SECONDS = 0.05
MIB = 1024 * 1024

# gogen/BEAR eligibility options equivalent to clearslate's shipped dismiss-all policy (BEAR's
# defaults), given to gogen so that both programs decide the same way.
GOGEN_OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358", "11359", "11360"], "reduce": []},
    "additionalRelief": {
        "subjectUnder21AtConviction": False,
        "subjectAgeThreshold": 0,
        "yearsSinceConvictionThreshold": 5,
        "yearsCrimeFreeThreshold": 5,
        "subjectIsDeceased": False,
        "subjectHasOnlyProp64Charges": True,
    },
}

# What each measurement is compared with, and the target of that ratio (or of its seconds).
TARGETS = {
    "floor A": (None, None),
    "floor B": (None, None),
    "floor B default": (None, None),
    "run": ("floor A", 2.0),
    "full": ("floor B", 1.5),
    "full vs B default": ("floor B default", 1.5),  # the full run's samples again
    "statewide": ("full", None),  # --county ALL: every county's bundle in one pass
    "gogen": ("floor B", None),
    "help": (None, 0.5),  # seconds, not a ratio
}
SHORT = {"floor B default": "floor B'"}  # the name the table's target column gives
LABELS = {
    "floor A": "floor A: duckdb count(*)",
    "floor B": "floor B: duckdb COPY csv",
    "floor B default": "floor B': the same, DuckDB's default limit",
    "full vs B default": "clearslate run (full), vs floor B'",
    "run": "clearslate run --no-gogen-bundle",
    "full": "clearslate run (full)",
    "statewide": "clearslate run --county ALL",
    "gogen": "gogen 0.2.13",
    "help": "clearslate --help",
}


@dataclass
class Sample:
    seconds: float
    tree_peak_mib: float | None  # psutil: sum of RSS over the process tree, sampled
    maxrss_mib: float  # os.wait4: ru_maxrss of the largest single process
    exit_code: int
    log: str
    error: str = ""
    cpu_seconds: float = 0.0  # os.wait4: user + system CPU time of the child (all its threads)


@dataclass
class Measure:
    name: str
    rows: int | None
    samples: list[Sample] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.exit_code == 0]


def _child_env() -> dict[str, str]:
    """The children import clearslate from this work tree, whatever is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child that just ended
            total += p.memory_info().rss
    return total


def measure(cmd: list[str], log: Path, env: dict[str, str]) -> Sample:
    """Run `cmd` once; its wall time and peak memory (see the module docstring)."""
    peak = [0]
    stop = threading.Event()

    def poll(pid: int) -> None:
        try:
            root = psutil.Process(pid)
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_rss(root))
                stop.wait(POLL_SECONDS)
        except psutil.Error:
            return

    with log.open("wb") as fh:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, env=env
        )
        poller = None
        if psutil is not None:
            poller = threading.Thread(target=poll, args=(proc.pid,), daemon=True)
            poller.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        stop.set()
        if poller is not None:
            poller.join()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    return Sample(
        seconds=seconds,
        tree_peak_mib=peak[0] / MIB if psutil is not None else None,
        maxrss_mib=usage.ru_maxrss * 1024 / MIB,  # Linux: KiB
        exit_code=code,
        log=str(log),
        error="" if code == 0 else _last_error(log),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def _last_error(log: Path) -> str:
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "rror" in ln or "clearslate:" in ln:
            return ln[:160]
    return lines[-1][:160] if lines else "no output"


def ensure_input(out: Path, rows: int, seed: int) -> Path:
    path = out / f"doj_la_{rows}_s{seed}.csv"
    if path.exists():
        print(f"input  {path} (reused, {path.stat().st_size / MIB:,.0f} MiB)", flush=True)
        return path
    sys.path.insert(0, str(SRC))
    from clearslate.synth import generate_doj_file

    started = time.perf_counter()
    stats = generate_doj_file(path, county=COUNTY, rows=rows, seed=seed)
    print(
        f"input  {path} (generated in {time.perf_counter() - started:.1f} s, "
        f"{path.stat().st_size / MIB:,.0f} MiB: {stats})",
        flush=True,
    )
    return path


def _duckdb_cmd(sql: str, memory_limit: str | None) -> list[str]:
    """A bare DuckDB running `sql`, within `memory_limit` (None: DuckDB's own default)."""
    config = {} if memory_limit is None else {"memory_limit": memory_limit}
    code = (
        "import duckdb\n"
        f"con = duckdb.connect(config={config!r})\n"
        "con.execute('SET enable_progress_bar = false')\n"
        f"print(con.execute({sql!r}).fetchall())\n"
    )
    return [sys.executable, "-c", code]


def _sql_path(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _clearslate() -> list[str]:
    """The installed console script beside this Python when there is one, as a user runs it."""
    script = Path(sys.executable).with_name("clearslate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "clearslate"]


def commands(
    name: str, src: Path, work: Path, args: argparse.Namespace
) -> tuple[list[str], Path | None]:
    """(command, folder or file to remove after it) of one measurement."""
    read = f"read_csv({_sql_path(src)}, header = true, all_varchar = true)"
    if name == "floor A":
        return _duckdb_cmd(f"SELECT count(*) FROM {read}", args.memory_limit), None
    if name in ("floor B", "floor B default"):
        dest = work / f"floor_b_{src.stem}.csv"
        sql = f"COPY (SELECT * FROM {read}) TO {_sql_path(dest)} (HEADER true)"
        return _duckdb_cmd(sql, args.memory_limit if name == "floor B" else None), dest
    if name in ("run", "full", "statewide"):
        dest = work / f"{name}_{src.stem}"
        cmd = [
            *_clearslate(),
            "run",
            "--input-doj",
            str(src),
            "--county",
            "ALL" if name == "statewide" else COUNTY,
            "--compute-at",
            COMPUTE_AT,
            "--policy",
            POLICY,
            "--outputs",
            str(dest),
            "--force",
            "--no-report",
            "--memory-limit",
            args.memory_limit,
        ]
        return cmd + (["--no-gogen-bundle"] if name == "run" else []), dest
    if name == "gogen":
        dest = work / f"gogen_{src.stem}"
        dest.mkdir(parents=True, exist_ok=True)
        opts = work / "gogen_options.json"
        opts.write_text(json.dumps(GOGEN_OPTIONS, indent=2))
        cmd = [
            str(args.gogen),
            "run",
            "--input-doj",
            str(src),
            "--outputs",
            str(dest),
            "--county",
            COUNTY,
            "--eligibility-options",
            str(opts),
            "--compute-at",
            COMPUTE_AT,
        ]
        return cmd, dest
    if name == "help":
        return [*_clearslate(), "--help"], None
    raise ValueError(name)


def _remove(path: Path | None, keep: bool) -> None:
    if path is None or keep:
        return
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def warm_page_cache(src: Path) -> None:
    """Read the input once, untimed, so that every measure begins with it in the page cache
    as far as the machine's memory holds it. Without this, a 10M-row file (8.2 GB) was read
    partly from the disk by floor A, the first measure of each round, after the runs before
    it had written gigabytes: floor A took 16.6 s against 8.2-8.4 s from the page cache, and
    the ratios to it looked twice as good as they were (thirty-second session)."""
    with src.open("rb") as fh:
        while fh.read(8 << 20):
            pass


def run_rounds(args: argparse.Namespace, inputs: dict[int, Path], work: Path) -> list[Measure]:
    env = _child_env()
    names = ["floor A", "floor B", "floor B default", "run", "full"]
    names += (["statewide"] if args.statewide else []) + (["gogen"] if args.gogen else [])
    results: list[Measure] = []
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for rows, src in inputs.items():
        per = {n: Measure(n, rows) for n in names}
        # Interleaved rounds: a burst of load from other processes hits floor and clearslate
        # alike, and each round gives one ratio.
        for rnd in range(1, args.repeat + 1):
            for name in names:
                cmd, dest = commands(name, src, work, args)
                if dest is not None and dest.is_dir() and name != "gogen":
                    shutil.rmtree(dest, ignore_errors=True)
                tag = name.replace(" ", "_")
                warm_page_cache(src)
                s = measure(cmd, logs / f"{tag}_{rows}_r{rnd}.log", env)
                _remove(dest, args.keep_outputs)
                per[name].samples.append(s)
                status = "ok" if s.exit_code == 0 else f"EXIT {s.exit_code}: {s.error}"
                print(
                    f"  rows={rows:<9,} round {rnd}/{args.repeat}  {LABELS[name]:<34} "
                    f"{s.seconds:8.2f} s  {s.tree_peak_mib or 0:7.0f} MiB  {status}",
                    flush=True,
                )
        # The full run once more, against floor B' (the same samples: nothing is run again).
        per["full vs B default"] = Measure("full vs B default", rows, per["full"].samples)
        results += per.values()
    help_m = Measure("help", None)
    for rnd in range(1, max(5, args.repeat) + 1):
        cmd, _ = commands("help", Path(), work, args)
        help_m.samples.append(measure(cmd, logs / f"help_r{rnd}.log", env))
    print(f"  clearslate --help x{len(help_m.samples)}", flush=True)
    results.append(help_m)
    return results


def _span(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def _ratios(m: Measure, base: Measure) -> list[float]:
    """One ratio per round in which both succeeded (same round = same machine state)."""
    return [
        s.seconds / b.seconds
        for s, b in zip(m.samples, base.samples, strict=False)
        if s.exit_code == 0 and b.exit_code == 0 and b.seconds > 0
    ]


def by_name(results: list[Measure], name: str, rows: int | None) -> Measure:
    return next(m for m in results if m.name == name and m.rows == rows)


def table(results: list[Measure]) -> tuple[list[list[str]], list[dict]]:
    by_key = {(m.name, m.rows): m for m in results}
    head = [
        "rows",
        "measure",
        "seconds med [min-max]",
        "cpu s med",
        "rows/s",
        "tree MiB",
        "maxrss MiB",
        "ratio med [min-max]",
        "target",
        "met",
    ]
    lines, records = [head], []
    for m in results:
        ok = m.ok
        secs = [s.seconds for s in ok]
        base_name, target = TARGETS[m.name]
        ratios: list[float] = []
        if base_name:
            base = by_key.get((base_name, m.rows))
            ratios = _ratios(m, base) if base else []
        failed = len(m.samples) - len(ok)
        if m.name == "help":
            target_s = f"< {target} s"
            met = "met" if secs and statistics.median(secs) < target else "not met"
        elif target is not None:
            target_s = f"<= {target} x {SHORT.get(base_name, base_name)}"
            met = "met" if ratios and statistics.median(ratios) <= target else "not met"
        else:
            target_s = f"(vs {base_name})" if base_name else "-"
            met = "-"
        if failed:
            met = f"{met}; {failed}/{len(m.samples)} FAILED"
        rate = f"{m.rows / statistics.median(secs):,.0f}" if secs and m.rows else "-"
        tree = [s.tree_peak_mib for s in ok if s.tree_peak_mib is not None]
        lines.append(
            [
                f"{m.rows:,}" if m.rows else "-",
                LABELS[m.name],
                _span(secs, "{:.2f}") if secs else "FAILED",
                f"{statistics.median(s.cpu_seconds for s in ok):.1f}" if ok else "-",
                rate,
                _span(tree, "{:.0f}") if tree else "-",
                _span([s.maxrss_mib for s in ok], "{:.0f}") if ok else "-",
                _span(ratios, "{:.2f}"),
                target_s,
                met,
            ]
        )
        records.append(
            {
                "name": m.name,
                "rows": m.rows,
                "samples": [asdict(s) for s in m.samples],
                "ratio_to": base_name,
                "ratios": ratios,
                "target": target,
                "met": met,
            }
        )
    return lines, records


def print_table(lines: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    for n, row in enumerate(lines):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    try:
        import duckdb

        info["duckdb"] = duckdb.__version__
    except ImportError:
        pass
    sys.path.insert(0, str(SRC))
    try:
        from clearslate import __version__

        info["clearslate"] = __version__
    except ImportError:
        pass
    info["psutil"] = getattr(psutil, "__version__", None)
    info["commit"] = _git("rev-parse", "--short", "HEAD")
    # Read-only: --no-optional-locks keeps git from refreshing the index.
    info["src_changed"] = bool(_git("--no-optional-locks", "status", "--porcelain", "src"))
    return info


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip()


def profile(args: argparse.Namespace, inputs: dict[int, Path], work: Path) -> None:
    """Per-stage timings of one in-process run per input (bench/profile_stages.py)."""
    for rows, src in inputs.items():
        dest = work / f"profile_{src.stem}"
        cmd = [
            sys.executable,
            str(HERE / "profile_stages.py"),
            "--input",
            str(src),
            "--outputs",
            str(dest),
            "--memory-limit",
            args.memory_limit,
        ]
        print(f"\nStage profile, {rows:,} rows (one run, full bundle):", flush=True)
        subprocess.run(cmd, env=_child_env(), check=False)
        _remove(dest, args.keep_outputs)


def _row_counts(text: str) -> list[int]:
    try:
        counts = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--rows: {exc}") from exc
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--rows: one or more positive row counts")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--rows",
        type=_row_counts,
        default=[1_000_000],
        help="row counts, comma-separated (default 1000000), e.g. 50000,1000000",
    )
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="interleaved rounds per row count (default 3)"
    )
    ap.add_argument(
        "--memory-limit",
        default="1GB",
        help="DuckDB memory limit for clearslate (--memory-limit) and the floors (default 1GB, "
        "clearslate's default)",
    )
    ap.add_argument("--gogen", type=Path, help="a gogen 0.2.13 binary to measure as well")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="cache and work folder")
    ap.add_argument("--profile", action="store_true", help="also print a per-stage profile")
    ap.add_argument(
        "--statewide",
        action="store_true",
        help="also run --county ALL (a bundle per county) and compare it with the full run",
    )
    ap.add_argument("--keep-outputs", action="store_true", help="keep the measured outputs")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.gogen and not os.access(args.gogen, os.X_OK):
        ap.error(f"--gogen {args.gogen}: not an executable file")
    if psutil is None:
        print("psutil is not installed: tree MiB is not measured (maxrss MiB still is).")

    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    work.mkdir(exist_ok=True)
    info = machine()
    print(
        f"clearslate bench {info['date']}: nproc {info['nproc']}, "
        f"{info.get('memory_gib')} GiB, {info.get('cpu', '?')}, load {info['loadavg_start']}, "
        f"duckdb {info.get('duckdb')}, clearslate {info.get('clearslate')} "
        f"({info['commit']}{' + local changes in src' if info['src_changed'] else ''}), "
        f"memory limit {args.memory_limit}, {args.repeat} round(s)",
        flush=True,
    )
    inputs = {rows: ensure_input(args.out, rows, args.seed) for rows in args.rows}
    results = run_rounds(args, inputs, work)
    info["loadavg_end"] = os.getloadavg()
    lines, records = table(results)
    print()
    print_table(lines)
    print(
        "\nseconds: wall time of the whole subprocess (interpreter start-up included), each "
        "begun with the input read once into the page cache (as far as memory holds it); ratio: "
        "per round, to the floor of the same round. cpu s: user + system CPU time of the child "
        "(os.wait4): a measure that keeps more cores busy than its floor is slowed more than "
        "the floor by other load on the machine. tree MiB: psutil sum of RSS over the process "
        "tree, polled every 50 ms; maxrss MiB: ru_maxrss of the child (os.wait4)."
    )
    if args.gogen:
        for rows in inputs:
            full, gogen = by_name(results, "full", rows), by_name(results, "gogen", rows)
            vs = _ratios(full, gogen)
            print(f"clearslate full / gogen, {rows:,} rows: {_span(vs, '{:.2f}')}")
    report = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    report["results"] = records
    out_json = args.out / "last_run.json"
    out_json.write_text(json.dumps(report, indent=2, default=str))
    print(f"raw figures: {out_json}")
    if args.profile:
        profile(args, inputs, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
