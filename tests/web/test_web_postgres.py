"""What PostgreSQL showed and SQLite hid (web hostile pass, seventh session), on both databases:
text PostgreSQL cannot store (a NUL character, a county list longer than its column) is refused
plainly; a research file's long names are kept whole; an unexpected error is logged by its kind
and where, never its message; a decision racing the sign-off is refused, not written after it."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from clearslate.web.db import Database, audit_log, review_items, runs
from conftest import csrf_of, run_row, sign_in, start_run

# A person of the synthetic research file, searched for: it must reach no log.
SEARCHED = "GRAHAM,BRIAN"


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """What the server logged (the test client's own request lines aside)."""
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                     if not r.name.startswith("httpx"))  # fmt: skip


def _done_run(ws, research_file: Path) -> int:
    run_id = start_run(ws.login("ana"), research_file)
    row = run_row(ws, run_id)
    assert row.status == "done", row.error
    return run_id


def _items(ws, run_id: int) -> list:
    with ws.db.read() as conn:
        return conn.execute(
            sa.select(review_items)
            .where(review_items.c.run_id == run_id)
            .order_by(review_items.c.id)
        ).fetchall()


def _audit(ws) -> list:
    with ws.db.read() as conn:
        return conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).fetchall()


def test_nul_or_over_long_text_is_refused_plainly_and_not_logged(
    workspace_factory, backend, research_file, caplog
):
    caplog.set_level(logging.DEBUG)
    ws = workspace_factory(backend)
    run_id = _done_run(ws, research_file)
    item = _items(ws, run_id)[0]
    att, adm, ana = ws.login("att"), ws.login("adm"), ws.login("ana")
    token = csrf_of(att)
    nul = f"{SEARCHED}\x00"
    answers = {
        "search": att.get(f"/runs/{run_id}/review", params={"q": nul}),
        "table search": att.get(f"/runs/{run_id}/determinations", params={"q": nul}),
        "person": att.get(f"/runs/{run_id}/people/{item.subject_id}%00"),
        "note": att.post(f"/runs/{run_id}/review/{item.id}",
                         data={"csrf": token, "decision": "dismiss", "note": nul}),
        "bulk note": att.post(f"/runs/{run_id}/review/bulk",
                              data={"csrf": token, "decision": "dismiss", "note": nul,
                                    "count": "1"}),
        "long note": att.post(f"/runs/{run_id}/review/{item.id}",
                              data={"csrf": token, "decision": "dismiss", "note": "n" * 2001}),
        "audit filter": adm.get("/admin/audit", params={"action": "x\x00"}),
        "sign-in": sign_in(ws.client(), "att\x00"),
    }  # fmt: skip
    with research_file.open("rb") as fh:  # 2,400 characters, each county a valid one
        answers["county list"] = ana.post(
            "/runs/new",
            data={"csrf": csrf_of(ana, "/runs/new"), "county": ",".join(["LOS ANGELES"] * 200),
                  "policy": "shipped:dismiss-all", "as_of": "2020-07-01"},
            files={"files": (research_file.name, fh, "text/csv")},
        )  # fmt: skip
    for what, r in answers.items():
        assert r.status_code == 400, (what, r.status_code)
        assert "NUL character" in r.text or "longer than 2,000 characters" in r.text, what
        assert SEARCHED not in r.text, what
    assert _items(ws, run_id)[0].decision is None
    with ws.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one() == 1
    assert SEARCHED not in _logged(caplog)


def test_an_unexpected_error_answers_a_plain_500_and_logs_only_its_kind(
    workspace_factory, research_file, caplog, monkeypatch
):
    """A defect's exception (here one raised in the determinations search, quoting a person as
    a database error quotes its parameters) gives a plain 500 page; the log has its kind and
    where, not its message; and it does not reach the server (uvicorn would log it whole)."""
    from clearslate.web import results

    caplog.set_level(logging.DEBUG)
    ws = workspace_factory(None)
    run_id = _done_run(ws, research_file)

    def failing_search(*_args, **_kwargs):
        raise ValueError(f"[parameters: {{'name_1': '%{SEARCHED}%', 'cii': '12345678'}}]")

    monkeypatch.setattr(results, "search", failing_search)
    r = ws.login("att").get(f"/runs/{run_id}/determinations", params={"q": SEARCHED})
    assert r.status_code == 500
    assert "unexpected error" in r.text and "Not possible" in r.text
    assert SEARCHED not in r.text and "12345678" not in r.text
    logged = _logged(caplog)
    assert "ValueError" in logged and "app.py" in logged and "determinations" in logged
    assert SEARCHED not in logged and "12345678" not in logged and "parameters" not in logged


