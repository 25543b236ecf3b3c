"""A long property-based fuzz run of `clearslate run`, through the command line (in process,
with Typer's test runner), on the inputs of fuzz_reader.py.

For every input: the exit code is 0 (1 only for an empty file, saying so), no Python
traceback, rows read = All_Results rows + errors.csv rows, every good record is decided or
kept in All_Results on its own physical line, every bad record is in errors.csv on its own
line, and no output file is left half-written.

    PYTHONPATH=src python fuzz/fuzz_cli.py --examples 300 [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import traceback
from pathlib import Path
from tempfile import TemporaryDirectory, gettempdir

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_reader import _piece, build

from clearslate.cli import app

csv.field_size_limit(2**31 - 1)
_stats = {"examples": 0, "rows": 0}


def check(data: bytes, expected: list[tuple[str, int, str]], tmp: Path) -> None:
    case = tmp / f"case{_stats['examples']}"
    case.mkdir()
    path, out = case / "in.csv", case / "out"
    path.write_bytes(data)
    result = CliRunner().invoke(
        app,
        ["run", "--input-doj", str(path), "--county", "ALL", "--compute-at", "2020-07-01",
         "--outputs", str(out), "--no-report"],
    )  # fmt: skip
    _stats["examples"] += 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    if not data:
        assert result.exit_code == 1 and "empty" in result.output
        return
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    with (out / "All_Results.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with (out / "errors.csv").open(newline="", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    _stats["rows"] += summary["rows"]["read"]
    assert summary["rows"]["read"] == len(rows) + len(errors)
    assert [r["SUBJECT_ID"] for r in rows] == [m for k, _, m in expected if k == "good"]
    assert sorted(int(e["line"]) for e in errors) == [ln for k, ln, _ in expected if k == "bad"]
    assert not list(out.glob(".partial-*")) and (out / "manifest.json").exists()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    failures: list[str] = []
    with TemporaryDirectory(prefix="clearslate-fuzz-cli-") as tmpdir:
        tmp = Path(tmpdir)

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @seed(args.seed)
        @given(
            pieces=st.lists(_piece, max_size=15),
            header=st.booleans(),
            bom=st.booleans(),
            crlf=st.booleans(),
        )
        def prop(pieces, header, bom, crlf) -> None:
            data, expected = build(pieces, header, bom, crlf)
            check(data, expected, tmp)

        started = time.monotonic()
        try:
            prop()
        except Exception:
            failures.append(traceback.format_exc())
        seconds = time.monotonic() - started
    print(
        f"fuzz_cli: {_stats['examples']} runs ({_stats['rows']} records), "
        f"{len(failures)} failing property, {seconds:.0f} s"
    )
    if failures:
        report = Path(gettempdir()) / "fuzz_cli_failure.txt"
        report.write_text(failures[0])
        print(failures[0][-3000:], file=sys.stderr)
        print(f"the whole report (with the shrunk failing input): {report}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
