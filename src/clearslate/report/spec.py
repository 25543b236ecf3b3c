"""What a jurisdiction's report is made of, described as data.

The report machinery (data.py loads, build.py builds, the templates show) is the same for every
jurisdiction. What differs is described here once per jurisdiction (report/california.py,
report/illinois.py): its outcomes, what one decided row is called, how its determinations are
read into the view `d`, and its breakdowns (`Section`s), each a chart with its table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

    from clearslate.report.build import Head
    from clearslate.report.data import RunData
    from clearslate.report.tables import Registry

BY_SIZE = "size"  # rows largest first, then by label
BY_LABEL = "label"  # rows sorted by label
BY_SORT = "sort"  # rows sorted by the section's `sort` expression


@dataclass(frozen=True)
class Column:
    """A count column of a breakdown other than the outcomes: rows of `d` where `where`."""

    key: str
    label: str
    where: str


@dataclass(frozen=True)
class Section:
    """One breakdown of the decided rows: a chart and its table.

    Rows are the values of the SQL expression `label` over the view `view`; columns are the
    outcomes (with a total column) unless `columns` are given. The table's column totals are
    the shared counts `column_totals` (default: the outcome totals), so every table adds up
    to the same numbers and disclosure control sees it.
    """

    id: str
    heading: str
    intro: str
    caption: str
    row_header: str
    what: str  # the chart's description starts with this
    label: str  # SQL over the view
    columns: tuple[Column, ...] = ()
    where: str = ""  # only these rows (SQL over the view)
    column_totals: tuple[str, ...] | None = None  # shared variables, default the outcome totals
    row_total: bool = True  # a total column (with several columns)
    total_label: str = "Total"
    order: str | tuple[str, ...] = BY_SIZE  # BY_SIZE, BY_LABEL, BY_SORT or the labels in order
    sort: str = "NULL"  # with BY_SORT: SQL sort key of a row (its smallest value; NULLs last)
    last: tuple[str, ...] = ()  # catch-all labels moved to the end
    top: int | None = None  # keep the largest rows, sum the rest into `other`
    other: str = ""
    view: str = "d"
    optional: str = ""  # when the view may lack the data: what is missing, in words
    shown: Callable[[RunData], bool] | None = None  # shown only when this says so


@dataclass(frozen=True)
class Jurisdiction:
    """Everything that differs between the reports of two jurisdictions."""

    code: str  # manifest.json "jurisdiction"
    outcomes: tuple[str, ...]
    outcome_labels: dict[str, str]
    unit: str  # one decided row, plural, capitalised: "Convictions", "Charges"
    reason: str  # SQL over `d`: what the reasons table counts per outcome
    # Makes the view `d` (one row per decided row, typed) and any further view the sections
    # read; returns facts for `head` (e.g. where race came from).
    open_view: Callable[[duckdb.DuckDBPyConnection, Path, dict[str, Any]], dict[str, Any]]
    # The jurisdiction's own part of the model: title, facts, the tables before the charts.
    head: Callable[[Registry, RunData, bool], Head]
    sections: tuple[Section, ...] = field(default=())

    @property
    def var(self) -> str:
        """Prefix of the shared outcome counts: `convictions:dismiss`, `charges:review`."""
        return self.unit.lower()

    def outcome_var(self, outcome: str) -> str:
        return f"{self.var}:{outcome}"

    @property
    def total_var(self) -> str:
        return f"{self.var}:total"


_MODULES = {"ca": "clearslate.report.california", "il": "clearslate.report.illinois"}


def jurisdiction(code: str) -> Jurisdiction:
    """The report description of a run's jurisdiction (manifest "jurisdiction", default ca)."""
    from clearslate.report.data import ReportError

    if code not in _MODULES:
        raise ReportError(
            f"manifest.json: jurisdiction {code!r} has no report (known: {', '.join(_MODULES)})."
        )
    return importlib.import_module(_MODULES[code]).JURISDICTION
