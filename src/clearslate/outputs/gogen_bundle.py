"""gogen 0.2.13-compatible bundle: All_Results, All_Results_Condensed, Prop64_Results CSVs.

File names, columns, column order, value formats and CSV quoting follow gogen (reference:
gogen-behaviour.md section 4), so BEAR and the scripts offices wrote around it keep working.
Where clearslate's values differ on purpose (a gogen bug fixed), docs/gogen-differences.md
says so.

The CSV text is assembled in SQL and streamed by DuckDB's COPY; no row passes through Python.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from clearslate.outputs.files import atomic_path
from clearslate.sources.ca_doj_layout import CONDENSED_COLUMNS, DOJ_COLUMNS, ELIGIBILITY_COLUMNS

# Go's encoding/csv quotes a field that holds a comma, a quote, CR or LF, that starts with a
# Unicode space, or that is exactly `\.`; an empty field is never quoted. One regex decides.
_GO_SPACE = r"^[\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
_GO_NEEDS_QUOTES = r'[,"\r\n]|' + _GO_SPACE + r"|^\\\.$"
GO_CSV_MACRO = (
    "CREATE OR REPLACE MACRO go_csv(v) AS CASE WHEN v IS NULL OR v = '' THEN '' "
    f"WHEN regexp_matches(v, '{_GO_NEEDS_QUOTES}') "
    """THEN '"' || replace(v, '"', '""') || '"' ELSE v END"""
)


def bundle_file_names(n_files: int, suffix: str) -> list[dict[str, str]]:
    """gogen's names: an index `_i` only with several input files, before the suffix `_S`."""
    sfx = f"_{suffix}" if suffix else ""
    names = []
    for i in range(1, n_files + 1):
        idx = f"_{i}" if n_files > 1 else ""
        names.append(
            {
                "all": f"All_Results{idx}{sfx}.csv",
                "condensed": f"All_Results_Condensed{idx}{sfx}.csv",
                "prop64": f"Prop64_Results{idx}{sfx}.csv",
            }
        )
    return names


def _years_since(date_expr: str, as_of: dt.date) -> str:
    # gogen: hours between the dates / (24 * 365.25), one decimal.
    return (
        f"CASE WHEN {date_expr} IS NULL THEN '' ELSE format('{{:.1f}}', "
        f"date_diff('day', {date_expr}, DATE '{as_of.isoformat()}') / 365.25) END"
    )


