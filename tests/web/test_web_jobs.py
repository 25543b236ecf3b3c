"""The background jobs and what a run says of itself (the web hostile pass, seventh session):
as-of dates the command line refuses are refused on the form; the worker survives any failure
of a job and marks that run or its documents failed, naming files as they were uploaded; a run
whose rows were all rejected says so and offers errors.csv; an address file is checked at
upload, and documents that failed are built again; a failed run says so on every page of its
results; draft documents say they are drafts."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import sqlalchemy as sa

import clearslate.sources
from clearslate.outputs.files import PARTIAL_PREFIX
from clearslate.web.db import runs
from conftest import csrf_of, decide_all, run_row, start_run

SOURCES = Path(clearslate.sources.__file__).parent
CA_FORM = {"county": "LOS ANGELES", "policy": "shipped:dismiss-all", "as_of": "2020-07-01"}


def _post(c, files, **form):
    return c.post("/runs/new", data={"csrf": csrf_of(c, "/runs/new")} | CA_FORM | form,
                  files=files)  # fmt: skip


def _run_id(r) -> int:
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def _runs(ws) -> int:
    with ws.db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one()


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


def test_a_job_that_fails_outside_its_handlers_leaves_the_worker_running(workspace, research_file):
    """D8: an exception outside the try blocks of Jobs._run / Jobs._documents killed the only
    worker thread: every later run stayed queued until a restart. Here the real cause is a
    job for a run whose row is not there (the first read, before any handler, raises)."""
    jobs = workspace.app.state.ws.jobs
    jobs.submit_run(999)
    jobs.submit_documents(998)
    assert jobs.wait_idle(300)
    assert jobs._thread.is_alive()
    ana = workspace.login("ana")
    run_id = start_run(ana, research_file)
    assert run_row(workspace, run_id).status == "done"


def test_documents_that_cannot_be_written_fail_and_the_worker_goes_on(workspace, research_file):
    """D8: writing decisions.csv ran before the documents' try block: when it failed (a full disk;
    here, for real, a folder where its partial file goes) the documents stayed "running" for
    good and the worker died. The decisions.csv download wrote the same partial file in the
    run's folder, so a download could take the job's file away under it: it now writes none
    there."""
    ana, att = workspace.login("ana"), workspace.login("att")
    run_id = start_run(ana, research_file)
    assert run_row(workspace, run_id).status == "done"
    folder = workspace.data_dir / "runs" / str(run_id)
    token = decide_all(workspace, att, run_id)
    r = att.get(f"/runs/{run_id}/decisions.csv")
    assert r.status_code == 200 and r.text.startswith("subject_id,source_file,source_line")
    assert "attachment" in r.headers["content-disposition"]
    assert not (folder / "decisions.csv").exists() and not (folder / "decisions.partial").exists()

    (folder / f"{PARTIAL_PREFIX}decisions.csv").mkdir()  # where the job writes it first
    assert att.post(f"/runs/{run_id}/sign-off", data={"csrf": token}).status_code == 303
    row = run_row(workspace, run_id)
    assert row.documents_status == "failed"
    assert row.documents_error == "unexpected error (IsADirectoryError)"
    assert workspace.app.state.ws.jobs._thread.is_alive()
    assert run_row(workspace, start_run(ana, research_file)).status == "done"


def test_a_failed_run_names_its_file_as_uploaded_and_says_it_failed(workspace_factory):
    """D8: a run's message named the server's path of the upload (…/ws/runs/1/uploads/01-
    empty.csv); it names the file as the user gave it. And the pages of a failed run's
    results said "This run has not finished."."""
    ws = workspace_factory(None)
    ana, att = ws.login("ana"), ws.login("att")
    run_id = _run_id(_post(ana, [("files", ("my empty file.csv", b"", "text/csv"))]))
    row = run_row(ws, run_id)
    assert row.status == "failed"
    assert row.error.startswith("my empty file.csv: the file is empty (0 bytes)."), row.error
    assert str(ws.data_dir) not in row.error and "uploads" not in row.error
    with ws.db.read() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM audit_log WHERE action = 'run_failed'")
        ).scalar_one()
    assert json.loads(detail)["error"] == row.error
    for c, path in ((ana, "determinations"), (ana, "report"), (ana, "people/x"),
                    (ana, "documents.zip"), (att, "sign-off")):  # fmt: skip
        r = c.post(f"/runs/{run_id}/{path}", data={"csrf": csrf_of(att)}) if path == "sign-off" \
            else c.get(f"/runs/{run_id}/{path}")  # fmt: skip
        assert r.status_code == 409, path
        assert "This run failed" in r.text and f'href="/runs/{run_id}"' in r.text, path


def test_a_documents_error_of_the_review_queue_fails_the_run_by_its_message(
    workspace_factory, research_file, monkeypatch
):
    """D5: the job did not catch DocumentsError (results.review_rows reads the determinations
    as the documents do): an Illinois run before 1900 ended as "unexpected error
    (DocumentsError)". The form now refuses that date, so no real cause is left to arrange:
    review_rows is made to raise once, with a message naming the run's folder as such errors
    do; the run fails with that message, the folder's path left out."""
    from clearslate.documents.data import DocumentsError
    from clearslate.web import results

    ws = workspace_factory(None)

    def refuse(path, *_args):
        monkeypatch.undo()
        raise DocumentsError(f"{path}: the determinations lack the column(s) tier.")

    monkeypatch.setattr(results, "review_rows", refuse)
    row = run_row(ws, start_run(ws.login("ana"), research_file))
    assert (row.status, row.error) == (
        "failed",
        "results: the determinations lack the column(s) tier.",
    )


