"""The CSV files an office writes by hand or in a spreadsheet (addresses, reviewers'
decisions, Illinois canonical records), read record by record so that one bad record costs
its own line only."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

NEVER_CLOSED = "a quote opened on this line is never closed"
SKIPPED = "Is a closing quote missing? Only this line was skipped; reading went on at the next."


class OfficeCsvError(ValueError):
    """A file whose header cannot be read; the message says why, without the file's name."""


def header_and_records(
    text: str, what: str
) -> tuple[list[str], Iterator[tuple[int, list[str] | None, str]]]:
    """Line 1's column names and the records after it (csv_records). `what` names the file
    in the message ("the address file")."""
    records = csv_records(text)
    first = next(records, None)
    if first is None:
        raise OfficeCsvError(f"{what} is empty.")
    _, header, problem = first
    if header is None:
        raise OfficeCsvError(f"line 1: cannot read the header ({problem}).")
    return header, records


def _well_quoted(lines: list[str]) -> bool:
    """Whether these lines are one record whose quotes close as a CSV writer closes them."""
    try:
        return len(list(csv.reader(lines, strict=True))) == 1
    except csv.Error:
        return False


def csv_records(text: str) -> Iterator[tuple[int, list[str] | None, str]]:
    """The records of an office CSV (its header first), each as ``(line, fields, "")`` or, for
    a record that cannot be read, ``(line, None, reason)``; ``line`` is its first physical line.

    A quote opened and never closed made csv.reader take the rest of the file into one field:
    every later row was lost without a word. So a record that runs over several physical lines
    is taken only if its field count is the header's, its quotes close as a CSV writer closes
    them and the file does not end inside one; otherwise its first line is rejected and
    reading goes on at the next physical line. A quoted line break in a well-formed record (a
    note typed on two lines) still reads."""
    lines = list(io.StringIO(text, newline=""))  # the physical lines, as csv.reader splits them
    width: int | None = None
    start = 0  # index of the line the reader starts at
    while start < len(lines):
        # A last empty line: a record takes it in only when the file ends inside a quote.
        reader = csv.reader(itertools.chain(itertools.islice(lines, start, None), ["\n"]))
        while True:
            first = start + reader.line_num  # index of the record's first line
            try:
                rec = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield first + 1, None, f"not valid CSV ({exc})"
                break
            end = start + reader.line_num  # index after its last line
            if first >= len(lines):
                return  # the empty last line itself
            if end > len(lines):
                yield first + 1, None, f"{NEVER_CLOSED}: the file ends inside it. {SKIPPED}"
                break
            if end - first > 1 and width is not None and len(rec) != width:
                yield (
                    first + 1,
                    None,
                    f"{NEVER_CLOSED} where its row should end (it runs over {end - first} "
                    f"lines and leaves {len(rec)} fields, the header has {width}). {SKIPPED}",
                )
                break
            if end - first > 1 and not _well_quoted(lines[first:end]):
                # the quote was "closed" by a stray one of a later row (text right after it)
                yield (
                    first + 1,
                    None,
                    f"{NEVER_CLOSED} before a comma or the line's end (it runs over "
                    f"{end - first} lines). {SKIPPED}",
                )
                break
            if width is None:
                width = len(rec)
            yield first + 1, rec, ""
        start = first + 1  # the next physical line after the rejected one
