"""Count tables: what a template shows, with every count registered for disclosure control.

The HTML of a table says which cells add up: in each row a ``td.total`` is the sum of the
other counts of the row; in each ``tbody`` a ``tr.subtotal`` is the column sum of the other
rows of that ``tbody``; a ``tfoot`` ``tr.total`` is the column sum of every row that is not a
subtotal. Tables are built here with exactly those equations, so what a reader can add up
is what disclosure control protects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clearslate.report.disclosure import SUPPRESSED_TEXT, Disclosure


@dataclass
class Cell:
    var: str
    col: str
    total: bool = False  # a row total (sum of the other counts of the row)
    text: str = ""  # for a cell that is not a count ("—")


@dataclass
class Row:
    label: str
    cells: list[Cell]
    kind: str = "data"  # data | subtotal | total


@dataclass
class Group:
    label: str | None
    rows: list[Row]
    subtotal: Row | None = None


@dataclass
class CountTable:
    id: str
    caption: str
    row_header: str
    columns: list[tuple[str, str]]  # (key, header)
    groups: list[Group] = field(default_factory=list)
    total: Row | None = None
    note: str = ""

    def data_rows(self) -> list[Row]:
        return [r for g in self.groups for r in g.rows]


class Registry:
    """Builds tables and registers their counts and equations in one Disclosure."""

    def __init__(self) -> None:
        self.disclosure = Disclosure()

    def var(self, key: str, value: int, *, shared: bool = False) -> str:
        return self.disclosure.add(key, value, shared=shared)

    def table(
        self,
        table_id: str,
        caption: str,
        row_header: str,
        columns: Sequence[tuple[str, str]],
        rows: Sequence[tuple[str, Sequence[int]]],
        *,
        row_total: tuple[str, str] | None = ("total", "Total"),
        column_totals: Sequence[str] | None = None,
        total_label: str = "Total",
        grand_total: str | None = None,
        note: str = "",
        groups: Sequence[tuple[str | None, Sequence[tuple[str, Sequence[int]]], str | None]]
        | None = None,
    ) -> CountTable:
        """A table of counts.

        ``rows``: (label, one count per column). ``row_total``: add a total column
        (key, header). ``column_totals``: shared variable names for the tfoot cells of the
        count columns (else the table's own). ``grand_total``: the shared variable of the
        tfoot cell of the total column. ``groups``: instead of ``rows``, (label, rows,
        shared subtotal variable of the single count column) per tbody.
        """
        d = self.disclosure
        cols = list(columns)
        headers = cols + ([row_total] if row_total else [])
        table = CountTable(table_id, caption, row_header, headers, note=note)
        grouped = groups if groups is not None else [(None, rows, None)]
        all_rows: list[Row] = []
        for g_label, g_rows, subtotal_var in grouped:
            group = Group(g_label, [])
            for label, values in g_rows:
                cells = []
                for (key, _header), value in zip(cols, values, strict=True):
                    var = self.var(f"{table_id}:{g_label or ''}:{label}:{key}", value)
                    cells.append(Cell(var, key))
                if row_total:
                    total_var = self.var(f"{table_id}:{g_label or ''}:{label}:total", sum(values))
                    d.add_equation([c.var for c in cells], total_var)
                    cells.append(Cell(total_var, row_total[0], total=True))
                row = Row(label, cells)
                group.rows.append(row)
                all_rows.append(row)
            if subtotal_var is not None:
                if len(cols) != 1 or row_total:
                    raise ValueError("subtotals are for tables of one count column")
                d.add_equation([r.cells[0].var for r in group.rows], subtotal_var)
                group.subtotal = Row(
                    f"{g_label}: total", [Cell(subtotal_var, cols[0][0])], kind="subtotal"
                )
            table.groups.append(group)
        if column_totals is not None or grand_total is not None:
            foot: list[Cell] = []
            for i, (key, _header) in enumerate(cols):
                value = sum(d.values[r.cells[i].var] for r in all_rows)
                if column_totals is not None:
                    var = self.var(column_totals[i], value, shared=True)
                else:
                    var = self.var(f"{table_id}:total:{key}", value)
                d.add_equation([r.cells[i].var for r in all_rows], var)
                foot.append(Cell(var, key))
            if row_total:
                value = sum(d.values[c.var] for c in foot)
                if grand_total is not None:
                    var = self.var(grand_total, value, shared=True)
                else:
                    var = self.var(f"{table_id}:total:total", value)
                d.add_equation([r.cells[-1].var for r in all_rows], var)
                d.add_equation([c.var for c in foot], var)
                foot.append(Cell(var, row_total[0], total=True))
            table.total = Row(total_label, foot, kind="total")
        return table


def cell_text(disclosure: Disclosure, cell: Cell, public: bool) -> str:
    if cell.text:
        return cell.text
    if public and cell.var in disclosure.suppressed:
        return SUPPRESSED_TEXT
    return f"{disclosure.values[cell.var]:,}"


def shown_value(disclosure: Disclosure, var: str, public: bool) -> int | None:
    if public and var in disclosure.suppressed:
        return None
    return disclosure.values[var]
