"""A long property-based fuzz run of `clearslate run`, through the command line (in process,
with Typer's test runner), on the inputs of fuzz_reader.py.

For every input: the exit code is 0 (1 only for an empty file, saying so), no Python
traceback, rows read = All_Results rows + errors.csv rows, every good record is decided or
kept in All_Results on its own physical line, every bad record is in errors.csv on its own
line, and no output file is left half-written.

    PYTHONPATH=src python fuzz/fuzz_cli.py --examples 300 [--seed 1]
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_property
from fuzz_reader import build, file_strategies

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
        # One county, so that All_Results.csv holds every accepted row (with --county ALL
        # each county's folder holds only the records of the people it decides).
        ["run", "--input-doj", str(path), "--county", "LOS ANGELES", "--compute-at",
         "2020-07-01", "--outputs", str(out), "--no-report"],
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


def example(tmp: Path, pieces: list[tuple[str, str]], header: bool, bom: bool, crlf: bool) -> None:
    data, expected = build(pieces, header, bom, crlf)
    check(data, expected, tmp)


def main() -> int:
    return run_property(
        "fuzz_cli",
        default_examples=300,
        tmp_prefix="clearslate-fuzz-cli-",
        strategies=file_strategies(max_pieces=15),
        example=example,
        tried=lambda: f"{_stats['examples']} runs ({_stats['rows']} records)",
    )


if __name__ == "__main__":
    sys.exit(main())
