"""gogen 0.2.13-compatible bundle: All_Results, All_Results_Condensed, Prop64_Results CSVs.

File names, columns, column order, value formats and CSV quoting follow gogen (reference:
gogen-behaviour.md section 4), so BEAR and the scripts offices wrote around it keep working.
Where clearslate's values differ on purpose (a gogen bug fixed), docs/gogen-differences.md
says so.

The CSV text is assembled in SQL and streamed by DuckDB's COPY; no row passes through Python.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from clearslate.outputs.files import copy_to
from clearslate.sources.ca_doj_layout import CONDENSED_COLUMNS, DOJ_COLUMNS, ELIGIBILITY_COLUMNS

# Go's encoding/csv quotes a field that holds a comma, a quote, CR or LF, that starts with a
# Unicode space, or that is exactly `\.`; an empty field is never quoted. One regex decides.
_GO_SPACE = r"^[\t\n\x{0B}\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
_GO_NEEDS_QUOTES = r'[,"\r\n]|' + _GO_SPACE + r"|^\\\.$"
# (No separate test for NULL or '': the regex is false on '' and NULL on NULL, and the ELSE
# gives '' for both; that test cost a quarter of the quoting, the bundle's largest cost.)
GO_CSV_MACRO = (
    "CREATE OR REPLACE MACRO go_csv(v) AS CASE "
    f"WHEN regexp_matches(v, '{_GO_NEEDS_QUOTES}') "
    """THEN '"' || replace(v, '"', '""') || '"' ELSE coalesce(v, '') END"""
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


def _quoted_line(columns: tuple[str, ...]) -> str:
    # One concat_ws, not a chain of ||: twice as fast (no intermediate strings). go_csv
    # never returns NULL, so concat_ws skips nothing.
    return "concat_ws(',', " + ", ".join(f'go_csv("{c}")' for c in columns) + ")"


# The bundle's share of the row table, computed during the CSV scan (read_doj_files(select=)):
# each row's DOJ fields already quoted as Go writes them, for All_Results and for the condensed
# file, so the raw columns need not be kept. The eligibility part of the line is set after
# the decisions, by an UPDATE of the few rows that have one (`build_bundle_rows`); the files
# are then plain scans of this one table, which keep the input order without a sort.
BUNDLE_ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("q_all", _quoted_line(DOJ_COLUMNS)),
    ("q_condensed", _quoted_line(CONDENSED_COLUMNS)),
    ("bundle_folder", "NULL::VARCHAR"),  # where the row's eligibility record goes
    ("bundle_eligibility", "NULL::VARCHAR"),  # the 18 columns there
    ("bundle_other", "NULL::VARCHAR"),  # the 18 columns elsewhere, if not all empty
    ("bundle_folders", "NULL::VARCHAR[]"),  # statewide: the folders that show the row
)

# The 18 columns of a row without an eligibility record: all empty.
_NO_ELIGIBILITY = "," * (len(ELIGIBILITY_COLUMNS) - 1)
# Its folder in a run of one county: the results folder itself.
SINGLE = "."


def prepare_bundle(con: duckdb.DuckDBPyConnection) -> None:
    """Define go_csv, which BUNDLE_ROW_COLUMNS use, before the rows are read."""
    con.execute(GO_CSV_MACRO)


def build_bundle_rows(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, folder_sql: str, statewide: bool
) -> None:
    """Fill the rows' eligibility columns: the 18 as gogen writes them for evaluated rows
    (in `folder_sql`'s folder, an SQL expression over the determination), and the one
    column computed for every row (Possible Other P64 Charges) where it is not empty."""
    cols = [
        "coalesce(d.case_numbers, '')",
        "coalesce(s.convictions::VARCHAR, '')",
        "coalesce(o.other_p64, '')",
        "CASE WHEN d.conviction_date > DATE '2016-11-09' THEN 'Y' ELSE 'N' END",
        "coalesce(s.superstrike_sections, '-')",
        "coalesce(s.pc290_sections, '-')",
        "CASE WHEN s.pc290_registration THEN 'Yes' ELSE '-' END",
        "coalesce(strftime(d.conviction_date, '%m/%d/%Y'), '')",
        _years_since("d.conviction_date", as_of),
        _years_since("s.last_conviction_date", as_of),
        "s.prop64_convictions::VARCHAR",
        "s.hs11357::VARCHAR",
        "s.hs11358::VARCHAR",
        "s.hs11359::VARCHAR",
        "s.hs11360::VARCHAR",
        "CASE WHEN s.deceased THEN 'Deceased' ELSE '-' END",
        "coalesce(d.determination, '')",
        "coalesce(d.reason, '')",
    ]
    eligibility = "concat_ws(',', " + ", ".join(f"go_csv({c})" for c in cols) + ")"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE bundle_eligibility AS
        WITH other AS (
            SELECT r.row_id, c.gogen_possible_other_p64 AS other_p64
            FROM rows_src r JOIN charge_class c
              ON c.offense_descr = r.offense_descr AND c.comment_text = r.comment_text
            WHERE c.gogen_possible_other_p64 <> ''
        ),
        evaluated AS (
            SELECT d.row_id, {folder_sql} AS folder, {eligibility} AS eligibility
            FROM determinations d
            JOIN subjects s USING (subject_id)
            LEFT JOIN other o USING (row_id)
        )
        SELECT row_id, e.folder, e.eligibility,
               CASE WHEN o.other_p64 IS NOT NULL
                    THEN ',,' || go_csv(o.other_p64) || '{_NO_ELIGIBILITY[2:]}' END AS other
        FROM evaluated e FULL JOIN other o USING (row_id)
        """
    )
    con.execute(
        """UPDATE doj_rows SET bundle_folder = b.folder, bundle_eligibility = b.eligibility,
                  bundle_other = b.other
           FROM bundle_eligibility b WHERE doj_rows.row_id = b.row_id"""
    )
    if statewide:
        # A county's All_Results holds the whole record of each person it decides (what a
        # DOJ extract for that county holds), not every row of the state.
        con.execute(
            """UPDATE doj_rows SET bundle_folders = f.folders
               FROM (SELECT d.subject_id, list(DISTINCT b.folder ORDER BY b.folder) AS folders
                     FROM determinations d JOIN bundle_eligibility b USING (row_id)
                     GROUP BY d.subject_id) f
               WHERE doj_rows.subject_id = f.subject_id"""
        )


