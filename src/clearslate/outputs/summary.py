"""Run statistics: gogen's summary JSON (same keys, same order) and clearslate's richer
summary.json. Every count comes from the determinations and subjects tables, in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from clearslate.policy import Policy


def _relief_counts(
    con: duckdb.DuckDBPyConnection, outcome_expr: str, as_of: dt.date, table: str
) -> dict:
    """gogen's three impact counts for one flow. `outcome_expr` gives each evaluated
    conviction's outcome; every other conviction (other counties, other offences) stays."""
    window_start = f"DATE '{as_of.isoformat()}' - INTERVAL 7 YEAR"
    row = con.execute(
        f"""
        WITH c AS (
            SELECT cv.subject_id, cv.felony, cv.event_date,
                   coalesce({outcome_expr}, 'none') AS outcome
            FROM convictions cv LEFT JOIN {table} d ON d.row_id = cv.row_id
            -- only a person with a conviction in `table` can have one cleared
            WHERE cv.subject_id IN (SELECT subject_id FROM {table})
        ),
        per_subject AS (
            SELECT subject_id,
                   count(*) FILTER (WHERE felony) AS felonies,
                   count(*) FILTER (WHERE felony AND outcome NOT IN ('dismiss', 'reduce'))
                     AS felonies_left,
                   count(*) FILTER (WHERE outcome <> 'dismiss') AS convictions_left,
                   count(*) FILTER (WHERE event_date > {window_start}) AS recent,
                   count(*) FILTER (WHERE event_date > {window_start} AND outcome <> 'dismiss')
                     AS recent_left
            FROM c GROUP BY subject_id
        )
        SELECT count(*) FILTER (WHERE felonies > 0 AND felonies_left = 0),
               count(*) FILTER (WHERE convictions_left = 0),
               count(*) FILTER (WHERE recent > 0 AND recent_left = 0)
        FROM per_subject
        """
    ).fetchone()
    return {
        "CountSubjectsNoFelony": row[0],
        "CountSubjectsNoConviction": row[1],
        "CountSubjectsNoConvictionLast7Years": row[2],
    }


def gogen_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    county: str,
    line_count: int,
    seconds: float,
    policy: Policy,
    as_of: dt.date,
    table: str = "determinations",
) -> dict[str, Any]:
    """gogen's `gogen.json`: keys in gogen's order, maps sorted, dates RFC 3339. `table`:
    the determinations it counts (a statewide run writes one per county folder)."""
    earliest = con.execute(
        f"SELECT min(conviction_date) FROM {table} WHERE prop64_section IS NOT NULL"
    ).fetchone()[0]
    by_section = dict(
        con.execute(
            f"""SELECT prop64_section, count(*) FROM {table}
               WHERE prop64_section IS NOT NULL GROUP BY 1 ORDER BY 1"""
        ).fetchall()
    )
    totals = con.execute(
        f"""SELECT count(DISTINCT subject_id) FILTER (WHERE prop64_section IS NOT NULL),
                  count(*) FILTER (WHERE felony AND prop64_section IS NOT NULL),
                  count(*) FILTER (WHERE NOT felony AND prop64_section IS NOT NULL),
                  count(DISTINCT subject_id) FILTER (WHERE outcome IN ('dismiss', 'reduce'))
           FROM {table}"""
    ).fetchone()
    reasons = dict(
        con.execute(
            f"SELECT reason, count(*) FROM {table} WHERE outcome = 'dismiss' GROUP BY 1"
        ).fetchall()
    )
    reductions = dict(
        con.execute(
            f"SELECT reason, count(*) FROM {table} WHERE outcome = 'reduce' GROUP BY 1"
        ).fetchall()
    )
    additional = {
        r: n
        for r, n in sorted(reasons.items())
        if not r.startswith("Dismiss all HS") and r != "Misdemeanor or Infraction"
    }
    return {
        "county": county,
        # With no conviction to date, gogen wrote the wall clock; we write the as-of date.
        "earliestConviction": f"{(earliest or as_of).isoformat()}T00:00:00Z",
        "lineCount": line_count,
        "processingTimeInSeconds": round(seconds, 6),
        "reliefWithCurrentEligibilityChoices": _relief_counts(con, "d.outcome", as_of, table),
        "reliefWithDismissAllProp64": _relief_counts(
            con, "CASE WHEN d.prop64_section IS NOT NULL THEN 'dismiss' END", as_of, table
        ),
        "prop64ConvictionsCountInCountyByCodeSection": by_section,
        "subjectsWithProp64ConvictionCountInCounty": totals[0],
        "prop64FelonyConvictionsCountInCounty": totals[1],
        "prop64NonFelonyConvictionsCountInCounty": totals[2],
        "subjectsWithSomeReliefCount": totals[3],
        "convictionDismissalCountByCodeSection": {
            s: reasons.get(f"Dismiss all HS {s} convictions", 0) for s in sorted(policy.dismiss)
        },
        "convictionReductionCountByCodeSection": {
            s: reductions.get(f"Reduce all HS {s} convictions", 0) for s in sorted(policy.reduce)
        },
        "convictionDismissalCountByAdditionalRelief": additional,
    }


