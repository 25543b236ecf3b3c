"""Security rules of the workspace, on SQLite and on a real PostgreSQL server: each role reaches
only its pages, anonymous requests are refused, every form needs its CSRF token, sessions end
when idle and at sign-out, repeated failures lock an account, the audit log shows tampering."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clearslate.web import audit
from clearslate.web.db import audit_log
from conftest import PASSWORD, csrf_of, sign_in

# (method, path, roles allowed). Run 1 exists (queued: the jobs do not run in these tests).
PAGES = [
    ("GET", "/runs", {"analyst", "attorney"}),
    ("GET", "/runs/new", {"analyst"}),
    ("POST", "/runs/new", {"analyst"}),
    ("GET", "/runs/1", {"analyst", "attorney"}),
    ("GET", "/runs/1/progress", {"analyst", "attorney"}),
    ("GET", "/runs/1/determinations", {"analyst", "attorney"}),
    ("GET", "/runs/1/people/123", {"analyst", "attorney"}),
    ("GET", "/runs/1/report", {"analyst", "attorney"}),
    ("GET", "/runs/1/review", {"attorney"}),
    ("POST", "/runs/1/review/1", {"attorney"}),
    ("POST", "/runs/1/review/bulk", {"attorney"}),
    ("GET", "/runs/1/decisions.csv", {"attorney"}),
    ("POST", "/runs/1/sign-off", {"attorney"}),
    ("GET", "/runs/1/documents.zip", {"analyst", "attorney"}),
    ("GET", "/admin/users", {"administrator"}),
    ("POST", "/admin/users", {"administrator"}),
    ("POST", "/admin/users/1", {"administrator"}),
    ("GET", "/admin/policies", {"administrator"}),
    ("GET", "/admin/policies/new", {"administrator"}),
    ("GET", "/admin/audit", {"administrator"}),
    ("GET", "/admin/audit.csv", {"administrator"}),
]
USERS = {"analyst": "ana", "attorney": "att", "administrator": "adm"}


@pytest.fixture
def ws(workspace_factory, backend, research_file):
    from conftest import start_run

    ws = workspace_factory(backend, run_jobs=False)
    start_run(ws.login("ana"), research_file)
    return ws


def _request(c, method, path, token):
    if method == "GET":
        return c.get(path)
    return c.post(path, data={"csrf": token})


def test_each_role_reaches_only_its_pages(ws):
    for role, name in USERS.items():
        c = ws.login(name)
        token = csrf_of(c)
        for method, path, allowed in PAGES:
            r = _request(c, method, path, token)
            if role in allowed:
                assert r.status_code not in (401, 403), (role, method, path, r.status_code)
                assert r.status_code < 500, (role, method, path, r.status_code)
            else:
                assert r.status_code == 403, (role, method, path, r.status_code)
                assert "does not give access" in r.text


def test_anonymous_requests_are_refused(ws):
    c = ws.client()
    for method, path, _allowed in PAGES:
        r = _request(c, method, path, "x")
        if method == "GET":
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        else:
            assert r.status_code == 401, path
    assert c.get("/runs/1/progress", headers={"accept": "application/json"}).status_code == 401


def test_every_form_needs_its_csrf_token(ws):
    att = ws.login("att")
    for token in ("", "forged"):
        r = att.post("/runs/1/sign-off", data={"csrf": token})
        assert r.status_code == 403 and "did not come from this site" in r.text
    ana = ws.login("ana")  # another user's token is no good either
    r = att.post("/runs/1/sign-off", data={"csrf": csrf_of(ana)})
    assert r.status_code == 403
    # The sign-in form has its own token, in a cookie and in the form.
    c = ws.client()
    r = c.post("/login", data={"username": "ana", "password": PASSWORD, "csrf": "x"})
    assert r.status_code == 403


def test_session_cookie_and_headers(ws):
    c = ws.client()
    r = sign_in(c, "ana")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    page = c.get("/runs")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_idle_session_ends(ws):
    c = ws.login("ana")
    ws.clock.advance(minutes=29)
    assert c.get("/runs").status_code == 200  # in use: kept alive
    ws.clock.advance(minutes=29)
    assert c.get("/runs").status_code == 200
    ws.clock.advance(minutes=31)
    r = c.get("/runs")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_sign_out_ends_the_session(ws):
    c = ws.login("ana")
    cookie = c.cookies.get("clearslate_session")
    assert c.post("/logout", data={"csrf": csrf_of(c)}).status_code == 303
    stale = ws.client()
    stale.cookies.set("clearslate_session", cookie)
    assert stale.get("/runs").status_code == 303


def test_lock_out_after_repeated_failures(ws):
    c = ws.client()
    for _ in range(5):
        r = sign_in(c, "ana", "wrong password!")
        assert r.status_code == 401
    r = sign_in(c, "ana")  # the right password, but locked
    assert r.status_code == 401 and "locked" in r.text
    ws.clock.advance(minutes=14)
    assert sign_in(c, "ana").status_code == 401
    ws.clock.advance(minutes=2)
    assert sign_in(c, "ana").status_code == 303
    with ws.db.read() as conn:
        failed = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "login_failed")
        ).scalar_one()
    assert failed == 7


def test_audit_chain_detects_an_edited_or_deleted_row(ws):
    ws.login("att")
    ws.login("adm")
    with ws.db.read() as conn:
        assert audit.verify(conn).ok
        n = audit.verify(conn).entries
    assert n >= 4
    # The application's database user cannot change the log...
    with pytest.raises(sa.exc.DBAPIError), ws.db.write() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.id == 2).values(actor="nobody"))
    # ...and when someone who can drop the guard does, the chain shows it.
    _drop_guard(ws)
    with ws.db.write() as conn:
        conn.execute(sa.update(audit_log).where(audit_log.c.id == 2).values(actor="nobody"))
        check = audit.verify(conn)
    assert not check.ok and check.problems == [
        "entry 2: its content was changed after it was written"
    ]
    adm = ws.login("adm")
    page = adm.get("/admin/audit?verify=1")
    assert "tampered" in page.text and "entry 2" in page.text
    with ws.db.write() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.id == 3))
        problems = audit.verify(conn).problems
    assert "entries 3 to 3 are missing (deleted)" in problems
    last = n + 2  # two more entries: the sign-in and the verification above
    with ws.db.write() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.id == last))
        assert any("entries at the end were deleted" in p for p in audit.verify(conn).problems)


def _drop_guard(ws):
    with ws.db.write() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))


def test_admin_exports_the_audit_log(ws):
    adm = ws.login("adm")
    text = adm.get("/admin/audit.csv").text
    lines = text.splitlines()
    assert lines[0] == ",".join(audit.COLUMNS)
    assert any(",upload,run 1," in line for line in lines)
    assert any(",run_started,run 1," in line for line in lines)


def test_odd_numbers_in_pages_and_ids_answer_plainly(ws):
    """Found by the web hostile pass: a superscript digit ("²".isdigit() is true, int() fails)
    and an id past the database's integer were server errors (500)."""
    att, adm = ws.login("att"), ws.login("adm")
    for c, path in ((att, "/runs/1/review?page=%C2%B2"), (att, "/runs/1/determinations?page=²"),
                    (adm, "/admin/audit?page=²"), (adm, "/admin/audit?page=0"),
                    (adm, "/admin/audit?page=99999999999999999999")):  # fmt: skip
        assert c.get(path).status_code < 500, path
    token = csrf_of(att)
    r = att.post("/runs/1/review/bulk", data={"csrf": token, "decision": "dismiss", "count": "²"})
    assert r.status_code == 409 and "filtered set changed" in r.text
    big = "99999999999999999999"
    for c, method, path in ((att, "GET", f"/runs/{big}"), (att, "POST", f"/runs/1/review/{big}"),
                            (att, "POST", f"/runs/{2**31}/sign-off"),
                            (adm, "POST", f"/admin/users/{big}"),
                            (adm, "GET", f"/admin/policies/{2**31}")):  # fmt: skip
        r = _request(c, method, path, csrf_of(c))
        assert r.status_code == 404, (method, path, r.status_code)
    r = adm.post("/admin/policies/new", data={"csrf": csrf_of(adm), "name": "Superscript",
                                               "age_threshold": "²"})  # fmt: skip
    assert r.status_code == 400 and "age" in r.text.lower()


