"""Fixtures for the workspace tests: an app on a fresh data folder (SQLite, or the PostgreSQL
server of test_web_postgres.py), users of each role, and a client that signs in like a browser."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the workspace needs the web extra")

from starlette.testclient import TestClient

from clearslate.web import auth
from clearslate.web.app import Settings, create_app

PASSWORD = "a long enough password"
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
def workspace(workspace_factory: Callable[..., Workspace]) -> Workspace:
    return workspace_factory()


@pytest.fixture(scope="session")
def research_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clearslate.synth import generate_doj_file

    path = tmp_path_factory.mktemp("doj") / "research_file.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=2000, seed=8)
    return path


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
