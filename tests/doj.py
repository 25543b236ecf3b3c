"""Build hand-made DOJ research-file rows for tests: every field defaults to a blank, and a
test names only what it is about."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from clearslate.sources.ca_doj_layout import DOJ_COLUMNS


def row(**fields: str) -> list[str]:
    unknown = set(fields) - set(DOJ_COLUMNS)
    assert not unknown, f"not DOJ columns: {unknown}"
    return [fields.get(c, "") for c in DOJ_COLUMNS]


def conviction(
    subject: str,
    cnt_order: str,
    offense: str,
    date: str,
    *,
    dob: str = "19700101",
    county: str = "LOS ANGELES",
    felony: bool = True,
    disposition: str = "CONVICTED-JAIL",
    ofn: str = "BA000001",
    **extra: str,
) -> list[str]:
    """A COURT ACTION row convicting `subject` of `offense` on `date` (YYYYMMDD)."""
    fields: dict[str, str] = {
        "SUBJECT_ID": subject,
        "CII_NUMBER": f"A{subject}",
        "PRI_NAME": f"TESTPERSON,{subject}",
        "PRI_DOB": dob,
        "CNT_ORDER": cnt_order,
        "STP_EVENT_DATE": date,
        "STP_TYPE_DESCR": "COURT ACTION",
        "STP_ORI_DESCR": f"CASC {county}",
        "STP_ORI_CNTY_NAME": county,
        "OFN": ofn,
        "OFFENSE_DESCR": offense,
        "OFFENSE_TOC": "F" if felony else "M",
        "DISP_DESCR": disposition,
        "CONV_STAT_DESCR": "FELONY" if felony else "MISDEMEANOR",
    }
    fields.update(extra)
    return row(**fields)


def csv_text(rows: Iterable[list[str]], header: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(DOJ_COLUMNS)
    w.writerows(rows)
    return buf.getvalue()


def write(path: Path, rows: Iterable[list[str]], header: bool = True) -> Path:
    path.write_text(csv_text(rows, header), encoding="utf-8")
    return path


def by_name(values: list[str]) -> Mapping[str, str]:
    return dict(zip(DOJ_COLUMNS, values, strict=True))


def begins_a_record_over_lines(text: str) -> bool:
    """Whether `text` begins with a valid record of the DOJ's width that runs over lines.

    A line drawn to open a quote and never close it can have its quote closed by a later
    good line's quotes, so that the lines between make one record of 95 fields: Go's reader
    and Python's read them so, and so does ours, rightly. Such a draw is not the bad line the
    fuzz tests mean, so they leave it out. DuckDB's scan, which the reader follows, closes
    it in more ways: it takes spaces before an opening quote, or after a closing one, as
    outside the field (` "a,b" ,` is `a,b`), where Go and Python see a stray quote. A good
    line `,", ",G2,…` closed a drawn quote so (CI, twenty-ninth session)."""
    return _python_reads_a_record_over_lines(text) or _duckdb_reads_a_record_over_lines(text)


def _python_reads_a_record_over_lines(text: str) -> bool:
    try:
        record = next(csv.reader(io.StringIO(text), strict=True))
    except (csv.Error, StopIteration):
        return False
    return len(record) == len(DOJ_COLUMNS) and "\n" in "".join(record)


def _duckdb_reads_a_record_over_lines(text: str) -> bool:
    """Whether DuckDB's strict scan, as the reader runs it, reads the first line of `text` as
    the start of a record of 95 fields that runs over lines."""
    import duckdb

    from clearslate.sources.ca_doj import _scan_options

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "text.csv"
        path.write_text(text, encoding="utf-8")
        options = _scan_options(path, False, 16 << 20)  # (the reader's longest record)
        con = duckdb.connect()
        try:
            first = con.execute(
                f"SELECT * FROM read_csv(?, {options}, store_rejects = true) LIMIT 1",
                [str(path)],
            ).fetchall()
            rejected = con.execute("SELECT count(*) FROM reject_errors WHERE line = 1")
            line_one_rejected = rejected.fetchall()[0][0] > 0
        except duckdb.Error:
            return False
        finally:
            con.close()
    return bool(first) and not line_one_rejected and "\n" in "".join(v or "" for v in first[0])
