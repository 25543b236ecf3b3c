"""Read California DOJ research files into one DuckDB table of canonical raw rows.

The reader is DuckDB's parallel CSV scanner in strict mode, with every rejected record kept
(`store_rejects`), so a bad record never stops the good ones. What DuckDB does not do is put
right here:

* **Physical line numbers.** DuckDB numbers records, not lines; a quoted field may hold a
  newline, and DuckDB skips blank lines. Rejected records get their line from their byte
  offset; good records from their record number, corrected for newlines inside earlier
  records and for blank lines when the file has any.
* **An unterminated quote** makes DuckDB read the rest of the file (or up to the next
  quote) as one field. We reject only the line the quote starts on and read on from the
  next line (a new *segment*), so the records it swallowed are read: up to the next such
  line the first read found, so that each part of the file is read once more at most.
* **Encoding.** A file that is not valid UTF-8 is read again as Latin-1 (DOJ extracts of
  older systems are Latin-1), and a UTF-16 file (with a byte-order mark or without) as
  UTF-16, each from a UTF-8 copy; nothing is dropped for its bytes.
* **Several files are one record.** All files land in one table, so one person whose rows
  are spread over several files is one person (gogen evaluated each file on its own).

The output table `doj_rows` has `row_id` (global input order), `file_index`, `source_file`,
`source_line` and the 95 DOJ columns as raw text, exactly as in the file.
"""

from __future__ import annotations

import bisect
import codecs
import collections
import csv
import io
import itertools
import mmap
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import duckdb

from clearslate.database import insert_rows, memory_limit_bytes
from clearslate.database import sql_string as _sql_str
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS, HEADER_MARKER
from clearslate.sources.line_ends import newlines_in
from clearslate.sources.text_encoding import HEAD_BYTES, decodes, utf16_codec

BOM = b"\xef\xbb\xbf"
_MIB = 1024 * 1024
MAX_RECORD_BYTES = 16 * _MIB  # a 1 MB field must read; a runaway record must not
MIN_RECORD_BYTES = 2 * _MIB  # DuckDB's own default


def record_limit(con: duckdb.DuckDBPyConnection) -> int:
    """The longest record a read of a research file takes: 16 MB, or under a small
    --memory-limit a fourteenth of it (whole MB, at least 2 MB).

    DuckDB reads through buffers (`buffer_size`, more than `max_line_size`) that count
    against its memory limit and cannot spill, two or three of them at once per scan, and the
    check of the gogen bundle's lines scans beside the run's other work. Its default buffer
    is 16 x max_line_size, capped at the file's size: at a 64 MB record a 10M-row file took
    16 GB whatever --memory-limit said. Two records' worth is enough. But 128 MB buffers
    still failed a 1M-row run at --memory-limit 300MB, and at 150MB the scan's out-of-memory
    error sent it to the line-by-line reader, which held 8 GB (both fixed in the ninth
    session). Nor is a larger one faster: the end of a scan keeps one core busy for about a
    buffer's worth, and with 128 MB buffers (64 MB records, until the twenty-second
    session) the 1M-row file's scan took 2.86-3.01 s, with 32 MB ones 2.62-2.69 s. A
    research file's record is under a kilobyte."""
    limit = memory_limit_bytes(con) // 14 // _MIB * _MIB
    return max(MIN_RECORD_BYTES, min(MAX_RECORD_BYTES, limit))


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
    sha256: str = ""  # set by the caller that needs it (the run's manifest)
    encoding: str = "utf-8"
    has_header: bool = False
    data_records: int = 0  # records after the header: accepted + rejected
    accepted: int = 0
    rejects: list[Reject] = field(default_factory=list)
    # Read lean (`read_doj_files(deferred=)`): its records are its lines, one for one, in
    # order (a rejected record too is one line), and its deferred columns were left NULL
    # (`record_lines_sql`); and its blank lines, which are no record.
    lean: bool = False
    blank_lines: list[int] = field(default_factory=list)
    max_record: int = MAX_RECORD_BYTES  # the longest record its reads take (`record_limit`)
    # Which reader read it: DuckDB's scan, or the slow, sure line-by-line reader (a file
    # DuckDB's scan refuses or would choke on), for the manifest: it explains a slow run.
    reader: str = "duckdb"


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


@dataclass(frozen=True)
class RowStore:
    """Where a large read keeps its row table: an attached DuckDB database file (`catalog`,
    on the connection's search path), whose tables DuckDB compresses as it writes them,
    instead of an in-memory table that spills to disk uncompressed. At 10M rows the facts of
    a decisions-only run take 236 MB there against 2.8 GB in memory, and deciding, which
    reads them six times, took 13.3 s against 25.9 s at a 1GB limit. `as_is` names columns
    stored uncompressed."""

    catalog: str
    as_is: frozenset[str] = frozenset()


_REASONS = {
    "MISSING COLUMNS": "too few fields: a DOJ record has 95",
    "TOO MANY COLUMNS": "too many fields: a DOJ record has 95",
    "UNQUOTED VALUE": "a double quote inside an unquoted field, or a quote that is never closed",
    "INVALID ENCODING": "bytes that are not valid text",
}
# (the line-by-line reader's own, and `_read_segment`'s for a line DuckDB cut in two)
_LONE_CR = "a carriage return (CR) inside an unquoted field: quote the field or remove the CR"


TOO_LONG = "LINE SIZE OVER MAXIMUM"  # DuckDB's error type


class _ReadPlace(NamedTuple):
    before: int  # the bytes of the files read
    size: int  # the current file's
    at: int  # how far into the current file it is known read
    span: tuple[int, int]  # the bytes of the current file that the scan under way reads
    looked: int = 0  # how far into the current file the look for long lines is


# The look for lines of thousands of fields (`runaway_lines`) reads each file before its
# scan does: 0.7 s of a 10M-row file's 27 s of reading from the page cache, 6 s of 32 s
# from the disk (where the scan then finds the file in the cache). It counts for this share
# of a file's reading, so a bar moves during a look from the disk too.
_LOOK_SHARE = 0.1


class _ReadProgress:
    """How far `read_doj_files` has come through its inputs, in bytes, for a progress bar
    polled from another thread (`read_percent`). DuckDB's progress of a query is that of
    one scan, and a read makes several: one per file, one per part of a file read in parts,
    none at all for the line-by-line reader; and each file's look for long lines comes
    before them (`_LOOK_SHARE`). Never goes back: a file read a second time
    (its records are not its lines, say) shows no progress until it passes the first, and
    DuckDB's progress of a scan, which goes back to 0 at times (its reject store's turn,
    perhaps), does not move it back. (Where it is is one tuple, replaced whole: a poll
    never sees half of a change.)"""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.total = max(1, sum(sizes))
        self.place = _ReadPlace(0, 0, 0, (0, 0))
        self.shown = 0.0  # the most a poll has shown

    def start_file(self, before: int, size: int) -> None:
        self.place = _ReadPlace(before, size, 0, (0, 0))

    def looking(self, at: int) -> None:
        self.place = self.place._replace(looked=at)

    def scanning(self, start: int, end: int) -> None:
        self.place = self.place._replace(span=(start, end))

    def reached(self, at: int) -> None:
        place = self.place
        self.place = place._replace(at=max(place.at, min(at, place.size)), span=(0, 0))

    def percent(self, scan: float | None) -> float:
        before, size, at, (start, end), looked = self.place
        if end > start:  # (what comes before the scan's bytes is read)
            done = (end - start) * min(scan, 100) // 100 if scan is not None and scan > 0 else 0
            at = max(at, min(size, start + done))
        read = _LOOK_SHARE * looked + (1 - _LOOK_SHARE) * at
        self.shown = max(self.shown, 100 * (before + read) / self.total)
        return self.shown


# The read under way on each connection (by id: a connection takes no attribute).
_READING: dict[int, _ReadProgress] = {}


def read_percent(con: duckdb.DuckDBPyConnection) -> float | None:
    """How far `read_doj_files` on `con` has come through its inputs' bytes, in percent;
    None when it is not reading. (For a progress bar polled from another thread.)"""
    reading = _READING.get(id(con))
    return None if reading is None else reading.percent(con.query_progress())


def too_long_reason(max_record: int) -> str:
    """The reason given for a record longer than a read takes (`record_limit`)."""
    reason = f"record longer than {max_record // _MIB} MB"
    if max_record < MAX_RECORD_BYTES:
        reason += (
            " (the longest a run at this --memory-limit reads; "
            f"at 1GB, {MAX_RECORD_BYTES // _MIB} MB)"
        )
    return reason


_REPEATED_HEADER = "a header line inside the file (files joined together?): skipped"
_SWALLOWED = (
    "a quote is opened and never closed; this line was skipped and reading went on at the next line"
)


def check_input_path(
    path: Path, what: str = "research file", flag: str | None = "--input-doj"
) -> None:
    """Refuse inputs that cannot be a research file (or, with `what`, another input: an
    Illinois export), with a message a person can act on."""
    if not path.exists():
        given = f" given to {flag}" if flag else ""
        raise InputError(f"{path}: no such file. Check the path{given}.")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file. Give the {what} itself.")
    if not path.is_file():  # a pipe, device or socket: reading it could hang the run
        raise InputError(
            f"{path}: is not a regular file (a pipe, device or socket). Copy the {what} to a "
            "file and give that."
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: cannot be read (permission denied).")
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: the file is empty (0 bytes). It is no {what}; check that the transfer "
            "completed."
        )


def check_input_paths(paths: Sequence[Path]) -> None:
    """Each path as `check_input_path` wants it, and none given twice."""
    for i, p in enumerate(paths):
        check_input_path(p)
        for earlier in paths[:i]:
            if os.path.samefile(p, earlier):
                raise InputError(f"{p}: given twice (also as {earlier}). Give each file once.")


