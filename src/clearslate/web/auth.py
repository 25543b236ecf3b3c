"""Accounts, passwords and sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session is a random token in an
HttpOnly, Secure, SameSite=Strict cookie; the database keeps only the token's SHA-256, the
session's CSRF token and when it was last used, so a session ends after `idle` minutes without
a request and at log-out. After `max_failures` wrong passwords in a row an account is locked
for `lockout` minutes (an administrator can unlock it sooner).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from clearslate.web.db import ROLES, sessions, users

_hasher = PasswordHasher()
# Verified when the user name is unknown, so that a wrong name takes as long as a wrong password.
_dummy_hash = _hasher.hash(secrets.token_hex(16))


def use_cheap_hashing() -> None:
    """Argon2 with its smallest cost, for the test suite only (each sign-in of the default
    parameters takes most of a second on a small machine). Never for real passwords."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _dummy_hash = _hasher.hash(secrets.token_hex(16))


USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 12
# A session's last use is written at most this often (not on every request).
TOUCH_EVERY = dt.timedelta(seconds=30)


class AccountError(ValueError):
    """A user name, password or role that cannot be used; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf: str
    user: User


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_account(username: str, password: str | None, role: str | None) -> None:
    if not USERNAME.fullmatch(username):
        raise AccountError(
            "user name: 1 to 64 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if role is not None and role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}")


def create_user(conn: Connection, username: str, password: str, role: str, now: dt.datetime) -> int:
    username = username.strip().lower()
    check_account(username, password, role)
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
        raise AccountError(f"user name: {username!r} is taken")
    return conn.execute(
        sa.insert(users).values(
            username=username, password_hash=_hasher.hash(password), role=role, active=True,
            failed_logins=0, created_at=now,
        )
    ).inserted_primary_key[0]  # fmt: skip


def set_password(conn: Connection, user_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(password_hash=_hasher.hash(password), failed_logins=0, locked_until=None)
    )
    end_sessions(conn, user_id)


def end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    failure: str = ""  # unknown, wrong_password, locked, inactive


def authenticate(
    conn: Connection,
    username: str,
    password: str,
    now: dt.datetime,
    *,
    max_failures: int,
    lockout: dt.timedelta,
) -> LoginResult:
    row = conn.execute(
        sa.select(users).where(users.c.username == username.strip().lower()).with_for_update()
    ).first()
    if row is None:
        _verify(_dummy_hash, password)
        return LoginResult(None, "unknown")
    if row.locked_until is not None and row.locked_until > now:
        return LoginResult(None, "locked")
    if not _verify(row.password_hash, password):
        failures = row.failed_logins + 1
        locked = now + lockout if failures >= max_failures else None
        conn.execute(
            sa.update(users)
            .where(users.c.id == row.id)
            .values(failed_logins=0 if locked else failures, locked_until=locked)
        )
        return LoginResult(None, "locked_now" if locked else "wrong_password")
    if not row.active:
        return LoginResult(None, "inactive")
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        values["password_hash"] = _hasher.hash(password)
    conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
    return LoginResult(User(row.id, row.username, row.role))


def check_password(conn: Connection, user_id: int, password: str) -> bool:
    row = conn.execute(sa.select(users.c.password_hash).where(users.c.id == user_id)).one()
    return _verify(row.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(conn: Connection, user: User, now: dt.datetime) -> str:
    """A new session (the old ones of the browser are not reused: no session fixation).
    Returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        sa.insert(sessions).values(
            id=token_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(32),
            created_at=now, last_seen=now,
        )
    )  # fmt: skip
    return token


def current_session(
    conn: Connection, token: str, now: dt.datetime, idle: dt.timedelta
) -> tuple[Session | None, bool]:
    """The live session of a cookie, or None; and whether its last use should be written."""
    row = conn.execute(
        sa.select(sessions, users.c.username, users.c.role, users.c.active)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.id == token_hash(token))
    ).first()
    if row is None or not row.active or now - row.last_seen > idle:
        return None, False
    user = User(row.user_id, row.username, row.role)
    return Session(row.id, row.csrf, user), now - row.last_seen > TOUCH_EVERY


def touch(conn: Connection, token_hash_: str, now: dt.datetime) -> None:
    conn.execute(sa.update(sessions).where(sessions.c.id == token_hash_).values(last_seen=now))


def end_session(conn: Connection, token_hash_: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.id == token_hash_))


def expired_sessions(conn: Connection, now: dt.datetime, idle: dt.timedelta) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.last_seen < now - idle))
