"""The filed papers of one group (a court and a kind of relief): the motion and the proposed
order, each followed by its exhibit, a cover sheet and a paginated table of every case and
count (landscape, the title and column headings repeated on every page, "Page X of Y"); and
the same rows as CSV and XLSX (xlsxwriter) for the court clerk.

Three jobs per group, run in worker processes side by side (the motion, the order, the
tables), each on the group's rows, which the main process wrote to a Parquet file in exhibit
order; the rows are streamed, never all held. reportlab keeps a PDF's pages until it saves
the file (some 20 MB for an exhibit of 66,000 rows).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter

from clearslate import database
from clearslate.documents.data import EXHIBIT_FIELDS
from clearslate.documents.jurisdictions import JURISDICTIONS, Column
from clearslate.documents.layout import (
    LETTER,
    LETTER_LANDSCAPE,
    METRICS,
    Block,
    CanvasPdf,
    Flow,
    Fonts,
    Frame,
    Layout,
    Style,
    fit,
    pdf_string,
    rule,
    text_center,
    text_ops,
    text_right,
)
from clearslate.documents.office import Office
from clearslate.documents.pleading import draw_pleading
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


@dataclass
class Paper:
    """A motion or an order: its file, and its template's front matter and blocks."""

    path: Path
    meta: dict[str, str]
    blocks: list[Block]


@dataclass
class ExhibitRows:
    """A group's exhibit: its rows and how they are shown."""

    rows: Path  # Parquet, EXHIBIT_FIELDS (+ the jurisdiction's) and n, in exhibit order
    meta: dict[str, str]  # the exhibit's front matter
    note: list[Block] = field(default_factory=list)
    exhibit: str = "A"
    jurisdiction: str = "ca"


@dataclass
class PaperJob:
    """A motion or an order with the exhibit attached."""

    paper: Paper
    office: Office
    exhibit: ExhibitRows


@dataclass
class TablesJob:
    """The exhibit as CSV and XLSX for the court clerk."""

    csv: Path
    xlsx: Path
    exhibit: ExhibitRows


@dataclass
class Rendered:
    rows: int
    pages: int  # PDF: the paper's own pages, without the exhibit; tables: 0
    exhibit_pages: int = 0


def _read(path: Path) -> Iterator[dict[str, Any]]:
    con = database.connect(config={"threads": 1})
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


def _fit_cells(cells: list[str], columns: tuple[Column, ...]) -> list[list[str]]:
    out = []
    for text, col in zip(cells, columns, strict=True):
        avail = col.width - 2 * PAD
        if METRICS.width(text, FONT, SIZE) <= avail:
            out.append([text])
        else:
            out.append(fit(text, FONT, SIZE, avail))
    return out


def _row_height(lines: list[list[str]]) -> float:
    return max(len(c) for c in lines) * LEAD + PAD


class _Table:
    def __init__(self, fonts: Fonts, columns: tuple[Column, ...]) -> None:
        assert abs(sum(c.width for c in columns) - TABLE_W) < 0.01
        self.fonts = fonts
        self.columns = columns
        self.font_ref = self.fonts.refs[FONT]
        xs = []
        x = MARGIN
        for c in columns:
            xs.append(x)
            x += c.width
        self.xs = xs

    def header(self, top: float) -> list[str]:
        ops = [f"0.85 g {MARGIN:.2f} {top - HEADER_H:.2f} {TABLE_W:.2f} {HEADER_H:.2f} re f 0 g"]
        y = top - HEADER_H + 4.2
        for c, x in zip(self.columns, self.xs, strict=True):
            label, w, right = c.heading, c.width, c.right
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
        for cell, c, x in zip(lines, self.columns, self.xs, strict=True):
            w, right = c.width, c.right
            y = top - SIZE - 0.6
            for text in cell:
                if text:
                    tx = x + w - PAD - METRICS.width(text, FONT, SIZE) if right else x + PAD
                    parts.append(
                        f"BT {ref} {SIZE:g} Tf {tx:.2f} {y:.2f} Td {pdf_string(text)} Tj ET"
                    )
                y -= LEAD
        return " ".join(parts), h


def _note_flow(fonts: Fonts, blocks: list[Block], top: float) -> tuple[list[str], float]:
    if not blocks:
        return [], top
    style = Style(font=FONT, bold=BOLD, size=9, leading=11.5, space_before=4)
    layout = Layout(fonts, TABLE_W, {"para": style, "heading": style, "title": style})
    flow = Flow(layout, Frame(MARGIN, TABLE_W, top - 9, BOTTOM + 40))
    flow.add(blocks)
    y = flow.y if flow.y is not None else top
    return flow.pages[0].ops, y - 8


def _title_ops(f: Fonts, meta: dict[str, str], page: int, pages: int) -> list[str]:
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


