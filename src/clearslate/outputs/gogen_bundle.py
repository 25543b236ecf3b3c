"""gogen 0.2.13-compatible bundle: All_Results, All_Results_Condensed, Prop64_Results CSVs.

File names, columns, column order, value formats and CSV quoting follow gogen (reference:
gogen-behaviour.md section 4), so BEAR and the scripts offices wrote around it keep working.
Where clearslate's values differ on purpose (a gogen bug fixed), docs/gogen-differences.md
says so.

The CSV text is assembled in SQL and streamed by DuckDB's COPY (a statewide run splits one
ordered result by county folder with Arrow), except a one-county run's All_Results and
Prop64_Results of a file whose records are its lines: those are the file's own bytes, each
line followed by its eligibility columns (`_write_full_from_file`), or, if a line is not as
Go writes it, the file's records quoted as Go does, streamed to the same writer
(`_write_requoted`).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import heapq
import itertools
import mmap
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import pyarrow

from clearslate.idle_work import IdleWork, Steps, run_steps
from clearslate.outputs.files import (
    PARTIAL_PREFIX,
    StreamedFile,
    atomic_path,
    copy_to,
    discard,
    one_thread,
    publish,
)
from clearslate.progress import Place
from clearslate.sources.ca_doj import BOM, wait_for_pages
from clearslate.sources.ca_doj_layout import CONDENSED_COLUMNS, DOJ_COLUMNS, ELIGIBILITY_COLUMNS
from clearslate.sources.line_ends import newlines_in

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


# Lines that are already what Go writes for their fields, each ending with LF: each field
# either bare (empty, or without `,` `"` CR LF, not starting with a Go space, not `\.`) or
# quoted because Go would quote it (it holds `,` `""` CR, starts with a space, or is `\.`).
# A research file's lines mostly are (DOJ's padded fields come quoted); such a line is
# written as it is, unparsed. The lines are a lean file's, whose fields hold no LF, so none
# here does: a quote a line never closes cannot carry a field into the lines after it, and
# a block of lines matches exactly when each of its lines does.
_GO_BARE = (
    r'(?:[^",\r\n\\' + _GO_SPACE[2:-1] + r'][^",\r\n]*'
    r'|\\(?:[^.",\r\n][^",\r\n]*|\.[^",\r\n]+)?)?'
)
_GO_SPACE_IN_LINE = _GO_SPACE[1:].replace(r"\n", "")
_GO_QUOTED_TEXT = r'(?:[^"\n]|"")'
_GO_QUOTED = (
    rf'"(?:{_GO_SPACE_IN_LINE}{_GO_QUOTED_TEXT}*'
    rf'|{_GO_QUOTED_TEXT}*(?:[,\r]|""){_GO_QUOTED_TEXT}*|\\\.)"'
)
_GO_FIELD = f"(?:{_GO_BARE}|{_GO_QUOTED})"
GO_LINES = f"^(?:{_GO_FIELD}(?:,{_GO_FIELD})*\\n)*$"
_GO_LINE = f"^{_GO_FIELD}(?:,{_GO_FIELD})*$"

# A row of the table and the line read beside it that do not pair up (which cannot be: the
# lines are then quoted from the records instead).
_UNPAIRED = "clearslate: a row and its line do not pair up"


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
# the decisions, by UPDATEs of the few rows that have one (`build_bundle_rows`); the files
# are then plain scans of this one table, which keep the input order without a sort.
# The full line is only computed for a file whose lines cannot be read as they are (see
# `read_doj_files(deferred=)` and `FileText`): BUNDLE_LINE.
BUNDLE_LINE = ("q_all", _quoted_line(DOJ_COLUMNS))
BUNDLE_ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("q_condensed", _quoted_line(CONDENSED_COLUMNS)),
    ("bundle_folder", "NULL::VARCHAR"),  # where the row's eligibility record goes
    ("bundle_eligibility", "NULL::VARCHAR"),  # the 18 columns there
    ("bundle_other", "NULL::VARCHAR"),  # the 18 columns elsewhere, if not all empty
    # statewide: the folders that show the row, joined by commas. (Text, not a list: DuckDB
    # updates a list column by deleting and inserting the row, which moved the updated rows
    # to the end of the table, out of the input order the files are written in.)
    ("bundle_folders", "NULL::VARCHAR"),
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
    _update_rows(
        con,
        "bundle_eligibility",
        "bundle_folder = s.folder, bundle_eligibility = s.eligibility, bundle_other = s.other",
    )
    if statewide:
        # A county's All_Results holds the whole record of each person it decides (what a
        # DOJ extract for that county holds), not every row of the state.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE bundle_folders AS
               SELECT r.row_id, f.folders
               FROM (SELECT d.subject_id, string_agg(DISTINCT b.folder, ',' ORDER BY b.folder) AS folders
                     FROM determinations d JOIN bundle_eligibility b USING (row_id)
                     GROUP BY d.subject_id) f
               JOIN doj_rows r USING (subject_id)"""
        )
        _update_rows(con, "bundle_folders", "bundle_folders = s.folders")
        con.execute("DROP TABLE bundle_folders")


# Rows one UPDATE of the row table sets at most. DuckDB's UPDATE costs more than its rows
# beyond some hundreds of thousands: the 1,100,180 rows of a 10M-row file took 4.7-5.1 s
# in one UPDATE, 1.6-2.0 s in 4 to 40 (row ranges of about even size).
_UPDATE_ROWS = 250_000
_NO_ROW_ID_FROM = 1 << 62  # (beyond every row id)


