"""Read California DOJ research files into one DuckDB table of canonical raw rows.

The reader is DuckDB's parallel CSV scanner in strict mode, with every rejected record kept
(`store_rejects`), so a bad record never stops the good ones. What DuckDB does not do is put
right here:

* **Physical line numbers.** DuckDB numbers records, not lines; a quoted field may hold a
  newline. Rejected records get their line from their byte offset; good records from their
  record number, corrected for newlines inside earlier records when the file has any.
* **An unterminated quote** makes DuckDB read the rest of the file as one field. We reject
  only the line the quote starts on and read on from the next line (a new *segment*).
* **Encoding.** A file that is not valid UTF-8 is read again as Latin-1 (DOJ extracts of
  older systems are Latin-1); nothing is dropped for its bytes.
* **Several files are one record.** All files land in one table, so one person whose rows
  are spread over several files is one person (gogen evaluated each file on its own).

The output table `doj_rows` has `row_id` (global input order), `file_index`, `source_file`,
`source_line` and the 95 DOJ columns as raw text, exactly as in the file.
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clearslate.sources.ca_doj_layout import DOJ_COLUMNS, HEADER_MARKER

BOM = b"\xef\xbb\xbf"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # a 1 MB field must read; a runaway record must not


class InputError(Exception):
    """A run-level input problem (missing file, directory, empty file): the run stops."""


@dataclass(frozen=True)
class Reject:
    """One record that could not be read. It carries no field values (they are personal data)."""

    source_file: str
    line: int  # physical line (1-based) where the record starts
    column: int | None  # 1-based field number where DuckDB found the problem, if known
    reason: str


@dataclass
class InputFile:
    """What was read from one input file, for the manifest and the row accounting."""

    path: str
    size: int
    sha256: str = ""
    encoding: str = "utf-8"
    has_header: bool = False
    data_records: int = 0  # records after the header: accepted + rejected
    accepted: int = 0
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class ReadResult:
    files: list[InputFile]

    @property
    def rows_read(self) -> int:
        return sum(f.data_records for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def rejects(self) -> list[Reject]:
        return [r for f in self.files for r in f.rejects]


_REASONS = {
    "MISSING COLUMNS": "too few fields: a DOJ record has 95",
    "TOO MANY COLUMNS": "too many fields: a DOJ record has 95",
    "UNQUOTED VALUE": "a double quote inside an unquoted field, or a quote that is never closed",
    "LINE SIZE OVER MAXIMUM": "record longer than 64 MB",
    "INVALID ENCODING": "bytes that are not valid text",
}


def check_input_path(path: Path) -> None:
    """Refuse inputs that cannot be a research file, with a message a person can act on."""
    if not path.exists():
        raise InputError(f"{path}: no such file. Check the path given to --input-doj.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file. Give the research file itself.")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: cannot be read (permission denied).")
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: the file is empty (0 bytes). It is not a DOJ research file; "
            "check that the transfer completed."
        )


def _file_facts(path: Path, info: InputFile) -> None:
    """SHA-256 and a newline count in one pass (run in a thread beside DuckDB's scan)."""
    digest = hashlib.sha256()
    newlines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
    info.sha256 = digest.hexdigest()
    info._newlines = newlines  # type: ignore[attr-defined]


def _has_header(path: Path) -> tuple[bool, bool]:
    """(has a header line, starts with a UTF-8 byte-order mark)."""
    with path.open("rb") as fh:
        head = fh.read(64)
    bom = head.startswith(BOM)
    if bom:
        head = head[len(BOM) :]
    return head.lstrip(b'"').upper().startswith(HEADER_MARKER.encode()), bom


def _newline_option(path: Path) -> str:
    """`new_line` for DuckDB, from the file's first line end. LF is set explicitly (DuckDB
    may otherwise guess CR from a quoted CR early in the file); CRLF is left to DuckDB's
    detection, because in strict mode an explicit CRLF makes DuckDB 2.0 read no rows."""
    with path.open("rb") as fh:
        head = fh.read(1024 * 1024)
    lf = head.find(b"\n")
    if lf >= 0 and head[lf - 1 : lf] != b"\r":
        return ", new_line = '\\n'"
    return ""


def _columns_sql() -> str:
    return "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in DOJ_COLUMNS) + "}"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Segment:
    """A part of one file that is scanned by one DuckDB call: the whole file, or what
    follows a line with an unterminated quote."""

    def __init__(self, path: Path, first_line: int, skip_header: bool) -> None:
        self.path = path
        self.first_line = first_line
        self.skip_header = skip_header


def _line_of_offset(path: Path, offsets: list[int]) -> dict[int, int]:
    """Physical line number (1-based) of each byte offset, in one pass over the file."""
    result: dict[int, int] = {}
    wanted = sorted(set(offsets))
    line, pos, i = 1, 0, 0
    with path.open("rb") as fh:
        while i < len(wanted):
            chunk = fh.read(8 * 1024 * 1024)
            if not chunk:
                break
            while i < len(wanted) and wanted[i] < pos + len(chunk):
                result[wanted[i]] = line + chunk.count(b"\n", 0, wanted[i] - pos)
                i += 1
            line += chunk.count(b"\n")
            pos += len(chunk)
    for off in wanted[i:]:
        result[off] = line
    return result


