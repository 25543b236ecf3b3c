"""The impact report of one run: HTML (self-contained) and PDF, internal or public.

The model is built the same way for every jurisdiction: the outcome counts (shared by every
table), the jurisdiction's own head (report/california.py, report/illinois.py: title, facts,
the tables before the charts), then one figure per section of the jurisdiction's description,
each a chart beside its table. Charts are drawn after disclosure control, from what is
published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearslate.report.charts import SERIES_COLOURS, Series, bar_chart_svg
from clearslate.report.data import Breakdown, RunData, load_run
from clearslate.report.disclosure import COMPLEMENT_TEXT, SMALL_MAX, SUPPRESSED_TEXT, Disclosure
from clearslate.report.render import render_html, write_outputs
from clearslate.report.spec import Jurisdiction, Section
from clearslate.report.tables import Cell, CountTable, Group, Registry, Row, shown_value


@dataclass
class Figure:
    """A chart with its data table beside it."""

    id: str
    heading: str
    intro: str
    table: CountTable
    what: str  # what the chart shows, the start of its <desc>
    series: Sequence[tuple[str, str]]  # (column key, legend label) drawn as bars
    xlabel: str = "Convictions"
    svg: str = ""


@dataclass
class Block:
    """A table before the charts, in its own section (people, reasons, …)."""

    id: str
    heading: str
    lede: str
    table: CountTable
    keep: bool = True  # one piece on paper (short tables)


@dataclass
class Head:
    """A jurisdiction's own part of the report."""

    title: str
    lede: str
    facts: list[tuple[str, str, str]]  # (field id, label, text)
    inputs_label: str  # "Research files", "Exports"
    rows_table: CountTable
    blocks: list[Block]
    notes: list[str]
    outcomes_intro: str  # under the heading of the outcomes chart
    missing_note: str = ""  # why optional sections are missing


@dataclass
class ReportModel:
    public: bool
    head: Head
    inputs: list[dict[str, Any]]
    figures: list[Figure]
    disclosure: Disclosure
    missing: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.head.title


def outcome_columns(jur: Jurisdiction) -> list[tuple[str, str]]:
    return [(o, jur.outcome_labels[o]) for o in jur.outcomes]


def _describe(
    d: Disclosure, public: bool, what: str, table: CountTable, series_labels: Sequence[str]
) -> str:
    """Text for the chart's <desc>: every bar and segment, as published."""

    def value(var: str) -> str:
        v = shown_value(d, var, public)
        if v is not None:
            return f"{v:,}"
        return f"fewer than {SMALL_MAX + 1}" if var in d.primary else "hidden"

    parts = []
    for row in table.data_rows():
        segs = [c for c in row.cells if not c.total]
        if len(segs) == 1:
            parts.append(f"{row.label}: {value(segs[0].var)}")
        else:
            inner = ", ".join(
                f"{lab} {value(c.var)}" for lab, c in zip(series_labels, segs, strict=True)
            )
            parts.append(f"{row.label}: {inner}")
    tail = (
        " Hidden counts are not drawn on their own; where the row total is published, "
        "their sum is drawn as one grey segment."
        if public
        else ""
    )
    return f"{what}. " + "; ".join(parts) + "." + tail


def _chart(d: Disclosure, public: bool, jur: Jurisdiction, f: Figure) -> str:
    rows = f.table.data_rows()
    built = []
    for i, (key, label) in enumerate(f.series):
        values = [shown_value(d, r.cells[i].var, public) for r in rows]
        colours = None
        if f.id == "outcomes":  # one bar per outcome, in the outcome's colour
            colours = [SERIES_COLOURS[o] for o in jur.outcomes]
        built.append(Series(key, label, values, colours))
    if public and any(c.total for r in rows for c in r.cells):
        # The hidden counts of a row together: its published total less its published cells.
        rest: list[int | None] = []
        for r in rows:
            total = next(c for c in r.cells if c.total)
            seen = [shown_value(d, c.var, public) for c in r.cells if not c.total]
            known = shown_value(d, total.var, public)
            rest.append(
                known - sum(v for v in seen if v) if known is not None and None in seen else None
            )
        if any(rest):
            built.append(Series("hidden", "Hidden counts", rest))
    description = _describe(d, public, f.what, f.table, [label for _k, label in f.series])
    return bar_chart_svg(
        f"chart-{f.id}",
        f.heading,
        description,
        [r.label for r in rows],
        built,
        xlabel=f.xlabel,
    )


def section_table(reg: Registry, jur: Jurisdiction, s: Section, b: Breakdown) -> CountTable:
    """The table of one section; its totals are the shared counts the section names."""
    if s.columns:
        columns = [(c.key, c.label) for c in s.columns]
        totals = list(s.column_totals) if s.column_totals else None
    else:
        columns = outcome_columns(jur)
        totals = [jur.outcome_var(o) for o in jur.outcomes]
    row_total = ("total", "Total") if len(columns) > 1 and s.row_total else None
    return reg.table(
        s.id,
        s.caption,
        s.row_header,
        columns,
        [(label, [counts.get(k, 0) for k, _ in columns]) for label, counts in b.rows],
        row_total=row_total,
        column_totals=totals,
        grand_total=jur.total_var if row_total else None,
        total_label=s.total_label,
    )


