"""Derive canonical records and facts from the raw DOJ rows, set-based in DuckDB.

Layers:

* `rows_src`      view: every input row's facts (ROW_FACTS), computed during the CSV scan in
                   a bulk run, or over the raw columns.
* `charge_class`  one row per distinct (OFFENSE_DESCR, COMMENT_TEXT): the statute it names and
                   its catalogue memberships, classified in Python on distinct values only.
* `rows_x`        view: `rows_src` with its charge's classification and count keys.
* `convictions`   one row per conviction (subject + count key); repeated court rows of one
                   count are sentence parts and add up in calendar units.
* `subjects`      one row per person (SUBJECT_ID across all input files).

No rule reads the clock: every date comparison is against the run's as-of date, given later.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from clearslate.database import create_table_from_columns
from clearslate.progress import Parts, no_parts, statement_gauge, within
from clearslate.statutes import classify_charges

# A DOJ date is YYYYMMDD. '19990000' and '19990400' are partial dates: the year (and month)
# are known, the day is not. They are never turned into a real date (so a date that parses is
# never partial, and the pattern is only tried on the others). A date is 8 characters, as
# gogen reads it: strptime's %d alone also takes one digit, and read '1999023' as 3 February
# 1999, a guess.
_DATE = "CASE WHEN length(trim({c})) = 8 THEN try_strptime(trim({c}), '%Y%m%d')::DATE END"
_PARTIAL = (
    "CASE WHEN " + _DATE + " IS NOT NULL THEN false "
    "ELSE regexp_full_match(trim({c}), '[12][0-9]{{3}}(00[0-9]{{2}}|[0-9]{{2}}00)') END"
)


def _d(c: str) -> str:
    return _DATE.format(c=c)


def _p(c: str) -> str:
    return _PARTIAL.format(c=c)


# What the facts read of each input row, as SQL over the raw DOJ columns. A bulk run computes
# these inside the CSV scan (`read_doj_files(select=ROW_FACTS)`), so the raw columns are never
# stored; `explain` and the tests read raw rows and get the same expressions as a view.
ROW_FACTS: tuple[tuple[str, str], ...] = (
    ("subject_id", "trim(SUBJECT_ID)"),
    ("cnt_order", "trim(CNT_ORDER)"),
    ("step_type", "upper(trim(STP_TYPE_DESCR))"),
    ("county", "upper(trim(STP_ORI_CNTY_NAME))"),
    ("court", "trim(STP_ORI_DESCR)"),
    ("ofn", "trim(OFN)"),
    ("event_date", _d("STP_EVENT_DATE")),
    ("event_date_partial", _p("STP_EVENT_DATE")),
    ("dob", _d("PRI_DOB")),
    ("dob_partial", _p("PRI_DOB")),
    (
        "is_conviction",
        "upper(trim(DISP_DESCR)) LIKE 'CONVICTED%' AND upper(trim(STP_TYPE_DESCR)) <> 'DECEASED'",
    ),
    (
        "felony",
        "(upper(trim(CONV_STAT_DESCR)) = 'FELONY' "
        "OR (trim(CONV_STAT_DESCR) = '' AND upper(trim(OFFENSE_TOC)) = 'F'))",
    ),
    # a whole number, not negative, else unreadable (counted as 0, as gogen's Go Atoi reads
    # what is not a number); DuckDB's cast alone reads '1.5' as 2, '1e1' as 10 and '0x10'
    # as 16, and a negative length took the sentence's end before the year 1 (the run
    # stopped)
    (
        "sent_length",
        "CASE WHEN regexp_full_match(trim(SENT_LENGTH), '[+]?[0-9]+') "
        "THEN try_cast(trim(SENT_LENGTH) AS INTEGER) END",
    ),
    ("sent_unit", "upper(trim(SENT_TIME_CODE))"),
    (
        "is_pc290_registration",
        "upper(trim(STP_TYPE_DESCR)) = 'REGISTRATION' AND upper(trim(OFFENSE_DESCR)) LIKE '290%'",
    ),
    # the charge as written, the key of `charge_class`
    ("offense_descr", "OFFENSE_DESCR"),
    ("comment_text", "COMMENT_TEXT"),
    # the person, as the first row of each subject gives it
    ("name", "trim(PRI_NAME)"),
    ("cii_number", "trim(CII_NUMBER)"),
    ("dob_raw", "trim(PRI_DOB)"),
    ("gender", "trim(GENDER)"),
    ("race", "trim(RACE_DESCR)"),
)


def _has_row_facts(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    names = {d[0].lower() for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description}
    return all(name in names for name, _ in ROW_FACTS)


def build_row_facts(con: duckdb.DuckDBPyConnection, table: str = "doj_rows") -> None:
    """View `rows_src`: `table` itself when it was read with ROW_FACTS, else ROW_FACTS
    computed over its raw columns."""
    if _has_row_facts(con, table):
        con.execute(f"CREATE OR REPLACE TEMP VIEW rows_src AS SELECT * FROM {table}")
        return
    select = ", ".join(f"{expr} AS {name}" for name, expr in ROW_FACTS)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW rows_src AS
            SELECT row_id, file_index, source_file, source_line, {select} FROM {table}"""
    )


