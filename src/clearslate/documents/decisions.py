"""Reviewers' decisions (``--decisions``): a CSV that settles ``review`` outcomes, or changes
any other, before documents go out.

Columns: ``subject_id, cnt_order`` (or ``source_file, source_line``) to name the conviction,
``decision`` (dismiss, reduce or not_eligible), ``reviewer`` and an optional ``note``. Each row
is checked on its own; a row that cannot be used is an error row (file, line, column, reason)
and every other row still applies. Every row, applied or not, is listed in ``overrides.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clearslate.database import insert_rows
from clearslate.documents.textfile import read_office_text
from clearslate.sources.office_csv import OfficeCsvError, header_and_records

DECISIONS = ("dismiss", "reduce", "not_eligible")
HEADER_NAMES = ("subject_id", "cnt_order", "source_file", "source_line", "decision", "reviewer")
OVERRIDE_COLUMNS = (
    "line",
    "status",
    "subject_id",
    "cnt_order",
    "source_file",
    "source_line",
    "previous_outcome",
    "decision",
    "reviewer",
    "note",
    "error",
)


def spreadsheet_text(value: str) -> str:
    """Free text a person typed (a reviewer, a note) as a CSV cell that a spreadsheet shows as
    text: a cell that starts with = + - @ (or a tab or CR) is read by Excel and LibreOffice as
    a formula, which can run when the file is opened ("CSV injection"); such a cell gets a
    leading apostrophe, as a spreadsheet's own "text" cell has."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class DecisionsFileError(ValueError):
    """A decisions file that cannot be read at all."""


@dataclass
class Override:
    line: int
    subject_id: str = ""
    cnt_order: str = ""
    source_file: str = ""
    source_line: str = ""
    decision: str = ""
    reviewer: str = ""
    note: str = ""
    status: str = ""  # applied | confirmed | duplicate | error
    previous_outcome: str = ""
    error: str = ""
    column: str = ""
    det_id: int | None = None

    def row(self) -> list[str]:
        return [
            str(self.line),
            self.status,
            self.subject_id,
            self.cnt_order,
            self.source_file,
            self.source_line,
            self.previous_outcome,
            self.decision,
            spreadsheet_text(self.reviewer),
            spreadsheet_text(self.note),
            self.error,
        ]


@dataclass
class Decisions:
    path: Path
    rows: list[Override] = field(default_factory=list)

    @property
    def errors(self) -> list[Override]:
        return [r for r in self.rows if r.status == "error"]

    @property
    def applied(self) -> list[Override]:
        return [r for r in self.rows if r.status in ("applied", "confirmed")]


# Illinois names: its person and charge ids stand where California's subject and count do.
_ALIASES = {"person_id": "subject_id", "record_id": "cnt_order"}


def _norm_header(h: str) -> str:
    name = h.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(name, name)


def _fail(row: Override, column: str, reason: str) -> None:
    row.status, row.column, row.error = "error", column, reason


def read_decisions(path: Path, allowed: tuple[str, ...] = DECISIONS) -> Decisions:
    """Read and check each row (not yet matched to the run); ``allowed``: the decisions the
    run's jurisdiction knows."""
    choices = ", ".join(allowed[:-1]) + " or " + allowed[-1]
    out = Decisions(path)
    try:
        text = read_office_text(path)
    except OSError as exc:
        raise DecisionsFileError(
            f"{path}: cannot read the decisions file ({exc.strerror})."
        ) from None
    try:
        names, records = header_and_records(text, "the decisions file")
    except OfficeCsvError as exc:
        raise DecisionsFileError(f"{path}: {exc}") from None
    header = [_norm_header(h) for h in names]
    cols = {h: i for i, h in reversed(list(enumerate(header)))}
    by_count = {"subject_id", "cnt_order"} <= cols.keys()
    by_line = {"source_file", "source_line"} <= cols.keys()
    missing = [c for c in ("decision", "reviewer") if c not in cols]
    if not (by_count or by_line):
        missing.insert(0, "subject_id and cnt_order (or source_file and source_line)")
    if missing:
        # Only the names it knows: a first line without a header is a person's record.
        known = [h for h in header if h in (*HEADER_NAMES, "note")]
        raise DecisionsFileError(
            f"{path}, line 1: the decisions file needs the column(s) {', '.join(missing)}. "
            f"Of its {len(header)} column(s) these are known: "
            f"{', '.join(known) or 'none (is the header line missing?)'}. "
            "See docs/documents.md."
        )
    for line, rec, problem in records:
        if rec is None:
            row = Override(line)
            _fail(row, "", problem)
            out.rows.append(row)
            continue
        if not rec or not any(v.strip() for v in rec):
            continue

        def get(col: str, rec: list[str] = rec) -> str:
            i = cols.get(col)
            return rec[i].strip() if i is not None and i < len(rec) else ""

        row = Override(
            line=line,
            subject_id=get("subject_id"),
            cnt_order=get("cnt_order"),
            source_file=get("source_file"),
            source_line=get("source_line"),
            decision=get("decision").lower().replace(" ", "_").replace("-", "_"),
            reviewer=get("reviewer"),
            note=get("note"),
        )
        out.rows.append(row)
        if len(rec) != len(header):
            _fail(row, "", f"{len(rec)} fields, the header has {len(header)}")
        elif not row.decision:
            _fail(row, "decision", f"decision is empty: {choices}")
        elif row.decision not in allowed:
            _fail(row, "decision", f"decision must be {choices}")
        elif not row.reviewer:
            _fail(row, "reviewer", "reviewer is empty: say who decided")
        elif row.cnt_order and not row.subject_id:
            _fail(row, "subject_id", "cnt_order needs subject_id")
        elif row.subject_id and not row.cnt_order and not row.source_line:
            _fail(
                row,
                "cnt_order",
                "subject_id needs cnt_order (or give source_file and source_line)",
            )
        elif not row.cnt_order and not (row.source_file and row.source_line):
            _fail(
                row,
                "source_line" if row.source_file else "subject_id",
                "name the conviction: subject_id and cnt_order, or source_file and source_line",
            )
        elif row.source_line and not (row.source_line.isdigit() and int(row.source_line) > 0):
            _fail(row, "source_line", "source_line must be a line number (1, 2, ...)")
    return out