def test_the_review_queues_search_is_audited_and_bulk_needs_items(workspace, research_file):
    """A search by name in the review queue lists people: it is written to the audit log, as
    the determinations' search is (it was not)."""
    from conftest import start_run

    ws = workspace
    start_run(ws.login("ana"), research_file)
    assert ws.app.state.ws.jobs.wait_idle(300)
    assert ws.login("att").get("/runs/1/review?q=EXAMPLE&status=all").status_code == 200
    with ws.db.read() as conn:
        searches = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.target).where(audit_log.c.action == "search")
        ).fetchall()
    assert searches == [("att", "run 1 review")]
    # A bulk decision over no item said "Decisions saved."
    att = ws.login("att")
    r = att.post("/runs/1/review/bulk", data={"csrf": csrf_of(att), "decision": "dismiss",
                 "q": "NO SUCH NAME", "count": "0"})  # fmt: skip
    assert r.status_code == 400 and "nothing was decided" in r.text


def test_a_failed_sign_in_keeps_only_what_could_be_a_user_name(ws):
    """The audit log kept whatever was typed as the user name of a failed sign-in: a
    password typed in the wrong field, or a formula that a spreadsheet opening the exported
    log would run (anyone who reaches the sign-in page could plant one)."""
    c = ws.client()
    sign_in(c, '=HYPERLINK("http://example.invalid","x")', "whatever it is")
    sign_in(c, "nosuchuser", "whatever it is")
    with ws.db.read() as conn:
        actors = conn.execute(
            sa.select(audit_log.c.actor)
            .where(audit_log.c.action == "login_failed")
            .order_by(audit_log.c.id)
        ).scalars()
        assert list(actors) == ["(not a user name)", "nosuchuser"]
    exported = ws.login("adm").get("/admin/audit.csv").text
    assert "HYPERLINK" not in exported


def test_an_unknown_role_is_named_as_such(ws):
    adm = ws.login("adm")
    r = adm.post("/admin/users/1", data={"csrf": csrf_of(adm), "action": "role", "role": "king"})
    assert r.status_code == 400 and "Choose a role: analyst, attorney, administrator." in r.text