class _FileFacts:
    """The number of lines of a file, and whether the whole file is UTF-8, counted on a thread
    of its own. The file's SHA-256 is the run's to take, at the lowest priority (run.py).

    Begun with the look for long lines (`_read_input`), and shared by every way the file is
    then read: where the file comes from the disk, the count reads the pages the look has
    just read. Begun with the scan, as it was, it read a file larger than the page cache
    from the disk once more; from the page cache it runs beside the scan, as before. It
    ends early once `halt` is set: a stopped read does not wait for an 8 GB count.

    DuckDB checks the encoding of the columns a projected scan reads only: a Latin-1 letter
    in any other (an alias's name) went unseen until the gogen bundle read whole lines, and
    the run ended in "unexpected error". Only chunks that are not plain ASCII are decoded."""

    def __init__(self, path: Path) -> None:
        self.halt = threading.Event()
        self._counted: tuple[int, int, bool] | None = None  # line ends, lines, UTF-8
        self._thread = threading.Thread(target=self._count, args=(path,), daemon=True)
        self._thread.start()

    def give(self, info: InputFile) -> None:
        """Wait for the count and give it to `info` (nothing, if it was halted)."""
        self._thread.join()
        if self._counted is not None:
            info._newlines, info._lines, info._utf8 = self._counted  # type: ignore[attr-defined]

    def stop(self) -> None:
        """The read stops (Ctrl-C, SIGTERM, an error): no count is needed; wait for the
        thread to end, at its next chunk."""
        self.halt.set()
        self._thread.join()

    def _count(self, path: Path) -> None:
        newlines = 0
        last = b"\n"
        utf8 = codecs.getincrementaldecoder("utf-8")()
        valid = True
        with path.open("rb") as fh:
            while chunk := fh.read(8 * 1024 * 1024):
                if self.halt.is_set():
                    return
                newlines += newlines_in(chunk)
                last = chunk[-1:]
                # (a character may straddle two chunks: the decoder keeps its first bytes)
                if valid and (not chunk.isascii() or utf8.getstate()[0]):
                    try:
                        utf8.decode(chunk)
                    except UnicodeDecodeError:
                        valid = False
        if valid:
            try:
                utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
        self._counted = (newlines, newlines + (last != b"\n"), valid)


def _file_has_blank_line(info: InputFile, seg: _Segment, records: int, header: int) -> bool:
    """Whether the file has a blank line, looked for only when it may: a file, or a part of
    it, of no more lines than records (header included) has none, each record taking a line
    at least. (The look took 1.8 s of CPU at 1M rows, beside a scan that needs both CPUs.)"""
    known: bool | None = getattr(info, "_any_blank_line", None)
    if known is None:
        if seg.lines is not None:  # a part: the others may have one
            if seg.lines <= records + header:
                return False
        else:  # the file (or its UTF-8 copy)
            _join_facts(info)
            if getattr(info, "_lines", records + header + 1) <= records + header:
                info._any_blank_line = False  # type: ignore[attr-defined]
                return False
        known = info._any_blank_line = _has_blank_line(seg.base)  # type: ignore[attr-defined]
    return known


def _has_blank_line(path: Path) -> bool:
    """Whether some line is empty. DuckDB skips blank lines without counting them, so the
    physical line of every later record needs correcting (`_line_layout`)."""
    tail = b"\n"  # the file's start counts as a line start
    with path.open("rb") as fh:
        if fh.read(len(BOM)) != BOM:
            fh.seek(0)
        while chunk := fh.read(8 * 1024 * 1024):
            probe = tail + chunk
            if b"\n\n" in probe or b"\n\r\n" in probe:
                return True
            tail = probe[-2:]
    return False


class _LineLayout(NamedTuple):
    """What a file's lines are, by quote parity (a record ends at the first line end after
    an even number of quotes): the physical lines (1-based) that are blank and outside any
    quoted field; those of them that hold a CR alone before their LF, which DuckDB numbers
    as two lines in a file of LF line ends; and (record number from 0 after the header, its
    first physical line, the line ends inside it) of each record that spans lines, right
    for a file DuckDB read without a reject."""

    blanks: list[int]
    lone_crs: list[int]
    spans: list[tuple[int, int, int]]


def _line_layout(path: Path, header: bool, rejected: dict[int, int] | None = None) -> _LineLayout:
    """`_LineLayout` of the file, in one plain loop over its lines. Only called when the
    file has a blank line (`_has_blank_line`) or a quoted line end. `rejected` gives the
    first line of each record DuckDB rejected and how many lines it took: their quotes do
    not count (after a line with a stray quote, DuckDB reads on at the next line, and the
    blank lines after it went unseen, the later records put on a line too early)."""
    layout = _LineLayout([], [], [])
    record, start, inside, skip = 0, 0, False, 0
    lf_file = bool(_newline_option(path))
    rejected = rejected or {}
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1:
                if header:  # (the DOJ column names: no quote, not blank)
                    continue
                line = line.removeprefix(BOM)
            if number in rejected:
                skip, inside = rejected[number], False
            if skip:
                skip -= 1
                continue
            if not inside:
                if not line.strip(b"\r\n"):
                    layout.blanks.append(number)
                    if lf_file and line == b"\r\n":
                        layout.lone_crs.append(number)
                    continue
                start = number
            if line.count(b'"') % 2:
                inside = not inside
            if not inside:
                if number > start:
                    layout.spans.append((record, start, number - start))
                record += 1
    return layout


def _has_header(path: Path) -> tuple[bool, bool]:
    """(has a header line, starts with a UTF-8 byte-order mark)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if codec := utf16_codec(head):
        head = head.decode(codec, errors="replace").encode()
    bom = head.startswith(BOM)
    if bom:
        head = head[len(BOM) :]
    return head.lstrip(b'"').upper().startswith(HEADER_MARKER.encode()), bom


def _declared_encoding(path: Path) -> str:
    """The encoding to read: UTF-16 for a file in UTF-16 (`utf16_codec`: Excel's "Unicode text"
    export; read as UTF-8 or Latin-1 every other byte is a NUL and its records came through
    as garbage), else UTF-8 (Latin-1 is found when UTF-8 fails)."""
    with path.open("rb") as fh:
        return utf16_codec(fh.read(HEAD_BYTES)) or "utf-8"


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


class _Cut(NamedTuple):
    """A line that a segment ends at: one that opens a quote it never closes, found by a
    read of an earlier segment, or one of thousands of fields, read around
    (`_runaway_cuts`). Either is rejected unread when a read reaches it outside any quote."""

    offset: int  # its first byte in the segment's `base`
    line: int  # its physical line in the file
    column: int | None
    reason: str = ""  # why a line read around is rejected (a quote never closed: none)


@dataclass(frozen=True)
class _Segment:
    """A part of one file that is scanned by one DuckDB call: the whole file, or the lines
    after one with an unterminated quote, up to the next such line an earlier read found
    (`cuts`). Each part is read once, so a file with many such lines is still read in
    linear time: read on to the file's end after each, a 200,000-row file with 160 of
    them took 277 s against 2.8 s for the clean file."""

    path: Path  # what DuckDB scans: `base` itself, or a copy of a part of it
    first_line: int  # the physical line of the file on which `path` starts
    skip_header: bool
    base: Path  # the file, or its UTF-8 copy
    start: int = 0  # the byte of `base` at which `path` starts
    cuts: tuple[_Cut, ...] = ()  # lines after `path`, the first one ends it
    newlines: int | None = None  # line ends in `path`, for a part (else the file's)
    lines: int | None = None  # lines in `path`, for a part (the last perhaps without an end)


def _part(
    base: Path,
    start: int,
    first_line: int,
    cuts: tuple[_Cut, ...],
    tmpdir: str,
    skip_header: bool = False,
) -> _Segment | None:
    """`base` from byte `start` up to the first of `cuts` (or its end), copied to a file of
    its own, or None where there is nothing between."""
    end = cuts[0].offset if cuts else base.stat().st_size
    if end <= start:
        return None
    out = Path(tmpdir) / f"part-{start}-{end}.csv"
    newlines, left, last = 0, end - start, b""
    with base.open("rb") as src, out.open("wb") as dst:
        src.seek(start)
        while left and (chunk := src.read(min(left, 8 * _MIB))):
            newlines += newlines_in(chunk)
            left, last = left - len(chunk), chunk[-1:]
            dst.write(chunk)
    lines = newlines + (last != b"\n")
    return _Segment(out, first_line, skip_header, base, start, cuts, newlines, lines)


def _after_line(path: Path, at: int) -> int:
    """The byte of `path` after the line that starts at byte `at`."""
    with path.open("rb") as fh:
        fh.seek(at)
        fh.readline()
        return fh.tell()


def _read_on(
    path: Path,
    info: InputFile,
    base: Path,
    start: int,
    first_line: int,
    cuts: tuple[_Cut, ...],
    tmpdir: str,
    skip_header: bool = False,
) -> _Segment | None:
    """The part of `base` from byte `start` (physical line `first_line`) up to the first of
    `cuts`. Where that is empty, the read before it ended outside any quote
    (`_ends_cleanly`) at that cut's line: a read of the rest of the file would be at a
    record's start there too and read it as the earlier read did, so the line is rejected
    unread (`_SWALLOWED`), and the part after it is next."""
    while (part := _part(base, start, first_line, cuts, tmpdir, skip_header)) is None and cuts:
        cut, cuts = cuts[0], cuts[1:]
        info.rejects.append(Reject(str(path), cut.line, cut.column, cut.reason or _SWALLOWED))
        info.data_records += 1
        start, first_line, skip_header = _after_line(base, cut.offset), cut.line + 1, False
    return part


def _next_part(path: Path, info: InputFile, seg: _Segment, tmpdir: str) -> _Segment | None:
    """What to read after `seg`, read to its end outside any quote: from its first cut on."""
    if not seg.cuts:
        return None
    cut = seg.cuts[0]
    return _read_on(path, info, seg.base, cut.offset, cut.line, seg.cuts, tmpdir)


def _ends_cleanly(seg: _Segment, rej: list[tuple]) -> bool:
    """Whether the read of `seg` ended at its last line end outside any quote, as a read of
    the rest of the file reaches that point: its last record was read whole, or rejected on
    a line of its own with its quotes closed. Otherwise its end cuts a record in two."""
    if not rej:
        return True
    last = max(rej, key=lambda r: int(r[1]))
    text = (last[5] or "").strip("\r\n")
    if not text:
        return False  # (DuckDB gave no text: its extent is unknown)
    with seg.path.open("rb") as fh:
        fh.seek(int(last[1]) + len(text.encode("utf-8")))
        after = fh.read(64 * 1024)
    if after.strip(b"\r\n"):
        return True  # a record read whole follows the last reject
    return "\n" not in text and "\r" not in text and text.count('"') % 2 == 0


def _line_of_offset(path: Path, offsets: list[int]) -> dict[int, int]:
    """Physical line number (1-based) of each byte offset, in one pass over the file. (Each
    offset's line is counted on from the one before it: counted from its block's start, a
    file of 100,000 rejects took 160 s here.)"""
    result: dict[int, int] = {}
    wanted = sorted(set(offsets))
    line, pos, i = 1, 0, 0
    with path.open("rb") as fh:
        while i < len(wanted):
            chunk = fh.read(8 * 1024 * 1024)
            if not chunk:
                break
            at = 0  # line is the line of chunk[at]
            while i < len(wanted) and wanted[i] < pos + len(chunk):
                line += chunk.count(b"\n", at, wanted[i] - pos)
                at = wanted[i] - pos
                result[wanted[i]] = line
                i += 1
            line += chunk.count(b"\n", at)
            pos += len(chunk)
    for off in wanted[i:]:
        result[off] = line
    return result


_MAYBE_HEADER = "_maybe_header"
_COLUMN_NAMES_SQL = ", ".join(f"'{c}'" for c in DOJ_COLUMNS)
# The same names as one pattern. In the scan, `IN (95 names)` (or list_contains) made DuckDB
# join the rows with the list, and the join lost the input order: beyond one row group
# (122,880 rows) the row table was out of order, and with it row ids, lines and the bundle.
_COLUMN_NAMES_PATTERN = "|".join(re.escape(c) for c in DOJ_COLUMNS)


class Columns:
    """What the row table keeps of each record: by default the 95 DOJ columns as raw text.

    A bulk run keeps less: `select` names SQL expressions over the raw columns, computed
    inside DuckDB's scan, so the 95 columns are never stored (materialising them was most of
    the reading time). Records that hold a line end inside a quoted field need every raw
    column to find their physical line; such a file is read raw first and projected after
    (`_NeedsRawColumns`), so the result is the same either way."""

    def __init__(
        self,
        select: Sequence[tuple[str, str]] | None = None,
        lean: bool = False,
        store: RowStore | None = None,
    ) -> None:
        self.raw = select is None
        self.lean = lean  # only for a file whose records are its lines (see read_doj_files)
        self.store = store  # where the scanned rows are kept (in memory if None)
        pairs = [(c, f'"{c}"') for c in DOJ_COLUMNS] if select is None else list(select)
        self.names = [name for name, _ in pairs]
        self.names_sql = ", ".join(f'"{n}"' for n in self.names)
        self.select_sql = ", ".join(f'{expr} AS "{name}"' for name, expr in pairs)
        # What DuckDB's scan computes: a projection also marks a record whose first field is
        # a column name, a header perhaps (files joined together), checked on raw columns.
        self.scan_sql = self.select_sql
        if not self.raw:
            first = f'upper(trim("{DOJ_COLUMNS[0]}"))'
            self.scan_sql += (
                f", regexp_full_match({first}, '{_COLUMN_NAMES_PATTERN}') AS {_MAYBE_HEADER}"
            )


class _NeedsRawColumns(Exception):
    """A projected read met a file that needs every raw column (see `Columns`)."""


class _NotLean(Exception):
    """A lean read met a file whose records are not its lines one for one (see
    `read_doj_files`). After a quote never closed, the lines of all such quotes it met
    (`_Segment.cuts`): the next read need not read the whole file again to find them."""

    def __init__(self, cuts: tuple[_Cut, ...] = ()) -> None:
        super().__init__()
        self.cuts = cuts


_RAW_TYPES = ["VARCHAR"] * len(DOJ_COLUMNS)


_ROW_COLUMNS = (
    "NULL::BIGINT AS row_id, NULL::INTEGER AS file_index, NULL::VARCHAR AS source_file, "
    "NULL::BIGINT AS source_line"
)


def _create_row_table(con: duckdb.DuckDBPyConnection, table: str, columns: Columns) -> None:
    """The empty row table, in the columns' store or in memory."""
    store = columns.store
    where = f"{store.catalog}.{table}" if store else table
    definitions = _column_definitions(con, f"{_ROW_COLUMNS}, {columns.select_sql}", store)
    con.execute(f"CREATE OR REPLACE TABLE {where} ({definitions})")