def read_doj_files(
    con: duckdb.DuckDBPyConnection, paths: list[Path], table: str = "doj_rows"
) -> ReadResult:
    """Read every file into `table`; return what was read and rejected per file."""
    for p in paths:
        check_input_path(p)
    cols = ", ".join(f'"{c}"' for c in DOJ_COLUMNS)
    con.execute(
        f"CREATE OR REPLACE TABLE {table} (row_id BIGINT, file_index INTEGER, "
        f"source_file VARCHAR, source_line BIGINT, "
        + ", ".join(f'"{c}" VARCHAR' for c in DOJ_COLUMNS)
        + ")"
    )
    files: list[InputFile] = []
    next_row_id = 0
    for file_index, path in enumerate(paths):
        info = InputFile(path=str(path), size=path.stat().st_size)
        facts = threading.Thread(target=_file_facts, args=(path, info))
        facts.start()
        header, _bom = _has_header(path)
        info.has_header = header
        facts.join()
        first_row_id = next_row_id
        try:
            next_row_id = _read_one_file(con, table, cols, file_index, path, info, next_row_id)
        except duckdb.Error:
            # DuckDB's scanner gave up on this file (it can, on pathological bytes): read it
            # again, slowly but whole, with the line-by-line reader.
            con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
            info.rejects, info.data_records, info.accepted = [], 0, 0
            next_row_id = _read_line_by_line(con, table, file_index, path, info, first_row_id)
            files.append(info)
            continue
        if any(r.reason == _REASONS["INVALID ENCODING"] for r in info.rejects):
            # Not UTF-8: read the whole file again as Latin-1, where every byte is a letter.
            con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
            info.encoding, info.rejects = "latin-1", []
            info.data_records = info.accepted = 0
            next_row_id = _read_one_file(con, table, cols, file_index, path, info, first_row_id)
        files.append(info)
    return ReadResult(files=files)


def _read_one_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cols: str,
    file_index: int,
    path: Path,
    info: InputFile,
    next_row_id: int,
) -> int:
    segment: _Segment | None = _Segment(path, 1, info.has_header)
    tmpdir = tempfile.mkdtemp(prefix="clearslate-seg-")
    try:
        while segment is not None:
            next_row_id, segment = _read_segment(
                con, table, cols, file_index, path, info, segment, next_row_id, tmpdir
            )
    finally:
        for name in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)
    info.rejects.sort(key=lambda r: r.line)
    return next_row_id


