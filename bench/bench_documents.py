"""Benchmark of `clearslate documents`: time and peak memory for a large county.

The target (GitHub issue "Court documents and notice letters"): documents and letters for
66,000 convictions in at most 2 minutes on the project's 2-core machine, with bounded memory.

By default the run is a synthetic determinations table (what `clearslate run` writes) of
--convictions dismissals and reductions, about 1.25 per person as in Los Angeles in 2020,
plus review and not-eligible rows that must stay out, and a synthetic office address file
(clearslate.synth.addresses). With --doj-rows N the run is a real one instead: a generated
research file of N rows through `clearslate run` (slower to prepare).

The command runs as a subprocess (`python -m clearslate.cli_documents documents ...`). Wall
time is measured around it; peak memory two ways: "tree MiB", the summed RSS of the process
and its workers, polled every 50 ms with psutil (a sampled peak), and "maxrss MiB", the
kernel's ru_maxrss of the largest single process (os.wait4 of the command; workers are its
children and count in it only through the largest one).

    python bench/bench_documents.py --convictions 66000 --repeat 1

With --compare-letter-writers it instead runs the whole command twice in one worker process
(--jobs 1, so that CPU seconds compare), once as it is and once with the letter batches
written by reportlab's canvas (layout.CanvasPdf, which writes the court documents) instead of
the letters' own streaming writer (layout.PdfFile), and prints both and their ratio: the
measured reason why the letters keep their own writer (docs/documents.md, "Speed and memory").

    python bench/bench_documents.py --convictions 66000 --compare-letter-writers
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from random import Random

import duckdb

try:
    import psutil
except ImportError:  # the tree peak needs psutil; ru_maxrss does not
    psutil = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"
sys.path.insert(0, str(SRC))

from clearslate.outputs.determinations import FACT_COLUMNS  # noqa: E402
from clearslate.synth.addresses import generate_addresses  # noqa: E402

LIMIT_SECONDS = 120.0
# The command with the letter batches on reportlab's canvas (in-process: --jobs 1).
REPORTLAB_LETTERS = (
    "import sys; from clearslate.documents import layout, letters; "
    "letters.PdfFile = layout.CanvasPdf; from clearslate.cli_documents import _app; "
    "sys.argv[0] = 'clearslate'; _app()()"
)
OFFICE = """\
office_name: Los Angeles County District Attorney's Office
attorney_name: Jane Q. Prosecutor
bar_number: 123456
address: [211 West Temple Street, Suite 1200, "Los Angeles, CA 90012"]
phone: (213) 555-0100
email: prop64@da.example.gov
"""
_LAST = (
    "GARCIA", "HERNANDEZ", "LOPEZ", "MARTINEZ", "GONZALEZ", "RODRIGUEZ", "SMITH", "JOHNSON",
    "WILLIAMS", "BROWN", "JONES", "DAVIS", "MILLER", "WILSON", "MOORE", "TAYLOR", "ANDERSON",
    "THOMAS", "JACKSON", "WHITE", "HARRIS", "MARTIN", "THOMPSON", "ROBINSON", "CLARK", "LEWIS",
    "LEE", "WALKER", "HALL", "ALLEN", "YOUNG", "KING", "WRIGHT", "SCOTT", "GREEN", "BAKER",
    "NGUYEN", "KIM", "PEREZ", "SANCHEZ", "RAMIREZ", "TORRES", "FLORES", "RIVERA", "GOMEZ",
)  # fmt: skip
_FIRST = (
    "JOSE", "JUAN", "LUIS", "CARLOS", "MARIA", "ROSA", "JAMES", "JOHN", "ROBERT", "MICHAEL",
    "WILLIAM", "DAVID", "RICHARD", "JOSEPH", "THOMAS", "CHARLES", "MARY", "PATRICIA", "LINDA",
    "BARBARA", "ELIZABETH", "JENNIFER", "ANTHONY", "DANIEL", "PAUL", "MARK", "DONALD", "KEVIN",
)  # fmt: skip
_SECTIONS = (
    ("11357(A) HS", "ca:hs:11357:a", "11357", False), ("11357(B) HS", "ca:hs:11357:b", "11357", False),
    ("11357(C) HS", "ca:hs:11357:c", "11357", False), ("11358 HS", "ca:hs:11358", "11358", True),
    ("11359 HS", "ca:hs:11359", "11359", True), ("11360(A) HS", "ca:hs:11360:a", "11360", True),
    ("11360(B) HS", "ca:hs:11360:b", "11360", False),
)  # fmt: skip
_COURTS = ("CASC LOS ANGELES",) * 19 + ("CASC POMONA",)


def synthetic_run(folder: Path, convictions: int, seed: int = 7) -> Path:
    """A run folder with determinations.parquet and manifest.json."""
    if (folder / "manifest.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = Random(seed)
    cols: dict[str, list] = {k: [] for k in (
        "subject_id", "cii_number", "name", "dob", "county", "court", "case_number", "cnt_order",
        "source_file", "source_line", "code_section_raw", "statute", "felony", "disposition_date",
        "outcome", "reason", "citation", "rule_id", "reason_code", "determination",
        "sentence_end", "sentence_status", "facts",
    )}  # fmt: skip
    made = 0
    line = 1
    person = 0
    while made < convictions:
        person += 1
        sid = str(10_000_000 + person)
        cii = str(rng.randrange(10**9, 10**10))
        name = f"{rng.choice(_LAST)},{rng.choice(_FIRST)} {chr(65 + rng.randrange(26))}"
        dob = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
        deceased = rng.random() < 0.015
        k = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        extra = 1 if rng.random() < 0.05 else 0  # a review or not-eligible conviction too
        for c in range(k + extra):
            line += rng.randint(1, 12)
            raw, statute, section, felony_default = rng.choice(_SECTIONS)
            felony = felony_default and rng.random() < 0.9
            ddate = dt.date(1975, 1, 1) + dt.timedelta(days=rng.randrange(365 * 41))
            serving = rng.random() < 0.01
            if c < k:
                outcome = "dismiss" if rng.random() < 0.97 or not felony else "reduce"
                made += 1
            else:
                outcome = rng.choice(("review", "not_eligible"))
            citation = (
                "HS 11361.8(e), (f)" if not felony
                else ("HS 11361.8(a)-(c); HS 11361.9" if serving
                      else "HS 11361.8(e), (f); HS 11361.9")
            )  # fmt: skip
            facts = {f: None for f in FACT_COLUMNS}
            facts.update(prop64_section=section, deceased=deceased, attempt=False, felony=felony)
            prefix = rng.choice(("BA", "LA", "VA", "NA", "SA", "MA", "PA"))
            values = (
                sid, cii, name, dob.strftime("%Y%m%d"), "LOS ANGELES", rng.choice(_COURTS),
                f"{prefix}{rng.randrange(10**5, 10**6)}", f"{c + 1:03d}002{1:03d}000",
                "research_file.csv", line, raw, statute, felony, ddate, outcome,
                "synthetic", citation, f"bench.{outcome}", None,
                {"dismiss": "Eligible for Dismissal", "reduce": "Eligible for Reduction",
                 "review": "Hand Review", "not_eligible": "Not eligible"}[outcome],
                ddate + dt.timedelta(days=365 * 3), "serving" if serving else "completed",
                json.dumps(facts),
            )  # fmt: skip
            for key, v in zip(cols, values, strict=True):
                cols[key].append(v)
            if made >= convictions:
                break
    con = duckdb.connect()
    names = list(cols)
    select = ", ".join(f"unnest(${i + 1}) AS {n}" for i, n in enumerate(names))
    con.execute(
        f"COPY (SELECT {select}) TO '{folder / 'determinations.parquet'}' (FORMAT parquet)",
        [cols[n] for n in names],
    )
    con.close()
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "as_of": "2020-07-01",
                "counties": "LOS ANGELES",
                "law_version": "ca-prop64-2016-11-09",
                "synthetic": True,
            }
        )
    )
    return folder


def real_run(folder: Path, rows: int) -> Path:
    if (folder / "manifest.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    doj = folder.parent / f"doj_la_{rows}.csv"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    if not doj.exists():
        subprocess.run([sys.executable, "-m", "clearslate", "generate", "--rows", str(rows),
                        "--seed", "3", "--output", str(doj)], check=True, env=env)  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "clearslate", "run", "--input-doj", str(doj), "--county",
         "LOS ANGELES", "--compute-at", "2020-07-01", "--outputs", str(folder), "--force",
         "--no-gogen-bundle"],
        check=True, env=env,
    )  # fmt: skip
    return folder


def measure(cmd: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0.0]
    stop = threading.Event()

    def poll() -> None:
        if psutil is None:
            return
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.wait(0.05):
            try:
                procs = [root, *root.children(recursive=True)]
                total = sum(p.memory_info().rss for p in procs if p.is_running())
            except psutil.Error:
                continue
            peak[0] = max(peak[0], total)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    output = proc.stdout.read().decode() if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stop.set()
    t.join()
    if os.waitstatus_to_exitcode(status) != 0:
        print(output)
        raise SystemExit("the documents command failed")
    return {
        "seconds": round(seconds, 2),
        # CPU of the command and its (reaped) workers: steadier than wall time on a busy machine
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "tree_mib": round(peak[0] / 2**20, 1),
        "maxrss_mib": round(usage.ru_maxrss / 1024, 1),
        "output": output.strip().splitlines()[-3:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--convictions", type=int, default=66_000)
    ap.add_argument("--doj-rows", type=int, default=0, help="use a real run of N generated rows")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (0: the default)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "documents")
    ap.add_argument("--compare-letter-writers", action="store_true")
    args = ap.parse_args()
    base = args.out
    base.mkdir(parents=True, exist_ok=True)
    if args.doj_rows:
        run = real_run(base / f"run_doj_{args.doj_rows}", args.doj_rows)
    else:
        run = synthetic_run(base / f"run_{args.convictions}", args.convictions)
    addresses = base / f"{run.name}_addresses.csv"
    if not addresses.exists():
        generate_addresses(run, addresses, seed=1)
    office = base / "office.yaml"
    office.write_text(OFFICE)
    con = duckdb.connect()
    relief = con.execute(
        f"SELECT count(*) FROM read_parquet('{run / 'determinations.parquet'}') "
        "WHERE outcome IN ('dismiss', 'reduce')"
    ).fetchone()[0]
    con.close()
    cmd = [sys.executable, "-m", "clearslate.cli_documents", "documents", str(run),
           "--out", str(base / "docs"), "--office", str(office), "--addresses", str(addresses),
           "--force"]  # fmt: skip
    if args.compare_letter_writers:
        own = measure([*cmd, "--jobs", "1"])
        rl = measure([sys.executable, "-c", REPORTLAB_LETTERS, *cmd[3:], "--jobs", "1"])
        report = {
            "own_writer": own,
            "reportlab_letters": rl,
            "cpu_ratio_reportlab_over_own": round(rl["cpu_seconds"] / own["cpu_seconds"], 2),
            "load_average": os.getloadavg(),
        }
        (base / "letter_writers.json").write_text(json.dumps(report, indent=2))
        print(json.dumps(report, indent=2))
        return
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    results = []
    for i in range(args.repeat):
        r = measure(cmd)
        results.append(r)
        print(f"round {i + 1}: {r['seconds']:.1f} s, cpu {r['cpu_seconds']:.1f} s, "
              f"tree {r['tree_mib']:.0f} MiB, maxrss {r['maxrss_mib']:.0f} MiB")  # fmt: skip
    summary = json.loads((base / "docs" / "documents_summary.json").read_text())
    best = min(results, key=lambda r: r["seconds"])
    report = {
        "convictions_with_relief": relief,
        "letters": summary["letters"]["letters"],
        "letter_pages": summary["letters"]["pages"],
        "exhibit_pages": sum(g["exhibit_pages"] for g in summary["court_documents"]),
        "best_seconds": best["seconds"],
        "best_cpu_seconds": best["cpu_seconds"],
        "limit_seconds": LIMIT_SECONDS,
        "within_limit": best["seconds"] <= LIMIT_SECONDS,
        "peak_tree_mib": max(r["tree_mib"] for r in results),
        "peak_maxrss_mib": max(r["maxrss_mib"] for r in results),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "rounds": results,
    }
    (base / "last_run.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "rounds"}, indent=2))


if __name__ == "__main__":
    main()