def _column_definitions(
    con: duckdb.DuckDBPyConnection, select_sql: str, store: RowStore | None
) -> str:
    """The columns of a table of `select_sql` over the raw text columns, with the types of
    its expressions; those the store keeps `as_is` uncompressed."""
    raw = ", ".join(f'NULL::VARCHAR AS "{c}"' for c in DOJ_COLUMNS)
    described = con.execute(f"DESCRIBE SELECT {select_sql} FROM (SELECT {raw})").fetchall()
    as_is = store.as_is if store else frozenset()
    return ", ".join(
        f'"{name}" {kind}' + (" USING COMPRESSION uncompressed" if name in as_is else "")
        for name, kind, *_ in described
    )


def read_doj_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    table: str = "doj_rows",
    select: Sequence[tuple[str, str]] | None = None,
    deferred: Sequence[tuple[str, str]] = (),
    store: RowStore | None = None,
) -> ReadResult:
    """Read every file into `table` (in `store`, if given); return what was read and
    rejected per file.

    `table` has `row_id`, `file_index`, `source_file`, `source_line` and the 95 raw columns,
    or, with `select`, the named expressions over them instead (see `Columns`).

    `deferred` names further text expressions that a caller needs only where it cannot read
    a record's text from the file itself: they are left NULL for a file whose records are
    its lines one for one (no reject, blank line or quoted line end, UTF-8: the common case,
    `InputFile.lean`), and computed in the scan for the others, which are read a second time
    for it. (The gogen bundle's quoted line is one: quoting 95 fields as Go does was most of
    a full run's scan, and a research file's lines are mostly already what Go writes.)"""
    check_input_paths(paths)
    sizes = [path.stat().st_size for path in paths]
    reading = _READING[id(con)] = _ReadProgress(sizes)
    files: list[InputFile] = []
    next_row_id = 0
    try:
        whole = Columns(None if select is None else [*select, *deferred], store=store)
        _create_row_table(con, table, whole)
        ways = [whole]
        if deferred and select is not None:
            nulls = [(name, "NULL::VARCHAR") for name, _ in deferred]
            ways.insert(0, Columns([*select, *nulls], lean=True, store=store))
        for file_index, path in enumerate(paths):
            reading.start_file(sum(sizes[:file_index]), sizes[file_index])
            info, next_row_id = _read_input(con, table, ways, whole, file_index, path, next_row_id)
            files.append(info)
    finally:
        _READING.pop(id(con), None)
    return ReadResult(files=files)


def _read_input(
    con: duckdb.DuckDBPyConnection,
    table: str,
    ways: list[Columns],
    whole: Columns,
    file_index: int,
    path: Path,
    next_row_id: int,
) -> tuple[InputFile, int]:
    """One input file, read the first of `ways` that takes it (a lean read, then whole)."""
    cuts: tuple[_Cut, ...] = ()
    reading = _READING.get(id(con))
    facts = _FileFacts(path)  # (once, as the look: a file may be read two or three ways)
    try:
        runaway = runaway_lines(path, reading.looking if reading else lambda _at: None)
        if reading is not None:
            reading.looking(path.stat().st_size)
        around = _runaway_cuts(path, runaway, record_limit(con))
        # (a file read around such lines is read in parts, with a reject: never lean)
        for columns in ways[-1:] if around else ways:
            try:
                return _read_projected(
                    con, table, columns, whole, file_index, path, next_row_id, facts, cuts,
                    around,
                )  # fmt: skip
            except _NotLean as not_lean:
                con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
                cuts = not_lean.cuts
    except BaseException:
        facts.stop()
        raise
    raise AssertionError("unreachable: the last way is never lean")


def _read_projected(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Columns,
    whole: Columns,
    file_index: int,
    path: Path,
    next_row_id: int,
    facts: _FileFacts,
    cuts: tuple[_Cut, ...] = (),
    around: tuple[_Cut, ...] | None = (),
) -> tuple[InputFile, int]:
    size, max_record = path.stat().st_size, record_limit(con)
    info = InputFile(path=str(path), size=size, lean=columns.lean, max_record=max_record)
    try:
        return info, _read_file(
            con, table, columns, file_index, path, info, next_row_id, facts, cuts, around
        )
    except _NeedsRawColumns:
        # Rare: read this file raw into a table of its own, then keep the whole projection.
        con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
        info = InputFile(path=str(path), size=size, max_record=max_record)
        raw = Columns()
        _create_row_table(con, "_doj_raw", raw)
        after = _read_file(
            con, "_doj_raw", raw, file_index, path, info, next_row_id, facts, cuts, around
        )
        con.execute(
            f"""INSERT INTO {table} BY NAME SELECT row_id, file_index, source_file,
                source_line, {whole.select_sql} FROM _doj_raw"""
        )
        con.execute("DROP TABLE _doj_raw")
        return info, after


def record_lines_sql(info: InputFile) -> str:
    """A scan of a lean file's records as text (column `line`): the file's lines after the
    header, as they are, one row per record in the row table's order, with a rejected
    record's line among them."""
    # No quote, and a delimiter that a research file has no use for: a record's line is one
    # field. A line that holds it after all fails the strict read, and the caller falls back.
    return f"""read_csv({_sql_str(info.path)}, columns = {{'line': 'VARCHAR'}},
        delim = '\x01', quote = '', escape = '',
        {_read_options(Path(info.path), info.has_header, info.max_record)})"""


