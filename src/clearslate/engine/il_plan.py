"""The batch plan of an Illinois run: eligible records in statutory order, so an office works
deadline tier by deadline tier.

Batches: the eligible records (vacate and expunge, expunge the arrest, eligible on motion)
grouped by deadline tier (earliest deadline first: 2013-2019, due 1 Jan 2021, then 2000-2012,
then before 2000), then by outcome (each goes to a different actor: the court for motions,
the police and ISP for arrest records), then by court; within a group the newest records
first, cut into batches of at most `max_batch` records when given. The plan holds counts and
record ids (not names, birth dates or case numbers).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import duckdb

OUTCOME_ORDER = ("vacate_and_expunge", "expunge_arrest", "eligible_on_motion")
PLAN_COLUMNS = ("batch", "tier", "deadline", "outcome", "court", "records", "people",
                "newest_record_date", "oldest_record_date")  # fmt: skip


def plan_batches(
    con: duckdb.DuckDBPyConnection, table: str, max_batch: int | None = None
) -> list[dict[str, Any]]:
    """The batches of `table` (il_determinations, or a run's determinations file read back)."""
    if max_batch is not None and max_batch < 1:
        raise ValueError("max_batch must be 1 or more")
    size = max_batch or 2**62
    order = ", ".join(f"'{o}'" for o in OUTCOME_ORDER)
    rows = con.execute(
        f"""
        WITH eligible AS (
            SELECT record_id, person_id, tier, deadline, outcome,
                   coalesce(court, '(court unknown)') AS court_name, record_date,
                   row_number() OVER (PARTITION BY tier, outcome, court_name
                                      ORDER BY record_date DESC NULLS LAST, record_id) - 1 AS n
            FROM {table}
            WHERE outcome IN ({order})
        )
        SELECT tier, deadline, outcome, court_name, n // {size} AS chunk, count(*) AS records,
               count(DISTINCT person_id) AS people,
               max(record_date)::VARCHAR, min(record_date)::VARCHAR,
               list(record_id ORDER BY record_date DESC NULLS LAST, record_id)
        FROM eligible
        GROUP BY tier, deadline, outcome, court_name, chunk
        ORDER BY deadline NULLS LAST, list_position([{order}], any_value(outcome)), court_name,
                 chunk
        """
    ).fetchall()
    return [
        {"batch": i, "tier": r[0], "deadline": r[1] and r[1].isoformat(), "outcome": r[2],
         "court": r[3], "records": r[5], "people": r[6], "newest_record_date": r[7],
         "oldest_record_date": r[8], "record_ids": r[9]}
        for i, r in enumerate(rows, 1)
    ]  # fmt: skip


def plan_csv(batches: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PLAN_COLUMNS)
    for b in batches:
        w.writerow(["" if b[c] is None else b[c] for c in PLAN_COLUMNS])
    return buf.getvalue()