def classify_distinct_charges(con: duckdb.DuckDBPyConnection) -> None:
    pairs = con.execute("SELECT DISTINCT offense_descr, comment_text FROM rows_src").fetchall()
    rows = classify_charges((o or "", c or "") for o, c in pairs)
    con.execute("DROP TABLE IF EXISTS charge_class")
    # With no rows at all, one blank pair gives the table its columns, and no rows.
    keep_rows = bool(rows)
    rows = rows or classify_charges([("", "")])
    create_table_from_columns(
        con, "charge_class", {n: [r[n] for r in rows] for n in rows[0]}, keep_rows=keep_rows
    )


# `rows_x`'s columns: a row's facts (`r`, from `rows_src`), its count keys, and its charge's
# classification (`c`, from `charge_class`).
_ROWS_X: dict[str, str] = {
    **{name: f"r.{name}" for name in (
        "row_id", "file_index", "source_file", "source_line", "subject_id", "cnt_order")},
    "cycle_key": "left(r.cnt_order, 3)",
    "case_key": "left(r.cnt_order, 6)",
    "cnt_order_ok": "length(r.cnt_order) >= 6",
    **{name: f"r.{name}" for name in (
        "step_type", "county", "court", "ofn", "event_date", "event_date_partial", "dob",
        "dob_partial", "is_conviction", "felony", "sent_length", "sent_unit")},
    **{name: f"c.{name}" for name in (
        "statute_id", "code", "section", "subsections", "attempt", "from_comment", "parsed")},
    "prop64_section": "nullif(c.prop64_section, '')",
    "comment_prop64_section": "nullif(c.comment_prop64_section, '')",
    **{name: f"c.{name}" for name in (
        "raw_section", "subsection_changed_2016", "is_superstrike", "superstrike_label",
        "is_pc290", "pc290_label", "is_related", "related_label", "gogen_code_section",
        "gogen_prop64_number", "gogen_possible_other_p64")},
    "is_pc290_registration": "r.is_pc290_registration",
}  # fmt: skip

_WITH_CHARGE = (
    "LEFT JOIN charge_class c ON c.offense_descr = r.offense_descr "
    "AND c.comment_text = r.comment_text"
)


def _rows_x_columns(names: Iterable[str]) -> str:
    return ", ".join(f"{_ROWS_X[name]} AS {name}" for name in names)