def _update_rows(con: duckdb.DuckDBPyConnection, source: str, assignments: str) -> None:
    """Set `assignments` (over `source` as `s`) in the rows of doj_rows that `source` names
    by `row_id`, in UPDATEs of about `_UPDATE_ROWS` rows each (`_row_ranges`)."""
    for first, after in _row_ranges(con, source):
        con.execute(
            f"""UPDATE doj_rows SET {assignments} FROM {source} s
                WHERE doj_rows.row_id = s.row_id AND s.row_id >= {first} AND s.row_id < {after}"""
        )


def _row_ranges(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, int]]:
    """Ranges of row ids [first, after) that split `table`'s rows (by `row_id`, unique) into
    UPDATEs of about `_UPDATE_ROWS` rows each, however the rows lie in the file."""
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if not rows:
        return []
    parts = -(-rows // _UPDATE_ROWS)
    fractions = [i / parts for i in range(1, parts)]
    cuts = (
        con.execute(f"SELECT quantile_disc(row_id, {fractions}) FROM {table}").fetchall()[0][0]
        if fractions
        else []
    )
    return list(itertools.pairwise([0, *cuts, _NO_ROW_ID_FROM]))


def _header(columns: tuple[str, ...]) -> str:
    return ",".join(list(columns) + list(ELIGIBILITY_COLUMNS))


@dataclass(frozen=True)
class FileText:
    """An input file whose row-table rows hold no full line (q_all is NULL: the reader's
    lean files, `InputFile.lean`): SQL scans of its records as the lines they are (column
    `line`), and parsed into the DOJ columns (the rejected ones left out); the file itself
    (each record one line), how many lines follow its header, and the lines that are not
    rows (a rejected record's, a blank one): with any, its lines and its rows pair up by
    line number only, which only `_write_full_from_file` does."""

    lines_sql: str
    records_sql: str
    path: Path
    header: bool
    lines: int
    left_out: tuple[int, ...] = ()


_COPY_OPTIONS = "FORMAT csv, HEADER true, QUOTE '', ESCAPE '', DELIMITER '\x1f'"
# What the files need of a row besides its DOJ fields.
_ROW_PARTS = (
    "file_index, source_line, q_condensed, bundle_folder, bundle_eligibility, bundle_other, "
    "bundle_folders"
)


def _eligibility(folder: str) -> str:
    """The 18 eligibility columns of a row as written in `folder` (an SQL expression)."""
    return (
        f"CASE WHEN bundle_folder = {folder} THEN bundle_eligibility "
        f"ELSE coalesce(bundle_other, '{_NO_ELIGIBILITY}') END"
    )


def _full_rows(file_index: int, text: FileText | None, go_lines: str = "") -> tuple[str, str]:
    """(FROM, line): input file i's rows with their 95 DOJ fields as Go writes them, in
    input order. A lean file's lines are read from the file beside its rows (a positional
    join: both are in input order), or from `go_lines`, the table of its records quoted as
    Go does. A row without its line, or a line without its row, stops the writing with
    _UNPAIRED."""
    if text is None:
        return f"(SELECT q_all AS line, * FROM doj_rows WHERE file_index = {file_index})", "line"
    rows = f"(SELECT {_ROW_PARTS} FROM doj_rows WHERE file_index = {file_index})"
    lines = go_lines or f"(SELECT line FROM {text.lines_sql})"
    checked = (
        "CASE WHEN file_index IS NOT NULL AND line IS NOT NULL THEN line "
        f"ELSE error('{_UNPAIRED}') END"
    )
    return f"({lines} POSITIONAL JOIN {rows})", checked


# A file's lines not as Go writes them are mended where they are written if there are at
# most this many of them, or one in this many lines; with more, every record is quoted
# again (`_write_requoted`), which costs a full run at 1M rows some 6 s.
_ODD_LINES, _ODD_LINES_IN = 1_000, 100

# write(FROM, line, at, verdicts): write the full rows, each file `path` at `at(path)`; with
# `verdicts` (the check's, `_Verdicts`), True if it mended the lines not as Go writes them.
_FullWriter = Callable[[str, str, Callable[[Path], Path], "_Verdicts | None"], bool]


# from_file(at, verdicts): write the full rows' files from the input file's own bytes, each
# file `path` at `at(path)`, the lines the check finds not as Go writes them (`verdicts`)
# quoted as Go does, unless the check stops; False if it cannot for this file (`write` then
# writes them). It runs on a thread of its own, and must not run DuckDB.
_FromFile = Callable[[Callable[[Path], Path], "_Verdicts"], bool]

# begin_file(i): the writing of input file i's files begins; the place its writers tell how
# far they are (for a progress bar).
FilePart = Callable[[int], Place]


def _unwatched(_file_index: int) -> Place:
    return Place()


def _with_full_rows(
    con: duckdb.DuckDBPyConnection,
    file_index: int,
    text: FileText | None,
    write: _FullWriter,
    from_file: _FromFile | None = None,
    beside: Callable[[], None] | None = None,
    requote: Callable[[], None] | None = None,
    check: LineCheck | None = None,
) -> None:
    """Call `write` with input file i's full rows, and `beside` (if given) meanwhile. A lean
    file's lines are written as they are (by `from_file` where it can, on a thread of its
    own), under temporary names, while another thread checks that each is as Go writes it
    (`check`, begun earlier, or begun here) and this one, the only one that runs DuckDB,
    runs `beside`. The writers wait for the check's verdict on the lines they write
    (`_Verdicts`), mend the few not as Go writes them (`_ODD_LINES`), and stop once the
    check fails. Then the files take their names, or, if a line is not as Go writes it and
    was not mended, they are written from the file's records quoted as Go does (read
    again, in parallel): by `requote` if given, else by `write` from a table of them."""
    if text is None:
        write(*_full_rows(file_index, None), _as_is, None)
        if beside is not None:
            beside()
        return
    unchecked: dict[Path, Path] = {}

    def at(path: Path) -> Path:
        unchecked[path] = path.with_name(f"{PARTIAL_PREFIX}unchecked-{path.name}")
        return unchecked[path]

    check = check or start_line_check(text, statewide=from_file is None)
    stop = check.verdicts.stop  # (it stops the check, and so the writers)
    pool = ThreadPoolExecutor(max_workers=1)
    # DuckDB takes one thread while the check and the copy of the bytes take the others.
    with one_thread(con):
        odd_lines = check.work.hurry()
        copied = pool.submit(from_file, at, check.verdicts) if from_file else None
        written = mends = False  # (whether the files were written, and their odd lines mended)
        try:
            if beside is not None:
                beside()
            try:
                written = mends = copied is not None and copied.result()
                if not (written or text.left_out or stop.is_set()):
                    mends = write(*_full_rows(file_index, text), at, check.verdicts)
                    written = True
            except _Stopped:
                stop.set()  # (the files are quoted again: the rest of the check is not needed)
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as exc:
                # A row and its line that do not pair up, or a line the one-field read
                # cannot take, send the files to the quoted rewrite: a lone CR in a quoted
                # field of a CRLF file (which the check finds too), or a byte 0x01, the
                # read's delimiter, in a field (which it does not; both stopped the run).
                unread = isinstance(exc, duckdb.InvalidInputException) and "CSV Error" in str(exc)
                if _UNPAIRED not in str(exc) and not unread and odd_lines.result() is not None:
                    raise
            odd_lines.result()  # wait here, where a signal stops the others too
        except BaseException:
            stop.set()  # the run stops: so do the others, at their next block
            pool.shutdown(wait=True)
            wait([odd_lines])
            for tmp in unchecked.values():  # and the run leaves no file behind
                discard(tmp)
            raise
        finally:
            pool.shutdown(wait=True)
    odd = odd_lines.result()
    try:
        if written and (odd == 0 or (mends and odd is not None)):
            for path, tmp in unchecked.items():
                publish(tmp, path)
            return
    finally:
        for tmp in unchecked.values():
            discard(tmp)
    if requote is not None:
        requote()
        return
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _go_lines AS
            SELECT {_quoted_line(DOJ_COLUMNS)} AS line FROM {text.records_sql}"""
    )
    write(*_full_rows(file_index, text, "_go_lines"), _as_is, None)
    con.execute("DROP TABLE _go_lines")


def _as_is(path: Path) -> Path:
    return path


def _all_go_lines(text: FileText, stop: threading.Event) -> bool:
    """Whether every line of a lean file is as Go writes its fields (`_odd_lines`)."""
    return run_steps(_odd_lines(text, 0, _Verdicts(stop), count_lines=False)) == 0


# A line not as Go writes it, in a block of a lean file's lines: its line number in the file,
# and where it starts and ends (its LF) in the block.
_OddLine = tuple[int, int, int]


class _Verdicts:
    """The check's verdict on each block of a lean file's lines (`_whole_lines`), in order,
    as it gives them: the lines of the block not as Go writes them. The writers wait for
    the verdict on the lines they are to write, and mend those lines as they write them
    (they were mended after, in a second pass over the files written: 3.1 s of a 13.6 s
    full run at 1M rows with 100 such lines). The check begins while the run decides, and
    is mostly ahead of the writer; while a writer writes (`followed`), it waits for the
    writer once it is `_AHEAD` blocks ahead. `stop` stops the check, and so the writers."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self._given: list[list[_OddLine]] = []
        # Where the check counts every block's lines (a statewide run's): every such line
        # so far, by number, and its bytes; the number of the line after each block.
        self._numbers: list[int] = []
        self._lines: list[bytes] = []
        self._ends: list[int] = []
        self._ended = False
        # While a writer writes (`followed`): the block it waits for, or (a statewide
        # writer's) the line.
        self._following = False
        self._wanted_block, self._wanted_line = 0, 0
        self._changed = threading.Condition()

    def give(self, odd: list[_OddLine], block: bytes | memoryview, next_line: int | None) -> None:
        """The verdict on the next block: its lines not as Go writes them; and the number
        of the line after it, where the check counts every block's lines. Returns when the
        check may go on to the next block (`followed`)."""
        with self._changed:
            self._given.append(odd)
            if next_line is not None:  # (a one-county writer has the block: no copy kept)
                self._numbers += [line for line, _, _ in odd]
                self._lines += [bytes(block[start:end]) for _, start, end in odd]
                self._ends.append(next_line)
            self._changed.notify_all()
            while self._following and self._ahead() > _AHEAD and not self.stop.is_set():
                self._changed.wait(timeout=0.1)  # (a stop does not notify)

    def end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @contextmanager
    def followed(self) -> Iterator[None]:
        """While a writer writes from the first block on: the check goes no further than
        `_AHEAD` blocks ahead of the block the writer waits for, so that the pages of the
        input it reads from the disk are in the page cache when the writer reads them
        (where the cache cannot hold the input, each read all of it from the disk: 8.2 and
        8.1 GB of a 10M-row full run's 39 GB on 3 GiB of memory). The check goes on freely
        when the writer ends, however it ends: it would wait for it forever."""
        with self._changed:
            self._following, self._wanted_block, self._wanted_line = True, 0, 0
        try:
            yield
        finally:
            with self._changed:
                self._following = False
                self._changed.notify_all()

    def of(self, block: int) -> list[_OddLine]:
        """Block `block`'s verdict, once given (the one-county writer, block by block)."""
        with self._changed:
            self._wanted_block = block
            self._changed.notify_all()
            while block >= len(self._given):
                self._wait()
            return self._given[block]

    def between(self, first: int, last: int) -> list[tuple[int, bytes]]:
        """The lines numbered `first` to `last` not as Go writes them, with their bytes,
        once the check has passed line `last` (a statewide run's writer, batch by batch of
        rows; its check counts every block's lines)."""
        with self._changed:
            self._wanted_line = last
            self._changed.notify_all()
            while not self._ends or self._ends[-1] <= last:
                self._wait()
            at, end = bisect.bisect_left(self._numbers, first), bisect.bisect(self._numbers, last)
            return list(zip(self._numbers[at:end], self._lines[at:end], strict=True))

    def _ahead(self) -> int:
        """How many blocks the check has given from the one the writer waits for on."""
        if self._wanted_line:
            return len(self._ends) - bisect.bisect(self._ends, self._wanted_line)
        return len(self._given) - self._wanted_block

    def _wait(self) -> None:
        """Wait for the next verdict. Raises _Stopped if the check ended (it found more such
        lines than can be mended, or a file `_whole_lines` does not take) or is stopped."""
        if self._ended or self.stop.is_set():
            raise _Stopped
        self._changed.wait(timeout=0.1)  # (a stop does not notify)


# While a writer writes, the check of the lines goes no further than this many blocks
# (`_FILE_BLOCK`) ahead of it (`_Verdicts.followed`): far enough that the writer does not
# wait for it, near enough that the pages it reads are still in the page cache.
_AHEAD = 8


@dataclass(frozen=True)
class LineCheck:
    """The check of a lean file's lines (`_odd_lines`), begun before its bundle is written,
    and its verdicts, for the writers (`_Verdicts`; their `stop` stops it)."""

    work: IdleWork[int | None]
    verdicts: _Verdicts


def start_line_checks(texts: Sequence[FileText | None], statewide: bool) -> list[LineCheck | None]:
    """Begin checking each lean file's lines now, at the lowest priority (`IdleWork`: while
    the run decides, on the core it leaves idle), for `write_bundle` or, `statewide`,
    `write_county_bundles`, whose writers hurry each check."""
    return [None if t is None else start_line_check(t, statewide) for t in texts]


def start_line_check(text: FileText, statewide: bool) -> LineCheck:
    """`start_line_checks` for one file: a statewide run's writer takes rows, not blocks,
    so its check counts every block's lines (0.27 s of one core at 1M rows)."""
    at_most = max(_ODD_LINES, text.lines // _ODD_LINES_IN)
    verdicts = _Verdicts(threading.Event())
    work = IdleWork(_odd_lines(text, at_most, verdicts, count_lines=statewide), "line check")
    return LineCheck(work, verdicts)


def _odd_lines(
    text: FileText, at_most: int, verdicts: _Verdicts, count_lines: bool
) -> Steps[int | None]:
    """How many lines of a lean file are not as Go writes their fields (`GO_LINES`), if
    there are at most `at_most`; None if there are more, or for a file whose lines
    `_whole_lines` does not take. Each block's such lines are given to `verdicts` as the
    block is checked. A line that is not UTF-8 (a rejected record's, never one to copy) is
    one of them. Block by block (a step of `IdleWork`), each one string matched by Arrow's
    regular expressions (RE2), which leave the GIL to the writers, where it lies in the
    mapped file: 1.2 s of one core for the 800 MB of a 1M-row file (1.8 s read into copies
    and their lines counted), where DuckDB's `regexp_full_match` of each line took 2.9-3.6 s
    (`bench/experiments.py gocheck`); only a block that does not match is matched line by
    line (`_odd_in`), and only then are the lines before it counted (unless `count_lines`,
    when every block's are)."""
    import pyarrow.compute as pc  # not for --help

    odd = 0
    number = 1 + text.header  # the first line of the blocks not counted yet
    uncounted: list[bytes | memoryview] = []  # (lines are counted only before an odd one)
    try:
        for block in _whole_lines(text):
            if verdicts.stop.is_set():
                return None
            yield
            one = _one_text(block)
            go = one is not None and pc.match_substring_regex(one, GO_LINES)[0].as_py() is True
            if go and not count_lines:
                uncounted.append(block)
                verdicts.give([], block, None)
                continue
            number += sum(newlines_in(earlier) for earlier in uncounted)
            uncounted = []
            found = [] if go else [(number + i, s, e) for i, s, e in _odd_in(block, one)]
            odd += len(found)
            if odd > at_most:
                return None
            number += newlines_in(block)
            verdicts.give(found, block, number if count_lines else None)
    except _NotAsIs:
        return None
    finally:
        verdicts.end()
    return odd


def _one_text(block: bytes | memoryview) -> pyarrow.Array | None:
    """`block` as an Arrow array of one string, where it lies (no copy); None if it is not
    UTF-8."""
    import pyarrow as pa

    ends = pa.array([0, len(block)], pa.int64()).buffers()[1]
    one = pa.Array.from_buffers(pa.large_string(), 1, [None, ends, pa.py_buffer(block)])
    try:
        one.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return one


def _odd_in(block: bytes | memoryview, one: pyarrow.Array | None) -> list[tuple[int, int, int]]:
    """The lines of `block` (whole lines, each ending with LF) not as Go writes their
    fields (`_GO_LINE`): each one's index in the block, and its start and end. `one`: the
    block as one Arrow string (`_one_text`), cut into lines by Arrow; None if it is not
    UTF-8, when its lines are cut in Python and one that is not UTF-8 is odd. (A block cut
    and matched by Arrow took 14 ms where the lines as Python strings took 18.)"""
    import pyarrow as pa
    import pyarrow.compute as pc

    if one is not None:
        lines = pc.list_flatten(pc.split_pattern(one, "\n"))  # (the last, after the last LF, is "")
        bad = pc.indices_nonzero(pc.invert(pc.match_substring_regex(lines, _GO_LINE)))
        lengths = pc.binary_length(lines)
        after = pc.cumulative_sum(pc.add(lengths, 1))  # (where each line's LF ends)
        return [
            (i, end - 1 - length, end - 1)
            for i, length, end in zip(
                bad.to_pylist(),
                lengths.take(bad).to_pylist(),
                after.take(bad).to_pylist(),
                strict=True,
            )
        ]
    pieces = bytes(block).split(b"\n")[:-1]
    texts = pa.array([_utf8(piece) for piece in pieces], pa.large_string())
    matched = pc.match_substring_regex(texts, _GO_LINE).to_pylist()
    starts = list(itertools.accumulate((len(piece) + 1 for piece in pieces), initial=0))
    return [
        (i, starts[i], starts[i] + len(pieces[i])) for i, ok in enumerate(matched) if ok is not True
    ]


def _utf8(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None  # (matched as NULL: odd)


class _NotAsIs(Exception):
    """A file whose lines `_whole_lines` does not take."""


class _Stopped(Exception):
    """The writer of a lean file's lines as they are stopped: the run stopped, or the check
    found more lines not as Go writes them than can be mended, or one that cannot be (the
    files are then written from the records quoted as Go does)."""


def _whole_lines(text: FileText) -> Iterator[bytes | memoryview]:
    """A lean file's lines after its header, a block of whole lines at a time, each line
    ending with LF: a CRLF file's line ends made LF (DuckDB's lines end at CRLF in such a
    file), and a last line without its line end given one (Go ends every line). Raises
    _NotAsIs for a file with a CR that does not end a line (in a file whose first line ends
    with CRLF) or with any CR (in a file of LF line ends), or with a byte-order mark and no
    header line.

    The blocks of a file of LF line ends are views of the file mapped into memory, not
    copies (the check matches them where they lie: reading them took a third of its 1.8
    CPU-s at 1M rows); the pages looked at are let go of behind, as they count in the
    process's RSS while mapped. Each block is waited for in a read (`wait_for_pages`): a
    page read from the disk in a page fault holds the interpreter's lock, which the other
    reader of the file (the check, or the writer) then waits for."""
    if text.path.stat().st_size == 0:
        return
    with text.path.open("rb") as source:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        size, view = len(mapped), memoryview(mapped)
        first = mapped[: mapped.find(b"\n") + 1 or size]
        if not text.header and first.startswith(BOM):
            raise _NotAsIs
        crlf = first.endswith(b"\r\n")
        at = len(first) if text.header else 0
        released = ready = 0
        while at < size:
            if at + _FILE_BLOCK > ready:
                ready = wait_for_pages(source.fileno(), at, size)
            end = mapped.find(b"\n", min(at + _FILE_BLOCK, size) - 1) + 1 or size
            block: bytes | memoryview = view[at:end]
            if crlf:
                block = bytes(block).replace(b"\r\n", b"\n")
                if b"\r" in block:
                    raise _NotAsIs
            elif mapped.find(b"\r", at, end) >= 0:
                raise _NotAsIs
            if end == size and mapped[end - 1 : end] != b"\n":  # the last line
                block = bytes(block) + b"\n"
            yield block
            # (the blocks before the one just taken are done with: let go of their pages)
            behind = at - at % mmap.PAGESIZE
            if behind > released:
                mapped.madvise(mmap.MADV_DONTNEED, released, behind - released)
                released = behind
            at = end


def _copy_lines(
    con: duckdb.DuckDBPyConnection, line: str, source: str, header: str, path: Path
) -> None:
    """One streamed COPY: each row's line under `header`, in `source`'s order (plain scans,
    filters and positional joins keep the input order without a sort)."""
    name = header.replace('"', '""')
    copy_to(con, f'SELECT {line} AS "{name}" FROM {source}', path, _COPY_OPTIONS)


_SINGLE_SQL = f"'{SINGLE}'"


def write_bundle(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    n_files: int,
    suffix: str,
    texts: Sequence[FileText | None] = (),
    checks: Sequence[LineCheck | None] = (),
    begin_file: FilePart = _unwatched,
) -> list[Path]:
    """Write the three CSVs per input file of a one-county run; return the paths written.
    `texts[i]`, if given, is where input file i's lines are read from (its rows have no
    q_all); `checks[i]`, the check of its lines begun earlier (`start_line_checks`);
    `begin_file(i)`, the place its writers tell how far they are (`FilePart`)."""
    written: list[Path] = []
    for file_index, names in enumerate(bundle_file_names(n_files, suffix)):
        place = begin_file(file_index)
        paths = {kind: out_dir / name for kind, name in names.items()}
        text = texts[file_index] if texts else None
        from_file = (
            partial(_write_full_from_file, paths, text, _filled_rows(con, file_index), place)
            if text
            else None
        )
        condensed = partial(
            _copy_lines,
            con,
            f"q_condensed || ',' || {_eligibility(_SINGLE_SQL)}",
            f"doj_rows WHERE file_index = {file_index}",
            _header(CONDENSED_COLUMNS),
            paths["condensed"],
        )
        _with_full_rows(
            con,
            file_index,
            text,
            partial(_write_full, con, paths),
            from_file,
            beside=condensed,
            requote=partial(_write_requoted, con, paths, text, file_index, place) if text else None,
            check=checks[file_index] if checks else None,
        )
        written += [paths["all"], paths["condensed"], paths["prop64"]]
    return written


def _write_full(
    con: duckdb.DuckDBPyConnection,
    paths: dict[str, Path],
    rows: str,
    line: str,
    at: Callable[[Path], Path],
    _verdicts: _Verdicts | None,
) -> bool:
    """`_FullWriter` of a one-county run by DuckDB's COPYs, the lines as they are."""
    full = f"{line} || ',' || {_eligibility(_SINGLE_SQL)}"
    _copy_lines(con, full, rows, _header(DOJ_COLUMNS), at(paths["all"]))
    mine = f"{rows} WHERE bundle_folder = {_SINGLE_SQL}"
    _copy_lines(con, full, mine, _header(DOJ_COLUMNS), at(paths["prop64"]))
    return False


def _write_full_from_file(
    paths: dict[str, Path],
    text: FileText,
    filled: Iterator[tuple[int, str, bool]],
    place: Place,
    at: Callable[[Path], Path],
    verdicts: _Verdicts,
) -> bool:
    """All_Results and Prop64_Results of a one-county run from a lean file's own bytes, in
    one pass: each line as it is, followed by its 18 eligibility columns (all empty but for
    the few rows the decisions or Possible Other P64 Charges fill, which the row table
    gives by line number), and the decided rows' lines also to Prop64_Results; a rejected
    record's line and a blank one are left out. A line the check finds not as Go writes it
    is mended on the way (`_mended`). DuckDB's CSV writer took 1.7 s for the 800 MB of
    lines of a 1M-row file alone, and the two COPYs each read the file again: the whole
    bundle took 5.6-6.4 s with them, 3.5-4.3 s with this (three times each, in one
    process). `filled`: the rows with filled columns (`_filled_rows`). Raises _Stopped once
    the check stops or fails. `place` is told how many of the file's lines are written.

    False for a file it does not take, whose files `write` then writes: one whose lines
    `_whole_lines` does not take, or whose lines are not its rows one for one (the lines
    left out aside)."""
    left_out = ((line, None, False) for line in text.left_out)
    to_come = heapq.merge(filled, left_out, key=lambda r: r[0])
    first = 1 + text.header
    try:
        with verdicts.followed():
            blocks = _mended(_whole_lines(text), verdicts, frozenset(text.left_out))
            end = _write_full_lines(
                paths, blocks, to_come, first, at, verdicts.stop, place, text.lines
            )
        return end == first + text.lines
    except _NotAsIs:
        return False


def _mended(
    blocks: Iterable[bytes | memoryview], verdicts: _Verdicts, left_out: frozenset[int]
) -> Iterator[bytes]:
    """Each of a lean file's blocks of lines (`_whole_lines`) once the check has given its
    verdict on it, with the lines not as Go writes them quoted as Go does, from their
    fields (`_as_go_writes`); a line left out (a rejected record's) is not written, and
    stays as it is. Raises _Stopped if the check fails, or a line is not a record of 95
    fields as Python's CSV reader reads it (the reader's DuckDB read it as one: they
    should agree)."""
    for index, block in enumerate(blocks):
        odd = [(start, end) for line, start, end in verdicts.of(index) if line not in left_out]
        if not odd:
            yield bytes(block)
            continue
        go = _as_go_writes([bytes(block[start:end]) for start, end in odd])
        if go is None:
            raise _Stopped
        parts, done = [], 0
        for (start, end), line in zip(odd, go, strict=True):
            parts += [block[done:start], line]
            done = end
        yield b"".join([*parts, block[done:]])


def _write_requoted(
    con: duckdb.DuckDBPyConnection,
    paths: dict[str, Path],
    text: FileText,
    file_index: int,
    place: Place,
) -> None:
    """All_Results and Prop64_Results of a one-county run from a lean file whose lines are
    not all as Go writes them: its records quoted as Go does, streamed from a parallel scan
    of the file (in order) to the writer of `_write_full_from_file`, the records numbered
    in order. A table of the quoted lines and two COPYs of it beside the rows (a positional
    join) took 13.4 s for an all-quoted 1M-row file; this, about 9."""
    filled = (  # (fetched before the stream opens)
        (_records_before(text, line), eligibility, here)
        for line, eligibility, here in _filled_rows(con, file_index)
    )
    records = con.sql(
        f"SELECT {_quoted_line(DOJ_COLUMNS)} || chr(10) AS line FROM {text.records_sql}"
    )
    blocks = (_text_bytes(batch.column(0)) for batch in records.to_arrow_reader(_BATCH_ROWS))
    with ExitStack() as stack:  # (the files take their names only if the rows paired up)
        tmp = {kind: stack.enter_context(atomic_path(paths[kind])) for kind in ("all", "prop64")}
        records = text.lines - len(text.left_out)
        end = _write_full_lines(tmp, blocks, filled, 0, _as_is, threading.Event(), place, records)
        if end != records:
            raise RuntimeError(_UNPAIRED)


def _records_before(text: FileText, line: int) -> int:
    """How many of a lean file's records come before its line `line`: the lines after its
    header, less those that are not records (`left_out`, in order)."""
    return line - (1 + text.header) - bisect.bisect_left(text.left_out, line)


def _as_go_writes(records: list[bytes]) -> list[bytes] | None:
    """Each record (a line of 95 fields, as Python's CSV reader reads it) as Go writes
    its fields, quoted by go_csv's own regular expression (Arrow's RE2, as in DuckDB); None
    if one is not such a record."""
    import pyarrow as pa  # not for --help
    import pyarrow.compute as pc

    fields: list[str] = []
    width = len(DOJ_COLUMNS)
    for record in records:
        try:
            values = next(csv.reader([record.decode("utf-8")], strict=True))
        except (csv.Error, UnicodeDecodeError):
            return None
        if len(values) != width:
            return None
        fields += values
    quoted = pc.match_substring_regex(pa.array(fields, pa.large_string()), _GO_NEEDS_QUOTES)
    go = [
        '"' + v.replace('"', '""') + '"' if q else v
        for v, q in zip(fields, quoted.to_pylist(), strict=True)
    ]
    return [",".join(go[i : i + width]).encode("utf-8") for i in range(0, len(go), width)]


def _write_full_lines(
    paths: dict[str, Path],
    blocks: Iterable[bytes],
    to_come: Iterator[tuple[int, str | None, bool]],
    first: int,
    at: Callable[[Path], Path],
    stop: threading.Event,
    place: Place,
    lines: int,
) -> int | None:
    """Write All_Results and Prop64_Results from `blocks` of whole lines as Go writes them
    (each ending with LF), the first numbered `first`, each followed by its 18 eligibility
    columns (`_LinesWithEligibility`, from `to_come`); the number the next line would have,
    or None if a row of `to_come` was not met. Raises _Stopped once `stop` is set. `place`
    is told how many of the `lines` are written as it goes."""
    header = (_header(DOJ_COLUMNS) + "\n").encode()
    with ExitStack() as stack:
        full, mine = (
            stack.enter_context(StreamedFile(stack.enter_context(atomic_path(at(paths[kind])))))
            for kind in ("all", "prop64")
        )
        full.write(header)
        mine.write(header)
        written = _LinesWithEligibility(to_come, first, full, mine)
        behind = _WriteBehind(stack)
        for block in blocks:
            if stop.is_set():
                raise _Stopped
            behind.write(written.add(block))
            place.reach(written.next_line - first, lines)
        behind.finish()
        return written.next_line if written.filled is None else None


def _filled_rows(
    con: duckdb.DuckDBPyConnection, file_index: int
) -> Iterator[tuple[int, str, bool]]:
    """Input file i's rows whose 18 eligibility columns are not all empty, in line order:
    (line number, the 18 columns, decided here). Fetched at once, as Arrow columns (the
    thread that writes them must not run DuckDB; at 10M rows there are a million of them,
    some 70 MB), and made Python tuples a batch at a time as they are written."""
    table = con.sql(
        f"""SELECT source_line, {_eligibility(_SINGLE_SQL)},
                   coalesce(bundle_folder = {_SINGLE_SQL}, false)
            FROM doj_rows
            WHERE file_index = {file_index}
              AND (bundle_folder IS NOT NULL OR bundle_other IS NOT NULL)
            ORDER BY source_line"""
    ).to_arrow_table()
    return (
        row
        for batch in table.to_batches(10_000)
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True)
    )


_FILE_BLOCK = 8 << 20
# What follows a line whose 18 eligibility columns are all empty.
_EMPTY_ELIGIBILITY = f",{_NO_ELIGIBILITY}\n".encode()


class _LinesWithEligibility:
    """`_write_full_from_file`'s writing, block by block: the rows with filled columns to
    come (line number, the 18 columns, decided here; the columns None for a line left out:
    a rejected record's, a blank one) and the next of them, and the next line's number."""

    def __init__(
        self,
        filled: Iterator[tuple[int, str | None, bool]],
        next_line: int,
        full: StreamedFile,
        mine: StreamedFile,
    ) -> None:
        self.to_come = filled
        self.filled = next(filled, None)
        self.next_line = next_line
        self.full, self.mine = full, mine

    def add(self, buf: bytes) -> list[tuple[StreamedFile, bytes]]:
        """The writes of the lines of `buf` (whole lines, each ending with LF)."""
        parts, decided = [], []
        find = buf.find
        start = pos = 0  # the lines from `start` to `pos` get empty columns
        while self.filled is not None:
            line_no, eligibility, here = self.filled
            while self.next_line < line_no and (lf := find(b"\n", pos)) >= 0:
                pos, self.next_line = lf + 1, self.next_line + 1
            end = find(b"\n", pos) if self.next_line == line_no else -1
            if end < 0:  # in a later block
                break
            parts.append(buf[start:pos].replace(b"\n", _EMPTY_ELIGIBILITY))
            if eligibility is not None:
                line = buf[pos:end] + b"," + eligibility.encode() + b"\n"
                parts.append(line)
                if here:
                    decided.append(line)
            start = pos = end + 1
            self.next_line += 1
            self.filled = next(self.to_come, None)
        parts.append(buf[start:].replace(b"\n", _EMPTY_ELIGIBILITY))
        self.next_line += buf.count(b"\n", pos)
        writes = [(self.full, b"".join(parts))]
        if decided:
            writes.append((self.mine, b"".join(decided)))
        return writes


def write_county_bundles(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    folders: Sequence[str],
    n_files: int,
    suffix: str,
    texts: Sequence[FileText | None] = (),
    checks: Sequence[LineCheck | None] = (),
    begin_file: FilePart = _unwatched,
) -> list[Path]:
    """Statewide: the three CSVs per input file in each county folder; return the paths
    (`texts`, `checks` and `begin_file` as for `write_bundle`).

    One ordered pass per input file writes all of them: each row's full and condensed lines,
    once per folder that shows it (`bundle_folders`), split by folder here with Arrow, batch
    by batch (a stable sort of the batch by folder, then one write of each folder's bytes; no
    Python string per row); Prop64_Results is the full lines of the rows decided in the
    folder. Three COPYs per county before cost twice a one-county run; DuckDB's own
    `COPY … PARTITION_BY` does not keep the rows' order within a partition. (For one county
    the COPYs stay: DuckDB's CSV writer is faster than this Arrow route for one file.)"""
    written: list[Path] = []
    for file_index, names in enumerate(bundle_file_names(n_files, suffix)):
        place = begin_file(file_index)
        text = texts[file_index] if texts else None
        paths = {(f, kind): out / f / names[kind] for f in folders for kind in _KINDS}
        check = checks[file_index] if checks else None
        (last_line,) = con.execute(
            "SELECT max(source_line) FROM doj_rows WHERE file_index = ?", [file_index]
        ).fetchall()[0]
        write = partial(_write_county_files, con, paths, place, last_line or 0)
        _with_full_rows(con, file_index, text, write, check=check)
        written += paths.values()
    return written


_KINDS = ("all", "condensed", "prop64")


def _write_county_files(
    con: duckdb.DuckDBPyConnection,
    paths: dict[tuple[str, str], Path],
    place: Place,
    last_line: int,
    rows: str,
    line: str,
    at: Callable[[Path], Path],
    verdicts: _Verdicts | None,
) -> bool:
    """`_FullWriter` of a statewide run (`write_county_bundles`): with `verdicts`, the lines
    not as Go writes them are mended batch by batch (`_mended_rows`). `place` is told how
    far through the file's lines (to `last_line`) the rows written are."""
    import pyarrow.compute as pc  # not for --help: only a statewide run needs it

    eligibility = _eligibility("folder")
    query = f"""SELECT {line} || ',' || {eligibility} || chr(10) AS full_line,
                       q_condensed || ',' || {eligibility} || chr(10) AS condensed_line,
                       folder, coalesce(bundle_folder = folder, false) AS decided_here,
                       source_line
                FROM (SELECT *, unnest(string_split(bundle_folders, ',')) AS folder
                      FROM {rows})"""
    headers = {
        "all": _header(DOJ_COLUMNS),
        "condensed": _header(CONDENSED_COLUMNS),
        "prop64": _header(DOJ_COLUMNS),
    }
    with ExitStack() as stack:
        files = {}
        for key, path in paths.items():
            tmp = stack.enter_context(atomic_path(at(path)))
            files[key] = stack.enter_context(StreamedFile(tmp))
            files[key].write(headers[key[1]].encode() + b"\n")
        behind = _WriteBehind(stack)
        if verdicts is not None:
            stack.enter_context(verdicts.followed())
        with one_thread(con):
            for rows_read in con.sql(query).to_arrow_reader(_BATCH_ROWS):
                batch = _mended_rows(rows_read, verdicts) if verdicts else rows_read
                # The batch's rows by folder (a stable sort: each folder's rows keep their
                # order; not needed when each folder's rows are together already), then
                # each folder's run of rows: one write per file.
                folder = batch.column("folder")
                runs = pc.run_end_encode(folder)
                if len(runs.values) > pc.count_distinct(folder).as_py():
                    batch = batch.take(pc.sort_indices(folder))
                    runs = pc.run_end_encode(batch.column("folder"))
                ends = runs.run_ends.to_pylist()
                parts: list[tuple[StreamedFile, bytes]] = []
                for name, start, end in zip(
                    runs.values.to_pylist(), [0, *ends], ends, strict=False
                ):
                    if (name, "all") not in files:
                        raise RuntimeError(f"a row for folder {name}, which was not decided")
                    part = batch.slice(start, end - start)
                    full = part.column("full_line")
                    parts += [
                        (files[name, "all"], _text_bytes(full)),
                        (files[name, "condensed"], _text_bytes(part.column("condensed_line"))),
                        (files[name, "prop64"], _text_bytes(full.filter(part["decided_here"]))),
                    ]
                behind.write(parts)
                if len(rows_read):  # (in input order, unlike `batch`)
                    place.reach(rows_read.column("source_line")[-1].as_py(), last_line)
        behind.finish()
    place.reach(last_line, last_line)  # (the last lines may be in no folder)
    return verdicts is not None


def _mended_rows(batch: pyarrow.RecordBatch, verdicts: _Verdicts) -> pyarrow.RecordBatch:
    """A batch of a statewide run's rows (`_write_county_files`) with the full lines that
    the check found not as Go writes them quoted as Go does (`_as_go_writes`), once the
    check has passed them. Raises _Stopped if one cannot be (not a record of 95 fields as
    Python's CSV reader reads it), or the check fails."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = batch.column("source_line")
    if not len(numbers):
        return batch
    odd = dict(verdicts.between(numbers[0].as_py(), numbers[-1].as_py()))
    if not odd:
        return batch
    here = pc.is_in(numbers, pa.array(list(odd), numbers.type))
    old = [odd[number] for number in numbers.filter(here).to_pylist()]  # (once per folder)
    go = _as_go_writes(old)
    full = batch.column("full_line")
    lines = full.filter(here).to_pylist()
    if go is None or not all(x.encode().startswith(o) for x, o in zip(lines, old, strict=True)):
        raise _Stopped
    mended = [new.decode() + x[len(o.decode()) :] for new, x, o in zip(go, lines, old, strict=True)]
    full = pc.replace_with_mask(full, here, pa.array(mended, full.type))
    return batch.set_column(batch.schema.get_field_index("full_line"), "full_line", full)


class _WriteBehind:
    """Writes made by a thread of its own while the next ones are made (the kernel's copy
    into the page cache took a third of a pass on one thread, and more than half of the
    one-county writer's); one set of writes at most waits. `stack` closes the thread."""

    def __init__(self, stack: ExitStack) -> None:
        self._thread = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        self._pending: Future[None] | None = None

    def write(self, parts: list[tuple[StreamedFile, bytes]]) -> None:
        self.finish()
        self._pending = self._thread.submit(self._write, parts)

    def finish(self) -> None:
        """Wait for the writes handed over (and raise their error)."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    @staticmethod
    def _write(parts: list[tuple[StreamedFile, bytes]]) -> None:
        for file, data in parts:
            file.write(data)


_BATCH_ROWS = 20_000  # some 25 MB of lines


def _text_bytes(texts: pyarrow.Array) -> bytes:
    """The bytes of an Arrow string array's values, one after the other (its data buffer
    between its first and last offsets). A copy: writing a view of Arrow's memory took
    twice as long as copying it and writing the copy."""
    import pyarrow as pa

    _validity, offsets, data = texts.buffers()
    width = 8 if pa.types.is_large_string(texts.type) else 4
    first, last = (
        int.from_bytes(offsets[width * i : width * (i + 1)], "little")
        for i in (texts.offset, texts.offset + len(texts))
    )
    return bytes(memoryview(data)[first:last]) if data is not None else b""
