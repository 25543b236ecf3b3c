"""The audit log: append-only, each entry chained to the one before by its hash.

    hash(n) = SHA-256( hash(n-1) | id | at | actor | action | target | detail )

An entry changed in place no longer matches its hash; an entry deleted breaks the link of the
one after it (and the id sequence); entries deleted at the end no longer reach the head row
(`audit_head`), which each append moves in the same transaction. `verify` checks all three.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clearslate.web.db import audit_head, audit_log, utcnow

GENESIS = "0" * 64
COLUMNS = ("id", "at", "actor", "action", "target", "detail", "prev_hash", "hash")


def entry_hash(prev_hash: str, id_: int, at: str, actor: str, action: str, target: str,
               detail: str) -> str:  # fmt: skip
    payload = json.dumps([prev_hash, id_, at, actor, action, target, detail], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    conn: Connection,
    actor: str,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry within the caller's transaction (so the entry and the change it records
    commit together, or neither does). Returns its id."""
    head = conn.execute(
        sa.select(audit_head.c.last_id, audit_head.c.last_hash)
        .where(audit_head.c.id == 1)
        .with_for_update()
    ).one()
    id_ = head.last_id + 1
    at = utcnow().isoformat(timespec="microseconds")
    text = json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False, default=str)
    h = entry_hash(head.last_hash, id_, at, actor, action, target, text)
    conn.execute(
        sa.insert(audit_log).values(
            id=id_, at=at, actor=actor, action=action, target=target, detail=text,
            prev_hash=head.last_hash, hash=h,
        )
    )  # fmt: skip
    conn.execute(sa.update(audit_head).where(audit_head.c.id == 1).values(last_id=id_, last_hash=h))
    return id_


@dataclass(frozen=True)
class Verification:
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection) -> Verification:
    """Walk the chain from the first entry; say where it breaks and how."""
    problems: list[str] = []
    prev, expected_id, n = GENESIS, 1, 0
    for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)):
        n += 1
        if row.id != expected_id:
            problems.append(f"entries {expected_id} to {row.id - 1} are missing (deleted)")
        if row.prev_hash != prev:
            problems.append(f"entry {row.id}: does not follow the entry before it")
        h = entry_hash(row.prev_hash, row.id, row.at, row.actor, row.action, row.target,
                       row.detail)  # fmt: skip
        if h != row.hash:
            problems.append(f"entry {row.id}: its content was changed after it was written")
        prev, expected_id = row.hash, row.id + 1
    head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).one()
    if head.last_id != expected_id - 1 or head.last_hash != prev:
        problems.append(
            f"the log ends at entry {expected_id - 1} but the head says {head.last_id}: "
            "entries at the end were deleted"
        )
    return Verification(n, problems)


def rows(conn: Connection, *, limit: int | None = None, offset: int = 0,
         action: str = "") -> Iterator[Any]:  # fmt: skip
    query = sa.select(audit_log).order_by(audit_log.c.id.desc())
    if action:
        query = query.where(audit_log.c.action == action)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    yield from conn.execute(query)


def export_csv(conn: Connection) -> str:
    """The whole log, oldest first, with its hashes (so a copy can be verified elsewhere)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for row in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)):
        w.writerow([getattr(row, c) for c in COLUMNS])
    return buf.getvalue()
