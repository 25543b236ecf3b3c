"""Reading a finished run for the pages: the determinations (searched and paged with DuckDB
over the run's determinations.parquet), the review items, and one person's explanation.

A run's folder:  uploads/ (the research files; Illinois: uploads/court/, uploads/isp/ and any
                 court_mapping.yaml, isp_mapping.yaml)  results/ (the `clearslate run` outputs)
                 rows.duckdb (the rows, for explain)  decisions.csv  documents/  documents.zip
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from clearslate import database
from clearslate.engine.explain import SubjectExplanation, explain_subject
from clearslate.engine.il_explain import PersonExplanation, explain_person
from clearslate.il_policy import ILPolicy
from clearslate.policy import Policy


@dataclass(frozen=True)
class Layout:
    """How the pages read one jurisdiction's determinations.parquet. Both name a person
    `subject_id` and `name` (Illinois: derived from person_id and the name parts)."""

    columns: tuple[str, ...]  # the determinations table, and the person page's rows
    person_extra: tuple[str, ...]
    searched: tuple[str, ...]  # matched with ILIKE by the search box (and subject_id exactly)
    derived: str = ""  # select expressions adding subject_id and name
    # REVIEW_COLUMNS, from the parquet's columns
    review: tuple[str, ...] = ()
    jurisdiction: str = "ca"


CA = Layout(
    columns=("subject_id", "name", "cii_number", "case_number", "code_section_raw",
             "disposition_date", "county", "outcome", "reason", "reason_code"),
    person_extra=("citation", "rule_id", "determination", "source_line"),
    searched=("name", "cii_number", "case_number"),
    review=("subject_id", "coalesce(cnt_order, '')", "source_file", "source_line",
            "coalesce(name, '')", "coalesce(cii_number, '')", "coalesce(case_number, '')",
            "coalesce(code_section_raw, '')", "coalesce(reason_code, '')",
            "coalesce(reason, '')"),
)  # fmt: skip
IL = Layout(
    columns=("subject_id", "name", "sid", "case_number", "statute_raw", "record_date", "track",
             "tier", "outcome", "review_reason", "reason"),
    person_extra=("citation", "rule_id", "source", "source_file", "source_line",
                  "disposition", "link_status"),
    searched=("name", "sid", "case_number"),
    derived="person_id AS subject_id, "
    "concat_ws(' ', first_name, middle_name, last_name, name_suffix) AS name",
    review=("person_id", "coalesce(charge_seq::VARCHAR, '')", "source_file", "source_line",
            "name", "coalesce(sid, '')", "coalesce(case_number, '')",
            "coalesce(statute_raw, '')", "coalesce(review_reason, '')", "coalesce(reason, '')"),
    jurisdiction="il",
)  # fmt: skip
LAYOUTS = {"ca": CA, "il": IL}


def _connect() -> duckdb.DuckDBPyConnection:
    return database.connect(":memory:", config={"threads": 1, "memory_limit": "256MB"})


def _source(results: Path, layout: Layout = CA) -> str:
    path = database.sql_string(str(results / "determinations.parquet"))
    parquet = f"read_parquet({path}, file_row_number = true)"
    if not layout.derived:
        return parquet
    return f"(SELECT *, {layout.derived} FROM {parquet})"


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(results: Path, *, q: str = "", outcome: str = "", reason: str = "", page: int = 1,
           per_page: int = 50, layout: Layout = CA) -> Page:  # fmt: skip
    """Determinations whose name, CII (Illinois: SID), case number or subject id contains `q`
    (any case)."""
    where, params = ["true"], {}
    if q:
        matched = " OR ".join(f"{c} ILIKE $q" for c in layout.searched)
        where.append(f"({matched} OR subject_id = $exact)")
        params |= {"q": f"%{q}%", "exact": q}
    if outcome:
        where.append("outcome = $outcome")
        params["outcome"] = outcome
    if reason:
        where.append("reason = $reason")
        params["reason"] = reason
    sql_where = " AND ".join(where)
    cols = ", ".join(layout.columns)
    source = _source(results, layout)
    with _connect() as con:
        total = con.execute(f"SELECT count(*) FROM {source} WHERE {sql_where}", params).fetchone()[
            0
        ]
        page = max(1, min(page, max(1, -(-total // per_page))))
        cur = con.execute(
            f"""SELECT {cols} FROM {source} WHERE {sql_where}
                ORDER BY file_row_number LIMIT {per_page} OFFSET {(page - 1) * per_page}""",
            params,
        )
        rows = [dict(zip(layout.columns, r, strict=True)) for r in cur.fetchall()]
    return Page(rows, total, page, per_page)


def reason_counts(results: Path, layout: Layout = CA) -> list[tuple[str, str, int]]:
    """(outcome, reason, count), most frequent first. By the reason's text: one reason code
    may carry several texts (one per section, say)."""
    with _connect() as con:
        return con.execute(
            f"""SELECT outcome, reason, count(*) AS n
                FROM {_source(results, layout)} GROUP BY ALL ORDER BY n DESC, reason"""
        ).fetchall()


REVIEW_COLUMNS = ("det_row", "subject_id", "cnt_order", "source_file", "source_line", "name",
                  "cii_number", "case_number", "code_section", "reason_code", "reason",
                  "not_decidable")  # fmt: skip

# Illinois review items the documents cannot take a decision on (docs/workspace.md): listed in
# the queue with this text, left out of the decisions and of what sign-off waits for.
IL_ARREST_NOTE = (
    "An arrest that led to no conviction: the police and the Illinois State Police expunge it "
    "themselves, on no motion of this office, and the documents take no decision on it. "
    "Nothing to decide here."
)
IL_NO_TIER_NOTE = (
    "No deadline tier (the disposition is pending or unknown, or the record has no date), so "
    "no motion can file it: confirm the disposition in the court file, correct the export and "
    "run again."
)
IL_TWIN_NOTE = (
    "The state police's copy of a conviction that the court's export also has: the court's row "
    "is the one filed, so decide that one (it is in the queue when it needs review)."
)


def review_rows(results: Path, layout: Layout = CA) -> list[dict[str, Any]]:
    """The run's `review` outcomes, to become the review queue; for each, why it is not
    decided in the workspace, or None."""
    not_decidable = "NULL"
    with _connect() as con:
        if layout.jurisdiction == "il":
            from clearslate.documents.data import open_run

            open_run(con, results, "il")  # the table det: the rows the documents can take
            not_decidable = """CASE WHEN track = 'arrest' THEN $arrest
                WHEN tier IS NULL THEN $no_tier
                WHEN NOT EXISTS (SELECT 1 FROM det d WHERE d.source_file = s.source_file
                                 AND d.source_line = s.source_line) THEN $twin END"""
        cur = con.execute(
            f"""SELECT file_row_number + 1, {", ".join(layout.review)}, {not_decidable}
                FROM {_source(results, layout)} s WHERE outcome = 'review'
                ORDER BY file_row_number""",
            {"arrest": IL_ARREST_NOTE, "no_tier": IL_NO_TIER_NOTE, "twin": IL_TWIN_NOTE}
            if layout.jurisdiction == "il"
            else None,
        )
        return [dict(zip(REVIEW_COLUMNS, map(_storable, r), strict=True)) for r in cur.fetchall()]


def _storable(value: Any) -> Any:
    """A value as the workspace's database can keep it: PostgreSQL refuses a NUL in text (a
    research file's name with one failed the whole run), so it becomes U+FFFD, the mark of an
    unreadable character, as a bad byte does."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def person_rows(results: Path, subject_id: str, layout: Layout = CA) -> list[dict[str, Any]]:
    cols = (*layout.columns, *layout.person_extra)
    with _connect() as con:
        cur = con.execute(
            f"""SELECT {", ".join(cols)} FROM {_source(results, layout)} WHERE subject_id = ?
                ORDER BY file_row_number""",
            [subject_id],
        )
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def explain(
    run_dir: Path,
    subject_id: str,
    *,
    policy: Policy,
    as_of: dt.date,
    counties: Sequence[str] | None,
) -> SubjectExplanation | None:
    """The same decision tree as `clearslate explain`, from the run's kept rows."""
    path = database.sql_string(str(run_dir / "rows.duckdb"))
    with _connect() as con:
        con.execute(f"ATTACH {path} AS kept (READ_ONLY)")
        con.execute("CREATE VIEW doj_rows AS SELECT * FROM kept.doj_rows")
        return explain_subject(con, subject_id, policy=policy, as_of=as_of, counties=counties)