def _text(page) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def test_a_run_whose_rows_were_all_rejected_says_so_and_offers_errors_csv(workspace):
    """D6: a file whose every row was rejected (here: binary) was a normal finished run, "0
    Prop 64 convictions decided", without a word of the rejected rows, and errors.csv could
    not be reached. The page now shows the rows read, accepted and rejected with the command
    line's note (run.run_notes), and errors.csv downloads, each file named as uploaded."""
    ana, att, adm = (workspace.login(u) for u in ("ana", "att", "adm"))
    run_id = _run_id(_post(ana, [("files", ("scan.bin", bytes(range(256)) * 200))]))
    assert run_row(workspace, run_id).status == "done"
    page = _text(ana.get(f"/runs/{run_id}"))
    rejected = len(
        (workspace.data_dir / "runs" / str(run_id) / "results" / "errors.csv")
        .read_text()
        .splitlines()[1:]
    )  # fmt: skip
    assert rejected > 0
    assert f"Rows read {rejected:,} Accepted 0 Rejected ( errors.csv ) {rejected:,}" in page
    assert (f"Note: every one of the {rejected:,} rows of scan.bin was rejected: see errors.csv. "
            "Is it a DOJ research file (95 comma-separated fields on each line)?") in page  # fmt: skip
    for c in (ana, att):
        r = c.get(f"/runs/{run_id}/errors.csv")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["source_file", "line", "column", "reason"]
        assert len(rows) == rejected + 1 and {row[0] for row in rows[1:]} == {"scan.bin"}
    assert adm.get(f"/runs/{run_id}/errors.csv").status_code == 403
    assert ana.get(f"/runs/{run_id}/warnings.csv").status_code == 404  # California has none
    with workspace.db.read() as conn:
        details = conn.execute(
            sa.text("SELECT detail FROM audit_log WHERE action = 'download'")
        ).scalars()  # fmt: skip
        assert [json.loads(d)["file"] for d in details] == ["errors.csv", "errors.csv"]


def test_an_illinois_mapping_that_leaves_values_empty_says_so(workspace_factory, tmp_path):
    """D6: an Illinois mapping with the wrong date format left 420 values empty (warnings.csv)
    and changed outcomes without a word on the page. The page now shows the values left empty
    with a note (illinois_run.run_notes, which `clearslate run --jurisdiction il` prints too),
    and warnings.csv downloads."""
    from clearslate.synth.illinois import generate_illinois

    generate_illinois(tmp_path, people=40, seed=3)
    mapping = (SOURCES / "il_mappings" / "court_generated.yaml").read_text()
    wrong = mapping.replace('"%m/%d/%Y"', '"%Y-%m-%d"').encode()
    ws = workspace_factory(None)
    ana = ws.login("ana")
    r = ana.post("/runs/new", data={"csrf": csrf_of(ana, "/runs/new"), "jurisdiction": "il",
                                    "il_policy": "il:cook-county", "as_of": "2024-01-01"},
                 files=[("court_files", ("court.csv", (tmp_path / "court_export.csv").read_bytes())),
                        ("court_mapping", ("ours.yaml", wrong))])  # fmt: skip
    run_id = _run_id(r)
    assert run_row(ws, run_id).status == "done"
    results = ws.data_dir / "runs" / str(run_id) / "results"
    left_empty = len((results / "warnings.csv").read_text().splitlines()[1:])
    assert left_empty > 0
    page = _text(ana.get(f"/runs/{run_id}"))
    assert f"Values left empty ( warnings.csv ) {left_empty:,}" in page
    assert f"Note: {left_empty:,} value(s) could not be read and were left empty" in page
    rows = list(csv.reader(io.StringIO(ana.get(f"/runs/{run_id}/warnings.csv").text)))
    assert rows[0][0] == "file" and {row[0] for row in rows[1:]} == {"court.csv"}
    assert all("not a date in the mapping's formats" in row[3] for row in rows[1:])