def records_sql(info: InputFile) -> str:
    """A scan of a lean file's records, parsed into the 95 DOJ columns, as the reader read
    them: the rejected ones left out. (With `ignore_errors` alone DuckDB 2.0.0 read on
    differently after a stray quote: 49 records of a file with 99 good ones.)"""
    options = _scan_options(Path(info.path), info.has_header, info.max_record)
    return f"""read_csv({_sql_str(info.path)}, {options},
        store_rejects = true, rejects_table = '_records_rej', rejects_scan = '_records_scan')"""


def _scan_options(path: Path, header: bool, max_record: int) -> str:
    return f"""columns = {_columns_sql()}, delim = ',', quote = '"', escape = '"',
            allow_quoted_nulls = false, {_read_options(path, header, max_record)}"""


def _read_options(path: Path, header: bool, max_record: int) -> str:
    """What every read of a research file sets (strict, bounded, UTF-8, its line ends)."""
    return f"""header = {"true" if header else "false"}, auto_detect = false,
            strict_mode = true, max_line_size = {max_record},
            buffer_size = {2 * max_record}, encoding = 'utf-8', null_padding = false,
            nullstr = '\x00'{_newline_option(path)}"""


def _read_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Columns,
    file_index: int,
    path: Path,
    info: InputFile,
    next_row_id: int,
    facts: _FileFacts,
    cuts: tuple[_Cut, ...] = (),
    around: tuple[_Cut, ...] | None = (),
) -> int:
    """Read one file into `table`; `facts`, its line count under way (joined where first
    needed); `cuts` are the lines of its quotes never closed that an earlier read of it found
    (`_NotLean`); `around`, its lines of thousands of fields to read around
    (`_runaway_cuts`), or None to read it line by line."""
    info._facts = facts  # type: ignore[attr-defined]
    header, _bom = _has_header(path)
    info.has_header = header
    info.encoding = _declared_encoding(path)
    first_row_id = next_row_id
    try:
        if around is None or _mostly_misshapen(path, info):
            # (Not waiting for the line count first: it is not needed, and a projected
            # read stops at once here for the raw one.)
            after = _read_line_by_line(con, table, file_index, path, info, first_row_id, columns)
        else:
            after = _read_one_file(
                con, table, columns, file_index, path, info, next_row_id,
                tuple(sorted((*cuts, *around))),
            )  # fmt: skip
            _join_facts(info)
            if any(r.reason == _REASONS["INVALID ENCODING"] for r in info.rejects) or (
                info.encoding == "utf-8" and not getattr(info, "_utf8", True)
            ):
                if around:
                    raise _NoWayAround  # (its cuts are in the file's bytes, not a copy's)
                # Not UTF-8: read the whole file again as Latin-1, where every byte is a
                # letter.
                con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
                info.encoding, info.rejects = "latin-1", []
                info.data_records = info.accepted = 0
                after = _read_one_file(con, table, columns, file_index, path, info, first_row_id)
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the line-by-line reader would hold all of it
    except (duckdb.Error, _NoWayAround):
        # DuckDB's scanner gave up on this file (it can, on pathological bytes), or a
        # line of thousands of fields cannot be read around: read it again, slowly but
        # whole, with the line-by-line reader.
        _join_facts(info)
        con.execute(f"DELETE FROM {table} WHERE file_index = {file_index}")
        info.rejects, info.data_records, info.accepted = [], 0, 0
        after = _read_line_by_line(con, table, file_index, path, info, first_row_id, columns)
    _join_facts(info)
    _reject_header_lines(con, table, columns, file_index, path, info)
    return after


# How many of a file's first records `_mostly_misshapen` looks at, and how many of them at
# least must be misshapen.
_SAMPLE_RECORDS, _MISSHAPEN_AT_LEAST = 200, 20


def _mostly_misshapen(path: Path, info: InputFile) -> bool:
    """Whether most of the file's first records (and 20 at least) have more or fewer fields
    than 95: a file with a delimiter after every line, with a spreadsheet's empty columns,
    or with another delimiter. DuckDB's strict scan reports such a record once for each
    field too many or too few, each report holding the whole line: 20,000 lines of 30
    fields too many took 1.9 GB, 200,000 lines of one field too many 0.9 GB and 5,000
    lines of semicolons 1.5 GB, growing with the file. The line-by-line reader reads such
    a file instead, in bounded memory, and rejects the same records."""
    encoding = info.encoding if info.encoding.startswith("utf-16") else "utf-8"
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    # Lines end at LF, as the readers' do (splitlines() also cuts at \x0c, \x85, ...); the
    # last may be cut short.
    lines = text.split("\n")[1 if info.has_header else 0 : -1]
    sample = [line for line in lines if line.strip("\r")][:_SAMPLE_RECORDS]
    misshapen = sum(_misshapen(line) for line in sample)
    # (A few such records cost DuckDB little, whatever their share of a small file.)
    return misshapen * 2 > len(sample) and misshapen >= _MISSHAPEN_AT_LEAST


# A line of this many commas or more is read around (`runaway_lines`), and lines are looked
# for in windows of this many bytes without a line end.
_RUNAWAY_COMMAS, _RUNAWAY_WINDOW = 2_000, 4 * 1024
# A mapped file is waited for from the disk in blocks of this size (`wait_for_pages`: the
# look's, and the gogen bundle's check of the lines and writer of All_Results).
_WAIT_BLOCK = 8 * _MIB