def _grouped(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {str(k): v for k, v in con.execute(sql).fetchall()}


def clearslate_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    counties: Sequence[str] | None,
    as_of: dt.date,
    rows_read: int,
    rows_accepted: int,
    rows_rejected: int,
    gogen: dict[str, Any],
) -> dict[str, Any]:
    """Everything an analyst asks first, by outcome, reason, section, county and person."""
    people = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE convictions > 0), count(*) FILTER (WHERE deceased)
           FROM subjects"""
    ).fetchone()
    evaluated = con.execute("SELECT count(*) FROM determinations").fetchone()[0]
    return {
        "as_of": as_of.isoformat(),
        "counties": list(counties) if counties is not None else "ALL",
        "rows": {"read": rows_read, "accepted": rows_accepted, "rejected": rows_rejected},
        "people": {"total": people[0], "with_convictions": people[1], "deceased": people[2]},
        "convictions": {
            "total": con.execute("SELECT count(*) FROM convictions").fetchone()[0],
            "evaluated": evaluated,
        },
        "outcomes": _grouped(
            con, "SELECT outcome, count(*) FROM determinations GROUP BY 1 ORDER BY 1"
        ),
        "determinations": _grouped(
            con, "SELECT determination, count(*) FROM determinations GROUP BY 1 ORDER BY 1"
        ),
        "reasons": _grouped(
            con,
            """SELECT outcome || ': ' || reason, count(*) FROM determinations
               GROUP BY 1 ORDER BY 1""",
        ),
        "review_queue": _grouped(
            con,
            """SELECT reason_code, count(*) FROM determinations WHERE outcome = 'review'
               GROUP BY 1 ORDER BY 1""",
        ),
        "rules": _grouped(
            con, "SELECT rule_id, count(*) FROM determinations GROUP BY 1 ORDER BY 1"
        ),
        "by_section": _grouped(
            con,
            """SELECT coalesce(prop64_section, 'comment:' || comment_prop64_section,
                               'related:' || statute_id)
                      || ' ' || CASE WHEN felony THEN 'felony' ELSE 'misdemeanor' END,
                      count(*) FROM determinations GROUP BY 1 ORDER BY 1""",
        ),
        "by_county": _grouped(
            con,
            """SELECT coalesce(nullif(county, ''), '(unknown)') || ': ' || outcome, count(*)
               FROM determinations GROUP BY 1 ORDER BY 1""",
        ),
        "people_with_relief": gogen["subjectsWithSomeReliefCount"],
        "relief": gogen["reliefWithCurrentEligibilityChoices"],
        "relief_if_all_dismissed": gogen["reliefWithDismissAllProp64"],
        "earliest_conviction": con.execute(
            "SELECT min(conviction_date)::VARCHAR FROM determinations"
        ).fetchone()[0],
    }
