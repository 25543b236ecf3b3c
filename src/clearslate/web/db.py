"""The workspace's tables, and the one way to create or upgrade them: Alembic migrations,
the same for SQLite (a file in the data folder, the default) and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

ROLES = ("analyst", "attorney", "administrator")

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # The SHA-256 of the cookie's token: a copy of the database does not give live sessions.
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),  # the policy YAML, as load_policy reads it
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # 'ca' (CA DOJ research files, by county) or 'il' (Illinois court and state-police exports)
    sa.Column("jurisdiction", sa.String(2), nullable=False, server_default="ca"),
    sa.Column("county", sa.String(2000), nullable=False),  # California only; '' for Illinois
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("policy_label", sa.String(250), nullable=False),
    sa.Column("policy_file", sa.String(100), nullable=False),  # in the run's folder
    # JSON list of the uploaded files' names (Illinois: {"court": [...], "isp": [...]})
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # queued running done failed
    sa.Column("stage", sa.String(100), nullable=False, default=""),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("outcomes", sa.Text, nullable=True),  # JSON {outcome: count}
    sa.Column("evaluated", sa.Integer, nullable=True),
    sa.Column("signed_off_by", sa.String(64), nullable=True),
    sa.Column("signed_off_at", sa.DateTime, nullable=True),
    sa.Column("documents_status", sa.String(20), nullable=True),  # queued running done failed
    sa.Column("documents_error", sa.Text, nullable=True),
)

review_items = sa.Table(
    "review_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("det_row", sa.Integer, nullable=False),  # row of determinations.parquet, from 1
    # The run's own text (subject_id … code_section) is unbounded: a research file's name or
    # case number is kept whole, however long (PostgreSQL refuses text longer than a column).
    sa.Column("subject_id", sa.Text, nullable=False),
    sa.Column("cnt_order", sa.Text, nullable=False),
    sa.Column("source_file", sa.String(1000), nullable=False),
    sa.Column("source_line", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("cii_number", sa.Text, nullable=False),
    sa.Column("case_number", sa.Text, nullable=False),
    sa.Column("code_section", sa.Text, nullable=False),
    sa.Column("reason_code", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decision", sa.String(20), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", sa.DateTime, nullable=True),
    # Why the item is listed but not decided here (Illinois: an arrest, or the state police's
    # twin of a court row); NULL: the attorney decides it before sign-off.
    sa.Column("not_decidable", sa.Text, nullable=True),
    sa.UniqueConstraint("run_id", "det_row"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # 1, 2, 3 … no gaps
    sa.Column("at", sa.String(32), nullable=False),  # ISO time, UTC, as hashed
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # JSON
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row: the last entry of the chain. Appending locks it (PostgreSQL: FOR UPDATE), so that
# concurrent appends form one chain, and deleting the last entries of the log shows.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)


def utcnow() -> dt.datetime:
    """Naive UTC: both databases store it the same way."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Database:
    """The engine, and writes that SQLite can take from many threads: SQLite allows one writer
    at a time, so writes in this process queue on a lock instead of failing as busy."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine: Engine = sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction for changes: committed at the end, rolled back on error."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def migrate(self) -> None:
        """Create or upgrade the tables to the newest migration."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.write() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'workspace.db'}"