def _read_segment(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cols: str,
    file_index: int,
    path: Path,
    info: InputFile,
    seg: _Segment,
    next_row_id: int,
    tmpdir: str,
) -> tuple[int, _Segment | None]:
    con.execute("DROP TABLE IF EXISTS _seg; DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _scan")
    header = 1 if seg.skip_header else 0
    con.execute(
        f"""CREATE TEMP TABLE _seg AS SELECT * FROM read_csv({_sql_str(str(seg.path))},
            columns = {_columns_sql()}, header = {"true" if header else "false"},
            auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true,
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_scan',
            max_line_size = {MAX_RECORD_BYTES}, encoding = {_sql_str(info.encoding)},
            null_padding = false, allow_quoted_nulls = false,
            nullstr = '\x00'{_newline_option(seg.path)})"""
    )
    # One row per rejected record (DuckDB may report several errors for one record).
    rej = con.execute(
        """SELECT line, min(line_byte_position), min(byte_position), min(column_idx),
                  arg_min(error_type, byte_position), arg_min(csv_line, byte_position)
           FROM _rej GROUP BY line ORDER BY line"""
    ).fetchall()
    good: int = con.execute("SELECT count(*) FROM _seg").fetchone()[0]
    # Record index (0-based, after the header) of each reject, from DuckDB's record number.
    rej_records = [(int(r[0]) - 1 - header, r) for r in rej]
    # A rejected record spanning several lines, of which a later one is a whole record by
    # itself, is a quote opened and never closed (or closed lines later) that ate good
    # records. Reject its first line only, drop what was read after it, read on from the
    # next line.
    swallow = next(
        (
            (i, e, r)
            for i, (e, r) in enumerate(rej_records)
            if r[5] is not None and _ate_records(r[5])
        ),
        None,
    )
    if swallow is not None:
        index, e_s, _ = swallow
        rej_records = rej_records[: index + 1]
        con.execute(f"DELETE FROM _seg WHERE rowid >= {e_s - index}")
        good = e_s - index
    offsets = [int(r[1]) for _, r in rej_records]
    seg_lines = _line_of_offset(seg.path, offsets) if offsets else {}
    for _e, r in rej_records:
        etype = r[4]
        reason = _REASONS.get(etype, etype.lower())
        if swallow is not None and r is swallow[2]:
            reason = (
                "a quote is opened and never closed; this line was skipped and reading "
                "went on at the next line"
            )
        info.rejects.append(
            Reject(
                source_file=str(path),
                line=seg.first_line - 1 + seg_lines[int(r[1])],
                column=int(r[3]) if r[3] is not None else None,
                reason=reason,
            )
        )
    records_in_seg = good + len(rej_records)
    info.data_records += records_in_seg
    info.accepted += good

    # Good row k (insertion order) is data record d = k + (rejects before it).
    con.execute("DROP TABLE IF EXISTS _rejidx")
    con.execute("CREATE TEMP TABLE _rejidx (g BIGINT, j BIGINT, nl BIGINT)")
    cum_nl = 0
    rows = []
    for i, (e, r) in enumerate(rej_records, start=1):
        text = r[5] or ""
        if swallow is None or r is not swallow[2]:
            cum_nl += text.rstrip("\n").count("\n")
        rows.append((e - (i - 1), i, cum_nl))
    if rows:
        con.executemany("INSERT INTO _rejidx VALUES (?, ?, ?)", rows)
    # Newlines inside quoted fields shift physical lines. Only when the file has any (the
    # file's newline count says so) is the per-record count worth its cost.
    embedded = getattr(info, "_newlines", 0) > records_in_seg + header + 1 or swallow is not None
    nl_expr = "0"
    if embedded:
        concat = " || ".join(f"coalesce(\"{c}\", '')" for c in DOJ_COLUMNS)
        nl_expr = (
            f"sum(length({concat}) - length(replace({concat}, chr(10), ''))) "
            "OVER (ORDER BY s.rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
        )
    # row_id carries the order, so rows go in as they come (no sort); rows after a reject
    # move down by the rejects before them (an ASOF join on the few rejects).
    join = (
        "ASOF LEFT JOIN _rejidx r ON s.rowid >= r.g"
        if rows
        else ", (SELECT NULL AS j, NULL AS nl) r"
    )
    con.execute(
        f"""INSERT INTO {table}
            SELECT {next_row_id} + s.rowid, {file_index}, {_sql_str(str(path))},
                   {seg.first_line - 1 + header + 1} + s.rowid + coalesce(r.j, 0)
                     + coalesce(r.nl, 0) + coalesce({nl_expr}, 0),
                   {cols}
            FROM _seg s {join}"""
    )
    next_row_id += good
    if swallow is None:
        return next_row_id, None
    # Read on from the line after the one with the open quote.
    bad_line_start = int(swallow[2][1])
    with seg.path.open("rb") as fh:
        fh.seek(bad_line_start)
        fh.readline()
        rest_start = fh.tell()
        remainder = Path(tmpdir) / f"rest-{rest_start}-{seg.first_line}.csv"
        with remainder.open("wb") as out:
            while chunk := fh.read(8 * 1024 * 1024):
                out.write(chunk)
    bad_line = seg.first_line - 1 + seg_lines[bad_line_start]
    if remainder.stat().st_size == 0:
        return next_row_id, None
    return next_row_id, _Segment(remainder, bad_line + 1, skip_header=False)


def _ate_records(text: str) -> bool:
    lines = text.rstrip("\r\n").splitlines()[1:]
    return any(len(_split_record(line) or ()) == len(DOJ_COLUMNS) for line in lines)


def _split_record(record: str) -> list[str] | None:
    try:
        return next(csv.reader([record.rstrip("\r\n")], strict=True), [])
    except csv.Error:
        return None


def _read_line_by_line(
    con: duckdb.DuckDBPyConnection,
    table: str,
    file_index: int,
    path: Path,
    info: InputFile,
    next_row_id: int,
) -> int:
    """The slow, sure reader for files DuckDB's scanner refuses: a record is one line, or
    several when a quoted field holds a line end; a record that never closes its quote is
    rejected for its first line only, and reading goes on at the next line."""
    raw = path.read_bytes()
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        info.encoding = "latin-1"
    lines = text.splitlines(keepends=True)
    good: list[list[object]] = []
    i = 1 if info.has_header else 0
    while i < len(lines):
        start, record = i, lines[i]
        while record.count('"') % 2 and i + 1 < len(lines) and i - start < 100:
            i += 1
            record += lines[i]
        i += 1
        if not record.strip("\r\n"):
            continue  # a blank line is no record
        fields = _split_record(record) if record.count('"') % 2 == 0 else None
        info.data_records += 1
        if fields is not None and len(fields) == len(DOJ_COLUMNS):
            good.append([next_row_id + len(good), file_index, str(path), start + 1, *fields])
            continue
        if fields is None and i - start > 1:
            i = start + 1  # never closed: give back the lines it swallowed
        reason = (
            _REASONS["UNQUOTED VALUE"]
            if fields is None
            else _REASONS[
                "MISSING COLUMNS" if len(fields) < len(DOJ_COLUMNS) else "TOO MANY COLUMNS"
            ]
        )
        info.rejects.append(Reject(str(path), start + 1, None, reason))
    if good:
        marks = ", ".join("?" * (len(DOJ_COLUMNS) + 4))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", good)
    info.accepted = len(good)
    return next_row_id + len(good)
