"""Load on the office workspace: concurrent attorneys deciding review items, over HTTP on
127.0.0.1, against `clearslate serve` in a process of its own.

    python bench/load_workspace.py                       # 20 reviewers, 60 s, 20,000 rows
    python bench/load_workspace.py --reviewers 5 --seconds 10 --rows 2000
    python bench/load_workspace.py --reviewers 5 --decisions 20   # a fixed count, untimed
    python bench/load_workspace.py --database postgresql+psycopg://user@127.0.0.1/db

An analyst uploads a generated research file and waits for the run; then each reviewer signs
in and, until the time is up (and never more than --max-requests each), opens a page of the
review queue and posts a decision on a random item of it, with a note that names the request
(with --decisions, each posts exactly that many decisions, however long they take).
It prints requests, errors (0 expected), p50/p95/max latency, and then checks that no decision
was lost: every decision the server accepted is in the audit log, and each item's decision in
the database is the one of its last audit entry. Exit code 1 if an error or a loss is found.
Nothing listens beyond 127.0.0.1; the server stops at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from clearslate.synth import generate_doj_file  # noqa: E402
from clearslate.web import audit, auth  # noqa: E402
from clearslate.web.db import Database, review_items, sqlite_url  # noqa: E402

PASSWORD = "load test password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ITEM = re.compile(r'action="/runs/(\d+)/review/(\d+)"')
DECISIONS = ("dismiss", "reduce", "not_eligible")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    posted: list[tuple[int, str, str]] = field(default_factory=list)  # (item, decision, note)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A client that keeps the session cookie itself (the cookie is Secure, and httpx sends
    Secure cookies only over https; browsers treat 127.0.0.1 as secure)."""

    def __init__(self, base: str, tally: Tally) -> None:
        self.http = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        self.tally = tally
        self.cookie = ""

    def request(
        self, method: str, path: str, headers: dict | None = None, **kw: object
    ) -> httpx.Response:
        headers = {**(headers or {}), **({"Cookie": self.cookie} if self.cookie else {})}
        started = time.perf_counter()
        r = self.http.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
        with self.tally.lock:
            self.tally.latencies.append(time.perf_counter() - started)
            if r.status_code >= 400:
                self.tally.errors.append(f"{method} {path}: {r.status_code}")
        return r

    def sign_in(self, username: str) -> None:
        page = self.http.get("/login")
        token = CSRF.search(page.text).group(1)
        r = self.http.post("/login", data={"username": username, "password": PASSWORD,
                           "csrf": token}, cookies={"clearslate_login": page.cookies["clearslate_login"]})  # fmt: skip
        if r.status_code != 303:
            raise SystemExit(f"sign-in of {username} failed: {r.status_code}")
        self.cookie = f"clearslate_session={r.cookies['clearslate_session']}"


def start_server(data_dir: Path, database: str | None, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "clearslate", "serve", "--port", str(port), "--data-dir",
           str(data_dir)] + (["--database", database] if database else [])  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(
                    f"the server did not start: {proc.stderr.read().decode()}"
                ) from None
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start within 60 s")


def prepare(data_dir: Path, database: str | None, reviewers: int, cheap: bool) -> Database:
    """Create the users (the server process migrates the same database first)."""
    if cheap:
        auth.use_cheap_hashing()
    db = Database(database or sqlite_url(data_dir))
    with db.write() as conn:
        auth.create_user(conn, "analyst", PASSWORD, "analyst", _now())
        for i in range(reviewers):
            auth.create_user(conn, f"attorney{i:02d}", PASSWORD, "attorney", _now())
    return db


def _now():
    from clearslate.web.db import utcnow

    return utcnow()


