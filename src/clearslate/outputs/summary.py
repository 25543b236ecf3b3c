"""Run statistics: gogen's summary JSON (same keys, same order) and clearslate's richer
summary.json. Every count comes from the determinations and subjects tables, in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from clearslate.policy import Policy

# gogen's three impact counts of a flow, in gogen's order.
_RELIEF_COUNTS = (
    "CountSubjectsNoFelony",
    "CountSubjectsNoConviction",
    "CountSubjectsNoConvictionLast7Years",
)


def _relief_counts(
    con: duckdb.DuckDBPyConnection, flows: Sequence[str], as_of: dt.date, table: str
) -> list[dict[str, dict[str, int]]]:
    """gogen's three impact counts for each flow, per folder of `table`. A flow is the SQL of
    each evaluated conviction's outcome under it (over the determination `d`); every other
    conviction (other counties, other offences) stays. Only a person with a conviction in
    the folder can have one cleared. All flows in one query: it joins every such person's
    convictions once (a query per flow made that join twice, 0.97 and 0.73 s at 10M rows)."""
    window_start = f"DATE '{as_of.isoformat()}' - INTERVAL 7 YEAR"
    outcome_columns = "".join(
        f", coalesce({flow}, 'none') AS outcome_{i}" for i, flow in enumerate(flows)
    )
    left_columns = "".join(
        f""",
                   count(*) FILTER (WHERE felony AND outcome_{i} NOT IN ('dismiss', 'reduce'))
                     AS felonies_left_{i},
                   count(*) FILTER (WHERE outcome_{i} <> 'dismiss') AS convictions_left_{i},
                   count(*) FILTER (WHERE event_date > {window_start} AND outcome_{i} <> 'dismiss')
                     AS recent_left_{i}"""
        for i in range(len(flows))
    )
    relief_columns = ",".join(
        f"""
               count(*) FILTER (WHERE felonies > 0 AND felonies_left_{i} = 0),
               count(*) FILTER (WHERE convictions_left_{i} = 0),
               count(*) FILTER (WHERE recent > 0 AND recent_left_{i} = 0)"""
        for i in range(len(flows))
    )
    rows = con.execute(
        f"""
        WITH people AS (SELECT DISTINCT folder, subject_id FROM {table}),
        c AS (
            SELECT p.folder, cv.subject_id, cv.felony, cv.event_date{outcome_columns}
            FROM people p JOIN convictions cv USING (subject_id)
            LEFT JOIN {table} d ON d.row_id = cv.row_id AND d.folder = p.folder
        ),
        per_subject AS (
            SELECT folder, subject_id,
                   count(*) FILTER (WHERE felony) AS felonies,
                   count(*) FILTER (WHERE event_date > {window_start}) AS recent{left_columns}
            FROM c GROUP BY folder, subject_id
        )
        SELECT folder,{relief_columns}
        FROM per_subject GROUP BY folder
        """
    ).fetchall()
    n = len(_RELIEF_COUNTS)
    return [
        {
            folder: dict(zip(_RELIEF_COUNTS, counts[i * n : (i + 1) * n], strict=True))
            for folder, *counts in rows
        }
        for i in range(len(flows))
    ]


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
    """gogen's `gogen.json`: keys in gogen's order, maps sorted, dates RFC 3339, counting
    the determinations of `table`."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW _one_folder AS SELECT *, '' AS folder FROM {table}")
    return gogen_summaries(
        con,
        counties={"": county},
        line_counts={"": line_count},
        seconds=seconds,
        policy=policy,
        as_of=as_of,
        table="_one_folder",
    )[""]


def gogen_summaries(
    con: duckdb.DuckDBPyConnection,
    *,
    counties: dict[str, str],
    line_counts: dict[str, int],
    seconds: float,
    policy: Policy,
    as_of: dt.date,
    table: str,
) -> dict[str, dict[str, Any]]:
    """gogen.json for each folder (`counties`: folder -> county name) of `table`, the
    determinations with the `folder` they are written in: each count one query for all
    folders (a statewide run once made seven queries a county)."""

    def maps(sql: str) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for folder, key, n in con.execute(sql).fetchall():
            found.setdefault(folder, {})[key] = n
        return found

    earliest = dict(
        con.execute(
            f"""SELECT folder, min(conviction_date) FROM {table}
                WHERE prop64_section IS NOT NULL GROUP BY folder"""
        ).fetchall()
    )
    by_section = maps(
        f"""SELECT folder, prop64_section, count(*) FROM {table}
            WHERE prop64_section IS NOT NULL GROUP BY ALL ORDER BY 1, 2"""
    )
    totals = {
        folder: rest
        for folder, *rest in con.execute(
            f"""SELECT folder,
                  count(DISTINCT subject_id) FILTER (WHERE prop64_section IS NOT NULL),
                  count(*) FILTER (WHERE felony AND prop64_section IS NOT NULL),
                  count(*) FILTER (WHERE NOT felony AND prop64_section IS NOT NULL),
                  count(DISTINCT subject_id) FILTER (WHERE outcome IN ('dismiss', 'reduce'))
               FROM {table} GROUP BY folder"""
        ).fetchall()
    }
    reasons = maps(
        f"SELECT folder, reason, count(*) FROM {table} WHERE outcome = 'dismiss' GROUP BY ALL"
    )
    reductions = maps(
        f"SELECT folder, reason, count(*) FROM {table} WHERE outcome = 'reduce' GROUP BY ALL"
    )
    current, dismiss_all = _relief_counts(
        con,
        ["d.outcome", "CASE WHEN d.prop64_section IS NOT NULL THEN 'dismiss' END"],
        as_of,
        table,
    )
    none = dict.fromkeys(_RELIEF_COUNTS, 0)
    summaries = {}
    for folder, county in counties.items():
        dismissed = reasons.get(folder, {})
        reduced = reductions.get(folder, {})
        total = totals.get(folder, [0, 0, 0, 0])
        summaries[folder] = {
            "county": county,
            # With no conviction to date, gogen wrote the wall clock; we write the as-of date.
            "earliestConviction": f"{(earliest.get(folder) or as_of).isoformat()}T00:00:00Z",
            "lineCount": line_counts.get(folder, 0),
            "processingTimeInSeconds": round(seconds, 6),
            "reliefWithCurrentEligibilityChoices": current.get(folder, none),
            "reliefWithDismissAllProp64": dismiss_all.get(folder, none),
            "prop64ConvictionsCountInCountyByCodeSection": by_section.get(folder, {}),
            "subjectsWithProp64ConvictionCountInCounty": total[0],
            "prop64FelonyConvictionsCountInCounty": total[1],
            "prop64NonFelonyConvictionsCountInCounty": total[2],
            "subjectsWithSomeReliefCount": total[3],
            "convictionDismissalCountByCodeSection": {
                s: dismissed.get(f"Dismiss all HS {s} convictions", 0)
                for s in sorted(policy.dismiss)
            },
            "convictionReductionCountByCodeSection": {
                s: reduced.get(f"Reduce all HS {s} convictions", 0) for s in sorted(policy.reduce)
            },
            "convictionDismissalCountByAdditionalRelief": {
                r: n
                for r, n in sorted(dismissed.items())
                if not r.startswith("Dismiss all HS") and r != "Misdemeanor or Infraction"
            },
        }
    return summaries


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
