"""Reading a finished run for the pages: the determinations (searched and paged with DuckDB
over the run's determinations.parquet), the review items, and one person's explanation.

A run's folder:  uploads/ (the research files)  results/ (the `clearslate run` outputs)
                 rows.duckdb (the rows, for explain)  decisions.csv  documents/  documents.zip
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from clearslate.engine.explain import SubjectExplanation, explain_subject
from clearslate.policy import Policy

TABLE_COLUMNS = ("subject_id", "name", "cii_number", "case_number", "code_section_raw",
                 "disposition_date", "county", "outcome", "reason", "reason_code")  # fmt: skip


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "256MB"})


def _source(results: Path) -> str:
    path = str(results / "determinations.parquet").replace("'", "''")
    return f"read_parquet('{path}', file_row_number = true)"


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
           per_page: int = 50) -> Page:  # fmt: skip
    """Determinations whose name, CII, case number or subject id contains `q` (any case)."""
    where, params = ["true"], {}
    if q:
        where.append(
            "(name ILIKE $q OR cii_number ILIKE $q OR case_number ILIKE $q OR subject_id = $exact)"
        )
        params |= {"q": f"%{q}%", "exact": q}
    if outcome:
        where.append("outcome = $outcome")
        params["outcome"] = outcome
    if reason:
        where.append("reason = $reason")
        params["reason"] = reason
    sql_where = " AND ".join(where)
    cols = ", ".join(TABLE_COLUMNS)
    with _connect() as con:
        total = con.execute(
            f"SELECT count(*) FROM {_source(results)} WHERE {sql_where}", params
        ).fetchone()[0]
        page = max(1, min(page, max(1, -(-total // per_page))))
        cur = con.execute(
            f"""SELECT {cols} FROM {_source(results)} WHERE {sql_where}
                ORDER BY file_row_number LIMIT {per_page} OFFSET {(page - 1) * per_page}""",
            params,
        )
        rows = [dict(zip(TABLE_COLUMNS, r, strict=True)) for r in cur.fetchall()]
    return Page(rows, total, page, per_page)


def reason_counts(results: Path) -> list[tuple[str, str, int]]:
    """(outcome, reason, count), most frequent first. By the reason's text: one reason code
    may carry several texts (one per section, say)."""
    with _connect() as con:
        return con.execute(
            f"""SELECT outcome, reason, count(*) AS n
                FROM {_source(results)} GROUP BY ALL ORDER BY n DESC, reason"""
        ).fetchall()


REVIEW_COLUMNS = ("det_row", "subject_id", "cnt_order", "source_file", "source_line", "name",
                  "cii_number", "case_number", "code_section", "reason_code", "reason")  # fmt: skip


def review_rows(results: Path) -> list[dict[str, Any]]:
    """The run's `review` outcomes, to become the review queue."""
    with _connect() as con:
        cur = con.execute(
            f"""SELECT file_row_number + 1, subject_id, coalesce(cnt_order, ''), source_file,
                       source_line, coalesce(name, ''), coalesce(cii_number, ''),
                       coalesce(case_number, ''), coalesce(code_section_raw, ''),
                       coalesce(reason_code, ''), coalesce(reason, '')
                FROM {_source(results)} WHERE outcome = 'review' ORDER BY file_row_number"""
        )
        return [dict(zip(REVIEW_COLUMNS, r, strict=True)) for r in cur.fetchall()]


def person_rows(results: Path, subject_id: str) -> list[dict[str, Any]]:
    cols = (*TABLE_COLUMNS, "citation", "rule_id", "determination", "source_line")
    with _connect() as con:
        cur = con.execute(
            f"""SELECT {", ".join(cols)} FROM {_source(results)} WHERE subject_id = ?
                ORDER BY file_row_number""",
            [subject_id],
        )
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def index_rows(run_dir: Path, inputs: list[Path]) -> None:
    """Keep the run's rows in a DuckDB file, so a person's page need not read the uploads."""
    from clearslate.sources.ca_doj import read_doj_files

    path = run_dir / "rows.duckdb"
    tmp = run_dir / "rows.duckdb.partial"
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        read_doj_files(con, inputs)
    tmp.replace(path)


def explain(
    run_dir: Path,
    subject_id: str,
    *,
    policy: Policy,
    as_of: dt.date,
    counties: Sequence[str] | None,
) -> SubjectExplanation | None:
    """The same decision tree as `clearslate explain`, from the run's kept rows."""
    path = str(run_dir / "rows.duckdb").replace("'", "''")
    with _connect() as con:
        con.execute(f"ATTACH '{path}' AS kept (READ_ONLY)")
        con.execute("CREATE VIEW doj_rows AS SELECT * FROM kept.doj_rows")
        return explain_subject(con, subject_id, policy=policy, as_of=as_of, counties=counties)
