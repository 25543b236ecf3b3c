"""Derive canonical records and facts from the raw DOJ rows, set-based in DuckDB.

Layers (each a table, computed once per run):

* `charge_class`  one row per distinct (OFFENSE_DESCR, COMMENT_TEXT): the statute it names and
                   its catalogue memberships, classified in Python on distinct values only.
* `rows_x`        every input row with parsed dates, conviction / felony flags, count key.
* `convictions`   one row per conviction (subject + count key); repeated court rows of one
                   count are sentence parts and add up in calendar units.
* `subjects`      one row per person (SUBJECT_ID across all input files).

No rule reads the clock: every date comparison is against the run's as-of date, given later.
"""

from __future__ import annotations

import duckdb

from clearslate.statutes import classify_charges

# A DOJ date is YYYYMMDD. '19990000' and '19990400' are partial dates: the year (and month)
# are known, the day is not. They are never turned into a real date.
_DATE = "try_strptime(nullif(trim({c}), ''), '%Y%m%d')::DATE"
_PARTIAL = "(regexp_full_match(trim({c}), '[12][0-9]{{3}}(00[0-9]{{2}}|[0-9]{{2}}00)'))"


def classify_distinct_charges(con: duckdb.DuckDBPyConnection, table: str = "doj_rows") -> None:
    pairs = con.execute(f"SELECT DISTINCT OFFENSE_DESCR, COMMENT_TEXT FROM {table}").fetchall()
    rows = classify_charges((o or "", c or "") for o, c in pairs)
    con.execute("DROP TABLE IF EXISTS charge_class")
    # With no rows at all, one blank pair gives the table its columns; `WHERE false` keeps
    # it empty.
    keep = "true" if rows else "false"
    rows = rows or classify_charges([("", "")])
    # Columns go in as parallel lists; unnest() zips them into rows in one statement.
    names = list(rows[0])
    select = ", ".join(f"unnest(${i + 1}) AS {n}" for i, n in enumerate(names))
    con.execute(
        f"CREATE TABLE charge_class AS SELECT * FROM (SELECT {select}) WHERE {keep}",
        [[r[n] for r in rows] for n in names],
    )


def build_rows(con: duckdb.DuckDBPyConnection, table: str = "doj_rows") -> None:
    d = lambda c: _DATE.format(c=c)  # noqa: E731
    p = lambda c: _PARTIAL.format(c=c)  # noqa: E731
    con.execute(
        f"""
        CREATE OR REPLACE TABLE rows_x AS
        SELECT r.row_id, r.file_index, r.source_file, r.source_line,
               trim(r.SUBJECT_ID) AS subject_id,
               trim(r.CNT_ORDER) AS cnt_order,
               left(trim(r.CNT_ORDER), 3) AS cycle_key,
               left(trim(r.CNT_ORDER), 6) AS case_key,
               length(trim(r.CNT_ORDER)) >= 6 AS cnt_order_ok,
               upper(trim(r.STP_TYPE_DESCR)) AS step_type,
               upper(trim(r.STP_ORI_CNTY_NAME)) AS county,
               trim(r.STP_ORI_DESCR) AS court,
               trim(r.OFN) AS ofn,
               {d("r.STP_EVENT_DATE")} AS event_date,
               {p("r.STP_EVENT_DATE")} AS event_date_partial,
               {d("r.PRI_DOB")} AS dob,
               {p("r.PRI_DOB")} AS dob_partial,
               upper(trim(r.DISP_DESCR)) LIKE 'CONVICTED%'
                 AND upper(trim(r.STP_TYPE_DESCR)) <> 'DECEASED' AS is_conviction,
               (upper(trim(r.CONV_STAT_DESCR)) = 'FELONY'
                 OR (trim(r.CONV_STAT_DESCR) = '' AND upper(trim(r.OFFENSE_TOC)) = 'F'))
                 AS felony,
               try_cast(trim(r.SENT_LENGTH) AS INTEGER) AS sent_length,
               upper(trim(r.SENT_TIME_CODE)) AS sent_unit,
               c.statute_id, c.code, c.section, c.subsections, c.attempt, c.from_comment,
               c.parsed, nullif(c.prop64_section, '') AS prop64_section,
               nullif(c.comment_prop64_section, '') AS comment_prop64_section, c.raw_section,
               c.subsection_changed_2016,
               c.is_superstrike, c.superstrike_label, c.is_pc290, c.pc290_label,
               c.is_related, c.related_label,
               c.gogen_code_section, c.gogen_prop64_number, c.gogen_possible_other_p64,
               upper(trim(r.STP_TYPE_DESCR)) = 'REGISTRATION'
                 AND upper(trim(r.OFFENSE_DESCR)) LIKE '290%' AS is_pc290_registration
        FROM {table} r
        LEFT JOIN charge_class c
          ON c.offense_descr = r.OFFENSE_DESCR AND c.comment_text = r.COMMENT_TEXT
        """
    )