def _header(columns: tuple[str, ...]) -> str:
    return ",".join(list(columns) + list(ELIGIBILITY_COLUMNS))


def _copy_lines(con: duckdb.DuckDBPyConnection, line: str, header: str, where: str, path: Path):
    """One streamed COPY: a plain scan of doj_rows (filters keep the input order, and no
    join or sort is involved), the line as the single column and the header as its name."""
    name = header.replace('"', '""')
    copy_to(
        con,
        f'''SELECT {line} AS "{name}" FROM doj_rows WHERE {where}''',
        path,
        "FORMAT csv, HEADER true, QUOTE '', ESCAPE '', DELIMITER '\x1f'",
    )


def write_bundle(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    n_files: int,
    suffix: str,
    folder: str = SINGLE,
    statewide: bool = False,
) -> list[Path]:
    """Write the three CSVs per input file for one folder; return the paths written."""
    mine = f"bundle_folder = '{folder.replace(chr(39), chr(39) * 2)}'"
    eligibility = f"CASE WHEN {mine} THEN bundle_eligibility ELSE coalesce(bundle_other, '{_NO_ELIGIBILITY}') END"
    rows = (
        f"list_contains(bundle_folders, '{folder.replace(chr(39), chr(39) * 2)}')"
        if statewide
        else "true"
    )
    written: list[Path] = []
    for file_index, names in enumerate(bundle_file_names(n_files, suffix)):
        in_file = f"file_index = {file_index}"
        for kind, columns, line, where in (
            ("all", DOJ_COLUMNS, "q_all", rows),
            ("condensed", CONDENSED_COLUMNS, "q_condensed", rows),
            ("prop64", DOJ_COLUMNS, "q_all", mine),
        ):
            path = out_dir / names[kind]
            _copy_lines(
                con,
                f"{line} || ',' || {eligibility}",
                _header(columns),
                f"{in_file} AND {where}",
                path,
            )
            written.append(path)
    return written