def build_rows(con: duckdb.DuckDBPyConnection) -> None:
    """View `rows_x`: every row's facts with its charge's classification. A view, not a
    table: each query reads only the columns it needs, and the charge join runs only where
    the charge is asked for (a copy of every row cost as much as reading the file)."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW rows_x AS "
        f"SELECT {_rows_x_columns(_ROWS_X)} FROM rows_src r {_WITH_CHARGE}"
    )


# What later stages read of a conviction's row (evaluated, subjects, the summaries, explain,
# redact): the convictions table keeps these, not every column of `rows_x`; and the row
# facts they are made of (with the charge's key).
_CONVICTION_COLUMNS = (
    "row_id", "file_index", "source_file", "source_line", "subject_id", "cnt_order",
    "cnt_order_ok", "county", "court", "event_date", "event_date_partial", "felony",
    "statute_id", "subsections", "attempt", "from_comment", "prop64_section",
    "comment_prop64_section", "raw_section", "subsection_changed_2016", "is_superstrike",
    "is_pc290", "gogen_code_section",
)  # fmt: skip
_CONVICTION_ROW_FACTS = (
    "row_id", "file_index", "source_file", "source_line", "subject_id", "cnt_order",
    "county", "court", "event_date", "event_date_partial", "felony", "offense_descr",
    "comment_text",
)  # fmt: skip


def build_convictions(con: duckdb.DuckDBPyConnection, part: Parts = no_parts) -> None:
    """One row per conviction: the first conviction row of a (subject, count key); later rows
    of the same count are further parts of its sentence (DOJ repeats the court row).

    The counts are found from narrow rows (key, row id, sentence) and only their first rows
    are then joined with the wide columns: a table of every conviction row with all its
    columns, joined back to its first rows, was most of this stage (10M rows: 26.8 s against
    18.6 s, same table). One join per statement, each result a table: DuckDB spills a join
    or an aggregate that outgrows --memory-limit, but not several hash tables built at once
    (as one statement of three joins it stopped 10M rows at 700MB and 1M at 100MB; these
    do not). `part` is told each long statement as it begins, with its share of the time
    (10M rows: 0.9, 1.5, 0.5, 1.2 and 1.6 s)."""
    part(0.16, statement_gauge(con))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE conviction_counts AS
        SELECT subject_id, count_key,
               min(row_id) AS row_id,
               left(arg_min(cnt_order, row_id), 6) AS case_key,
               count(*) AS sentence_rows,
               sum(CASE WHEN sent_unit = 'Y' THEN coalesce(sent_length, 0) ELSE 0 END)
                 AS sent_years,
               sum(CASE WHEN sent_unit = 'M' THEN coalesce(sent_length, 0) ELSE 0 END)
                 AS sent_months,
               sum(CASE WHEN sent_unit = 'D' THEN coalesce(sent_length, 0) ELSE 0 END)
                 AS sent_days,
               bool_or(sent_length IS NULL AND sent_unit <> '') AS sentence_unreadable
        FROM (
            SELECT subject_id, row_id, cnt_order, sent_unit, sent_length,
                   -- without a usable count key a row cannot be matched: it stands alone
                   CASE WHEN cnt_order <> '' THEN cnt_order ELSE 'row:' || row_id END
                     AS count_key
            FROM rows_src WHERE is_conviction
        )
        GROUP BY subject_id, count_key
        """
    )
    part(0.26, statement_gauge(con))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE case_numbers AS
        -- the case's court numbers, first-seen order, as gogen's "Case Number" column (a
        -- list sorted by first row: `string_agg(… ORDER BY …)` took three times as long)
        SELECT subject_id, case_key,
               array_to_string(
                   list_transform(list_sort(list(struct_pack(first_row, ofn))), lambda x: x.ofn),
                   '; ') AS case_numbers
        FROM (
            SELECT subject_id, left(cnt_order, 6) AS case_key, ofn, min(row_id) AS first_row
            FROM rows_src
            WHERE step_type = 'COURT ACTION' AND ofn <> '' AND upper(ofn) <> 'NULL'
            GROUP BY ALL
        ) GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE prop64_cycles AS
        SELECT DISTINCT subject_id, cycle_key FROM rows_x
        WHERE prop64_section IS NOT NULL AND cycle_key <> ''
        """
    )
    part(0.10, None)  # (two joins)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE conviction_counts AS
        SELECT s.*, coalesce(n.case_numbers, '') AS case_numbers
        FROM conviction_counts s
        LEFT JOIN case_numbers n ON n.subject_id = s.subject_id AND n.case_key = s.case_key
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE conviction_counts AS
        SELECT s.*, pc.cycle_key IS NOT NULL AS prop64_in_cycle
        FROM conviction_counts s
        LEFT JOIN prop64_cycles pc
          ON pc.subject_id = s.subject_id AND pc.cycle_key = left(s.case_key, 3)
        """
    )
    # The counts' first rows with their wide columns, then their charges: the two joins in
    # one statement stopped 10M rows at --memory-limit 500MB (each alone runs at 400MB).
    row_facts = ", ".join(f"r.{name}" for name in _CONVICTION_ROW_FACTS)
    part(0.21, statement_gauge(con))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE conviction_rows AS
        SELECT {row_facts}, s.count_key, s.sentence_rows, s.sent_years, s.sent_months,
               s.sent_days, s.sentence_unreadable,
               -- a sentence past the year 9999 ends then: a length of 2,000,000,000 years
               -- overflowed the date and stopped the run (each unit is capped at 10,000
               -- years first, so that the sum cannot overflow)
               CASE WHEN r.event_date IS NOT NULL THEN least(
                 (r.event_date + to_years(least(s.sent_years, 10000)::INTEGER)
                   + to_months(least(s.sent_months, 120000)::INTEGER)
                   + to_days(least(s.sent_days, 3660000)::INTEGER))::DATE,
                 DATE '9999-12-31')
               END AS sentence_end,
               s.case_numbers, s.prop64_in_cycle
        FROM rows_src r
        JOIN conviction_counts s ON s.row_id = r.row_id
        WHERE r.is_conviction  -- every count's first row is one: the others need no probe
        """
    )
    part(0.27, statement_gauge(con))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE convictions AS
        SELECT {_rows_x_columns(_CONVICTION_COLUMNS)}, r.count_key, r.sentence_rows,
               r.sent_years, r.sent_months, r.sent_days, r.sentence_unreadable,
               r.sentence_end, r.case_numbers, r.prop64_in_cycle
        FROM conviction_rows r {_WITH_CHARGE}
        """
    )
    con.execute(
        "DROP TABLE conviction_rows; DROP TABLE conviction_counts; DROP TABLE case_numbers; "
        "DROP TABLE prop64_cycles"
    )