def runaway_lines(
    path: Path, looking: Callable[[int], None] = lambda _at: None
) -> list[tuple[int, int]]:
    """The lines of the file that hold thousands of fields (their first byte, and the byte
    of their line end or the file's end): records run together on one line (their line
    ends lost), say. DuckDB's strict scan reports such a line once for each field too many,
    each report holding the line (docs/upstream/duckdb-rejects-per-field.md), and only the
    line's end stops it (neither an interrupt nor `max_line_size` does): 500 records on one
    line among 4,500 good ones took 38 s and 1.5 GB, 2,000 of them more than 8 minutes and
    4.8 GB. The reader reads around such lines (`_runaway_cuts`). (Commas inside quotes
    count too: `_runaway_cuts` lets a line of 95 fields or fewer to DuckDB.)

    Only a line that holds a 4 KB window of the file without a line end is counted, as every
    line of 8 KB or more does: 0.1 s for the 784 MB of a 1M-row file, where every window
    has one, 0.7 s for the 8.2 GB of a 10M-row file (from the page cache; from disk, the
    look reads what the scan then finds in the cache, if the page cache holds the file, and
    the file's line count and SHA-256 read beside it: `wait_for_pages`). A shorter line
    costs DuckDB's scan little: 8,000 commas took 0.3 s and 190 MB. `looking` is told how
    far the look is, every 64 MB (for a progress bar)."""
    size, window = path.stat().st_size, _RUNAWAY_WINDOW
    found: list[tuple[int, int]] = []
    if size < window:
        return found
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        # (lines end at LF, or at CR in a file of CR line ends, which DuckDB reads too)
        line_end = b"\r" if _lone_cr(mm) else b"\n"
        at = released = ready = 0
        while at + window <= size:
            if at - released >= 64 * _MIB:
                # (pages looked at count in the process's RSS while mapped: 8 GB for a
                # 10M-row file; they stay in the page cache for the scan)
                mm.madvise(mmap.MADV_DONTNEED, released, at - released)
                released = at
                looking(at)
            if at + window > ready:
                ready = wait_for_pages(fh.fileno(), at, size)
            if mm.find(line_end, at, at + window) >= 0:
                at += window
                continue
            start, end = mm.rfind(line_end, 0, at) + 1, mm.find(line_end, at)
            end = size if end < 0 else end
            commas = 0
            for piece in _pieces(mm, start, end):
                commas += piece.count(b",")
                if commas >= _RUNAWAY_COMMAS:
                    found.append((start, end))
                    break
            at = (end // window + 1) * window
    return found


def wait_for_pages(fd: int, at: int, size: int) -> int:
    """Bring the file's next block (from `at`) into the page cache, and the one after it on
    its way; return where the block ends. For a thread that reads the file mapped (the look
    here, the check of the lines and the writer of the gogen bundle): a page that is not in
    the page cache is read from the disk while the thread holds the interpreter's lock.
    Where the file came from the disk, the threads that read it beside the look (its line
    count, its SHA-256) then waited, fell behind, and read it from the disk once more when
    its pages had left the cache. Waiting here, for the block's last page, lets them go on
    (a read lets go of the lock while it waits)."""
    end = min(size, at + _WAIT_BLOCK)
    if hasattr(os, "posix_fadvise"):  # (not on macOS: the page faults read the block)
        os.posix_fadvise(fd, at, 2 * _WAIT_BLOCK, os.POSIX_FADV_WILLNEED)
        os.pread(fd, 1, end - 1)
    return end


def _pieces(mm: mmap.mmap, start: int, end: int) -> Iterator[bytes]:
    """Bytes `start` to `end` of a mapped file, 8 MB at a time (a line may be gigabytes)."""
    for at in range(start, end, 8 * _MIB):
        yield mm[at : min(end, at + 8 * _MIB)]


def _lone_cr(head: mmap.mmap) -> bool:
    """Whether the file's lines end at CR alone (no LF in its first MB, and a CR)."""
    return head.find(b"\n", 0, _MIB) < 0 and head.find(b"\r", 0, _MIB) >= 0


class _NoWayAround(Exception):
    """A line of thousands of fields turned out to be inside a record (a quote opened
    before it): the file is read line by line instead."""


# Lines of thousands of fields are read around up to 10 of them, or one per 512 KB of the
# file: each part between them is a read of its own (about 15 ms, 35 ms in a full run, whose
# scan makes more), where the line-by-line reader takes about 90 us a row. 50,000 rows
# (41 MB) with 40 such lines: decisions only 1.6 s read around, 4.5 s line by line; the
# full run 3.3 s against 5.0 s. With 100 such lines: 2.5 s against 4.4 s, but the full run
# 5.35 s against 4.6 s. (1M rows with 1,000 such lines, decisions only: 31 s around.)
_AROUND_AT_MOST, _AROUND_BYTES_EACH = 10, 512 * 1024


def _runaway_cuts(
    path: Path, lines: list[tuple[int, int]], max_record: int
) -> tuple[_Cut, ...] | None:
    """The lines of thousands of fields (`runaway_lines`) as cuts that the reader reads
    around: each is rejected unread, as DuckDB's scan would reject it, and the parts
    between are scanned. None where that would not read as DuckDB's scan of the whole file
    does, so that it is read line by line: a line that is not valid CSV (a quote never
    closed, a quote inside a field), the first line, a file that is not UTF-8 or whose
    lines end at CR alone, or too many such lines (`_AROUND_AT_MOST`). A line of 95 fields
    or fewer (commas in quotes) is no cut: DuckDB reads it as any other. (Such a line
    inside a record, after a quote opened before it, is found only by the read:
    `_NoWayAround`.)"""
    if not lines:
        return ()
    most = max(_AROUND_AT_MOST, path.stat().st_size // _AROUND_BYTES_EACH)
    if len(lines) > most or lines[0][0] == 0 or _declared_encoding(path) != "utf-8":
        return None
    cuts = []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if _lone_cr(mm):
            return None  # (before the lines are counted: they are counted at LF)
        numbers = _line_of_offset(path, [start for start, _ in lines])
        for start, end in lines:
            if end - start > max_record:  # (rejected for its length, by DuckDB too)
                if sum(piece.count(b'"') for piece in _pieces(mm, start, end)) % 2:
                    return None
                cuts.append(_Cut(start, numbers[start], None, too_long_reason(max_record)))
                continue
            try:
                fields = _split_record(mm[start:end].decode("utf-8"))
            except UnicodeDecodeError:
                return None
            if fields is None:
                return None
            if len(fields) > len(DOJ_COLUMNS):
                # (the column DuckDB's scan names: the first field too many)
                too_many = _REASONS["TOO MANY COLUMNS"]
                cuts.append(_Cut(start, numbers[start], len(DOJ_COLUMNS) + 1, too_many))
    return tuple(cuts)


def _misshapen(line: str) -> bool:
    """Whether a line is a record of more or fewer fields than 95 that both readers reject
    alike: valid CSV, or one field (no comma; a tab or semicolon file). (The readers differ
    on some lines with a stray quote; those are not counted.)"""
    if "," not in line:
        return True
    record = _strict_record(line + "\n")
    return record is not None and len(record[0]) != len(DOJ_COLUMNS)


def _join_facts(info: InputFile) -> None:
    facts: _FileFacts | None = getattr(info, "_facts", None)
    if facts is not None:
        facts.give(info)


def _reject_header_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Columns,
    file_index: int,
    path: Path,
    info: InputFile,
) -> None:
    """A record whose fields are the column names is a header, not a person: a header in
    another order than DOJ's stops the run (columns are read by position, so every row would
    be read wrongly); a header inside the file (files joined together) is rejected.

    A projected table has no raw columns to look at, and needs none: its scan marked any
    record that may be a header, and such a file was read raw (`_read_segment`)."""
    if info.has_header:
        with path.open(encoding=info.encoding, errors="replace", newline="") as fh:
            first = next(csv.reader([fh.readline(1024 * 1024).lstrip("\ufeff")]), [])
        _check_header_order(path, 1, [f.strip().upper() for f in first])
    if not columns.raw:
        return
    fields = ", ".join(f'upper(trim("{c}"))' for c in DOJ_COLUMNS)
    names = _COLUMN_NAMES_SQL
    found = con.execute(
        f"""SELECT source_line, [{fields}] FROM {table}
            WHERE file_index = ? AND upper(trim("{DOJ_COLUMNS[0]}")) IN ({names})
              AND upper(trim("{DOJ_COLUMNS[-1]}")) IN ({names})
              AND list_has_all([{names}], [{fields}])""",
        [file_index],
    ).fetchall()
    for line, fields in found:
        _check_header_order(path, line, fields)
        info.rejects.append(Reject(str(path), line, None, _REPEATED_HEADER))
    if found:
        con.execute(
            f"DELETE FROM {table} WHERE file_index = ? AND source_line IN (SELECT unnest(?))",
            [file_index, [line for line, _ in found]],
        )
        info.accepted -= len(found)
        info.rejects.sort(key=lambda r: r.line)


def _check_header_order(path: Path, line: int, fields: list[str]) -> None:
    if sorted(fields) != sorted(DOJ_COLUMNS) or fields == list(DOJ_COLUMNS):
        return
    at = next(i for i, (f, c) in enumerate(zip(fields, DOJ_COLUMNS, strict=True)) if f != c)
    raise InputError(
        f"{path}, line {line}: the header has the DOJ columns in another order (column "
        f"{at + 1} is {fields[at]}, where a research file has {DOJ_COLUMNS[at]}). Columns "
        "are read by position: export the file in DOJ's column order."
    )


def _read_one_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Columns,
    file_index: int,
    path: Path,
    info: InputFile,
    next_row_id: int,
    cuts: tuple[_Cut, ...] = (),
) -> int:
    # The pid lets a later run remove it if this process is killed (run.py).
    tmpdir = tempfile.mkdtemp(prefix=f"clearslate-seg-{os.getpid()}-")
    try:
        scan = path
        if info.encoding != "utf-8":
            # DuckDB decodes a non-UTF-8 file through a buffer of 16 x max_line_size (1 GiB
            # at a 64 MB record), more than the default --memory-limit: the run died of "Out
            # of Memory" on any Latin-1 file. Scan a UTF-8 copy instead; lines and records
            # are the same.
            # (A UTF-16 file is copied the same way.)
            # (Its lines are the file's: `_file_has_blank_line` looks at the copy as it would
            # at the file, and the file's line count, if anything too high for UTF-16, only
            # makes it look when it need not.)
            scan = _utf8_copy(path, Path(tmpdir), info.encoding)
        # (the cuts were found in the file's own bytes, not in a UTF-8 copy's)
        segment = _first_segment(path, scan, info, tmpdir, cuts if scan == path else ())
        while segment is not None:
            next_row_id, after = _read_segment(
                con, table, columns, file_index, path, info, segment, next_row_id, tmpdir
            )
            if segment.path != segment.base:
                segment.path.unlink()  # (a part: the parts of a file are as large as it)
            segment = after
    finally:
        for name in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)
    info.rejects.sort(key=lambda r: r.line)
    return next_row_id


def _utf8_copy(path: Path, tmpdir: Path, encoding: str) -> Path:
    """A UTF-8 copy of a Latin-1 or UTF-16 file (without a byte-order mark), streamed."""
    copy = tmpdir / "utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with path.open("rb") as src, copy.open("wb") as dst:
        head = src.read(len(BOM))
        if head != BOM:
            dst.write(decoder.decode(head).encode("utf-8"))
        while chunk := src.read(8 * 1024 * 1024):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return copy


def _first_segment(
    path: Path, scan: Path, info: InputFile, tmpdir: str, cuts: tuple[_Cut, ...]
) -> _Segment | None:
    """The whole file (up to the first of `cuts`), unless its header line opens a quote it
    never closes: DuckDB would then take the whole file for the header and read no record
    at all (every row silently lost). That line is rejected and reading starts at line 2."""
    header = b""
    if info.has_header:
        with scan.open("rb") as fh:
            header = fh.readline(MAX_RECORD_BYTES)
    if header.count(b'"') % 2 == 0:
        if not cuts:
            return _Segment(scan, 1, skip_header=info.has_header, base=scan)
        return _read_on(path, info, scan, 0, 1, cuts, tmpdir, skip_header=info.has_header)
    info.rejects.append(
        Reject(
            str(path),
            1,
            None,
            "the header line opens a quote that is never closed; it was skipped and reading "
            "went on at the next line",
        )
    )
    info.data_records += 1
    return _read_on(path, info, scan, len(header), 2, cuts, tmpdir)