def build_bundle_rows(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """The 18 eligibility columns for every input row, as text (empty where gogen is empty)."""
    con.execute(GO_CSV_MACRO)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE bundle_eligibility AS
        SELECT x.row_id, d.row_id IS NOT NULL AS evaluated,
               coalesce(d.case_numbers, '') AS c1,
               coalesce(s.convictions::VARCHAR, '') AS c2,
               coalesce(x.gogen_possible_other_p64, '') AS c3,
               CASE WHEN d.row_id IS NULL THEN ''
                    WHEN d.conviction_date > DATE '2016-11-09' THEN 'Y' ELSE 'N' END AS c4,
               CASE WHEN d.row_id IS NULL THEN '' ELSE coalesce(s.superstrike_sections, '-') END
                 AS c5,
               CASE WHEN d.row_id IS NULL THEN '' ELSE coalesce(s.pc290_sections, '-') END AS c6,
               CASE WHEN d.row_id IS NULL THEN ''
                    WHEN s.pc290_registration THEN 'Yes' ELSE '-' END AS c7,
               coalesce(strftime(d.conviction_date, '%m/%d/%Y'), '') AS c8,
               CASE WHEN d.row_id IS NULL THEN ''
                    ELSE {_years_since("d.conviction_date", as_of)} END AS c9,
               CASE WHEN d.row_id IS NULL THEN ''
                    ELSE {_years_since("s.last_conviction_date", as_of)} END AS c10,
               CASE WHEN d.row_id IS NULL THEN '' ELSE s.prop64_convictions::VARCHAR END AS c11,
               CASE WHEN d.row_id IS NULL THEN '' ELSE s.hs11357::VARCHAR END AS c12,
               CASE WHEN d.row_id IS NULL THEN '' ELSE s.hs11358::VARCHAR END AS c13,
               CASE WHEN d.row_id IS NULL THEN '' ELSE s.hs11359::VARCHAR END AS c14,
               CASE WHEN d.row_id IS NULL THEN '' ELSE s.hs11360::VARCHAR END AS c15,
               CASE WHEN d.row_id IS NULL THEN ''
                    WHEN s.deceased THEN 'Deceased' ELSE '-' END AS c16,
               coalesce(d.determination, '') AS c17,
               coalesce(d.reason, '') AS c18
        FROM rows_x x
        LEFT JOIN determinations d ON d.row_id = x.row_id
        LEFT JOIN subjects s ON s.subject_id = d.subject_id
        """
    )


def _line(columns: tuple[str, ...]) -> str:
    # One concat_ws, not a chain of ||: twice as fast (no intermediate strings). go_csv
    # never returns NULL, so concat_ws skips nothing.
    parts = [f'q."{c}"' for c in columns] + [f"q.c{i}" for i in range(1, 19)]
    return "concat_ws(',', " + ", ".join(parts) + ")"


def _header(columns: tuple[str, ...]) -> str:
    return ",".join(list(columns) + list(ELIGIBILITY_COLUMNS))


# Rows per COPY: each chunk is built and sorted on its own, so memory stays bounded however
# large the input (a single COPY ... ORDER BY over every line ran out of memory at 1M rows).
CHUNK_ROWS = 200_000


def _lines_sql(columns: tuple[str, ...], where: str) -> str:
    """The CSV lines of the rows that match `where`, in input order, every field quoted."""
    quoted = ", ".join(
        [f'go_csv(r."{c}") AS "{c}"' for c in columns]
        + [f"go_csv(e.c{i}) AS c{i}" for i in range(1, 19)]
    )
    return f"""SELECT {_line(columns)} AS line FROM (
                   SELECT r.row_id, {quoted}
                   FROM doj_rows r JOIN bundle_eligibility e ON e.row_id = r.row_id
                   WHERE {where}) q
               ORDER BY q.row_id"""


def write_bundle(
    con: duckdb.DuckDBPyConnection, out_dir: Path, n_files: int, suffix: str
) -> list[Path]:
    """Write the three CSVs per input file; return the paths written."""
    spans = dict.fromkeys(range(n_files), (0, -1)) | {
        i: (lo, hi)
        for i, lo, hi in con.execute(
            "SELECT file_index, min(row_id), max(row_id) FROM doj_rows GROUP BY 1"
        ).fetchall()
    }
    written: list[Path] = []
    for file_index, names in enumerate(bundle_file_names(n_files, suffix)):
        lo, hi = spans[file_index]
        for kind, columns, only_evaluated in (
            ("all", DOJ_COLUMNS, False),
            ("condensed", CONDENSED_COLUMNS, False),
            ("prop64", DOJ_COLUMNS, True),
        ):
            path = out_dir / names[kind]
            with atomic_path(path) as tmp, tmp.open("wb") as out:
                out.write((_header(columns) + "\n").encode())
                part = tmp.with_name(tmp.name + ".chunk")
                for start in range(lo, hi + 1, CHUNK_ROWS):
                    where = (
                        f"r.file_index = {file_index} AND r.row_id BETWEEN {start} AND "
                        f"{start + CHUNK_ROWS - 1}" + (" AND e.evaluated" if only_evaluated else "")
                    )
                    con.execute(
                        f"""COPY ({_lines_sql(columns, where)}) TO '{str(part).replace("'", "''")}'
                            (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')"""
                    )
                    with part.open("rb") as chunk:
                        shutil.copyfileobj(chunk, out, 8 * 1024 * 1024)
                    part.unlink()
            written.append(path)
    return written