LONG = {"PRI_NAME": ",Q" + "Q" * 320, "CII_NUMBER": "7" * 120, "OFN": "C" * 320,
        "SUBJECT_ID": "9" * 120}  # fmt: skip


def test_long_names_in_the_research_file_are_kept_whole(
    workspace_factory, backend, research_file, tmp_path, caplog
):
    """Names, CII numbers, case numbers and subject ids longer than the review queue's columns
    once allowed (300, 100, 300, 100): the run finishes, the queue has them whole, and the log
    has none of them."""
    caplog.set_level(logging.DEBUG)
    rows = list(csv.reader(research_file.open(encoding="utf-8")))
    header = rows[0]
    for row in rows[1:]:
        for column, more in LONG.items():
            if row[header.index(column)].strip():
                row[header.index(column)] += more
    long_file = tmp_path / "long_names.csv"
    with long_file.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    names = {r[header.index("PRI_NAME")] for r in rows[1:]}
    ws = workspace_factory(backend)
    run_id = _done_run(ws, long_file)
    items = _items(ws, run_id)
    assert items
    for item in items:
        assert item.name in names and len(item.name) > 300
        assert item.cii_number.endswith(LONG["CII_NUMBER"])
        assert LONG["OFN"] in item.case_number
        assert item.subject_id.endswith(LONG["SUBJECT_ID"])
    att = ws.login("att")
    page = att.get(f"/runs/{run_id}/people/{items[0].subject_id}")
    assert page.status_code == 200
    logged = _logged(caplog)
    assert not any(n.split(",")[0] in logged for n in names)


def test_a_nul_in_a_research_files_name_does_not_fail_the_run(
    workspace_factory, backend, research_file, tmp_path
):
    """PostgreSQL refuses a NUL in text: a name holding one failed the whole run there
    ("unexpected error (DataError)"). The review queue keeps it as U+FFFD."""
    rows = list(csv.reader(research_file.open(encoding="utf-8")))
    at = rows[0].index("PRI_NAME")
    for row in rows[1:]:
        row[at] = row[at].replace(",", ",\x00", 1)
    nul_file = tmp_path / "nul_names.csv"
    with nul_file.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    ws = workspace_factory(backend)
    run_id = _done_run(ws, nul_file)
    items = _items(ws, run_id)
    assert items and all("\ufffd" in item.name and "\x00" not in item.name for item in items)


def test_a_failed_run_logs_only_the_error_kind(workspace_factory, research_file, caplog,
                                               monkeypatch):  # fmt: skip
    """An unexpected error in a run (here in filling the review queue, quoting a person as a
    failed INSERT quotes its parameters): the run fails saying its kind; the log has the kind
    and where, none of the message."""
    from clearslate.web import results

    caplog.set_level(logging.DEBUG)

    def failing_rows(*_args, **_kwargs):
        raise RuntimeError(f"[parameters: {{'name': '{SEARCHED}', 'cii_number': '12345678'}}]")

    monkeypatch.setattr(results, "review_rows", failing_rows)
    ws = workspace_factory(None)
    run_id = start_run(ws.login("ana"), research_file)
    assert ws.app.state.ws.jobs.wait_idle(300)
    with ws.db.read() as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
    assert row.status == "failed" and row.error == "unexpected error (RuntimeError)"
    logged = _logged(caplog)
    assert "RuntimeError" in logged and "jobs.py" in logged
    assert SEARCHED not in logged and "12345678" not in logged


