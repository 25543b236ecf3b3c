"""The benchmark runs end to end and reports what it measured (bench/run_bench.py).

The bench never passes or fails on a time; these tests check that it measures every floor and
run, and that each ratio is the quotient of the samples it names, on a small generated file."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, str(REPO / "bench" / "run_bench.py"), "--rows", "2000"]
    done = subprocess.run(
        [*command, "--repeat", "1", "--out", str(out), "--profile"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((out / "last_run.json").read_text()), done.stdout


def test_every_measure_ran_and_succeeded(bench_run: tuple[dict, str]) -> None:
    report, _ = bench_run
    by_name = {r["name"]: r for r in report["results"]}
    assert set(by_name) == {
        "floor A", "floor B", "floor B default", "run", "full", "full vs B default", "help",
    }  # fmt: skip
    for result in report["results"]:
        assert result["samples"], result["name"]
        for sample in result["samples"]:
            assert sample["exit_code"] == 0, (result["name"], sample["error"])
            assert sample["seconds"] > 0 and sample["cpu_seconds"] > 0
            assert sample["maxrss_mib"] > 0


def test_each_ratio_is_its_run_over_its_floor_of_the_same_round(
    bench_run: tuple[dict, str],
) -> None:
    report, _ = bench_run
    by_name = {r["name"]: r for r in report["results"]}
    pairs = {
        "run": "floor A",
        "full": "floor B",
        "full vs B default": "floor B default",  # the full run's own samples, again
    }
    for name, floor in pairs.items():
        result = by_name[name]
        assert result["ratio_to"] == floor
        expected = [
            s["seconds"] / f["seconds"]
            for s, f in zip(result["samples"], by_name[floor]["samples"], strict=True)
        ]
        assert result["ratios"] == pytest.approx(expected)
        assert result["met"] in ("met", "not met")
    assert by_name["full vs B default"]["samples"] == by_name["full"]["samples"]


def test_the_floors_differ_only_in_their_memory_limit(
    bench_run: tuple[dict, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stdout = bench_run
    spec = importlib.util.spec_from_file_location("run_bench", REPO / "bench" / "run_bench.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look it up there
    spec.loader.exec_module(bench)
    args = argparse.Namespace(memory_limit="1GB")
    limited, dest = bench.commands("floor B", Path("in.csv"), Path("work"), args)
    default, dest_default = bench.commands("floor B default", Path("in.csv"), Path("work"), args)
    assert dest == dest_default
    assert "{'memory_limit': '1GB'}" in limited[-1]
    assert default[-1] == limited[-1].replace("{'memory_limit': '1GB'}", "{}")
    assert "floor B': the same, DuckDB's default limit" in stdout


def test_the_stage_profile_shows_cpu_seconds(bench_run: tuple[dict, str]) -> None:
    _, stdout = bench_run
    profile = stdout[stdout.index("Stage profile") :]
    header = next(line for line in profile.splitlines() if line.startswith("stage"))
    assert header.split()[1:] == ["seconds", "share", "cpu", "s", "peak", "MiB"]
    total = next(line for line in profile.splitlines() if line.startswith("total"))
    seconds, _share, cpu, peak = total.split()[-4:]
    assert float(seconds) > 0 and float(cpu) > 0 and float(peak) > 0


def test_the_update_reproducer_runs_and_counts_the_rows_it_set() -> None:
    """`bench/duckdb_update_in_ranges.py` (the upstream report's reproducer) sets every row
    it is to set, in one UPDATE and in ranges, in memory and in a file; a tiny memory
    limit is reported as DuckDB running out of memory, not as a crash."""
    spec = importlib.util.spec_from_file_location(
        "duckdb_update_in_ranges", REPO / "bench" / "duckdb_update_in_ranges.py"
    )
    assert spec is not None and spec.loader is not None
    reproducer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reproducer)
    for statements, in_file in [(1, False), (8, True)]:
        assert reproducer.update(20_000, 2_200, statements, in_file, "1GB").endswith(" s")
    tiny = reproducer.update(200_000, 100_000, 1, False, "4MB")
    assert tiny.startswith("out of memory after ")


def test_the_progress_trace_follows_a_run_to_its_end(tmp_path: Path) -> None:
    """`bench/progress_trace.py` reads a run's meter as the bar does: every stage in order,
    the bar never back, full at the end."""
    from clearslate.synth import generate_doj_file

    rows = tmp_path / "rows.csv"
    generate_doj_file(rows, county="LOS ANGELES", rows=3000, seed=2)
    figures = tmp_path / "trace.json"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "progress_trace.py"), "--input", str(rows),
         "--outputs", str(tmp_path / "out"), "--json", str(figures)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(figures.read_text())
    stages = [s["stage"] for s in report["stages"]]
    # (a stage of a small file may be over between two reads: those seen, in order)
    order = ["Starting", "Reading research files", "Deciding", "Writing outputs", "Done"]
    assert stages == sorted(stages, key=order.index)
    assert stages[-1] == "Done" and report["end"] == 1.0
    bars = [s["bar"] for s in report["stages"]]
    assert bars == sorted(bars) and len(report["tenths"]) == 9
    assert "the bar at each tenth of the run's time" in done.stdout


@pytest.mark.parametrize("jurisdiction", ["california", "illinois"])
def test_the_spark_bench_decides_on_both_engines_alike(tmp_path: Path, jurisdiction: str) -> None:
    """`bench/spark_decide.py` decides the same inputs on DuckDB and on Spark, compares the
    two row by row, and prints what it measured."""
    pytest.importorskip("pyspark", reason="the `spark` extra is not installed")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java (java not on PATH)")
    from clearslate.synth import generate_doj_file

    if jurisdiction == "california":
        rows = tmp_path / "rows.csv"
        generate_doj_file(rows, county="LOS ANGELES", rows=3000, seed=4)
        source, decided, least = ["--input", str(rows)], "convictions decided", 100
    else:
        source, decided, least = ["--illinois-people", "300"], "charges decided", 20
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "spark_decide.py"), *source],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    printed = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    if jurisdiction == "california":
        assert printed["rows read"].strip() == "3,000"
    assert int(printed[decided].replace(",", "")) > least
    assert printed["rows that differ"].strip() == "0"
    assert "x DuckDB" in printed["Spark deciding"]


def test_the_small_memory_bench_runs_each_command_within_its_limits(tmp_path: Path) -> None:
    """`bench/small_memory.py` runs floor A and clearslate in a cgroup of little memory and
    throttled reads, the page cache dropped before each: each command completes, its reads
    from the disk are counted (at least the input once: nothing came from the page cache),
    and the run's ratio to floor A is printed."""
    if os.geteuid() != 0 or not Path("/sys/fs/cgroup/blkio").is_dir():
        pytest.skip("needs root and the cgroup v1 memory and blkio controllers")
    from clearslate.synth import generate_doj_file

    path = tmp_path / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=20_000, seed=5)  # 16 MB
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "small_memory.py"), "--input", str(path),
         "--memory", "1536M", "--read-mb", "200", "--full"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = {line.split("  ")[0].strip(): line for line in done.stdout.splitlines()[1:]}
    assert set(lines) == {
        "floor A: duckdb count(*)", "clearslate run --no-gogen-bundle", "clearslate run (full)"
    }  # fmt: skip
    size_mb = path.stat().st_size / 1e6
    for line in lines.values():
        assert line.rstrip().endswith("ok") or " ok  " in line, line
        read_mb = float(line.split(" read ")[1].split("MB")[0].replace(",", ""))
        assert read_mb >= 0.9 * size_mb, line
    assert "x floor A" in lines["clearslate run (full)"]
    assert not list(Path("/sys/fs/cgroup/memory").glob("clearslate-bench-*"))