def match_decisions(
    con: duckdb.DuckDBPyConnection, decisions: Decisions, tiered: tuple[str, ...] = ()
) -> None:
    """Match each good row to one conviction of the run (table ``det``) and create the table
    ``overrides(det_id, decision, reviewer, note, line)`` of the rows that apply. ``tiered``:
    the decisions that file a conviction in a motion of its deadline tier (``det.tier``,
    Illinois), refused for a record that falls in no tier."""
    pending = [r for r in decisions.rows if r.status != "error"]
    con.execute(
        """CREATE OR REPLACE TEMP TABLE dec_in (line BIGINT, subject_id VARCHAR,
           cnt_order VARCHAR, source_file VARCHAR, source_line BIGINT)"""
    )
    insert_rows(
        con,
        "dec_in",
        ["BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT"],
        [
            (
                r.line,
                r.subject_id or None,
                r.cnt_order or None,
                r.source_file or None,
                int(r.source_line) if r.source_line else None,
            )
            for r in pending
        ],
    )
    by_count = dict(
        con.execute(
            """SELECT i.line, list(d.det_id ORDER BY d.det_id)
               FROM dec_in i JOIN det d ON d.subject_id = i.subject_id AND d.cnt_order = i.cnt_order
               GROUP BY i.line"""
        ).fetchall()
    )
    by_line = dict(
        con.execute(
            """SELECT i.line, list(d.det_id ORDER BY d.det_id)
               FROM dec_in i JOIN det d ON d.source_line = i.source_line
                AND (d.source_file = i.source_file
                     OR regexp_replace(d.source_file, '^.*[/\\\\]', '') = i.source_file)
               GROUP BY i.line"""
        ).fetchall()
    )
    # California's det has no tier: every conviction can be filed in a motion
    has_tier = "nullif(trim(tier), '') IS NOT NULL" if tiered else "true"
    outcomes: dict[int, tuple[str, bool]] = {
        det_id: (outcome, in_tier)
        for det_id, outcome, in_tier in con.execute(
            f"SELECT det_id, outcome, {has_tier} FROM det WHERE det_id IN (SELECT unnest($1))",
            [sorted({i for ids in (*by_count.values(), *by_line.values()) for i in ids})],
        ).fetchall()
    }
    decided: dict[int, Override] = {}
    for r in pending:
        ids_count = by_count.get(r.line) if r.cnt_order else None
        ids_line = by_line.get(r.line) if r.source_line else None
        if r.cnt_order and not ids_count:
            _fail(r, "cnt_order", "no conviction of this run has this subject_id and cnt_order")
            continue
        if r.source_line and not ids_line:
            _fail(
                r, "source_line", "no conviction of this run is on this source_file and source_line"
            )
            continue
        ids = ids_count if ids_count is not None else ids_line
        assert ids is not None
        if ids_count is not None and ids_line is not None and set(ids_count) != set(ids_line):
            _fail(
                r,
                "source_line",
                "subject_id and cnt_order name another conviction than source_file and source_line",
            )
            continue
        if len(ids) > 1:
            _fail(
                r,
                "cnt_order",
                f"{len(ids)} convictions match; name it by source_file and source_line",
            )
            continue
        det_id = ids[0]
        r.det_id = det_id
        r.previous_outcome, in_a_tier = outcomes.get(det_id, ("", True))
        if r.decision in tiered and not in_a_tier:
            # the motions are filed per court and tier: one of no tier would list nothing
            _fail(
                r,
                "decision",
                "the record falls in no deadline tier (its record date is after the 2013-2019 "
                "tier or unknown), and motions to vacate are filed per tier: decide "
                "not_eligible, or clear it outside clearslate",
            )
            continue
        first = decided.get(det_id)
        if first is not None:
            if first.decision == r.decision:
                r.status = "duplicate"
            else:
                _fail(
                    r,
                    "decision",
                    f"line {first.line} already decides this conviction as {first.decision}",
                )
            continue
        decided[det_id] = r
        r.status = "confirmed" if r.previous_outcome == r.decision else "applied"
    con.execute(
        """CREATE OR REPLACE TEMP TABLE overrides (det_id BIGINT, decision VARCHAR,
           reviewer VARCHAR, note VARCHAR, line BIGINT)"""
    )
    insert_rows(
        con,
        "overrides",
        ["BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT"],
        [(d, r.decision, r.reviewer, r.note, r.line) for d, r in decided.items()],
    )


def empty_overrides(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE overrides (det_id BIGINT, decision VARCHAR,
           reviewer VARCHAR, note VARCHAR, line BIGINT)"""
    )