def _read_segment(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Columns,
    file_index: int,
    path: Path,
    info: InputFile,
    seg: _Segment,
    next_row_id: int,
    tmpdir: str,
) -> tuple[int, _Segment | None]:
    con.execute("DROP TABLE IF EXISTS _seg; DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _scan")
    header = 1 if seg.skip_header else 0
    rejects_before = len(info.rejects)
    # A segment that may become the row table (`_adopt_segment`) carries its own columns
    # from the scan: added later by ALTER TABLE, they left a table DuckDB could not spill.
    adoptable = not columns.raw and next_row_id == 0 and _is_empty(con, table)
    own = (
        f", NULL::BIGINT AS row_id, {file_index}::INTEGER AS file_index, "
        f"{_sql_str(str(path))} AS source_file, NULL::BIGINT AS source_line"
        if adoptable
        else ""
    )
    scanned = f"{columns.scan_sql}{own}"
    store = columns.store
    seg_table = f"TABLE {store.catalog}._seg" if store else "TEMP TABLE _seg"
    con.execute(f"CREATE {seg_table} ({_column_definitions(con, scanned, store)})")
    reading = _READING.get(id(con))
    if reading is not None:  # (the bytes of the file the next statement, its scan, reads)
        reading.scanning(seg.start, seg.start + seg.path.stat().st_size)
    con.execute(
        f"""INSERT INTO _seg SELECT {scanned} FROM read_csv({_sql_str(str(seg.path))},
            {_scan_options(seg.path, bool(header), info.max_record)},
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_scan')"""
    )
    if reading is not None:
        reading.reached(reading.place.span[1])
    # One row per rejected record (DuckDB may report several errors for one record).
    rej = con.execute(
        """SELECT line, min(line_byte_position), min(byte_position), min(column_idx),
                  arg_min(error_type, byte_position), arg_min(csv_line, byte_position)
           FROM _rej GROUP BY line ORDER BY line"""
    ).fetchall()
    good: int = con.execute("SELECT count(*) FROM _seg").fetchone()[0]
    if not columns.raw and con.execute(f"SELECT bool_or({_MAYBE_HEADER}) FROM _seg").fetchone()[0]:
        raise _NeedsRawColumns  # a header inside the file, perhaps: `_reject_header_lines`
    _join_facts(info)
    # Record index (0-based, after the header) of each reject, from DuckDB's record number.
    # DuckDB numbers a blank line (outside quotes) as a line of its own: take those out.
    has_blank = _file_has_blank_line(info, seg, good + len(rej), header)
    # DuckDB's line_byte_position is one byte after the start of its csv_line, and that text
    # starts with the line ends of the blank lines before the record: after two blank lines
    # it pointed into them, not at the record. Move it to the record's first byte.
    rej = [_locate(seg.path, r) for r in rej]
    layout, at = None, {}
    if has_blank:
        at = _line_of_offset(seg.path, [int(r[1]) for r in rej]) if rej else {}
        # (the lines of the rejected records, as DuckDB read them)
        rejected = {at[int(r[1])]: 1 + (r[5] or "").strip("\r\n").count("\n") for r in rej}
        layout = _line_layout(seg.path, bool(header), rejected)
    blanks, lone_crs = (layout.blanks, layout.lone_crs) if layout else ([], [])
    rej_records = [
        (
            int(r[0])
            - 1
            - header
            - (_blank_before(blanks, lone_crs, at[int(r[1])]) if blanks else 0),
            r,
        )
        for r in rej
    ]
    # A rejected record spanning several lines, of which a later one is a whole record by
    # itself (or starts one: `_open_quote`), is a quote opened and never closed (or closed
    # lines later) that ate good records. Reject its first line only, drop what was read
    # after it, read on from the next line.
    # The first such record ends what this read keeps. Where this read went on to the
    # file's end, the later ones are where the parts after it end (`_Segment.cuts`): it met
    # them at a record's start, as a read of the part before each will, if that read ends
    # outside a quote (`_ends_cleanly`).
    opened = [i for i, (_e, r) in enumerate(rej_records) if _never_closed(seg, r)]
    swallow = (opened[0], *rej_records[opened[0]]) if opened else None
    if seg.cuts and not _ends_cleanly(seg, rej if swallow is None else [swallow[2]]):
        if seg.cuts[0].reason:
            raise _NoWayAround  # (the line of thousands of fields is inside a record)
        # What this read keeps ends inside a record the part's end cut short (which may
        # look like a quote never closed): read it again with the next part.
        again = _part(seg.base, seg.start, seg.first_line, seg.cuts[1:], tmpdir, seg.skip_header)
        return next_row_id, again
    further = [] if seg.cuts else [rej_records[i][1] for i in opened[1:]]
    if swallow is not None:
        index, e_s, _ = swallow
        rej_records = rej_records[: index + 1]
        con.execute(f"DELETE FROM _seg WHERE rowid >= {e_s - index}")
        good = e_s - index
    offsets = [int(r[1]) for _, r in rej_records]
    if has_blank:  # (`at` has the line of every reject already)
        seg_lines = at
    else:
        seg_lines = (
            _line_of_offset(seg.path, offsets + [int(r[1]) for r in further]) if offsets else {}
        )
    # Where this read went on to the file's end, the quotes never closed it met, as cuts.
    found = tuple(
        _Cut(
            seg.start + int(r[1]),
            seg.first_line - 1 + seg_lines[int(r[1])],
            int(r[3]) if r[3] is not None else None,
        )
        for r in ([swallow[2], *further] if swallow is not None and not seg.cuts else [])
    )
    # Two rejects on one physical line are one record that DuckDB cut at a CR inside an
    # unquoted field (it takes a lone CR for a line end, even where LF ends the lines):
    # one reject, and `bad_lines` (not DuckDB's records) move the later rows down.
    reject_lines = [seg.first_line - 1 + seg_lines[int(r[1])] for _, r in rej_records]
    new_line = [k == 0 or n != reject_lines[k - 1] for k, n in enumerate(reject_lines)]
    bad_lines = list(itertools.accumulate(map(int, new_line)))  # rejected lines so far
    for k, (_e, r) in enumerate(rej_records):
        if not new_line[k]:
            info.rejects[-1] = replace(info.rejects[-1], column=None, reason=_LONE_CR)
            continue
        etype = r[4]
        reason = (
            too_long_reason(info.max_record)
            if etype == TOO_LONG
            else _REASONS.get(etype, etype.lower())
        )
        if swallow is not None and r is swallow[2] and _opens_a_quote(seg, int(r[1])):
            # (A line whose quotes are even closed one too soon, a quote inside a quoted
            # field: DuckDB's reason, as the line-by-line reader gives it. Either way reading
            # goes on at the next line.)
            reason = _SWALLOWED
        info.rejects.append(
            Reject(
                source_file=str(path),
                line=reject_lines[k],
                column=int(r[3]) if r[3] is not None else None,
                reason=reason,
            )
        )
    records_in_seg = good + len(info.rejects) - rejects_before
    info.data_records += records_in_seg
    info.accepted += good

    # Good row k (insertion order) is data record d = k + (rejects before it).
    con.execute("DROP TABLE IF EXISTS _rejidx")
    con.execute("CREATE TEMP TABLE _rejidx (g BIGINT, j BIGINT, nl BIGINT)")
    cum_nl = 0
    by_g: dict[int, tuple[int, int, int]] = {}
    for i, (e, r) in enumerate(rej_records, start=1):
        text = r[5] or ""
        if swallow is None or r is not swallow[2]:
            # (DuckDB's text of a record starts with the blank lines before it, if any)
            cum_nl += text.strip("\r\n").count("\n")
        # Rejects in a row share their g; the ASOF join must see only the last of them (with
        # ties it picked any one, and a good row after two rejects came a line too early).
        by_g[e - (i - 1)] = (e - (i - 1), bad_lines[i - 1], cum_nl)
    rows = list(by_g.values())
    # Newlines inside quoted fields shift physical lines. Only when the file has any (the
    # file's newline count says so) is the per-record count worth its cost.
    # (A file without embedded line ends has one line per record and header and blank
    # line, the last one perhaps without its line end. "+ 1" here let one embedded line
    # end go unseen; without the blank lines, one blank line sent a file to the raw read.)
    if swallow is None:
        newlines = getattr(info, "_newlines", 0) if seg.newlines is None else seg.newlines
        embedded = newlines > records_in_seg + header + len(blanks)
    else:
        # This read keeps the lines up to the open quote's only (one line for its record).
        # (Taken to be spanned, the records before it were read again with all 95 raw
        # columns: a file with one such line took 6 times as long to read.)
        kept = seg_lines[int(swallow[2][1])]
        embedded = kept > records_in_seg + header + bisect.bisect_left(blanks, kept)
    if embedded and rows and not columns.raw:
        raise _NeedsRawColumns  # with rejects, a record's lines are counted from its fields
    plain = not (rows or blanks or embedded or columns.raw)
    # Lean: every record on one line of the file, the rejected ones too (so a row's line
    # is its line in the file; the bundle's writer leaves out the rejected and blank lines).
    # (Not after an open quote: a read of the whole file loses the records it ate.)
    lean = not (embedded or columns.raw or cum_nl or swallow) and all(new_line)
    if columns.lean and not (lean and seg.path == path and seg.first_line == 1):
        raise _NotLean(found)
    info.blank_lines = blanks if columns.lean else []
    nl_expr = "0"
    multiline = None
    if embedded and not rows:
        # No reject: each record's lines are found from the file's bytes, and a row moves
        # down by the line ends inside the records before it (an ASOF join on those records,
        # as for the rejects). The window of the raw columns' line ends below took 30 s at
        # 1M rows, one in ten with a quoted line end, and needed the raw columns read.
        multiline = (layout or _line_layout(seg.path, bool(header))).spans
        inside = itertools.accumulate(nl for _k, _line, nl in multiline)
        rows = [(k + 1, 0, nl) for (k, _line, _nl), nl in zip(multiline, inside, strict=True)]
    elif embedded:
        concat = " || ".join(f"coalesce(\"{c}\", '')" for c in DOJ_COLUMNS)
        nl_expr = (
            f"sum(length({concat}) - length(replace({concat}, chr(10), ''))) "
            "OVER (ORDER BY s.rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
        )
    first_line = seg.first_line - 1 + header + 1
    if plain and adoptable:
        _adopt_segment(con, table, first_line)
        return good, _next_part(path, info, seg, tmpdir)
    # Rows after a reject move down by the rejects before them. The bundle's files are plain
    # scans of the row table, so the rows must go in in input order, which a join or a
    # window does not keep: each row's move is found by an ASOF join on the few rejects
    # into a narrow table, sorted, and the rows take theirs by POSITIONAL JOIN, which keeps
    # the order. (The rows themselves joined and sorted, the bundle's lines with them, took
    # 20 s at 1M rows for one reject.) The raw columns' window of line ends still sorts.
    join, moved = "", "0"
    if rows:
        insert_rows(con, "_rejidx", ["BIGINT"] * 3, rows)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _moved AS
                SELECT coalesce(r.j, 0) + coalesce(r.nl, 0) AS moved
                FROM range({good}) t(i) ASOF LEFT JOIN _rejidx r ON t.i >= r.g
                ORDER BY t.i"""
        )
        join, moved = "POSITIONAL JOIN _moved r", "r.moved"
    con.execute(
        f"""INSERT INTO {table} BY NAME
            SELECT {next_row_id} + s.rowid AS row_id, {file_index} AS file_index,
                   {_sql_str(str(path))} AS source_file,
                   {first_line} + s.rowid + {moved} + coalesce({nl_expr}, 0) AS source_line,
                   {columns.names_sql}
            FROM _seg s {join}
            {"ORDER BY s.rowid" if nl_expr != "0" else ""}"""
    )
    con.execute("DROP TABLE _seg; DROP TABLE IF EXISTS _moved")  # (a copy of the rows)
    if blanks:
        _skip_blank_lines(con, table, file_index, seg, next_row_id, blanks)
    merged = None
    if embedded:
        records = (
            _multiline_rows(con, table, file_index, next_row_id)
            if multiline is None
            else [(next_row_id + k, seg.first_line - 1 + ln, nl) for k, ln, nl in multiline]
        )
        merged = _merged_record(seg, records)
    if merged is not None and (
        swallow is None or merged[1] < _swallow_line(seg, seg_lines, swallow)
    ):
        # A stray quote closed by a quote of the next record made the two one record of 95
        # fields, accepted: the bad line's record is rejected instead, and reading goes on
        # at the next line (as for a rejected one).
        row_id, line = merged
        con.execute(f"DELETE FROM {table} WHERE file_index = {file_index} AND row_id >= {row_id}")
        dropped = next_row_id + good - row_id
        mine = info.rejects[rejects_before:]
        later = [r for r in mine if r.line > line]
        info.rejects = info.rejects[:rejects_before] + [r for r in mine if r.line < line]
        info.rejects.append(Reject(str(path), line, None, _SWALLOWED))
        info.accepted -= dropped
        info.data_records -= dropped + len(later) - 1
        after = seg.start + _line_start(seg, line + 1)
        return row_id, _read_on(path, info, seg.base, after, line + 1, seg.cuts, tmpdir)
    next_row_id += good
    if swallow is None:
        return next_row_id, _next_part(path, info, seg, tmpdir)
    # Read on from the line after the one with the open quote, up to the next such line.
    cuts = (*found[1:], *seg.cuts)
    bad_line_start = int(swallow[2][1])
    bad_line = seg.first_line - 1 + seg_lines[bad_line_start]
    after = _after_line(seg.base, seg.start + bad_line_start)
    return next_row_id, _read_on(path, info, seg.base, after, bad_line + 1, cuts, tmpdir)


def _is_empty(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def _adopt_segment(con: duckdb.DuckDBPyConnection, table: str, first_line: int) -> None:
    """The common case, a first file read whole with no reject, blank line or quoted line
    end: the scanned table becomes the row table, row k on line `first_line` + k. Copying
    it instead cost a third of the scan (later files are inserted BY NAME, so the order of
    the columns does not matter). Its row ids and lines are set by an UPDATE of the columns
    the scan left empty. Columns added by ALTER TABLE ADD COLUMN made later scans of the
    table pin more than DuckDB could spill: deciding 1M rows at --memory-limit 100MB ran out
    of memory with them, and not with a copy of the table nor with these."""
    con.execute(
        f"""ALTER TABLE _seg DROP COLUMN {_MAYBE_HEADER};
            UPDATE _seg SET row_id = rowid, source_line = {first_line} + rowid;
            DROP TABLE {table};
            ALTER TABLE _seg RENAME TO {table}"""
    )


def _swallow_line(seg: _Segment, seg_lines: dict[int, int], swallow: tuple) -> int:
    return seg.first_line - 1 + seg_lines[int(swallow[2][1])]


def _line_start(seg: _Segment, line: int) -> int:
    """The byte of `seg.path` at which physical `line` of the file starts."""
    with seg.path.open("rb") as fh:
        for _ in range(line - seg.first_line):
            fh.readline()
        return fh.tell()


def _multiline_rows(
    con: duckdb.DuckDBPyConnection, table: str, file_index: int, first_row: int
) -> list[tuple[int, int, int]]:
    """(row_id, physical line, line ends inside it) of each row of the segment whose raw
    fields hold a line end, in row order."""
    concat = " || ".join(f"coalesce(\"{c}\", '')" for c in DOJ_COLUMNS)
    return con.execute(
        f"""SELECT row_id, source_line,
                   length({concat}) - length(replace({concat}, chr(10), '')) AS nl
            FROM {table}
            WHERE file_index = {file_index} AND row_id >= {first_row}
              AND contains({concat}, chr(10))
            ORDER BY row_id"""
    ).fetchall()


def _merged_record(seg: _Segment, rows: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """The first of the segment's `rows` that span lines (row_id, physical line, line ends
    inside it) of which a later line starts a whole record by itself: (row_id, line), or
    None. Such a record is a stray quote merged with the record after it."""
    if not rows:
        return None
    # the byte offset of every later line of those records, in one pass over the file
    wanted = {ln - seg.first_line + 1 + k for _, ln, nl in rows for k in range(1, nl + 1)}
    offsets, line, pos = {}, 1, 0
    with seg.path.open("rb") as fh:
        for text in fh:
            if line in wanted:
                offsets[line] = pos
            line += 1
            pos += len(text)
            if len(offsets) == len(wanted):
                break
    with seg.base.open("rb") as fh:  # (a record may go on past a part's end)
        for row_id, ln, nl in rows:
            for k in range(1, nl + 1):
                at = offsets.get(ln - seg.first_line + 1 + k)
                if at is not None and _good_record_from(fh, seg.start + at):
                    return row_id, ln
    return None


def _locate(path: Path, reject: tuple) -> tuple:
    """A reject with its record's first byte and text put right. After a long record with
    quoted line ends, DuckDB may report the text (and position) of that earlier record for
    the one it rejects; the error's own byte position then lies past that text, and the
    rejected record is the one that starts after it."""
    line, lbp, error_at, column, error_type, text = reject
    start = _record_start(int(lbp), text)
    if text is None or error_at is None:
        return (line, start, error_at, column, error_type, text, False)
    end = start + len(text.strip("\r\n").encode("utf-8"))
    with path.open("rb") as fh:
        fh.seek(end)
        raw = fh.read(max(int(error_at) - end, 0))
        if not raw.lstrip(b"\r\n"):  # the error is within the text or at its line end
            return (line, start, error_at, column, error_type, text, False)
        raw += fh.readline()
    start = end + len(raw) - len(raw.lstrip(b"\r\n"))
    own = raw.lstrip(b"\r\n").decode("utf-8", errors="replace")
    # Its true extent is unknown: DuckDB's scan may have taken the lines after it, as a
    # line that opens a quote it does not close does, and so may a line whose quotes are
    # even: after a quote inside a quoted field closed it too soon, the scan went on into
    # the next records, and read nothing of them. Reading goes on from the next line (see
    # `swallow`).
    opened = error_type == "UNQUOTED VALUE"
    return (line, start, error_at, column, error_type, own, opened)


def _record_start(line_byte_position: int, csv_line: str | None) -> int:
    if csv_line is None:
        return line_byte_position
    return max(line_byte_position - 1 + len(csv_line) - len(csv_line.lstrip("\r\n")), 0)


def _blank_before(blanks: list[int], lone_crs: list[int], line: int) -> int:
    """How many lines DuckDB counted for the blank lines before physical `line`."""
    return bisect.bisect_left(blanks, line) + bisect.bisect_left(lone_crs, line)


def _skip_blank_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    file_index: int,
    seg: _Segment,
    first_row: int,
    blanks: list[int],
) -> None:
    """Move the segment's rows down by the blank lines before them (DuckDB skips a blank line
    without counting it as a record). A row numbered L counting non-blank lines only is on
    physical line L + (blank lines b_i with b_i - i <= L), i counting the blanks from 0."""
    g = [seg.first_line - 1 + b - i for i, b in enumerate(blanks)]
    # (k = how many g are <= this one, found for each row by an ASOF join on the few blank
    # lines: a count per row of the g below it took 54 s for 100,000 rows and blank lines)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _blank AS
           SELECT g, max(k) AS k FROM (SELECT unnest(?::BIGINT[]) AS g, unnest(?::BIGINT[]) AS k)
           GROUP BY g""",
        [g, list(range(1, len(g) + 1))],
    )
    con.execute(
        f"""UPDATE {table} SET source_line = {table}.source_line + b.k
            FROM (SELECT r.row_id, b.k FROM {table} r ASOF JOIN _blank b ON r.source_line >= b.g
                  WHERE r.file_index = {file_index} AND r.row_id >= {first_row}) b
            WHERE {table}.file_index = {file_index} AND {table}.row_id = b.row_id"""
    )