def build_subjects(con: duckdb.DuckDBPyConnection) -> None:
    """Per-person facts over the whole record: all counties, all dates, all input files."""
    con.execute(
        """
        CREATE OR REPLACE TABLE subjects AS
        WITH per_row AS (
            -- the person as the first row gives it (a struct, so that a NULL is kept too)
            SELECT subject_id,
                   arg_min(struct_pack(name, cii_number, dob_raw, dob, dob_partial, gender,
                                       race), row_id) AS p,
                   bool_or(step_type = 'DECEASED') AS deceased,
                   bool_or(is_pc290_registration) AS pc290_registration,
                   min(CASE WHEN is_pc290_registration THEN coalesce(event_date, DATE '0001-01-01') END)
                     AS first_pc290_registration
            FROM rows_src GROUP BY subject_id
        ),
        person AS (
            SELECT subject_id, p.name, p.cii_number, p.dob_raw, p.dob, p.dob_partial,
                   p.gender, p.race, deceased, pc290_registration, first_pc290_registration
            FROM per_row
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
                   -- the first superstrike and registrable (PC 290) convictions; an undated
                   -- one counts from the start of the record
                   min(coalesce(event_date, DATE '0001-01-01')) FILTER (WHERE is_superstrike)
                     AS first_superstrike_date,
                   min(coalesce(event_date, DATE '0001-01-01')) FILTER (WHERE is_pc290)
                     AS first_pc290_conviction,
                   count(*) FILTER (WHERE event_date IS NULL) AS undated_convictions
            FROM convictions GROUP BY subject_id
        ),
        sections AS (
            -- over the few superstrike and PC 290 convictions only: ordered aggregates sort
            -- every row they are given (over all convictions they were most of this query)
            SELECT subject_id,
                   string_agg(CASE WHEN is_superstrike THEN raw_section END, ';'
                              ORDER BY row_id) AS superstrike_sections,
                   string_agg(CASE WHEN is_pc290 THEN raw_section END, ';'
                              ORDER BY row_id) AS pc290_sections
            FROM convictions WHERE is_superstrike OR is_pc290 GROUP BY subject_id
        )
        SELECT p.subject_id, p.name, p.cii_number, p.dob_raw, p.dob, p.dob_partial,
               p.gender, p.race, coalesce(p.deceased, false) AS deceased,
               coalesce(p.pc290_registration, false) AS pc290_registration,
               p.first_pc290_registration,
               coalesce(c.convictions, 0) AS convictions, c.last_conviction_date,
               coalesce(c.prop64_convictions, 0) AS prop64_convictions,
               coalesce(c.hs11357, 0) AS hs11357, coalesce(c.hs11358, 0) AS hs11358,
               coalesce(c.hs11359, 0) AS hs11359, coalesce(c.hs11360, 0) AS hs11360,
               coalesce(c.felonies, 0) AS felonies,
               c.last_sentence_end, coalesce(c.undated_convictions, 0) AS undated_convictions,
               x.superstrike_sections, x.pc290_sections, c.first_superstrike_date,
               c.first_pc290_conviction
        FROM person p
        LEFT JOIN conv c USING (subject_id)
        LEFT JOIN sections x USING (subject_id)
        """
    )


def build_facts(
    con: duckdb.DuckDBPyConnection, table: str = "doj_rows", part: Parts = no_parts
) -> None:
    """The facts of `table`'s rows; `part` is told each step as it begins, with its share
    of deciding (10M rows: these steps took 8.0 of deciding's 12.3 s)."""
    part(0.01, None)
    build_row_facts(con, table)
    classify_distinct_charges(con)
    build_rows(con)
    build_convictions(con, within(part, 0.53))
    part(0.10, statement_gauge(con))
    build_subjects(con)
