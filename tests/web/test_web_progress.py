"""The workspace's progress bar (`/runs/N/progress`): the run's own meter for the run's
share, then the server's own stages after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearslate.progress import DONE
from clearslate.web.jobs import Jobs


@pytest.mark.parametrize("jurisdiction, run_share", [("ca", 80), ("il", 85)])
def test_the_bar_is_the_runs_meter_then_the_servers_stages(
    tmp_path: Path, jurisdiction: str, run_share: int
) -> None:
    jobs = Jobs(db=None, data_dir=tmp_path)  # type: ignore[arg-type]  # (no job is run)
    jobs.submit_run(7, jurisdiction)  # (queued: the worker is not started)
    assert jobs.progress(7) == ("Queued", 0.0)
    assert jobs.progress(8) is None
    meter = jobs._meter(7)  # as the run is handed it
    meter.plan({"Reading": 0.5, "Deciding": 0.5})
    meter.begin("Reading", lambda: 0.5)
    assert jobs.progress(7) == ("Reading", pytest.approx(run_share * 0.25))
    meter.begin(DONE)
    assert jobs.progress(7) == (DONE, run_share)
    jobs._stage(7, "Writing the impact report")
    assert jobs.progress(7) == ("Writing the impact report", run_share)
    jobs._stage(7, "Preparing the review queue")
    stage, percent = jobs.progress(7)  # type: ignore[misc]
    assert stage == "Preparing the review queue" and run_share < percent < 100