def reasons_table(
    reg: Registry, run: RunData, table_id: str, caption: str, header: str
) -> CountTable:
    """Decided rows by outcome and reason (the jurisdiction's `reason`), one tbody per outcome."""
    jur = run.jurisdiction
    groups = [
        (jur.outcome_labels[o], [(r, [n]) for r, n in run.reasons[o]], jur.outcome_var(o))
        for o in jur.outcomes
        if run.reasons.get(o)
    ]
    return reg.table(
        table_id,
        caption,
        header,
        [("count", jur.unit)],
        [],
        row_total=None,
        column_totals=[jur.total_var],
        groups=groups,
    )


def build_model(run: RunData, public: bool) -> ReportModel:
    jur = run.jurisdiction
    reg = Registry()
    d = reg.disclosure

    # Outcomes first: their totals are shared by every table broken down by outcome.
    for o in jur.outcomes:
        reg.var(jur.outcome_var(o), run.outcomes[o], shared=True)
    reg.var(jur.total_var, run.evaluated, shared=True)
    d.add_equation([jur.outcome_var(o) for o in jur.outcomes], jur.total_var)
    unit = jur.unit
    outcomes = CountTable("outcomes", f"{unit} decided, by outcome", "Outcome", [("count", unit)])
    outcomes.groups.append(
        Group(
            None,
            [Row(jur.outcome_labels[o], [Cell(jur.outcome_var(o), "count")]) for o in jur.outcomes],
        )
    )
    outcomes.total = Row("Total", [Cell(jur.total_var, "count")], kind="total")

    head = jur.head(reg, run, public)
    figures = [
        Figure(
            "outcomes",
            "Outcomes",
            head.outcomes_intro,
            outcomes,
            f"Bar chart of {unit.lower()} by outcome",
            [("count", unit)],
            unit,
        )
    ]
    missing: list[str] = []
    for s in jur.sections:
        b = run.breakdowns.get(s.id)
        if b is None:
            missing.append(s.optional)
            continue
        if s.shown is not None and not s.shown(run):
            continue
        series = [(c.key, c.label) for c in s.columns] or outcome_columns(jur)
        table = section_table(reg, jur, s, b)
        figures.append(Figure(s.id, s.heading, s.intro, table, s.what, series, unit))

    d.apply()  # charts are drawn after suppression, from the published counts only
    for f in figures:
        f.svg = _chart(d, public, jur, f)

    if public:
        head.notes.append(
            f"Public version: counts from 1 to {SMALL_MAX} are shown as “{SUPPRESSED_TEXT}”, "
            f"and further counts are hidden (“{COMPLEMENT_TEXT}”) wherever a count under "
            f"{SMALL_MAX + 1} could otherwise be worked out from the totals. Hidden counts are "
            "not drawn in the charts on their own: where a row total is published, the sum of "
            "its hidden counts is one grey segment."
        )
    inputs = [
        {"name": Path(str(i.get("path", ""))).name, "sha256": str(i.get("sha256", ""))[:12]}
        for i in run.manifest.get("inputs", [])
    ]
    return ReportModel(
        public=public,
        head=head,
        inputs=inputs,
        figures=figures,
        disclosure=d,
        missing=missing,
    )


def common_facts(run: RunData) -> list[tuple[str, str, str]]:
    """Facts every run has: as-of date, policy, law data, version, processing time."""
    manifest, seconds = run.manifest, run.seconds
    policy = manifest.get("policy", {})
    return [
        ("as_of", "Decided as of", str(run.summary.get("as_of", manifest.get("as_of", "")))),
        (
            "policy",
            "Policy",
            f"{policy.get('name', '')} (SHA-256 {policy.get('sha256', '')[:12]}…)",
        ),
        ("law", "Law data", str(manifest.get("law_version", ""))),
        ("version", "clearslate", str(manifest.get("clearslate_version", ""))),
        (
            "processing_time",
            "Processing time",
            f"{seconds:,.1f} seconds" if isinstance(seconds, int | float) else "not recorded",
        ),
    ]


def build_report(run_dir: Path, *, public: bool = False, pdf: bool = True) -> list[Path]:
    """Write report.html and report.pdf (report-public.* with ``public``) into ``run_dir``."""
    run = load_run(Path(run_dir))
    model = build_model(run, public)
    html = render_html("report.html.j2", model=model, d=model.disclosure)
    stem = "report-public" if public else "report"
    return write_outputs(Path(run_dir), stem, html, pdf=pdf)