def _never_closed(seg: _Segment, reject: tuple) -> bool:
    """Whether a rejected record (`_locate`) is a line that opens a quote it never closes (or
    closes lines later), which ate the records after it. (What follows it is looked at in
    the whole file, not only in the segment.)"""
    _line, start, _at, _column, error_type, text, opened = reject
    return opened or (
        text is not None
        and (_ate_records(text) or _open_quote(seg.base, seg.start + int(start), error_type, text))
    )


def _opens_a_quote(seg: _Segment, start: int) -> bool:
    """Whether the line at byte `start` of the segment leaves a quote open (holds an odd
    number of them). Read from the file: DuckDB may give a reject the text of another."""
    with seg.base.open("rb") as fh:
        fh.seek(seg.start + start)
        line = fh.readline(MAX_RECORD_BYTES).split(b"\r", 1)[0]  # (at most a record)
    return line.count(b'"') % 2 == 1


def _open_quote(path: Path, start: int, error_type: str, text: str) -> bool:
    """A rejected record of several lines that is a stray quote, not one bad record: DuckDB
    could not unquote it (the quote never closed), or its first line leaves a quote open
    and a later line starts a good record (one with a quoted line end, say, whose quote
    closed the stray one). Without this, records swallowed so were neither read nor
    reported. A record that truly spans lines and has too few fields stays one reject."""
    body = text.strip("\r\n")
    if "\n" not in body:
        return False
    if error_type == "UNQUOTED VALUE":
        return True
    if body.split("\n", 1)[0].count('"') % 2 == 0:
        return False
    with path.open("rb") as fh:
        fh.seek(start)
        fh.readline()
        lines = _lines_at(fh, fh.tell(), 200)
    # a good record starts on one of the record's later lines (and may go on past it)
    return any(_good_record_at(lines[k : k + 100]) for k in range(min(body.count("\n"), 100)))


def unparsed_reason(record: str) -> str:
    """Why a record that is not valid CSV was rejected (`_strict_record` gave None)."""
    if "\r" in record.rstrip("\r\n"):
        return _LONE_CR
    return _REASONS["UNQUOTED VALUE"]


def _lines_at(fh: io.BufferedReader, at: int, count: int) -> list[str]:
    """The first `count` lines from byte `at` of the file, from at most 4 MB of it."""
    return next(lines for lines, whole in _growing_lines(fh, at, count, 64 * 1024) if whole)


