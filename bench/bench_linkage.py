"""Linking quality and speed on generated Illinois data with known truth.

    PYTHONPATH=src python bench/bench_linkage.py [--people 5000 50000] [--seed 7]

For each size: generate the court and ISP exports (and the truth file, kept apart), read them,
link people, and compare with the truth, counting pairs of records:

* precision of the automatic links (pairs put in one person that are one true person);
* recall overall: true pairs linked automatically, and with the review pairs accepted;
* true pairs in review (left for a person), and true pairs missed outside review;
* runtime of reading + linking, and rows per second.

Targets (issue 9): precision >= 0.99 on automatic links, recall >= 0.95 overall, every
uncertain link in review.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from clearslate.link.evaluate import load_truth, pairwise_quality
from clearslate.link.people import link_people
from clearslate.sources.il_reader import read_illinois
from clearslate.synth.illinois import generate_illinois


def bench(people: int, seed: int, folder: Path) -> dict[str, float]:
    generate_illinois(folder, people=people, seed=seed)
    con = duckdb.connect()
    started = time.perf_counter()
    read = read_illinois(con, [folder / "court_export.csv"], [folder / "isp_export.csv"])
    read_seconds = time.perf_counter() - started
    result = link_people(con)
    seconds = time.perf_counter() - started
    load_truth(con, folder / "truth.csv")
    q = pairwise_quality(con)
    return {
        "people": people,
        "rows": read.rows_kept,
        "persons found": result.persons,
        "training": result.training,
        "precision (auto)": q.precision,
        "recall (auto)": q.recall,
        "F1 (auto)": q.f1,
        "recall (auto + review)": q.recall_with_review,
        "true pairs": q.true_pairs,
        "true pairs in review": q.true_pairs_in_review,
        "true pairs missed outside review": q.missed_outside_review,
        "review pairs": result.review_pairs,
        "review pairs per 1000 people": 1000 * result.review_pairs / people,
        "read seconds": read_seconds,
        "read + link seconds": seconds,
        "rows/s": read.rows_kept / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = []
    for people in args.people:
        with tempfile.TemporaryDirectory(prefix="clearslate-link-") as tmp:
            results.append(bench(people, args.seed, Path(tmp)))
    keys = list(results[0])
    width = max(len(k) for k in keys)
    for key in keys:
        cells = []
        for r in results:
            v = r[key]
            cells.append(f"{v:>12.4f}" if isinstance(v, float) else f"{v!s:>12}")
        print(f"{key:<{width}}  " + "  ".join(cells))
    ok = all(r["precision (auto)"] >= 0.99 and r["recall (auto + review)"] >= 0.95 for r in results)
    print("targets (precision >= 0.99 auto, recall >= 0.95 overall):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