def build_convictions(con: duckdb.DuckDBPyConnection) -> None:
    """One row per conviction: the first conviction row of a (subject, count key); later rows
    of the same count are further parts of its sentence (DOJ repeats the court row)."""
    con.execute(
        """
        CREATE OR REPLACE TABLE convictions AS
        WITH conv_rows AS (
            SELECT *,
                   -- without a usable count key a row cannot be matched: it stands alone
                   CASE WHEN cnt_order <> '' THEN cnt_order ELSE 'row:' || row_id END AS count_key
            FROM rows_x WHERE is_conviction
        ),
        sentence AS (
            SELECT subject_id, count_key,
                   min(row_id) AS row_id,
                   count(*) AS sentence_rows,
                   sum(CASE WHEN sent_unit = 'Y' THEN coalesce(sent_length, 0) ELSE 0 END)
                     AS sent_years,
                   sum(CASE WHEN sent_unit = 'M' THEN coalesce(sent_length, 0) ELSE 0 END)
                     AS sent_months,
                   sum(CASE WHEN sent_unit = 'D' THEN coalesce(sent_length, 0) ELSE 0 END)
                     AS sent_days,
                   bool_or(sent_length IS NULL AND sent_unit <> '') AS sentence_unreadable
            FROM conv_rows GROUP BY subject_id, count_key
        ),
        case_numbers AS (
            -- the case's court numbers, first-seen order, as gogen's "Case Number" column
            SELECT subject_id, case_key,
                   string_agg(ofn, '; ' ORDER BY first_row) AS case_numbers
            FROM (
                SELECT subject_id, case_key, ofn, min(row_id) AS first_row
                FROM rows_x
                WHERE step_type = 'COURT ACTION' AND ofn <> '' AND upper(ofn) <> 'NULL'
                GROUP BY ALL
            ) GROUP BY ALL
        ),
        p64_cycles AS (
            SELECT DISTINCT subject_id, cycle_key FROM rows_x
            WHERE prop64_section IS NOT NULL AND cycle_key <> ''
        )
        SELECT c.*, s.sentence_rows, s.sent_years, s.sent_months, s.sent_days,
               s.sentence_unreadable,
               CASE WHEN c.event_date IS NOT NULL THEN
                 (c.event_date + to_years(s.sent_years::INTEGER)
                   + to_months(s.sent_months::INTEGER) + to_days(s.sent_days::INTEGER))::DATE
               END AS sentence_end,
               coalesce(n.case_numbers, '') AS case_numbers,
               pc.cycle_key IS NOT NULL AS prop64_in_cycle,
               row_number() OVER (PARTITION BY c.subject_id ORDER BY c.row_id) AS conviction_no
        FROM sentence s
        JOIN conv_rows c ON c.row_id = s.row_id
        LEFT JOIN case_numbers n ON n.subject_id = c.subject_id AND n.case_key = c.case_key
        LEFT JOIN p64_cycles pc ON pc.subject_id = c.subject_id AND pc.cycle_key = c.cycle_key
        """
    )


def build_subjects(con: duckdb.DuckDBPyConnection, table: str = "doj_rows") -> None:
    """Per-person facts over the whole record: all counties, all dates, all input files."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE subjects AS
        WITH first_row AS (
            SELECT x.subject_id, arg_min(x.row_id, x.row_id) AS row_id
            FROM rows_x x GROUP BY x.subject_id
        ),
        person AS (
            SELECT f.subject_id, trim(r.PRI_NAME) AS name, trim(r.CII_NUMBER) AS cii_number,
                   trim(r.PRI_DOB) AS dob_raw, x.dob, x.dob_partial,
                   trim(r.GENDER) AS gender, trim(r.RACE_DESCR) AS race
            FROM first_row f JOIN {table} r ON r.row_id = f.row_id
            JOIN rows_x x ON x.row_id = f.row_id
        ),
        flags AS (
            SELECT subject_id,
                   bool_or(step_type = 'DECEASED') AS deceased,
                   bool_or(is_pc290_registration) AS pc290_registration,
                   min(CASE WHEN is_pc290_registration THEN coalesce(event_date, DATE '0001-01-01') END)
                     AS first_pc290_registration
            FROM rows_x GROUP BY subject_id
        ),
        conv AS (
            SELECT subject_id,
                   count(*) AS convictions,
                   max(event_date) AS last_conviction_date,
                   count(*) FILTER (WHERE prop64_section IS NOT NULL) AS prop64_convictions,
                   count(*) FILTER (WHERE prop64_section = '11357') AS hs11357,
                   count(*) FILTER (WHERE prop64_section = '11358') AS hs11358,
                   count(*) FILTER (WHERE prop64_section = '11359') AS hs11359,
                   count(*) FILTER (WHERE prop64_section = '11360') AS hs11360,
                   count(*) FILTER (WHERE felony) AS felonies,
                   -- for "every sentence completed": the last sentence end, and how many
                   -- convictions have no date (so no known end)
                   max(sentence_end) AS last_sentence_end,
                   count(*) FILTER (WHERE event_date IS NULL) AS undated_convictions,
                   string_agg(CASE WHEN is_superstrike THEN raw_section END, ';'
                              ORDER BY row_id) AS superstrike_sections,
                   string_agg(CASE WHEN is_pc290 THEN raw_section END, ';'
                              ORDER BY row_id) AS pc290_sections
            FROM convictions GROUP BY subject_id
        )
        SELECT p.*, coalesce(f.deceased, false) AS deceased,
               coalesce(f.pc290_registration, false) AS pc290_registration,
               f.first_pc290_registration,
               coalesce(c.convictions, 0) AS convictions, c.last_conviction_date,
               coalesce(c.prop64_convictions, 0) AS prop64_convictions,
               coalesce(c.hs11357, 0) AS hs11357, coalesce(c.hs11358, 0) AS hs11358,
               coalesce(c.hs11359, 0) AS hs11359, coalesce(c.hs11360, 0) AS hs11360,
               coalesce(c.felonies, 0) AS felonies,
               c.last_sentence_end, coalesce(c.undated_convictions, 0) AS undated_convictions,
               c.superstrike_sections, c.pc290_sections
        FROM person p
        LEFT JOIN flags f USING (subject_id)
        LEFT JOIN conv c USING (subject_id)
        """
    )


def build_facts(con: duckdb.DuckDBPyConnection, table: str = "doj_rows") -> None:
    classify_distinct_charges(con, table)
    build_rows(con, table)
    build_convictions(con)
    build_subjects(con, table)
