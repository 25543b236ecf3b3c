"""Removing a run's data once the office is done with it (the web hostile pass, seventh
session, found a failed run's uploads, kept rows and partial results staying for good, with no
way to remove them): everything the run holds of people goes, its counts and the audit stay."""

from __future__ import annotations

import sqlalchemy as sa

from clearslate.web.db import audit_log, review_items, runs
from conftest import csrf_of, decide_all, start_run


def _remove(c, run_id: int, confirm: str):
    token = csrf_of(c, f"/runs/{run_id}")
    return c.post(f"/runs/{run_id}/remove", data={"csrf": token, "confirm": confirm})


def test_a_signed_off_run_is_removed_with_everything_it_holds_of_people(workspace, research_file):
    ana, att = workspace.login("ana"), workspace.login("att")
    run_id = start_run(ana, research_file)
    jobs = workspace.app.state.ws.jobs
    assert jobs.wait_idle(300)
    folder = workspace.data_dir / "runs" / str(run_id)
    assert (folder / "uploads").is_dir() and (folder / "rows.duckdb").is_file()
    with workspace.db.read() as conn:
        outcomes = conn.execute(sa.select(runs.c.outcomes).where(runs.c.id == run_id)).scalar()
        items = conn.execute(
            sa.select(sa.func.count()).where(review_items.c.run_id == run_id)
        ).scalar_one()
    assert items > 0
    token = decide_all(workspace, att, run_id)
    assert att.post(f"/runs/{run_id}/sign-off", data={"csrf": token}).status_code == 303
    assert jobs.wait_idle(300) and (folder / "documents").is_dir()

    r = _remove(ana, run_id, "1" + str(run_id))  # not the run's number
    assert r.status_code == 400 and "to confirm the removal" in r.text
    assert folder.is_dir()
    r = _remove(ana, run_id, str(run_id))
    assert r.status_code == 303
    assert not folder.exists()
    assert not any((workspace.data_dir / "runs").iterdir())  # nor a renamed leftover
    with workspace.db.read() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
        left = conn.execute(
            sa.select(sa.func.count()).where(review_items.c.run_id == run_id)
        ).scalar_one()
        removal = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.detail).where(
                audit_log.c.action == "run_removed"
            )
        ).one()
        decisions = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "decision")
        ).scalar_one()
    assert (row.status, row.outcomes, left) == ("removed", outcomes, 0)
    assert removal.actor == "ana" and f'"review_items": {items}' in removal.detail
    assert decisions == items  # the decisions stay in the audit log
    page = att.get(f"/runs/{run_id}").text
    assert "was removed by ana" in page and "Remove this run" not in page
    for path in ("determinations", "report", "errors.csv", "documents.zip", "review"):
        r = att.get(f"/runs/{run_id}/{path}")
        assert r.status_code in (404, 410) and r.status_code < 500, (path, r.status_code)
    assert _remove(ana, run_id, str(run_id)).status_code == 410
    assert "removed" in ana.get("/runs").text


def test_a_run_is_not_removed_while_a_job_works_on_it(workspace_factory, research_file):
    ws = workspace_factory(run_jobs=False)  # the run stays queued
    ana = ws.login("ana")
    run_id = start_run(ana, research_file)
    assert "Remove this run" not in ana.get(f"/runs/{run_id}").text
    r = _remove(ana, run_id, str(run_id))
    assert r.status_code == 409 and "A job is working on this run" in r.text
    assert (ws.data_dir / "runs" / str(run_id) / "uploads").is_dir()
    assert (
        ws.login("adm")
        .post(f"/runs/{run_id}/remove", data={"csrf": csrf_of(ws.login("adm")), "confirm": "1"})
        .status_code
        == 403
    )  # administrators see no runs


def test_a_removal_the_server_stopped_in_is_finished_at_the_next_start(
    workspace_factory, research_file
):
    """The folder is renamed inside the removal's transaction: at the next start it is
    deleted if the removal was committed (no such run, here run 7), and given its name back
    if not (run 1 is still there)."""
    from clearslate.web.jobs import Jobs

    ws = workspace_factory(run_jobs=False)
    run_id = start_run(ws.login("ana"), research_file)
    runs_dir = ws.data_dir / "runs"
    (runs_dir / str(run_id)).rename(runs_dir / f"removing-{run_id}")
    (runs_dir / "removing-7" / "uploads").mkdir(parents=True)
    (runs_dir / "removing-7" / "uploads" / "01-research.csv").write_text("synthetic")
    jobs = Jobs(ws.db, ws.data_dir)
    jobs.start()
    try:
        assert sorted(p.name for p in runs_dir.iterdir()) == [str(run_id)]
        assert (runs_dir / str(run_id) / "uploads").is_dir()
    finally:
        jobs.stop()
