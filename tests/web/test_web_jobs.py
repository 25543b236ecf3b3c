"""The background jobs and what a run says of itself (the web hostile pass, seventh session):
as-of dates the command line refuses are refused on the form; the worker survives any failure
of a job and marks that run or its documents failed, naming files as they were uploaded; a run
whose rows were all rejected says so and offers errors.csv; an address file is checked at
upload, and documents that failed are built again; a failed run says so on every page of its
results; draft documents say they are drafts."""

from __future__ import annotations

import sqlalchemy as sa

from clearslate.web.db import review_items, runs
from conftest import csrf_of

CA_FORM = {"county": "LOS ANGELES", "policy": "shipped:dismiss-all", "as_of": "2020-07-01"}


def _post(c, files, **form):
    return c.post("/runs/new", data={"csrf": csrf_of(c, "/runs/new")} | CA_FORM | form,
                  files=files)  # fmt: skip


def _run_id(r) -> int:
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def _row(ws, run_id: int):
    """The run's row once the worker has nothing left to do (bounded wait)."""
    assert ws.app.state.ws.jobs.wait_idle(300), "the worker did not finish its jobs"
    with ws.db.read() as conn:
        return conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()


def _runs(ws) -> int:
    with ws.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one()


def _decide_all(ws, att, run_id: int) -> str:
    with ws.db.read() as conn:
        n = conn.execute(
            sa.select(sa.func.count()).where(review_items.c.run_id == run_id,
                                             review_items.c.decision.is_(None))
        ).scalar_one()  # fmt: skip
    token = csrf_of(att, f"/runs/{run_id}/review")
    r = att.post(f"/runs/{run_id}/review/bulk", data={"csrf": token, "status": "open",
                 "count": str(n), "decision": "dismiss"})  # fmt: skip
    assert r.status_code == 303, r.text
    return token


def test_as_of_dates_the_command_line_refuses_are_refused_on_the_form(workspace_factory):
    """D5: a date before 1900 passed the form and the run failed as "unexpected error"
    (California: ValueError from add_years; Illinois: DocumentsError after the whole run); a
    day the month has not was called a wrong format."""
    ws = workspace_factory(None, run_jobs=False)
    ana = ws.login("ana")
    files = [("files", ("la.csv", b"x\n", "text/csv"))]
    for as_of, said in (
        ("0001-01-01", "Give an as-of date from 1900-01-01 on."),
        ("1899-12-31", "Give an as-of date from 1900-01-01 on."),
        ("2020-02-30", "2020-02-30 is no date: check the month and the day."),
        ("1 July 2020", "Give the as-of date as YYYY-MM-DD."),
    ):
        r = _post(ana, files, as_of=as_of)
        assert r.status_code == 400 and 'id="as_of-error"' in r.text, as_of
        assert said in r.text, as_of
    r = ana.post("/runs/new", data={"csrf": csrf_of(ana, "/runs/new"), "jurisdiction": "il",
                                    "il_policy": "il:cook-county", "as_of": "1899-12-31"},
                 files=[("court_files", ("c.csv", b"x\n"))])  # fmt: skip
    assert r.status_code == 400 and "Give an as-of date from 1900-01-01 on." in r.text
    assert _runs(ws) == 0
    _run_id(_post(ana, files, as_of="1900-01-01"))  # the first day the command line takes