def _good_record_from(fh: io.BufferedReader, at: int) -> bool:
    """`_good_record_at` of the 100 lines from byte `at`, read only as far as the first
    record goes (a few kB, not the 100 lines)."""
    for lines, whole in _growing_lines(fh, at, 100, 4096):
        text = "".join(lines)
        fields, end = _read_record(text)
        if whole or end < len(text):  # more text would not change it
            return fields is not None and len(fields) == len(DOJ_COLUMNS)
    raise AssertionError("unreachable: the last lines are whole")


def _growing_lines(
    fh: io.BufferedReader, at: int, count: int, piece: int
) -> Iterator[tuple[list[str], bool]]:
    """The first `count` lines from byte `at` (ends at \\n, \\r\\n or a lone \\r, as
    bytes.splitlines splits), as far as read, and whether they are all there is: after
    each of growing pieces, up to 4 MB in all. Reading and splitting 4 MB for each record
    with a quoted line end took 400 s for a file of 10,000 such records."""
    fh.seek(at)
    data = b""
    while True:
        more = fh.read(min(piece, 4 * 1024 * 1024 - len(data)))
        data, piece = data + more, piece * 2
        lines = data.splitlines(keepends=True)
        whole = len(lines) > count or not more
        yield [x.decode("utf-8", errors="replace") for x in lines[:count]], whole
        if whole:
            return


def _good_record_at(lines: list[str]) -> bool:
    """Whether the first record in `lines` is a whole record of 95 fields."""
    first = _strict_record("".join(lines))
    return first is not None and len(first[0]) == len(DOJ_COLUMNS)


_UNQUOTED_END = re.compile(r'[,\r\n"]')


def _strict_record(text: str) -> tuple[list[str], int] | None:
    """The fields of the record at the start of `text` and where it ends, read as DuckDB's
    strict mode reads them, or None if it is not valid CSV there: a quote inside an unquoted
    field, text after a closing quote, a quote never closed. (Python's csv module takes a
    quote inside an unquoted field as a letter, so a stray quote's line looked whole.)"""
    fields, end = _read_record(text)
    return None if fields is None else (fields, end)


def _read_record(text: str) -> tuple[list[str] | None, int]:
    """`_strict_record`, and where it stopped when the text is not valid CSV: at the end of
    the text only for a quote never closed (more text could close it)."""
    fields: list[str] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            parts, i = [], i + 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    return None, n  # never closed
                parts.append(text[i:j])
                if text.startswith('"', j + 1):
                    parts.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            fields.append("".join(parts))
            if i >= n or text[i] in "\r\n":
                return fields, i
            if text[i] != ",":
                return None, i  # text after the closing quote
            i += 1
            continue
        m = _UNQUOTED_END.search(text, i)
        if m is None:
            fields.append(text[i:])
            return fields, n
        if m.group() == '"':
            return None, m.start()  # a quote inside an unquoted field
        fields.append(text[i : m.start()])
        if m.group() != ",":
            return fields, m.start()
        i = m.end()


def _ate_records(text: str) -> bool:
    lines = text.strip("\r\n").splitlines()[1:]
    return any(len(_split_record(line) or ()) == len(DOJ_COLUMNS) for line in lines)


def _split_record(record: str) -> list[str] | None:
    text = record.rstrip("\r\n")
    parsed = _strict_record(text)
    return parsed[0] if parsed is not None and parsed[1] == len(text) else None


def _read_line_by_line(
    con: duckdb.DuckDBPyConnection,
    table: str,
    file_index: int,
    path: Path,
    info: InputFile,
    next_row_id: int,
    columns: Columns | None = None,
) -> int:
    """The slow, sure reader for files DuckDB's scanner refuses or would choke on
    (`_mostly_misshapen`, `_runaway_cuts`): a record is one line, or several when a
    quoted field holds a line end; a record that never closes its quote is rejected for its
    first line only, and reading goes on at the next line. It holds a few hundred lines (each
    of `max_record` at most) and `ROWS_PER_INSERT` rows at a time, not the file."""
    if columns is not None and not columns.raw:
        raise _NeedsRawColumns
    info.reader = "line by line"
    types = ["BIGINT", "INTEGER", "VARCHAR", "BIGINT", *_RAW_TYPES]
    good: list[list[object]] = []
    accepted = 0
    reading = _READING.get(id(con))
    with _text_lines(path, info) as text:
        lines = _LineWindow(text, info.max_record)
        i = 1 if info.has_header else 0
        while lines.has(i):
            if reading is not None and i % 1_000 == 0:
                reading.reached(text.buffer.tell())  # (a little ahead: it reads in blocks)
            start = i
            record, i = lines.record(start)
            if record is None:
                info.data_records += 1
                info.rejects.append(
                    Reject(str(path), start + 1, None, too_long_reason(info.max_record))
                )
                continue
            if not record.strip("\r\n"):
                continue  # a blank line is no record
            fields = _split_record(record) if record.count('"') % 2 == 0 else None
            info.data_records += 1
            # A quote opened on the first line took the next ones (and never closed, or
            # closed in a later record, perhaps making 95 fields of the two): reject the first
            # line only and give back the others (as the DuckDB path does).
            swallowed = i - start > 1 and (
                fields is None
                or any(_good_record_at(lines.slice(k, k + 100)) for k in range(start + 1, i))
            )
            if not swallowed and fields is not None and len(fields) == len(DOJ_COLUMNS):
                good.append([next_row_id + accepted, file_index, str(path), start + 1, *fields])
                accepted += 1
                if len(good) == ROWS_PER_INSERT:
                    insert_rows(con, table, types, good)
                    good = []
                continue
            if fields is None and "," not in record and unparsed_reason(record) != _LONE_CR:
                fields = [record]  # one field, whatever its quotes, as DuckDB's reader has it
            reason = (
                unparsed_reason(record)
                if fields is None
                else _REASONS[
                    "MISSING COLUMNS" if len(fields) < len(DOJ_COLUMNS) else "TOO MANY COLUMNS"
                ]
            )
            # The column DuckDB's reader names: the first field too many, or the last read.
            column = None if fields is None else min(len(fields), len(DOJ_COLUMNS) + 1)
            if swallowed:
                i = start + 1
                reason, column = _SWALLOWED, None
            info.rejects.append(Reject(str(path), start + 1, column, reason))
    insert_rows(con, table, types, good)
    info.accepted = accepted
    return next_row_id + accepted


def _text_lines(path: Path, info: InputFile) -> io.TextIOWrapper:
    """`text_lines` in the file's encoding: UTF-8, or UTF-16, or else Latin-1, where every
    byte is a letter (`info.encoding` says which)."""
    encoding = info.encoding if info.encoding.startswith("utf-16") else "utf-8"
    if not decodes(path, encoding, _bom_length(path)):  # the whole file, before a line of it
        encoding = info.encoding = "latin-1"
    return text_lines(path, encoding)


def _bom_length(path: Path) -> int:
    with path.open("rb") as head:
        return len(BOM) if head.read(len(BOM)) == BOM else 0


def text_lines(path: Path, encoding: str) -> io.TextIOWrapper:
    """The file as text in `encoding`, after a UTF-8 byte-order mark, read a line at a time
    (the line-by-line readers': `_LineWindow`). Its lines end at \\n, \\r\\n or a lone \\r
    (newline=""; str.splitlines also splits at \\x0c, \\x1c-\\x1e, \\x85 and \\u2028,
    which cut a record in two), ends kept; in a file whose first line ends with \\n or
    \\r\\n, at \\n only: there a lone \\r is a byte inside a record, and splitting at it
    made one bad line two rejects and every later record's line one too high. Bytes that
    are not `encoding` become U+FFFD."""
    skip = _bom_length(path)

    def opened(newline: str) -> io.TextIOWrapper:
        raw = path.open("rb")
        raw.seek(skip)
        return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=newline)

    with opened("") as text:
        first = text.readline()
    return opened("\n" if first.endswith("\n") else "")


# The most lines the line-by-line readers join into one record whose quote is still open.
_MAX_LINES_PER_RECORD = 100
# How many good rows the line-by-line readers hold before they insert them.
ROWS_PER_INSERT = 10_000


class _LineWindow:
    """A file's lines by number (from 0), read as far ahead as asked and forgotten once
    passed: the line-by-line reader looks at most 200 lines past a record's first line.
    A line longer than `longest` characters is read past, not kept: it is `overlong`."""

    def __init__(self, text: io.TextIOWrapper, longest: int) -> None:
        self._text = text
        self._longest = longest
        self._kept: collections.deque[str] = collections.deque()
        self._first = 0  # the number of _kept[0]
        self._overlong: set[int] = set()

    def has(self, i: int) -> bool:
        while self._first + len(self._kept) <= i:
            line = self._text.readline(self._longest + 1)
            if not line:
                return False
            if len(line) > self._longest and not line.endswith(("\n", "\r")):
                while (rest := self._text.readline(_MIB)) and not rest.endswith(("\n", "\r")):
                    pass  # (the rest of the line, a MB at a time)
                self._overlong.add(self._first + len(self._kept))
                line = "\n"  # (what the reader sees of it: no record)
            self._kept.append(line)
        return True

    def overlong(self, i: int) -> bool:
        return self.has(i) and i in self._overlong

    def __getitem__(self, i: int) -> str:
        if not self.has(i) or i < self._first:
            raise IndexError(i)
        return self._kept[i - self._first]

    def slice(self, i: int, j: int) -> list[str]:
        """Lines i to j - 1, as many as the file has."""
        return [self[k] for k in range(i, j) if self.has(k)]

    def record(self, start: int) -> tuple[str | None, int]:
        """The record that starts at line `start`, and the number of the line after it: the
        line, and while its quotes are odd the lines after it (100 at most, none overlong);
        None for an overlong line. The lines before `start` are forgotten."""
        self.forget_before(start)
        if self.overlong(start):
            return None, start + 1
        record, i = self[start], start
        while (
            record.count('"') % 2
            and i - start < _MAX_LINES_PER_RECORD
            and self.has(i + 1)
            and not self.overlong(i + 1)
        ):
            i += 1
            record += self[i]
        return record, i + 1

    def forget_before(self, i: int) -> None:
        while self._first < i and self._kept:
            self._kept.popleft()
            self._first += 1