def _keep(con: duckdb.DuckDBPyConnection, run_dir: Path, tables: dict[str, str]) -> None:
    """Keep tables of a run (name -> query on the run's own connection) in rows.duckdb, so
    that a person's page explains from the very rows of the run, without reading the uploads
    again."""
    path, tmp = run_dir / "rows.duckdb", run_dir / "rows.duckdb.partial"
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH {database.sql_string(str(tmp))} AS kept")
    try:
        for table, query in tables.items():
            con.execute(f"CREATE TABLE kept.{table} AS {query}")
    finally:
        con.execute("DETACH kept")
    tmp.replace(path)


def keep_ca_rows(con: duckdb.DuckDBPyConnection, run_dir: Path) -> None:
    """Keep a California run's row facts once they are read. Before, the uploads were read a
    second time after the run, with their 95 raw columns (1M rows: 16.7 s and 1.8 GB of
    memory). A file kept by an earlier version, with the raw columns, still explains."""
    from clearslate.engine.facts import ROW_FACTS

    columns = ["row_id", "file_index", "source_file", "source_line"] + [n for n, _ in ROW_FACTS]
    keep = ", ".join(f'"{c}"' for c in columns)
    _keep(con, run_dir, {"doj_rows": f"SELECT {keep} FROM doj_rows"})


IL_KEPT = ("il_records", "il_person_links")


def keep_il_rows(con: duckdb.DuckDBPyConnection, run_dir: Path) -> None:
    """Keep an Illinois run's records and person links once they are read and linked: a
    person's page then explains from the very links of the run (linking again could link
    differently, and takes long)."""
    _keep(con, run_dir, {table: f"SELECT * FROM {table}" for table in IL_KEPT})


def explain_il(
    run_dir: Path, person_id: str, *, policy: ILPolicy, as_of: dt.date
) -> PersonExplanation | None:
    """The same rule tree as `clearslate explain --jurisdiction il`, from the kept rows."""
    path = database.sql_string(str(run_dir / "rows.duckdb"))
    with _connect() as con:
        con.execute(f"ATTACH {path} AS kept (READ_ONLY)")
        for table in IL_KEPT:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM kept.{table}")
        return explain_person(con, person_id, policy=policy, as_of=as_of)
