"""The workspace's pages. Each page is a plain function `(Ctx) -> Response` registered with the
roles that may see it; `_page` checks the session, the role and (on every POST) the CSRF token
on the server before the function runs, and runs it in a worker thread (the database and
DuckDB calls block).

    analyst        upload and run batches; results, report, people, documents
    attorney       results, report, people; the review queue, decisions, sign-off, documents
    administrator  users, policies, the audit log (no personal data: no results, no people)
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearslate.sources.il_canonical import IL_OUTCOMES
from clearslate.web import audit, auth, policy_form, results
from clearslate.web.db import (
    ROLES,
    Database,
    audit_log,
    policies,
    review_items,
    runs,
    users,
    utcnow,
)
from clearslate.web.errors import log_unexpected
from clearslate.web.jobs import (
    DOCUMENTS_FILE,
    READ_FILE,
    REMOVED,
    REMOVING_PREFIX,
    Jobs,
    new_run_folder,
    run_dir,
    upload_names,
)

HERE = Path(__file__).parent
SESSION_COOKIE = "clearslate_session"
LOGIN_CSRF_COOKIE = "clearslate_login"
# What an attorney may decide a review item as: the decisions the jurisdiction's documents
# accept (documents/jurisdictions.py), with their labels.
DECISIONS = {
    "ca": {"dismiss": "Dismiss", "reduce": "Reduce", "not_eligible": "Not eligible"},
    "il": {"vacate_and_expunge": "Vacate and expunge",
           "eligible_on_motion": "Vacate and expunge on motion (more than 30 g)",
           "not_eligible": "Not eligible"},
}  # fmt: skip
OUTCOMES = {"ca": ("dismiss", "reduce", "not_eligible", "review"), "il": IL_OUTCOMES}
# An item the attorney decides (not an Illinois arrest, tier-less row or state-police twin)
DECIDABLE = review_items.c.not_decidable.is_(None)
ANALYST, ATTORNEY, ADMIN = ROLES
RESULTS_ROLES = (ANALYST, ATTORNEY)
PER_PAGE = 50


@dataclass
class Settings:
    data_dir: Path
    database_url: str | None = None  # None: SQLite in the data folder
    idle_minutes: int = 30
    max_failures: int = 5
    lockout_minutes: int = 15
    secure_cookies: bool = True
    clock: Callable[[], dt.datetime] = utcnow
    run_jobs: bool = True  # False: runs stay queued (tests of the pages alone)

    @property
    def idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.idle_minutes)


@dataclass
class Workspace:
    settings: Settings
    db: Database
    jobs: Jobs
    templates: jinja2.Environment


@dataclass
class Ctx:
    """What a page function gets: the request, its form (POST), the signed-in user."""

    request: Request
    ws: Workspace
    session: auth.Session | None
    form: FormData | None
    now: dt.datetime

    @property
    def user(self) -> auth.User:
        assert self.session is not None
        return self.session.user

    def param(self, key: str, default: str = "") -> str:
        return self.request.query_params.get(key, default).strip()

    def field(self, key: str) -> str:
        value = self.form.get(key) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.ws.templates.get_template(template).render(
            user=self.session.user if self.session else None,
            csrf=self.session.csrf if self.session else "",
            request=self.request,
            notice=NOTICES.get(self.param("done"), ""),
            **values,
        )
        return HTMLResponse(html, status_code=status)

    def audit(self, conn: sa.Connection, action: str, target: str = "",
              detail: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        actor = self.session.user.username if self.session else ""
        audit.record(conn, actor, action, target, detail)


# Short codes in ?done= after a POST, so a reload does not post again.
NOTICES = {
    "decided": "Decision saved.",
    "bulk": "Decisions saved.",
    "signed": "Signed off. The documents are being built.",
    "rebuild": "The documents are being built again.",
    "removed": "The run's data was removed.",
    "user": "User saved.",
    "policy": "Policy saved.",
    "password": "Password changed.",
}


CSRF_REFUSED = (
    "This form has expired or did not come from this site. Go back, reload the page and try again."
)
UNEXPECTED = (
    "An unexpected error stopped this page. The server's log says where it failed (not what was "
    "entered or shown). Go back and try again, or tell your administrator."
)
# The most characters a form field or a parameter may have: the longest column one fills, a
# run's county list, holds 2,000 (a note may have as many). The policy form's free text, kept
# whole in the policy's YAML, may be longer.
TEXT_LIMIT = 2000
LONG_TEXT = {"description": 100_000, "related_sections": 100_000, "flow": 100_000}


class Refused(Exception):
    def __init__(self, status: int, message: str, back: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.back = back  # a page that says more (the run's), linked under the message


Page = Callable[[Ctx], Response]


def _page(fn: Page, roles: tuple[str, ...] | None) -> Callable[[Request], Any]:
    """`roles` None: a page for anyone (sign-in). Otherwise a session with one of `roles`,
    checked before a posted form (an upload, say) is even read."""

    async def endpoint(request: Request) -> Response:
        checked = await run_in_threadpool(_authorise, roles, request)
        if isinstance(checked, Response):
            return checked
        ctx = checked
        if request.method == "POST":
            ctx.form = await request.form(max_files=20, max_fields=2000)
        try:
            if roles is not None and not _csrf_ok(ctx):
                return _refuse(ctx, 403, CSRF_REFUSED)
            if problem := _text_problem(request, ctx.form):
                return _refuse(ctx, 400, problem)
            return await run_in_threadpool(_call, fn, ctx)
        finally:
            if ctx.form is not None:
                await ctx.form.close()

    return endpoint


def _csrf_ok(ctx: Ctx) -> bool:
    """A form of this session (every POST carries its session's token)."""
    if ctx.form is None or ctx.session is None:
        return True
    return secrets.compare_digest(str(ctx.form.get("csrf", "")), ctx.session.csrf)


def _text_problem(request: Request, form: FormData | None) -> str:
    """What is wrong with the text of a request, or '': every page checks it here, before any
    of it reaches the database. No field, query or path parameter may hold a NUL character
    (PostgreSQL stores none) or be longer than its limit."""
    for key, value in (*request.path_params.items(), *request.query_params.multi_items(),
                       *(form.multi_items() if form is not None else ())):  # fmt: skip
        if not isinstance(value, str):  # a number in the path, an uploaded file
            continue
        if "\x00" in value:
            return "The form or the address holds a NUL character (\\0), which no text may hold."
        if len(value) > (limit := LONG_TEXT.get(key, TEXT_LIMIT)):
            return f"“{key[:40]}” is longer than {limit:,} characters; shorten it and try again."
    return ""


def _authorise(roles: tuple[str, ...] | None, request: Request) -> Ctx | Response:
    ws: Workspace = request.app.state.ws
    now = ws.settings.clock()
    session = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with ws.db.read() as conn:
            session, stale = auth.current_session(conn, token, now, ws.settings.idle)
        if session is not None and stale:
            with ws.db.write() as conn:
                auth.touch(conn, session.token_hash, now)
    ctx = Ctx(request, ws, session, None, now)
    if roles is None:
        return ctx
    if session is None:
        if request.method == "GET" and "json" not in request.headers.get("accept", ""):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
        return _refuse(ctx, 401, "Sign in first.")
    if session.user.role not in roles:
        return _refuse(ctx, 403, "Your role does not give access to this page.")
    return ctx


def _call(fn: Page, ctx: Ctx) -> Response:
    try:
        return fn(ctx)
    except Refused as exc:
        return _refuse(ctx, exc.status, str(exc), exc.back)


def _refuse(ctx: Ctx, status: int, message: str, back: str = "") -> Response:
    if "json" in ctx.request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status)
    return ctx.render("error.html", status=status, message=message, back=back)