def test_review_items_migration_keeps_rows_on_both_databases(backend, tmp_path):
    """0004 makes the data's columns of review_items unbounded text; down and up again keeps
    the rows (SQLite: in batch mode)."""
    from alembic import command

    db = Database(backend or f"sqlite:///{tmp_path / 'ws.db'}")
    db.migrate()
    with db.write() as conn:
        command.downgrade(_alembic_config(conn), "0003")
    assert _column_types(db)["name"].length == 300
    with db.write() as conn:
        run_id = conn.execute(
            sa.insert(runs).values(created_by="ana", created_at=dt.datetime(2020, 7, 1),
                                   county="ALL", as_of=dt.date(2020, 7, 1), policy_label="p",
                                   policy_file="policy.yaml", inputs="[]", status="done")
        ).inserted_primary_key[0]  # fmt: skip
        conn.execute(sa.insert(review_items).values(
            run_id=run_id, det_row=1, subject_id="1", cnt_order="1", source_file="f.csv",
            source_line=2, name="SMITH,ANN", cii_number="1", case_number="c", code_section="s",
            reason_code="r", reason="why"))  # fmt: skip
    db.migrate()
    types = _column_types(db)
    for column in ("subject_id", "cnt_order", "name", "cii_number", "case_number",
                   "code_section"):  # fmt: skip
        assert isinstance(types[column], sa.Text), (column, types[column])
    with db.write() as conn:
        assert conn.execute(sa.select(review_items.c.name)).scalar_one() == "SMITH,ANN"
        conn.execute(sa.update(review_items).values(name="SMITH,ANN" + "N" * 400))
        assert conn.execute(sa.select(sa.func.length(review_items.c.name))).scalar_one() == 409
    db.dispose()


def _column_types(db: Database) -> dict:
    with db.read() as conn:
        return {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("review_items")}


def _alembic_config(conn: sa.Connection):
    from alembic.config import Config

    from clearslate.web import db

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def test_a_decision_racing_the_sign_off_is_refused(workspace_factory, backend, research_file):
    """Attorneys re-decide an item in threads while another signs the run off: every decision
    is written before the sign-off or refused after it, and the item keeps the decision the
    sign-off saw (PostgreSQL: the run's row is locked; SQLite: its write lock serialises)."""
    ws = workspace_factory(backend)
    run_id = _done_run(ws, research_file)
    items = _items(ws, run_id)
    signer = ws.login("att")
    token = csrf_of(signer)
    r = signer.post(f"/runs/{run_id}/review/bulk", data={
        "csrf": token, "status": "open", "decision": "dismiss", "count": str(len(items))})  # fmt: skip
    assert r.status_code == 303, r.text
    target = items[0].id
    signed = threading.Event()
    posted = threading.Semaphore(0)
    answers: list[tuple[bool, int]] = []  # (posted once the sign-off had answered, status)

    def redecide() -> None:
        c = ws.login("att")
        own = csrf_of(c)
        late, k = 0, 0
        while late < 5:
            k += 1
            is_late = signed.is_set()
            r = c.post(f"/runs/{run_id}/review/{target}", data={
                "csrf": own, "decision": ("reduce", "not_eligible")[k % 2]})  # fmt: skip
            answers.append((is_late, r.status_code))
            late += is_late
            posted.release()

    threads = [threading.Thread(target=redecide) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for _ in range(20):  # decisions are being posted while the run is signed off
            assert posted.acquire(timeout=120)
        r = signer.post(f"/runs/{run_id}/sign-off", data={"csrf": token})
    finally:
        signed.set()
        for t in threads:
            t.join()
    assert r.status_code == 303, r.text
    assert {status for late, status in answers if not late} <= {303, 409}
    assert {status for late, status in answers if late} == {409}

    entries = _audit(ws)
    signed_off = next(e.id for e in entries if e.action == "sign_off")
    decisions = [e for e in entries if e.action == "decision" and e.target.startswith(f"run {run_id} ")]  # fmt: skip
    late_entries = [e.id for e in decisions if e.id > signed_off]
    assert not late_entries, f"decisions written after the sign-off (entry {signed_off})"
    last = [e for e in decisions if e.target == f"run {run_id} item {target}"][-1]
    with ws.db.read() as conn:
        final = conn.execute(
            sa.select(review_items.c.decision).where(review_items.c.id == target)
        ).scalar_one()
    assert final == json.loads(last.detail)["decision"]
