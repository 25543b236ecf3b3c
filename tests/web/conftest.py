"""Fixtures for the workspace tests: an app on a fresh data folder (SQLite, or the PostgreSQL
server of test_web_postgres.py), users of each role, and a client that signs in like a browser."""

from __future__ import annotations

import datetime as dt
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("starlette", reason="the workspace needs the web extra")

from starlette.testclient import TestClient

from clearslate.web import auth
from clearslate.web.app import Settings, create_app
from clearslate.web.db import review_items, runs

PASSWORD = "a long enough password"
auth.use_cheap_hashing()
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """The app's clock, moved by the tests (idle timeout, lock-out)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2020, 7, 1, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Workspace:
    app: object
    clock: Clock
    data_dir: Path

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", follow_redirects=False)

    def login(self, username: str, password: str = PASSWORD) -> TestClient:
        c = self.client()
        r = sign_in(c, username, password)
        assert r.status_code == 303, r.text
        return c

    @property
    def db(self):
        return self.app.state.ws.db


def sign_in(c: TestClient, username: str, password: str = PASSWORD):
    page = c.get("/login")
    token = CSRF.search(page.text).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf": token})


def csrf_of(c: TestClient, path: str = "/password") -> str:
    return CSRF.search(c.get(path).text).group(1)


def make_workspace(tmp_path: Path, database_url: str | None = None, run_jobs: bool = True):
    clock = Clock()
    app = create_app(Settings(data_dir=tmp_path / "ws", database_url=database_url, clock=clock,
                              run_jobs=run_jobs))  # fmt: skip
    ws = Workspace(app, clock, tmp_path / "ws")
    with ws.db.write() as conn:
        for name, role in (("ana", "analyst"), ("att", "attorney"), ("adm", "administrator")):
            auth.create_user(conn, name, PASSWORD, role, clock())
    return ws


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for this test session, in a temporary folder, on a free port
    of 127.0.0.1; its URL without a database name. As root, the server runs as `postgres`
    (initdb refuses root)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin/initdb)")
    bin_dir = Path(found[-1]).parent
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
    # Not under pytest's folder: that one is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="clearslate-pg-"))
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    port = _free_port()
    data = root / "data"
    subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                    str(root / "log"), "-w", "start"], check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _new_database(server: str) -> str:
    import psycopg

    name = f"ws_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The database URL of each backend the core tests run on (None: SQLite, the default)."""
    if request.param == "sqlite":
        return None
    return _new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def workspace_factory(tmp_path: Path) -> Iterator[Callable[..., Workspace]]:
    made: list[TestClient] = []

    def make(database_url: str | None = None, run_jobs: bool = True) -> Workspace:
        ws = make_workspace(tmp_path, database_url, run_jobs)
        lifespan = TestClient(ws.app)  # runs the startup (the job worker) and shutdown
        lifespan.__enter__()
        made.append(lifespan)
        return ws

    yield make
    for c in made:
        c.__exit__(None, None, None)


@pytest.fixture
def workspace(workspace_factory: Callable[..., Workspace], backend: str | None) -> Workspace:
    return workspace_factory(backend)


@pytest.fixture(scope="session")
def research_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clearslate.synth import generate_doj_file

    path = tmp_path_factory.mktemp("doj") / "research_file.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=2000, seed=8)
    return path


def run_row(ws: Workspace, run_id: int):
    """The run's row once the worker has nothing left to do (bounded wait)."""
    assert ws.app.state.ws.jobs.wait_idle(300), "the worker did not finish its jobs"
    with ws.db.read() as conn:
        return conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()


def decide_all(ws: Workspace, att: TestClient, run_id: int) -> str:
    """An attorney decides every open item of the run's queue (dismiss), in bulk; the form's
    token, for what follows."""
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


def start_run(c: TestClient, research_file: Path, county: str = "LOS ANGELES") -> int:
    token = csrf_of(c, "/runs/new")
    with research_file.open("rb") as fh:
        r = c.post(
            "/runs/new",
            data={"csrf": token, "county": county, "policy": "shipped:dismiss-all",
                  "as_of": "2020-07-01"},
            files={"files": (research_file.name, fh, "text/csv")},
        )  # fmt: skip
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])