GOOD_ADDRESSES = b"subject_id,address_line_1,city,state,zip\nS1,1 Main St,Los Angeles,CA,90012\n"


def test_an_address_file_the_documents_cannot_read_is_refused_on_the_form(workspace_factory):
    """D7: an address file without the columns the letters need (or binary, empty, without
    a header) was taken at upload, and failed only after sign-off. It is now read at upload
    by the documents' own reader (documents/addresses.py) and marked on its field; the run
    is not started."""
    ws = workspace_factory(None, run_jobs=False)
    ana = ws.login("ana")
    research = [("files", ("la.csv", b"x\n", "text/csv"))]
    for data, said in (
        (b"name,street\nx,y\n", "a.csv, line 1: the address file needs the column(s) "
                                "subject_id or cii_number, city, state, zip."),
        (bytes(range(256)) * 8, "a.csv, line 1: the address file needs the column(s)"),
        (b"", "a.csv: the address file is empty."),
        (b"S1,1 Main St,Los Angeles,CA,90012\n", "is the header line missing?"),
    ):  # fmt: skip
        r = _post(ana, [*research, ("addresses", ("a.csv", data, "text/csv"))])
        assert r.status_code == 400 and 'id="addresses-error"' in r.text, data[:20]
        assert said in r.text.replace("&#39;", "'"), r.text
    assert _runs(ws) == 0
    _run_id(_post(ana, [*research, ("addresses", ("a.csv", GOOD_ADDRESSES, "text/csv"))]))


def test_documents_that_failed_are_built_again_with_a_new_address_file(workspace, research_file):
    """D7: documents that failed (here: an address file an earlier version took at upload)
    left the run stuck: signing off again is refused, and nothing rebuilt them or replaced
    the address file. An attorney now builds them again (audited), optionally with a new
    address file, checked as on the form. D11: documents built without DATA_DIR/office.yaml
    carry placeholders; the builder's warning that they are drafts reached only the audit
    log, and now stands beside the download."""
    ana, att = workspace.login("ana"), workspace.login("att")
    run_id = start_run(ana, research_file)
    assert run_row(workspace, run_id).status == "done"
    folder = workspace.data_dir / "runs" / str(run_id)
    (folder / "addresses.csv").write_bytes(b"name,street\nx,y\n")
    token = decide_all(workspace, att, run_id)
    assert att.post(f"/runs/{run_id}/sign-off", data={"csrf": token}).status_code == 303
    row = run_row(workspace, run_id)
    assert row.documents_status == "failed"
    assert row.documents_error.startswith("addresses.csv, line 1: the address file needs")
    assert att.post(f"/runs/{run_id}/sign-off", data={"csrf": token}).status_code == 409
    assert "Build the documents again" in att.get(f"/runs/{run_id}").text
    assert "Build the documents again" not in ana.get(f"/runs/{run_id}").text

    again = f"/runs/{run_id}/documents-again"
    r = att.post(again, data={"csrf": token}, files=[("addresses", ("b.csv", b"name\nx\n"))])
    assert r.status_code == 400 and "b.csv, line 1: the address file needs" in r.text
    assert run_row(workspace, run_id).documents_status == "failed"
    assert ana.post(again, data={"csrf": csrf_of(ana)}).status_code == 403
    r = att.post(again, data={"csrf": token}, files=[("addresses", ("c.csv", GOOD_ADDRESSES))])
    assert r.status_code == 303, r.text
    assert run_row(workspace, run_id).documents_status == "done"
    assert (folder / "addresses.csv").read_bytes() == GOOD_ADDRESSES
    page = _text(att.get(f"/runs/{run_id}"))
    assert ("Warning: no --office file: the documents carry placeholders such as [OFFICE NAME]; "
            "they are drafts, not for filing or mailing.") in page  # fmt: skip
    assert "Download all documents" in page
    assert att.get(f"/runs/{run_id}/documents.zip").status_code == 200
    with workspace.db.read() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM audit_log WHERE action = 'documents_again'")
        ).scalar_one()
    assert json.loads(detail) == {"after": "failed", "new_addresses": True}