def run_batch(base: str, research: Path, tally: Tally) -> int:
    analyst = Browser(base, tally)
    analyst.sign_in("analyst")
    token = CSRF.search(analyst.request("GET", "/runs/new").text).group(1)
    with research.open("rb") as fh:
        r = analyst.request("POST", "/runs/new", data={"csrf": token, "county": "LOS ANGELES",
                            "policy": "shipped:dismiss-all", "as_of": "2020-07-01"},
                            files={"files": (research.name, fh, "text/csv")})  # fmt: skip
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    while True:
        p = analyst.request("GET", f"/runs/{run_id}/progress",
                            headers={"Accept": "application/json"}).json()  # fmt: skip
        if p["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    if p["status"] != "done":
        raise SystemExit(f"the run failed: {p['error']}")
    return run_id


def reviewer(base: str, name: str, run_id: int, clock: Clock, max_requests: int,
             tally: Tally, seed: int, decisions: int | None = None) -> None:  # fmt: skip
    rng = random.Random(seed)
    b = Browser(base, tally)
    b.sign_in(name)
    until = clock.start()
    n = posts = 0

    def more() -> bool:
        if decisions is not None:  # a fixed count, however long it takes
            return posts < decisions
        return time.time() < until and n < max_requests

    while more():
        page = b.request("GET", f"/runs/{run_id}/review?status=all&page={rng.randint(1, 3)}")
        n += 1
        items = [int(i) for _r, i in ITEM.findall(page.text)]
        if not items:
            page = b.request("GET", f"/runs/{run_id}/review?status=all")
            items = [int(i) for _r, i in ITEM.findall(page.text)]
        token = CSRF.search(page.text).group(1)
        item, decision = rng.choice(items), rng.choice(DECISIONS)
        note = f"{name}-{n}"
        r = b.request("POST", f"/runs/{run_id}/review/{item}",
                      data={"csrf": token, "decision": decision, "note": note})  # fmt: skip
        n += 1
        posts += 1
        if r.status_code == 303:
            with tally.lock:
                tally.posted.append((item, decision, note))


class Clock:
    """The timed part starts when every reviewer has signed in (Argon2 takes most of a second
    per sign-in on purpose; that is not what is measured)."""

    def __init__(self, parties: int, seconds: float) -> None:
        self.seconds = seconds
        self.barrier = threading.Barrier(parties, action=self._go)
        self.until = 0.0
        self.started = 0.0

    def _go(self) -> None:
        self.started = time.perf_counter()
        self.until = time.time() + self.seconds

    def start(self) -> float:
        self.barrier.wait()
        return self.until


def check_nothing_lost(db: Database, tally: Tally) -> list[str]:
    problems = []
    with db.read() as conn:
        entries = [
            (json.loads(r.detail), int(r.target.rsplit(" ", 1)[1]))
            for r in audit.rows(conn, action="decision")
        ][::-1]  # oldest first
        last: dict[int, dict] = {}
        for detail, item in entries:
            last[item] = detail
        audited = {(item, d["decision"], d["note"]) for d, item in entries}
        for p in tally.posted:
            if p not in audited:
                problems.append(f"decision {p[2]} on item {p[0]} is not in the audit log")
        for row in conn.execute(sa.select(review_items).where(review_items.c.id.in_(list(last)))):
            want = last[row.id]
            if (row.decision, row.note) != (want["decision"], want["note"]):
                problems.append(f"item {row.id}: the database holds another decision than its "
                                "last audit entry")  # fmt: skip
        chain = audit.verify(conn)
        problems += chain.problems
    if len(audited) != len(tally.posted):
        problems.append(f"{len(tally.posted)} decisions accepted, {len(audited)} audited")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviewers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rows", type=int, default=20_000, help="rows of the generated file")
    ap.add_argument("--max-requests", type=int, default=10_000, help="per reviewer, at most")
    ap.add_argument("--decisions", type=int, default=None,
                    help="per reviewer, exactly this many decisions, untimed (instead of "
                    "--seconds and --max-requests)")  # fmt: skip
    ap.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    ap.add_argument("--cheap-passwords", action="store_true",
                    help="Argon2 at its lowest cost (for the test suite)")  # fmt: skip
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clearslate-load-") as tmp:
        data_dir = Path(tmp) / "ws"
        research = Path(tmp) / "research_file.csv"
        generate_doj_file(research, county="LOS ANGELES", rows=args.rows, seed=64)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, args.database, port)
        try:
            db = prepare(data_dir, args.database, args.reviewers, args.cheap_passwords)
            setup = Tally()
            run_id = run_batch(base, research, setup)
            with db.read() as conn:
                items = conn.execute(sa.select(sa.func.count()).select_from(review_items)).scalar()
            tally = Tally()
            clock = Clock(args.reviewers, args.seconds)
            threads = [
                threading.Thread(
                    target=reviewer,
                    args=(base, f"attorney{i:02d}", run_id, clock, args.max_requests, tally, i),
                    kwargs={"decisions": args.decisions},
                )
                for i in range(args.reviewers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - clock.started
        finally:
            server.terminate()
            server.wait(timeout=60)
        lat = sorted(tally.latencies)
        q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
        print(
            f"reviewers {args.reviewers}, review items {items}, {elapsed:.1f} s "
            f"after sign-in, database {'PostgreSQL' if args.database else 'SQLite'}"
        )
        print(f"requests  {len(lat):,}  ({len(lat) / elapsed:,.0f}/s)")
        print(f"decisions {len(tally.posted):,}")
        print(f"errors    {len(tally.errors) + len(setup.errors)}")
        print(f"latency   p50 {q[49] * 1000:.0f} ms  p95 {q[94] * 1000:.0f} ms  "
              f"max {lat[-1] * 1000:.0f} ms")  # fmt: skip
        problems = check_nothing_lost(db, tally)
        db.dispose()
        print(f"lost      {len(problems)}" + "".join(f"\n  {p}" for p in problems[:10]))
        for e in (setup.errors + tally.errors)[:10]:
            print(f"  error: {e}")
        return 1 if problems or tally.errors or setup.errors else 0


if __name__ == "__main__":
    sys.exit(main())
