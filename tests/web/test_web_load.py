"""A short version of bench/load_workspace.py: reviewers deciding at once over HTTP against
`clearslate serve` in a process of its own, on SQLite, a fixed number of decisions each (not
for a number of seconds); no error and no lost decision.
(The full minute with 20 reviewers: `python bench/load_workspace.py`.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load_workspace.py"


def test_concurrent_reviewers_lose_no_decision(capsys):
    spec = importlib.util.spec_from_file_location("load_workspace", BENCH)
    load = importlib.util.module_from_spec(spec)
    sys.modules["load_workspace"] = load  # its dataclasses look their module up by name
    spec.loader.exec_module(load)
    reviewers, each = 5, 20
    code = load.main(["--reviewers", str(reviewers), "--decisions", str(each), "--rows", "2000",
                      "--cheap-passwords"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "errors    0" in out and "lost      0" in out
    decisions = int(out.split("decisions ", 1)[1].split()[0].replace(",", ""))
    assert decisions == reviewers * each