def _redirect(url: str, **query: Any) -> RedirectResponse:
    query = {k: v for k, v in query.items() if v not in ("", None)}
    return RedirectResponse(url + (f"?{urlencode(query)}" if query else ""), status_code=303)


def _int(value: str | None, default: int = 1) -> int:
    """A page number or a count as typed, else `default`. Only ASCII digits, and at most
    nine of them: `"²".isdigit()` is true but `int("²")` fails, and a larger number
    overflows the database's integer."""
    return int(value) if value and ID_DIGITS.fullmatch(value) else default


# Database ids and page numbers: at most nine ASCII digits (an id of 2**31 or more overflowed
# PostgreSQL's integer and SQLite's bind; a longer one in a path is no page: 404).
ID_DIGITS = re.compile(r"[0-9]{1,9}")


class IdConvertor(IntegerConvertor):
    regex = ID_DIGITS.pattern


register_url_convertor("id", IdConvertor())


# ---- sign in and out ---------------------------------------------------------------------


def home(ctx: Ctx) -> Response:
    if ctx.session is None:
        return _redirect("/login")
    return _redirect("/admin/users" if ctx.user.role == ADMIN else "/runs")


def login(ctx: Ctx) -> Response:
    s = ctx.ws.settings
    next_url = ctx.param("next") or ctx.field("next")
    if not next_url.startswith("/") or next_url.startswith("//"):
        next_url = "/"
    if ctx.form is None:
        token = secrets.token_urlsafe(32)
        response = ctx.render("login.html", login_csrf=token, next=next_url, error="")
        _set_cookie(response, s, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response
    cookie = ctx.request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(cookie, ctx.field("csrf")):
        raise Refused(403, "The sign-in form has expired. Reload the page and try again.")
    username = ctx.field("username").lower()
    with ctx.ws.db.write() as conn:
        outcome = auth.authenticate(
            conn, username, str(ctx.form.get("password", "")), ctx.now,
            max_failures=s.max_failures, lockout=dt.timedelta(minutes=s.lockout_minutes),
        )  # fmt: skip
        if outcome.user is None:
            # What was typed, only if it could be a user name: anything else (a password in
            # the wrong field, a spreadsheet formula for whoever opens the exported log, a
            # name with markup) is not kept.
            tried = username if auth.USERNAME.fullmatch(username) else "(not a user name)"
            audit.record(conn, tried, "login_failed", "", {"why": outcome.failure})
        else:
            token = auth.start_session(conn, outcome.user, ctx.now)
            audit.record(conn, outcome.user.username, "login", "")
    if outcome.user is None:
        error = "Wrong user name or password."
        if outcome.failure in ("locked", "locked_now"):
            error = (f"This account is locked after {s.max_failures} failed sign-ins. Try again "
                     f"in {s.lockout_minutes} minutes, or ask an administrator.")  # fmt: skip
        fresh = secrets.token_urlsafe(32)
        response = ctx.render("login.html", 401, login_csrf=fresh, next=next_url, error=error)
        _set_cookie(response, s, LOGIN_CSRF_COOKIE, fresh, max_age=3600)
        return response
    response = _redirect(next_url)
    _set_cookie(response, s, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def _set_cookie(
    response: Response, s: Settings, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, secure=s.secure_cookies,
                        samesite="strict", path="/")  # fmt: skip


def logout(ctx: Ctx) -> Response:
    assert ctx.session is not None
    with ctx.ws.db.write() as conn:
        auth.end_session(conn, ctx.session.token_hash)
        ctx.audit(conn, "logout")
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


def password(ctx: Ctx) -> Response:
    if ctx.form is None:
        return ctx.render("password.html", error="")
    with ctx.ws.db.write() as conn:
        if not auth.check_password(conn, ctx.user.id, str(ctx.form.get("current", ""))):
            return ctx.render("password.html", 400, error="The current password is wrong.")
        try:
            auth.set_password(conn, ctx.user.id, str(ctx.form.get("new", "")))
        except auth.AccountError as exc:
            return ctx.render("password.html", 400, error=str(exc))
        ctx.audit(conn, "password_changed", f"user {ctx.user.username}")
    response = _redirect("/login", done="password")
    response.delete_cookie(SESSION_COOKIE)
    return response


# ---- runs ----------------------------------------------------------------------------------


def _run(ctx: Ctx, conn: sa.Connection, lock: bool = False) -> Any:
    """The run of the page. `lock`: its row is locked until the transaction ends (PostgreSQL:
    FOR UPDATE; SQLite's one writer at a time does the same), so that a decision and the
    sign-off of one run happen one after the other, each seeing the other's result."""
    run_id = ctx.request.path_params.get("run_id", 0)
    query = sa.select(runs).where(runs.c.id == run_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise Refused(404, "No such run.")
    return row


def runs_list(ctx: Ctx) -> Response:
    with ctx.ws.db.read() as conn:
        rows = conn.execute(sa.select(runs).order_by(runs.c.id.desc())).fetchall()
        open_items = dict(
            conn.execute(
                sa.select(review_items.c.run_id, sa.func.count())
                .where(review_items.c.decision.is_(None))
                .group_by(review_items.c.run_id)
            ).fetchall()
        )
    return ctx.render("runs.html", runs=rows, open_items=open_items)


def _policy_choices(conn: sa.Connection) -> list[tuple[str, str]]:
    from clearslate.policy import SHIPPED_POLICIES

    office = [(f"office:{r.id}", f"{r.name} (this office)")
              for r in conn.execute(sa.select(policies).order_by(policies.c.name))]  # fmt: skip
    return office + [(f"shipped:{n}", f"{n} (shipped)") for n in SHIPPED_POLICIES]


JURISDICTIONS = {"ca": "California (CA DOJ research files)",
                 "il": "Illinois (court and state-police exports)"}  # fmt: skip
MAPPING_MAX_BYTES = 1 << 20


def _il_policy_choices() -> list[tuple[str, str]]:
    from clearslate.il_policy import shipped_il_policies

    return [(f"il:{n}", f"{n} (shipped)") for n in shipped_il_policies()]


def _uploads(ctx: Ctx, key: str) -> list[UploadFile]:
    assert ctx.form is not None
    return [f for f in ctx.form.getlist(key) if isinstance(f, UploadFile) and f.filename]


def _mapping_problem(upload: UploadFile, source: str) -> str:
    """What is wrong with an uploaded Illinois column mapping, or ''."""
    from clearslate.sources.il_mapping import MappingError, mapping_from_text

    upload.file.seek(0)
    data = upload.file.read(MAPPING_MAX_BYTES + 1)
    if len(data) > MAPPING_MAX_BYTES:
        return "This mapping file is larger than 1 MB: is it the right file?"
    try:  # as a mapping file is read: its line in each problem, no key given twice
        mapping = mapping_from_text(data.decode("utf-8"), "the mapping")
    except UnicodeDecodeError:
        return "The mapping file is not UTF-8 text."
    except MappingError as exc:
        return str(exc)
    if mapping.source != source:
        return f"This mapping says 'source: {mapping.source}'; give the {source} export's mapping."
    return ""


def _address_problem(upload: UploadFile) -> str:
    """What makes an uploaded address file unusable for the letters (no header, a required
    column missing), as the documents will read it, or ''. Its rows' own problems are not
    the form's: the documents list them in input_errors.csv."""
    from clearslate.documents.addresses import AddressFileError, read_address_text
    from clearslate.documents.textfile import office_text

    upload.file.seek(0)
    name = upload.filename or "the address file"
    try:
        read_address_text(office_text(upload.file.read()), name, name)
    except AddressFileError as exc:
        return str(exc)
    return ""


def _save(upload: UploadFile, path: Path) -> None:
    with path.open("wb") as out:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, out, 1 << 20)


def run_new(ctx: Ctx) -> Response:
    from clearslate.synth.generator import CA_COUNTIES

    with ctx.ws.db.read() as conn:
        choices = _policy_choices(conn)
    il_choices = _il_policy_choices()
    counties = [c for c, _ in CA_COUNTIES]

    def form_page(status: int, values: dict[str, str], errors: dict[str, str]) -> Response:
        return ctx.render("run_new.html", status, choices=choices, il_choices=il_choices,
                          counties=counties, jurisdictions=JURISDICTIONS, values=values,
                          errors=errors)  # fmt: skip

    if ctx.form is None:
        return form_page(200, {"jurisdiction": "ca", "county": "",
                               "policy": "shipped:dismiss-all", "il_policy": "il:cook-county",
                               "as_of": ctx.now.date().isoformat()}, {})  # fmt: skip
    values = {k: ctx.field(k) for k in ("jurisdiction", "county", "policy", "il_policy", "as_of")}
    errors: dict[str, str] = {}
    # No choice: California, as the form was before Illinois (a posted form without it).
    jurisdiction = values["jurisdiction"] = values["jurisdiction"] or "ca"
    try:
        as_of = _as_of(values["as_of"])
    except ValueError as exc:
        errors["as_of"] = str(exc)
    # The files of the run, by the folder they go to under uploads/.
    uploads: dict[str, list[UploadFile]] = {}
    mappings: dict[str, UploadFile] = {}
    county, policy = "", ""
    if jurisdiction == "ca":
        uploads[""] = _uploads(ctx, "files")
        if not uploads[""]:
            errors["files"] = "Choose one or more research files."
        county = ",".join(c.strip().upper() for c in values["county"].split(",") if c.strip())
        if not county:
            errors["county"] = "Give a county, a comma-separated list of counties, or ALL."
        elif county != "ALL" and (bad := [c for c in county.split(",") if c not in counties]):
            errors["county"] = f"Not a California county: {', '.join(bad)}."
        policy = values["policy"]
        if policy not in dict(choices):
            errors["policy"] = "Choose a policy from the list."
    elif jurisdiction == "il":
        uploads = {"court": _uploads(ctx, "court_files"), "isp": _uploads(ctx, "isp_files")}
        if not uploads["court"] and not uploads["isp"]:
            errors["court_files"] = "Choose a court export, a state-police export, or both."
        for source in ("court", "isp"):
            if found := _uploads(ctx, f"{source}_mapping"):
                mappings[source] = found[0]
                if problem := _mapping_problem(found[0], source):
                    errors[f"{source}_mapping"] = problem
        policy = values["il_policy"]
        if policy not in dict(il_choices):
            errors["il_policy"] = "Choose cook-county or statewide."
    else:
        errors["jurisdiction"] = "Choose California or Illinois."
    addresses = _uploads(ctx, "addresses") if jurisdiction == "ca" else []
    if addresses and (problem := _address_problem(addresses[0])):
        errors["addresses"] = problem
    if errors:
        return form_page(400, values, errors)
    label = (dict(choices) | dict(il_choices))[policy]
    with ctx.ws.db.write() as conn:
        text, policy_file = _policy_text(conn, policy)
        names: dict[str, list[str]] = {}
        run_id = conn.execute(
            sa.insert(runs).values(
                created_by=ctx.user.username, created_at=ctx.now, jurisdiction=jurisdiction,
                county=county, as_of=as_of, policy_label=label, policy_file=policy_file,
                inputs=json.dumps(
                    [f.filename for f in uploads[""]] if jurisdiction == "ca"
                    else {k: [f.filename for f in v] for k, v in uploads.items()}
                ),
                status="queued", stage="Queued",
            )
        ).inserted_primary_key[0]  # fmt: skip
        folder = new_run_folder(ctx.ws.settings.data_dir, run_id)
        (folder / policy_file).write_text(text, encoding="utf-8")
        for sub, files in uploads.items():
            (folder / "uploads" / sub).mkdir(exist_ok=True)
            for i, f in enumerate(files, 1):
                name = f"{i:02d}-{_safe_name(f.filename or 'export.csv')}"
                _save(f, folder / "uploads" / sub / name)
                names.setdefault(sub or "files", []).append(name)
        for source, f in mappings.items():
            _save(f, folder / f"{source}_mapping.yaml")
        if addresses:
            _save(addresses[0], folder / "addresses.csv")
        ctx.audit(conn, "upload", f"run {run_id}", {**names, "mappings": sorted(mappings),
                                                    "addresses": bool(addresses)})  # fmt: skip
        ctx.audit(conn, "run_started", f"run {run_id}", {
            "jurisdiction": jurisdiction, "county": county, "as_of": as_of.isoformat(),
            "policy": label})  # fmt: skip
    if ctx.ws.settings.run_jobs:
        ctx.ws.jobs.submit_run(run_id, jurisdiction)
    return _redirect(f"/runs/{run_id}")


def _as_of(text: str) -> dt.date:
    """The as-of date, checked as the command line checks --compute-at (run.as_of_date:
    years are counted back from it, so none before 1900); a ValueError says what is wrong."""
    from clearslate.run import EARLIEST_AS_OF, as_of_date

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError("Give the as-of date as YYYY-MM-DD.")
    try:
        return as_of_date(text)
    except ValueError:
        if text < EARLIEST_AS_OF.isoformat():
            raise ValueError(f"Give an as-of date from {EARLIEST_AS_OF} on.") from None
        raise ValueError(f"{text} is no date: check the month and the day.") from None


def _safe_name(name: str) -> str:
    name = Path(name.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "research-file.csv"


def _policy_text(conn: sa.Connection, choice: str) -> tuple[str, str]:
    """The policy file a run keeps in its folder (a copy: a later edit does not change what
    the run used): (text, file name)."""
    from clearslate.il_policy import shipped_il_policies
    from clearslate.policy import SHIPPED_POLICIES

    kind, _, key = choice.partition(":")
    if kind == "il":
        return shipped_il_policies()[key].read_text(encoding="utf-8"), "policy.yaml"
    if kind == "shipped":
        path = SHIPPED_POLICIES[key]
        return path.read_text(encoding="utf-8"), f"policy{path.suffix.lower()}"
    text = conn.execute(sa.select(policies.c.text).where(policies.c.id == int(key))).scalar_one()
    return text, "policy.yaml"


def run_page(ctx: Ctx) -> Response:
    with ctx.ws.db.read() as conn:
        run = _run(ctx, conn)
        counts = conn.execute(
            sa.select(review_items.c.decision, review_items.c.not_decidable.is_not(None),
                      sa.func.count())
            .where(review_items.c.run_id == run.id)
            .group_by(review_items.c.decision, review_items.c.not_decidable.is_not(None))
        ).fetchall()  # fmt: skip
    review: dict[str, int] = {}
    for decision, held, n in counts:
        key = "not_decidable" if held else decision or "open"
        review[key] = review.get(key, 0) + n
    folder = run_dir(ctx.ws.settings.data_dir, run.id)
    layout = results.LAYOUTS[run.jurisdiction]
    reasons = results.reason_counts(folder / "results", layout) if run.status == "done" else []
    outcomes = json.loads(run.outcomes) if run.outcomes else {}
    documents = run.status == "done" and run.documents_status == "done"
    doc_files = _document_files(folder) if documents else []
    docs_file = folder / DOCUMENTS_FILE  # the builder's warnings (drafts: no office file)
    docs = {}
    if documents and docs_file.exists():
        docs = json.loads(docs_file.read_text(encoding="utf-8"))
    read_file = folder / READ_FILE  # what the run read (runs before this version: none)
    read = None
    if run.status == "done" and read_file.exists():
        read = json.loads(read_file.read_text(encoding="utf-8"))
    removal = None
    if run.status == REMOVED:
        with ctx.ws.db.read() as conn:
            removal = conn.execute(
                sa.select(audit_log.c.actor, audit_log.c.at)
                .where(audit_log.c.action == "run_removed", audit_log.c.target == f"run {run.id}")
            ).first()  # fmt: skip
    inputs = json.loads(run.inputs)
    if isinstance(inputs, dict):  # Illinois: by kind of export
        inputs = [f"{kind}: {name}" for kind, names in inputs.items() for name in names]
    return ctx.render("run.html", run=run, outcomes=outcomes, reasons=reasons, review=review,
                      progress=ctx.ws.jobs.progress(run.id), doc_files=doc_files,
                      inputs=inputs, read=read, docs=docs, removal=removal,
                      has_addresses=(folder / "addresses.csv").exists())  # fmt: skip


def run_progress(ctx: Ctx) -> Response:
    with ctx.ws.db.read() as conn:
        run = _run(ctx, conn)
    live = ctx.ws.jobs.progress(run.id)
    stage, percent = live if live else (run.stage, 100.0 if run.status == "done" else 0.0)
    return JSONResponse({"status": run.status, "stage": stage, "percent": round(percent, 1),
                         "error": run.error or ""}, headers={"Cache-Control": "no-store"})  # fmt: skip


def _done_run(ctx: Ctx) -> tuple[Any, Path]:
    with ctx.ws.db.read() as conn:
        run = _run(ctx, conn)
    _check_done(run)
    return run, run_dir(ctx.ws.settings.data_dir, run.id)


def _check_done(run: Any) -> None:
    """Refuse what needs a run's results when it has none: it failed (and why), or it is
    still going."""
    if run.status == "failed":
        raise Refused(409, f"This run failed, so it has no results: {run.error}",
                      back=f"/runs/{run.id}")  # fmt: skip
    if run.status == REMOVED:
        raise Refused(410, "This run's data was removed from the workspace.",
                      back=f"/runs/{run.id}")  # fmt: skip
    if run.status != "done":
        raise Refused(409, "This run has not finished.", back=f"/runs/{run.id}")


def input_problems(ctx: Ctx) -> Response:
    """The run's errors.csv (rows rejected) or warnings.csv (Illinois: values left empty).
    They hold no personal data: each line is a place (file, line, column) and a reason, and
    the readers never put a field's value in either (sources/ca_doj.py Reject,
    sources/il_reader.py). The file column names each upload as it was given."""
    run, folder = _done_run(ctx)
    name = ctx.request.url.path.rsplit("/", 1)[1]
    path = folder / "results" / name
    if not path.is_file():
        raise Refused(404, f"This run has no {name}.")
    names = upload_names(folder, run.inputs)
    with ctx.ws.db.write() as conn:
        ctx.audit(conn, "download", f"run {run.id}", {"file": name})
    return StreamingResponse(_named_as_uploaded(path, names), media_type="text/csv",
                             headers=_attachment(f"run-{run.id}-{name}"))  # fmt: skip


def _named_as_uploaded(path: Path, names: Mapping[str, str]) -> Iterator[str]:
    from clearslate.documents.decisions import spreadsheet_text  # (a file name is typed too)

    with path.open(encoding="utf-8", newline="") as fh:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        for i, row in enumerate(csv.reader(fh)):
            if i and row:
                row[0] = spreadsheet_text(names.get(row[0], Path(row[0]).name))
            w.writerow(row)
            if out.tell() > 1 << 16:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()


def run_report(ctx: Ctx) -> Response:
    _run_row, folder = _done_run(ctx)
    return FileResponse(folder / "results" / "report.html", media_type="text/html",
                        headers=REPORT_HEADERS)  # fmt: skip


# The report is self-contained: inline styles and images, no script, nothing fetched.
REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "sandbox",
    "Cache-Control": "no-store",
}


def determinations(ctx: Ctx) -> Response:
    run, folder = _done_run(ctx)
    q, outcome, reason = ctx.param("q"), ctx.param("outcome"), ctx.param("reason")
    layout = results.LAYOUTS[run.jurisdiction]
    page = results.search(folder / "results", q=q, outcome=outcome, reason=reason,
                          page=_int(ctx.param("page")), per_page=PER_PAGE,
                          layout=layout)  # fmt: skip
    reasons = results.reason_counts(folder / "results", layout)
    if q:
        with ctx.ws.db.write() as conn:  # a search by name is a look at people's records
            ctx.audit(conn, "search", f"run {run.id}", {"results": page.total})
    return ctx.render("determinations.html", run=run, page=page, reasons=reasons,
                      outcomes=OUTCOMES[run.jurisdiction],
                      filters={"q": q, "outcome": outcome, "reason": reason})  # fmt: skip


def person(ctx: Ctx) -> Response:
    from clearslate.il_policy import load_il_policy
    from clearslate.policy import load_policy

    run, folder = _done_run(ctx)
    subject = ctx.request.path_params["subject_id"]
    rows = results.person_rows(folder / "results", subject, results.LAYOUTS[run.jurisdiction])
    if not rows:
        raise Refused(404, "No such person in this run.")
    if run.jurisdiction == "il":
        explanation: Any = results.explain_il(
            folder, subject, policy=load_il_policy(folder / run.policy_file), as_of=run.as_of
        )
    else:
        explanation = results.explain(
            folder, subject, policy=load_policy(folder / run.policy_file), as_of=run.as_of,
            counties=None if run.county == "ALL" else run.county.split(","),
        )  # fmt: skip
    with ctx.ws.db.write() as conn:
        ctx.audit(conn, "person_view", f"run {run.id}", {"subject_id": subject})
        items = conn.execute(
            sa.select(review_items)
            .where(review_items.c.run_id == run.id, review_items.c.subject_id == subject)
            .order_by(review_items.c.det_row)
        ).fetchall()
    template = "person_il.html" if run.jurisdiction == "il" else "person.html"
    return ctx.render(template, run=run, rows=rows, x=explanation, items=items,
                      decisions=DECISIONS[run.jurisdiction])  # fmt: skip


# ---- review --------------------------------------------------------------------------------


def _reason_column(run: Any) -> Any:
    """The review queue's grouping: the reason's text (California), the review_reason code
    (Illinois: one code, a text per rule)."""
    return review_items.c.reason_code if run.jurisdiction == "il" else review_items.c.reason


def _review_filter(ctx: Ctx, run: Any, source: Callable[[str], str]) -> list[Any]:
    cond = [review_items.c.run_id == run.id]
    if reason := source("reason"):
        cond.append(_reason_column(run) == reason)
    status = source("status") or "open"
    if status == "open":
        cond += [review_items.c.decision.is_(None), DECIDABLE]
    elif status == "not_decidable":
        cond.append(review_items.c.not_decidable.is_not(None))
    elif status == "decided":
        cond.append(review_items.c.decision.is_not(None))
    if q := source("q"):
        like = f"%{q}%"
        cond.append(sa.or_(review_items.c.name.ilike(like), review_items.c.cii_number.ilike(like),
                           review_items.c.case_number.ilike(like),
                           review_items.c.subject_id == q))  # fmt: skip
    return cond


def review(ctx: Ctx) -> Response:
    with ctx.ws.db.read() as conn:
        run = _run(ctx, conn)
        _check_done(run)
        cond = _review_filter(ctx, run, ctx.param)
        total = conn.execute(sa.select(sa.func.count()).where(*cond)).scalar_one()
        page = max(1, min(_int(ctx.param("page")), max(1, -(-total // PER_PAGE))))
        items = conn.execute(
            sa.select(review_items).where(*cond).order_by(review_items.c.det_row)
            .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
        ).fetchall()  # fmt: skip
        bulk_total = conn.execute(sa.select(sa.func.count()).where(*cond, DECIDABLE)).scalar_one()
        reason = _reason_column(run)
        by_reason = conn.execute(
            sa.select(reason, sa.func.count(), sa.func.count(review_items.c.decision),
                      sa.func.count(review_items.c.not_decidable))
            .where(review_items.c.run_id == run.id)
            .group_by(reason).order_by(sa.func.count().desc())
        ).fetchall()  # fmt: skip
    if ctx.param("q"):
        with ctx.ws.db.write() as conn:  # a search by name is a look at people's records
            ctx.audit(conn, "search", f"run {run.id} review", {"results": total})
    filters = {k: ctx.param(k) for k in ("reason", "q")} | {"status": ctx.param("status") or "open"}
    open_total = sum(n - d - held for _r, n, d, held in by_reason)
    return ctx.render("review.html", run=run, items=items, total=total, page=page,
                      pages=max(1, -(-total // PER_PAGE)), by_reason=by_reason, filters=filters,
                      open_total=open_total, bulk_total=bulk_total,
                      decisions=DECISIONS[run.jurisdiction])  # fmt: skip


def _check_decision(ctx: Ctx, run: Any) -> tuple[str, str]:
    if run.signed_off_at is not None:
        raise Refused(409, "This run is signed off; its decisions can no longer change.")
    decision, note = ctx.field("decision"), ctx.field("note")
    choices = DECISIONS[run.jurisdiction]
    if decision not in choices:
        labels = [label.lower() for label in choices.values()]
        raise Refused(400, f"Choose a decision: {', '.join(labels[:-1])} or {labels[-1]}.")
    return decision, note


def decide(ctx: Ctx) -> Response:
    item_id = ctx.request.path_params.get("item_id", 0)
    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn, lock=True)
        decision, note = _check_decision(ctx, run)
        item = conn.execute(
            sa.select(review_items).where(review_items.c.id == item_id,
                                          review_items.c.run_id == run.id)
        ).first()  # fmt: skip
        if item is None:
            raise Refused(404, "No such review item.")
        if item.not_decidable:
            raise Refused(409, item.not_decidable)
        conn.execute(
            sa.update(review_items).where(review_items.c.id == item_id).values(
                decision=decision, note=note or None, decided_by=ctx.user.username,
                decided_at=ctx.now)
        )  # fmt: skip
        ctx.audit(conn, "decision", f"run {run.id} item {item_id}", {
            "decision": decision, "note": note, "previous": item.decision,
            "subject_id": item.subject_id})  # fmt: skip
    back = ctx.field("back")
    if not back.startswith("/runs/") or back.startswith("//"):
        back = f"/runs/{run.id}/review"
    return RedirectResponse(back + ("&" if "?" in back else "?") + "done=decided", status_code=303)


def decide_bulk(ctx: Ctx) -> Response:
    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn, lock=True)
        decision, note = _check_decision(ctx, run)
        cond = [*_review_filter(ctx, run, ctx.field), DECIDABLE]
        chosen = conn.execute(
            sa.select(review_items.c.id, review_items.c.decision, review_items.c.subject_id).where(
                *cond
            )
        ).fetchall()
        expected = _int(ctx.field("count"), -1)
        if expected != len(chosen):
            raise Refused(409, f"The filtered set changed ({len(chosen)} items now, "
                               f"{expected} shown): reload the queue and try again.")  # fmt: skip
        if not chosen:
            raise Refused(400, "No item matches this filter: nothing was decided.",
                          back=f"/runs/{run.id}/review")  # fmt: skip
        for start in range(0, len(chosen), 500):
            ids = [r.id for r in chosen[start : start + 500]]
            conn.execute(
                sa.update(review_items).where(review_items.c.id.in_(ids)).values(
                    decision=decision, note=note or None, decided_by=ctx.user.username,
                    decided_at=ctx.now)
            )  # fmt: skip
        for r in chosen:
            ctx.audit(conn, "decision", f"run {run.id} item {r.id}", {
                "decision": decision, "note": note, "previous": r.decision,
                "subject_id": r.subject_id, "bulk": True})  # fmt: skip
    return _redirect(f"/runs/{run.id}/review", reason=ctx.field("reason"), done="bulk")


def decisions_csv(ctx: Ctx) -> Response:
    from clearslate.web.jobs import decisions_csv as decisions_text

    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn)
        # Made here, not read from the run's folder, whose decisions.csv is the documents
        # job's (a download that wrote it there could take the job's away under it).
        text = decisions_text(conn, run.id)
        ctx.audit(conn, "download", f"run {run.id}", {"file": "decisions.csv"})
    return Response(text, media_type="text/csv",
                    headers=_attachment(f"run-{run.id}-decisions.csv"))  # fmt: skip


def sign_off(ctx: Ctx) -> Response:
    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn, lock=True)
        _check_done(run)
        if run.signed_off_at is not None:
            raise Refused(409, "This run is already signed off.")
        still_open = conn.execute(
            sa.select(sa.func.count()).where(review_items.c.run_id == run.id,
                                             review_items.c.decision.is_(None),
                                             DECIDABLE)
        ).scalar_one()  # fmt: skip
        if still_open:
            raise Refused(409, f"{still_open} review items are still open; decide them first.")
        decided = conn.execute(
            sa.select(sa.func.count()).where(review_items.c.run_id == run.id,
                                             review_items.c.decision.is_not(None))
        ).scalar_one()  # fmt: skip
        conn.execute(
            sa.update(runs).where(runs.c.id == run.id).values(
                signed_off_by=ctx.user.username, signed_off_at=ctx.now,
                documents_status="queued")
        )  # fmt: skip
        ctx.audit(conn, "sign_off", f"run {run.id}", {"decisions": decided})
    if ctx.ws.settings.run_jobs:
        ctx.ws.jobs.submit_documents(run.id)
    return _redirect(f"/runs/{run.id}", done="signed")


def documents_again(ctx: Ctx) -> Response:
    """Build a signed-off run's documents again: after they failed (a bad address file, a
    full disk, the server stopped), or to replace drafts once office.yaml is there;
    optionally with a new address file (California), checked as on the new-run form. The
    decisions stay as signed off."""
    found = _uploads(ctx, "addresses")
    problem = _address_problem(found[0]) if found else ""  # read before the write lock
    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn)
        if run.signed_off_at is None:
            raise Refused(409, "This run is not signed off: its documents are built at sign-off.")
        if found and run.jurisdiction != "ca":
            raise Refused(400, "Illinois letters go to the addresses in the run's records; "
                               "there is no address file to give.")  # fmt: skip
        if problem:
            raise Refused(400, f"The address file was not taken: {problem}",
                          back=f"/runs/{run.id}")  # fmt: skip
        # Only from failed or done, in one statement: two requests cannot queue it twice.
        queued = conn.execute(
            sa.update(runs)
            .where(runs.c.id == run.id, runs.c.documents_status.in_(("failed", "done")))
            .values(documents_status="queued", documents_error=None)
        ).rowcount
        if not queued:
            raise Refused(409, "The documents are being built; wait until they are ready.",
                          back=f"/runs/{run.id}")  # fmt: skip
        if found:
            _save(found[0], run_dir(ctx.ws.settings.data_dir, run.id) / "addresses.csv")
        ctx.audit(conn, "documents_again", f"run {run.id}", {
            "after": run.documents_status, "new_addresses": bool(found)})  # fmt: skip
    if ctx.ws.settings.run_jobs:
        ctx.ws.jobs.submit_documents(run.id)
    return _redirect(f"/runs/{run.id}", done="rebuild")


def remove_run(ctx: Ctx) -> Response:
    """Remove a finished run's data from the workspace once the office is done with it:
    its uploads (the research files, the address file), results, kept rows, review queue and
    documents, all of them personal data. The run's row stays, with its outcome counts, and
    the audit log keeps every decision and who removed the run. Not while a job works on
    it; the run's number, typed again, confirms it."""
    with ctx.ws.db.write() as conn:
        run = _run(ctx, conn)
        if run.status == REMOVED:
            raise Refused(410, "This run's data was already removed.")
        if ctx.field("confirm") != str(run.id):
            raise Refused(400, f"Type the run's number, {run.id}, to confirm the removal.",
                          back=f"/runs/{run.id}")  # fmt: skip
        # In one statement, so that no job can be queued for it meanwhile.
        removed = conn.execute(
            sa.update(runs)
            .where(runs.c.id == run.id, runs.c.status.in_(("done", "failed")),
                   sa.or_(runs.c.documents_status.is_(None),
                          runs.c.documents_status.in_(("done", "failed"))))
            .values(status=REMOVED)
        ).rowcount  # fmt: skip
        if not removed:
            raise Refused(409, "A job is working on this run; remove it once it has ended.",
                          back=f"/runs/{run.id}")  # fmt: skip
        items = conn.execute(sa.delete(review_items).where(review_items.c.run_id == run.id))
        # Out of the way before the commit (if that fails, the removal is rolled back), and
        # deleted after it; a leftover goes at the server's next start (Jobs.start).
        folder = run_dir(ctx.ws.settings.data_dir, run.id)
        doomed = folder.with_name(f"{REMOVING_PREFIX}{run.id}")
        if folder.exists():
            folder.rename(doomed)
        ctx.audit(conn, "run_removed", f"run {run.id}", {"review_items": items.rowcount})
    shutil.rmtree(doomed, ignore_errors=True)
    return _redirect(f"/runs/{run.id}", done="removed")


def _document_files(folder: Path) -> list[str]:
    docs = folder / "documents"
    return sorted(str(p.relative_to(docs)) for p in docs.rglob("*") if p.is_file())


def download(ctx: Ctx) -> Response:
    run, folder = _done_run(ctx)
    if run.documents_status != "done":
        raise Refused(409, "The documents of this run are not ready.")
    name = ctx.request.path_params.get("path", "")
    if not name:
        path, label = folder / "documents.zip", f"run-{run.id}-documents.zip"
    else:
        docs = (folder / "documents").resolve()
        path = (docs / name).resolve()
        if not path.is_relative_to(docs) or not path.is_file():
            raise Refused(404, "No such document.")
        label = path.name
    with ctx.ws.db.write() as conn:
        ctx.audit(conn, "download", f"run {run.id}", {"file": name or "documents.zip"})
    return FileResponse(path, filename=label, headers={"Cache-Control": "no-store"})


# ---- administration ------------------------------------------------------------------------


def users_page(ctx: Ctx) -> Response:
    error = ""
    if ctx.form is not None:
        try:
            with ctx.ws.db.write() as conn:
                auth.create_user(conn, ctx.field("username"), str(ctx.form.get("password", "")),
                                 ctx.field("role"), ctx.now)  # fmt: skip
                ctx.audit(conn, "user_created", f"user {ctx.field('username').lower()}",
                          {"role": ctx.field("role")})  # fmt: skip
            return _redirect("/admin/users", done="user")
        except auth.AccountError as exc:
            error = str(exc)
    with ctx.ws.db.read() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.username)).fetchall()
    return ctx.render("users.html", 400 if error else 200, users=rows, roles=ROLES,
                      error=error, now=ctx.now)  # fmt: skip


def user_update(ctx: Ctx) -> Response:
    user_id = ctx.request.path_params.get("user_id", 0)
    action = ctx.field("action")
    with ctx.ws.db.write() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise Refused(404, "No such user.")
        if row.id == ctx.user.id and action in ("deactivate", "role"):
            raise Refused(400, "You cannot deactivate yourself or change your own role.")
        values: dict[str, Any] = {}
        if action == "unlock":
            values = {"locked_until": None, "failed_logins": 0}
        elif action == "deactivate":
            values = {"active": False}
            auth.end_sessions(conn, row.id)
        elif action == "activate":
            values = {"active": True}
        elif action == "role":
            if ctx.field("role") not in ROLES:
                raise Refused(400, f"Choose a role: {', '.join(ROLES)}.")
            values = {"role": ctx.field("role")}
            auth.end_sessions(conn, row.id)
        elif action == "password":
            try:
                auth.set_password(
                    conn, row.id, str(ctx.form.get("password", "")) if ctx.form else ""
                )
            except auth.AccountError as exc:
                raise Refused(400, str(exc)) from None
        else:
            raise Refused(400, "Unknown action.")
        if values:
            conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
        ctx.audit(conn, f"user_{action}", f"user {row.username}",
                  {"role": values.get("role")} if action == "role" else None)  # fmt: skip
    return _redirect("/admin/users", done="user")


def policies_page(ctx: Ctx) -> Response:
    from clearslate.policy import SHIPPED_POLICIES

    with ctx.ws.db.read() as conn:
        rows = conn.execute(sa.select(policies).order_by(policies.c.name)).fetchall()
    return ctx.render("policies.html", policies=rows, shipped=list(SHIPPED_POLICIES))


def policy_edit(ctx: Ctx) -> Response:
    from clearslate.policy import SHIPPED_POLICIES, load_policy

    policy_id = ctx.request.path_params.get("policy_id", 0)
    with ctx.ws.db.read() as conn:
        row = conn.execute(sa.select(policies).where(policies.c.id == policy_id)).first()
    if policy_id and row is None:
        raise Refused(404, "No such policy.")
    if ctx.form is None:
        if row is not None:
            form = policy_form.form_from_policy(policy_form.load_text(row.text))
        else:
            start = ctx.param("from", "dismiss-all")
            if start not in SHIPPED_POLICIES:
                raise Refused(404, "No such shipped policy.")
            form = policy_form.form_from_policy(load_policy(SHIPPED_POLICIES[start]))
            form.values["name"] = f"{start}-office"
        return ctx.render("policy_edit.html", form=form, row=row)
    form = policy_form.form_from_post(ctx.form)
    name = form.values["name"]
    with ctx.ws.db.write() as conn:
        clash = conn.execute(
            sa.select(policies.c.id).where(policies.c.name == name, policies.c.id != policy_id)
        ).first()
        if clash:
            form.errors["name"] = "Another policy of this office has this name."
        if form.errors:
            return ctx.render("policy_edit.html", 400, form=form, row=row)
        values = {"name": name, "text": form.text, "updated_by": ctx.user.username,
                  "updated_at": ctx.now}  # fmt: skip
        if row is None:
            policy_id = conn.execute(sa.insert(policies).values(**values)).inserted_primary_key[0]
        else:
            conn.execute(sa.update(policies).where(policies.c.id == row.id).values(**values))
        ctx.audit(conn, "policy_saved", f"policy {policy_id}", {"name": name})
    return _redirect("/admin/policies", done="policy")


def audit_page(ctx: Ctx) -> Response:
    action = ctx.param("action")
    page = max(1, _int(ctx.param("page")))  # (page 0 asked PostgreSQL for a negative offset)
    with ctx.ws.db.read() as conn:
        rows = list(audit.rows(conn, limit=PER_PAGE, offset=(page - 1) * PER_PAGE, action=action))
        check = audit.verify(conn) if ctx.param("verify") else None
    if check is not None:
        with ctx.ws.db.write() as conn:
            ctx.audit(conn, "audit_verified", "", {"ok": check.ok, "entries": check.entries})
    return ctx.render("audit.html", rows=rows, page=page, action=action, check=check)


def audit_export(ctx: Ctx) -> Response:
    with ctx.ws.db.write() as conn:
        ctx.audit(conn, "audit_exported")
        text = audit.export_csv(conn)
    return PlainTextResponse(text, media_type="text/csv", headers=_attachment("audit-log.csv"))


def _attachment(filename: str) -> dict[str, str]:
    """The headers of a file to download (a CSV of the run's or the log's), never cached."""
    return {"Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"}  # fmt: skip


# ---- the application -----------------------------------------------------------------------


class UnexpectedErrors:
    """An exception no page handled (a defect): a plain 500 page, and in the log its kind and
    where it was raised, never its message (a database error quotes its SQL parameters: a name
    searched, a note). Not a Starlette exception handler: Starlette re-raises the exception
    after its 500 handler, and the server (uvicorn) then logs it whole; here it stops."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_started)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "")  # the template: no value in it
            log_unexpected(f"{scope['method']} {route or 'a request'}", exc)
            if not started:
                await _unexpected_page(scope)(scope, receive, send)


def _unexpected_page(scope: Scope) -> Response:
    request = Request(scope)
    if "json" in request.headers.get("accept", ""):
        return JSONResponse({"error": UNEXPECTED}, status_code=500)
    html = request.app.state.ws.templates.get_template("error.html").render(
        user=None, csrf="", request=request, notice="", message=UNEXPECTED, back=""
    )
    return HTMLResponse(html, status_code=500)


class SecurityHeaders:
    """Headers on every response: no framing, no referrer, scripts and styles only from this
    server, nothing cached that holds personal data."""

    DEFAULTS = (
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; "
         b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    )  # fmt: skip

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                static = scope["path"].startswith("/static/")
                for k, v in self.DEFAULTS:
                    if k not in have and not (static and k == b"cache-control"):
                        headers.append((k, v))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _routes() -> list[Any]:
    r, a, admin = RESULTS_ROLES, (ATTORNEY,), (ADMIN,)
    table: list[tuple[str, Page, tuple[str, ...] | None, list[str]]] = [
        ("/", home, None, ["GET"]),
        ("/login", login, None, ["GET", "POST"]),
        ("/logout", logout, ROLES, ["POST"]),
        ("/password", password, ROLES, ["GET", "POST"]),
        ("/runs", runs_list, r, ["GET"]),
        ("/runs/new", run_new, (ANALYST,), ["GET", "POST"]),
        ("/runs/{run_id:id}", run_page, r, ["GET"]),
        ("/runs/{run_id:id}/progress", run_progress, r, ["GET"]),
        ("/runs/{run_id:id}/report", run_report, r, ["GET"]),
        ("/runs/{run_id:id}/errors.csv", input_problems, r, ["GET"]),
        ("/runs/{run_id:id}/warnings.csv", input_problems, r, ["GET"]),
        ("/runs/{run_id:id}/determinations", determinations, r, ["GET"]),
        ("/runs/{run_id:id}/people/{subject_id}", person, r, ["GET"]),
        ("/runs/{run_id:id}/review", review, a, ["GET"]),
        ("/runs/{run_id:id}/review/bulk", decide_bulk, a, ["POST"]),
        ("/runs/{run_id:id}/review/{item_id:id}", decide, a, ["POST"]),
        ("/runs/{run_id:id}/decisions.csv", decisions_csv, a, ["GET"]),
        ("/runs/{run_id:id}/sign-off", sign_off, a, ["POST"]),
        ("/runs/{run_id:id}/documents-again", documents_again, a, ["POST"]),
        ("/runs/{run_id:id}/remove", remove_run, r, ["POST"]),
        ("/runs/{run_id:id}/documents.zip", download, r, ["GET"]),
        ("/runs/{run_id:id}/documents/{path:path}", download, r, ["GET"]),
        ("/admin/users", users_page, admin, ["GET", "POST"]),
        ("/admin/users/{user_id:id}", user_update, admin, ["POST"]),
        ("/admin/policies", policies_page, admin, ["GET"]),
        ("/admin/policies/new", policy_edit, admin, ["GET", "POST"]),
        ("/admin/policies/{policy_id:id}", policy_edit, admin, ["GET", "POST"]),
        ("/admin/audit", audit_page, admin, ["GET"]),
        ("/admin/audit.csv", audit_export, admin, ["GET"]),
    ]
    routes: list[Any] = [Route(path, _page(fn, roles), methods=methods)
                         for path, fn, roles, methods in table]  # fmt: skip
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    return routes


def create_app(settings: Settings) -> Starlette:
    """The application, its database migrated and its background worker started."""
    from clearslate.outputs.files import make_private_dir
    from clearslate.web.db import sqlite_url

    make_private_dir(settings.data_dir)
    db = Database(settings.database_url or sqlite_url(settings.data_dir))
    db.migrate()
    for path in settings.data_dir.glob("workspace.db*"):  # SQLite: the file, its WAL
        path.chmod(0o600)
    jobs = Jobs(db, settings.data_dir, office=settings.data_dir / "office.yaml")
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    ws = Workspace(settings, db, jobs, templates)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.run_jobs:
            jobs.start()
        yield
        jobs.stop()
        db.dispose()

    app = Starlette(routes=_routes(), lifespan=lifespan)
    app.state.ws = ws
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(SecurityHeaders)  # outside: on the 500 page too
    return app
