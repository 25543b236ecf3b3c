"""determinations.csv / .parquet: one row per evaluated conviction, with its explanation."""

from __future__ import annotations

from pathlib import Path

import duckdb

from clearslate.database import memory_limit_bytes
from clearslate.outputs.files import copy_each

# The facts every determination carries (its explanation), in this order.
FACT_COLUMNS: tuple[str, ...] = (
    "conviction_date", "conviction_date_partial", "dob", "dob_partial", "felony",
    "prop64_section", "statute_id", "attempt", "from_comment", "comment_prop64_section",
    "county", "sentence_end", "subject_convictions", "subject_prop64_convictions",
    "last_conviction_date", "deceased", "superstrike_sections", "first_superstrike_date",
    "pc290_sections", "pc290_registration", "first_pc290_date", "same_section_priors",
    "same_section_convictions", "related_charge", "prop64_in_cycle", "first_pc290_conviction",
    "subject_last_sentence_end", "subject_undated_convictions",
)  # fmt: skip

DETERMINATION_COLUMNS = (
    "subject_id", "cii_number", "name", "dob", "county", "court", "case_number", "cnt_order",
    "source_file", "source_line", "code_section_raw", "statute", "felony", "disposition_date",
    "outcome", "reason", "citation", "rule_id", "reason_code", "determination",
    "sentence_end", "sentence_status", "race", "gender", "facts",
)  # fmt: skip


# DuckDB holds a Parquet row group in memory until it is written, and cannot spill it: its
# default of 122,880 rows is some 140 MB of determinations (the facts JSON is 1 KB a row),
# which a 1M-row run at --memory-limit 150MB could not allocate. 20,000 rows is 23 MB; the
# file came out no larger (1M rows: 5.99 MB against 6.01 MB). The same for every limit, so
# that the bytes do not depend on it.
_PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 20000"

# The CSV and the Parquet file are written at once (copy_each) from this limit up, and one
# after the other below it: at once, each COPY holds its buffers and its scan of the table
# beside the other's. A 1M-row run at --memory-limit 100MB ran out of memory there in 2
# runs of 2, and completed in 2 of 2 one after the other; at 150MB at once it completed.
# What the two COPYs hold does not grow with the input, so neither does this limit.
_AT_ONCE_FROM = 140 * 2**20  # so "150MB" (143 MiB to DuckDB) and up


def determinations_select(table: str = "determinations") -> str:
    facts = ", ".join(f"{c} := {c}" for c in FACT_COLUMNS)
    return f"""
        SELECT subject_id, cii_number, name, dob_raw AS dob, county, court,
               case_numbers AS case_number, cnt_order, source_file, source_line,
               code_section_raw, statute_id AS statute, felony,
               conviction_date AS disposition_date, outcome, reason, citation, rule_id,
               reason_code, determination, sentence_end, sentence_status, race, gender,
               to_json(struct_pack({facts}))::VARCHAR AS facts
        FROM {table}"""  # in row order already (decide); a plain scan keeps it


def write_determinations(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    return write_table_files(con, determinations_select(), out_dir, "determinations")


def write_table_files(
    con: duckdb.DuckDBPyConnection, query: str, out_dir: Path, stem: str
) -> list[Path]:
    """`query`'s rows as `stem`.csv and `stem`.parquet, in its row order, written at once."""
    copies = [
        (query, out_dir / f"{stem}.csv", "FORMAT csv, HEADER true"),
        (query, out_dir / f"{stem}.parquet", _PARQUET_OPTIONS),
    ]
    copy_each(con, copies, at_once=memory_limit_bytes(con) >= _AT_ONCE_FROM)
    return [path for _, path, _ in copies]