def _cover_ops(f: Fonts, exhibit: str, meta: dict[str, str]) -> list[str]:
    """The exhibit's cover sheet (portrait): EXHIBIT A, and what it lists."""
    mid = LETTER[0] / 2
    ops = [text_center(f, BOLD, 28, mid, 430, f"EXHIBIT {exhibit}")]
    for i, ln in enumerate(fit(meta.get("subtitle", ""), FONT, 11, 430)[:4]):
        ops.append(text_center(f, FONT, 11, mid, 395 - 15 * i, ln))
    return ops


def _xlsx(path: Path, header: list[str]) -> tuple[Any, Any, Any]:
    """A one-sheet workbook written row by row (constant_memory) with a bold, frozen header,
    column widths and a date format; fixed document properties give the same bytes."""
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"created": dt.datetime(2000, 1, 1), "title": "Exhibit"})
    ws = wb.add_worksheet("Exhibit")
    for i, name in enumerate(header):
        ws.set_column(i, i, 30 if name in ("name", "relief", "citation", "decided_by") else 13)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, header, wb.add_format({"bold": True}))
    return wb, ws, wb.add_format({"num_format": "mm/dd/yyyy"})


def render_paper(job: PaperJob) -> Rendered:
    """Write a motion or an order followed by the exhibit: its cover sheet, then the table."""
    ex = job.exhibit
    columns = JURISDICTIONS[ex.jurisdiction].columns
    paper = job.paper
    with atomic_path(paper.path) as tmp:
        pdf = CanvasPdf(tmp, LETTER, title=paper.meta.get("title", paper.path.stem))
        draw_pleading(pdf, office=job.office, meta=paper.meta, blocks=paper.blocks)
        paper_pages = pdf.pages
        pdf.page(_cover_ops(pdf.fonts, ex.exhibit, ex.meta), LETTER)
        top0 = _table_top(ex.meta)
        note_ops, first_top = _note_flow(pdf.fonts, ex.note, top0)
        # pass 1: paginate
        breaks: list[int] = []  # rows on each page
        y = first_top - HEADER_H
        on_page = 0
        total = 0
        for r in _read(ex.rows):
            total += 1
            h = _row_height(_fit_cells([c.cell(total, r) for c in columns], columns))
            if y - h < BOTTOM and on_page:
                breaks.append(on_page)
                on_page = 0
                y = top0 - HEADER_H
            y -= h
            on_page += 1
        breaks.append(on_page)
        # pass 2: draw
        table = _Table(pdf.fonts, columns)
        rows = _read(ex.rows)
        n = 0
        for page_no, count in enumerate(breaks, start=1):
            ops = _title_ops(pdf.fonts, ex.meta, page_no, len(breaks))
            top = top0
            if page_no == 1:
                ops += note_ops
                top = first_top
            ops += table.header(top)
            y = top - HEADER_H
            for _ in range(count):
                r = next(rows)
                n += 1
                cells = [c.cell(n, r) for c in columns]
                row_ops, h = table.row(y, _fit_cells(cells, columns), shade=n % 2 == 0)
                ops.append(row_ops)
                y -= h
            ops.append(rule(MARGIN, y, MARGIN + TABLE_W, y, 0.5))
            pdf.page(ops, LETTER_LANDSCAPE)
        for _ in rows:  # exhaust the reader (closes its connection)
            pass
        pdf.save()
    return Rendered(total, paper_pages, len(breaks))


def write_tables(job: TablesJob) -> Rendered:
    """Write the exhibit's CSV and XLSX, row by row."""
    ex = job.exhibit
    fields = JURISDICTIONS[ex.jurisdiction].csv_columns
    header = [name for name, _ in fields]
    n = 0
    with (
        atomic_path(job.xlsx) as tmp_xlsx,
        atomic_path(job.csv) as tmp_csv,
        tmp_csv.open("w", newline="", encoding="utf-8") as fh,
    ):
        wb, ws, date_format = _xlsx(tmp_xlsx, header)
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for r in _read(ex.rows):
            n += 1
            record = [value(n, r) for _, value in fields]
            writer.writerow(["" if v is None else v for v in record])
            for col, v in enumerate(record):
                if isinstance(v, dt.date):  # a real date in the workbook
                    ws.write_datetime(n, col, v, date_format)
                elif isinstance(v, int):
                    ws.write_number(n, col, v)
                elif v:
                    ws.write_string(n, col, v)
        ws.autofilter(0, 0, n, len(header) - 1)
        wb.close()
    return Rendered(n, 0)


__all__ = [
    "EXHIBIT_FIELDS",
    "ExhibitRows",
    "Paper",
    "PaperJob",
    "TablesJob",
    "render_paper",
    "write_tables",
]
