"""The exhibit of a motion: every conviction it covers, as a paginated PDF table (landscape,
the column headings repeated on every page, "Page X of Y"), and the same rows as CSV and XLSX
for the court clerk.

Runs in a worker process on the group's rows, which the main process wrote to a Parquet file
in exhibit order; the rows are read twice (once to paginate, once to draw), never all held.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate.documents.data import (
    EXHIBIT_FIELDS,
    RELIEF_TITLES,
    count_number,
    dob_label,
    statute_label,
)
from clearslate.documents.layout import (
    LETTER_LANDSCAPE,
    METRICS,
    Block,
    Flow,
    Frame,
    Layout,
    PdfFile,
    Style,
    fit,
    pdf_string,
    rule,
    text_center,
    text_ops,
    text_right,
)
from clearslate.documents.xlsx import XlsxWriter
from clearslate.outputs.files import atomic_path

PAGE_W, PAGE_H = LETTER_LANDSCAPE
MARGIN = 36.0
TABLE_W = PAGE_W - 2 * MARGIN
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
SIZE = 8.0
LEAD = 9.6
PAD = 3.0
HEADER_H = 14.0
BOTTOM = 52.0  # the lowest row's bottom edge

# (heading, width in points, right-aligned, wraps)
COLUMNS: tuple[tuple[str, float, bool], ...] = (
    ("No.", 34.0, True),
    ("Case number", 80.0, False),
    ("Count", 30.0, True),
    ("Name", 148.0, False),
    ("Date of birth", 56.0, False),
    ("CII", 60.0, False),
    ("Code section", 88.0, False),
    ("Level", 44.0, False),
    ("Disposition", 52.0, False),
    ("Relief", 128.0, False),
)
assert abs(sum(c[1] for c in COLUMNS) - TABLE_W) < 0.01

CSV_COLUMNS = (
    "row",
    "case_number",
    "count",
    "name",
    "dob",
    "cii_number",
    "code_section",
    "code_section_raw",
    "level",
    "disposition_date",
    "relief",
    "citation",
    "sentence_status",
    "subject_id",
    "cnt_order",
    "source_file",
    "source_line",
    "decided_by",
)
XLSX_WIDTHS = (7, 14, 7, 30, 12, 13, 16, 18, 12, 12, 34, 34, 10, 12, 15, 16, 10, 26)


@dataclass
class ExhibitJob:
    rows: Path  # Parquet, EXHIBIT_FIELDS plus n (the row number), in exhibit order
    pdf: Path
    csv: Path
    xlsx: Path
    meta: dict[str, str]
    note: list[Block] = field(default_factory=list)


@dataclass
class ExhibitResult:
    pdf: Path
    rows: int
    pages: int


def _level(felony: Any) -> str:
    if felony is None:
        return ""
    return "Felony" if felony else "Misd./Infr."


def _relief_label(relief: str, track: str, felony: Any) -> str:
    if relief == "reduce" and felony is False:
        return "Redesignate (reduce)"
    return RELIEF_TITLES.get((relief, track), relief)


def _read(path: Path) -> Iterator[dict[str, Any]]:
    con = duckdb.connect(config={"threads": 1})
    con.execute("SET enable_progress_bar = false")
    try:
        cur = con.execute(
            "SELECT * FROM read_parquet(?) ORDER BY n", [str(path)]
        )  # n: the exhibit's own order
        names = [d[0] for d in cur.description]
        while batch := cur.fetchmany(4096):
            for rec in batch:
                yield dict(zip(names, rec, strict=True))
    finally:
        con.close()


def _cells(n: int, r: dict[str, Any]) -> list[str]:
    date = r["disposition_date"]
    return [
        str(n),
        r["case_number"] or "(none)",
        count_number(r["cnt_order"]),
        r["name"] or "",
        dob_label(r["dob"]),
        r["cii_number"] or "",
        statute_label(r["statute"], r["code_section_raw"], bool(r["attempt"])),
        _level(r["felony"]),
        f"{date.month:02d}/{date.day:02d}/{date.year}" if date else "unknown",
        _relief_label(r["relief"], r["track"], r["felony"]),
    ]


def _fit_cells(cells: list[str]) -> list[list[str]]:
    out = []
    for text, (_, width, _) in zip(cells, COLUMNS, strict=True):
        avail = width - 2 * PAD
        if METRICS.width(text, FONT, SIZE) <= avail:
            out.append([text])
        else:
            out.append(fit(text, FONT, SIZE, avail))
    return out


def _row_height(lines: list[list[str]]) -> float:
    return max(len(c) for c in lines) * LEAD + PAD


class _Table:
    def __init__(self, pdf: PdfFile) -> None:
        self.fonts = pdf.fonts
        self.font_ref = self.fonts.refs[FONT]
        xs = []
        x = MARGIN
        for _, w, _ in COLUMNS:
            xs.append(x)
            x += w
        self.xs = xs

    def header(self, top: float) -> list[str]:
        ops = [f"0.85 g {MARGIN:.2f} {top - HEADER_H:.2f} {TABLE_W:.2f} {HEADER_H:.2f} re f 0 g"]
        y = top - HEADER_H + 4.2
        for (label, w, right), x in zip(COLUMNS, self.xs, strict=True):
            if right:
                ops.append(text_right(self.fonts, BOLD, SIZE, x + w - PAD, y, label))
            else:
                ops.append(text_ops(self.fonts, BOLD, SIZE, x + PAD, y, label))
        ops.append(rule(MARGIN, top - HEADER_H, MARGIN + TABLE_W, top - HEADER_H, 0.5))
        return ops

    def row(self, top: float, lines: list[list[str]], shade: bool) -> tuple[str, float]:
        h = _row_height(lines)
        parts = []
        if shade:
            parts.append(f"0.93 g {MARGIN:.2f} {top - h:.2f} {TABLE_W:.2f} {h:.2f} re f 0 g")
        ref = self.font_ref
        for cell, (_, w, right), x in zip(lines, COLUMNS, self.xs, strict=True):
            y = top - SIZE - 0.6
            for text in cell:
                if text:
                    tx = x + w - PAD - METRICS.width(text, FONT, SIZE) if right else x + PAD
                    parts.append(
                        f"BT {ref} {SIZE:g} Tf {tx:.2f} {y:.2f} Td {pdf_string(text)} Tj ET"
                    )
                y -= LEAD
        return " ".join(parts), h


def _note_flow(pdf: PdfFile, blocks: list[Block], top: float) -> tuple[list[str], float]:
    if not blocks:
        return [], top
    style = Style(font=FONT, bold=BOLD, size=9, leading=11.5, space_before=4)
    layout = Layout(pdf.fonts, TABLE_W, {"para": style, "heading": style, "title": style})
    flow = Flow(layout, Frame(MARGIN, TABLE_W, top - 9, BOTTOM + 40))
    flow.add(blocks)
    y = flow.y if flow.y is not None else top
    return flow.pages[0].ops, y - 8


def _title_ops(pdf: PdfFile, meta: dict[str, str], page: int, pages: int) -> list[str]:
    f = pdf.fonts
    mid = PAGE_W / 2
    ops = [text_center(f, BOLD, 14, mid, PAGE_H - 34, meta.get("title", "EXHIBIT"))]
    if meta.get("subtitle"):
        for i, ln in enumerate(fit(meta["subtitle"], FONT, 9, TABLE_W)[:2]):
            ops.append(text_center(f, FONT, 9, mid, PAGE_H - 48 - 11 * i, ln))
    ops.append(rule(MARGIN, 40, MARGIN + TABLE_W, 40, 0.5))
    footer = fit(meta.get("footer", ""), FONT, 7.5, TABLE_W - 90)[0]
    ops.append(text_ops(f, FONT, 7.5, MARGIN, 30, footer))
    ops.append(text_right(f, FONT, 8, MARGIN + TABLE_W, 30, f"Page {page} of {pages}"))
    return ops


def _table_top(meta: dict[str, str]) -> float:
    lines = len(fit(meta["subtitle"], FONT, 9, TABLE_W)[:2]) if meta.get("subtitle") else 0
    return PAGE_H - 48 - 11 * lines - 4


def render_exhibit(job: ExhibitJob) -> ExhibitResult:
    """Write the exhibit's PDF, CSV and XLSX."""
    top0 = _table_top(job.meta)
    # pass 1: paginate
    with atomic_path(job.pdf) as tmp_pdf:
        pdf = PdfFile(tmp_pdf, LETTER_LANDSCAPE, title=job.meta.get("title", "Exhibit"))
        note_ops, first_top = _note_flow(pdf, job.note, top0)
        breaks: list[int] = []  # rows on each page
        avail_top = first_top - HEADER_H
        y = avail_top
        on_page = 0
        total = 0
        for r in _read(job.rows):
            total += 1
            h = _row_height(_fit_cells(_cells(total, r)))
            if y - h < BOTTOM and on_page:
                breaks.append(on_page)
                on_page = 0
                y = top0 - HEADER_H
            y -= h
            on_page += 1
        breaks.append(on_page)
        pages = len(breaks)
        # pass 2: draw, and write the CSV and XLSX
        table = _Table(pdf)
        with (
            atomic_path(job.xlsx) as tmp_xlsx,
            atomic_path(job.csv) as tmp_csv,
            tmp_csv.open("w", newline="", encoding="utf-8") as fh,
        ):
            xlsx = XlsxWriter(tmp_xlsx, "Exhibit", list(CSV_COLUMNS), list(XLSX_WIDTHS))
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            rows = _read(job.rows)
            n = 0
            for page_no, count in enumerate(breaks, start=1):
                ops = _title_ops(pdf, job.meta, page_no, pages)
                top = top0
                if page_no == 1:
                    ops += note_ops
                    top = first_top
                ops += table.header(top)
                y = top - HEADER_H
                for _ in range(count):
                    r = next(rows)
                    n += 1
                    cells = _cells(n, r)
                    row_ops, h = table.row(y, _fit_cells(cells), shade=n % 2 == 0)
                    ops.append(row_ops)
                    y -= h
                    record = _record(n, r, cells)
                    writer.writerow(["" if v is None else v for v in record])
                    xlsx.row(record)
                ops.append(rule(MARGIN, y, MARGIN + TABLE_W, y, 0.5))
                pdf.page(ops)
            for _ in rows:  # exhaust the reader (closes its connection)
                pass
            xlsx.close()
        pdf.save()
    return ExhibitResult(job.pdf, total, pages)


def _record(n: int, r: dict[str, Any], cells: list[str]) -> list[Any]:
    date = r["disposition_date"]
    return [
        n,
        r["case_number"] or "",
        cells[2],
        r["name"] or "",
        cells[4],
        r["cii_number"] or "",
        cells[6],
        r["code_section_raw"] or "",
        cells[7],
        date if isinstance(date, dt.date) else None,
        cells[9],
        r["relief_citation"] or "",
        r["sentence_status"] or "",
        r["subject_id"] or "",
        r["cnt_order"] or "",
        os.path.basename(r["source_file"] or ""),
        r["source_line"],
        r["decided_by"] or "",
    ]


__all__ = ["EXHIBIT_FIELDS", "ExhibitJob", "ExhibitResult", "render_exhibit"]
