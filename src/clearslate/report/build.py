"""The impact report of one run: HTML (self-contained) and PDF, internal or public."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearslate.report.charts import SERIES_COLOURS, Series, bar_chart_svg
from clearslate.report.data import (
    OUTCOME_LABELS,
    OUTCOMES,
    TOP_COURTS,
    Breakdown,
    RunData,
    load_run,
    since_text,
)
from clearslate.report.disclosure import COMPLEMENT_TEXT, SMALL_MAX, SUPPRESSED_TEXT, Disclosure
from clearslate.report.render import render_html, write_outputs
from clearslate.report.tables import Cell, CountTable, Group, Registry, Row, shown_value

OUTCOME_COLUMNS = [(o, OUTCOME_LABELS[o]) for o in OUTCOMES]
TOTAL_VARS = [f"convictions:{o}" for o in OUTCOMES]
EVALUATED = "convictions:total"


@dataclass
class Figure:
    """A chart with its data table beside it."""

    id: str
    heading: str
    intro: str
    table: CountTable
    what: str  # what the chart shows, the start of its <desc>
    series: Sequence[tuple[str, str]]  # (column key, legend label) drawn as bars
    svg: str = ""


@dataclass
class ReportModel:
    public: bool
    title: str
    facts: list[tuple[str, str, str]]  # (field id, label, text)
    inputs: list[dict[str, Any]]
    rows_table: CountTable
    people_table: CountTable
    reasons_table: CountTable
    figures: list[Figure]
    notes: list[str]
    disclosure: Disclosure
    missing: list[str] = field(default_factory=list)


def _outcome_rows(b: Breakdown) -> list[tuple[str, list[int]]]:
    return [(label, [counts.get(o, 0) for o in OUTCOMES]) for label, counts in b.rows]


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


def _chart(
    d: Disclosure,
    public: bool,
    fig_id: str,
    title: str,
    what: str,
    table: CountTable,
    series: Sequence[tuple[str, str]],
    xlabel: str = "Convictions",
) -> str:
    rows = table.data_rows()
    built = []
    for i, (key, label) in enumerate(series):
        values = [shown_value(d, r.cells[i].var, public) for r in rows]
        colours = None
        if fig_id == "outcomes":  # one bar per outcome, in the outcome's colour
            colours = [SERIES_COLOURS[o] for o in OUTCOMES]
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
    description = _describe(d, public, what, table, [label for _k, label in series])
    return bar_chart_svg(
        f"chart-{fig_id}", title, description, [r.label for r in rows], built, xlabel=xlabel
    )


def build_model(run: RunData, public: bool) -> ReportModel:
    reg = Registry()
    d = reg.disclosure
    summary, gogen, manifest = run.summary, run.gogen, run.manifest

    # Outcomes first: their totals are shared by every table broken down by outcome.
    for o in OUTCOMES:
        reg.var(f"convictions:{o}", run.outcomes[o], shared=True)
    reg.var(EVALUATED, run.evaluated, shared=True)
    d.add_equation(TOTAL_VARS, EVALUATED)
    outcomes = CountTable(
        "outcomes", "Convictions decided, by outcome", "Outcome", [("count", "Convictions")]
    )
    outcomes.groups.append(
        Group(None, [Row(OUTCOME_LABELS[o], [Cell(f"convictions:{o}", "count")]) for o in OUTCOMES])
    )
    outcomes.total = Row("Total", [Cell(EVALUATED, "count")], kind="total")

    rows = summary["rows"]
    rows_table = reg.table(
        "rows",
        "Rows of the research files",
        "Rows",
        [("count", "Rows")],
        [("Accepted", [rows["accepted"]]), ("Rejected (listed in errors.csv)", [rows["rejected"]])],
        row_total=None,
        column_totals=["rows:read"],
        total_label="Read",
    )

    sections = reg.table(
        "sections",
        "Prop 64 convictions decided, by code section, felony and misdemeanor",
        "Code section",
        [("felony", "Felony"), ("misdemeanor", "Misdemeanor or infraction")],
        [(label, [f, m]) for label, f, m in run.sections],
        column_totals=["convictions:felony", "convictions:misdemeanor"],
        grand_total=EVALUATED,
    )

    reason_groups = [
        (OUTCOME_LABELS[o], [(r, [n]) for r, n in run.reasons.get(o, [])], f"convictions:{o}")
        for o in OUTCOMES
        if run.reasons.get(o)
    ]
    reasons_table = reg.table(
        "reasons",
        "Dismissals, reductions and other decisions, by reason",
        "Reason",
        [("count", "Convictions")],
        [],
        row_total=None,
        column_totals=[EVALUATED],
        groups=reason_groups,
    )

    queue = reg.table(
        "review",
        "Convictions sent to review, by reason code",
        "Reason code",
        [("count", "Convictions")],
        [(code, [n]) for code, _reason, n in run.review_queue],
        row_total=None,
        column_totals=["convictions:review"],
        total_label="Sent to review",
    )

    def by_outcome(table_id: str, caption: str, header: str, b: Breakdown, **kw: Any) -> CountTable:
        return reg.table(
            table_id,
            caption,
            header,
            OUTCOME_COLUMNS,
            _outcome_rows(b),
            column_totals=TOTAL_VARS,
            grand_total=EVALUATED,
            **kw,
        )

    people_table = _people_table(reg, gogen, run)

    figures: list[Figure] = []
    missing: list[str] = []

    def figure(
        fig_id: str,
        heading: str,
        intro: str,
        table: CountTable,
        what: str,
        series: Sequence[tuple[str, str]] = OUTCOME_COLUMNS,
    ) -> None:
        figures.append(Figure(fig_id, heading, intro, table, what, series))

    figure(
        "outcomes",
        "Outcomes",
        "Every Prop 64 conviction of the run has exactly one outcome.",
        outcomes,
        "Bar chart of convictions by outcome",
        [("count", "Convictions")],
    )
    figure(
        "sections",
        "Convictions by code section",
        "Felonies and misdemeanors (or infractions) of each Health and Safety Code section.",
        sections,
        "Stacked bar chart of convictions by code section, felony and misdemeanor",
        [("felony", "Felony"), ("misdemeanor", "Misdemeanor or infraction")],
    )
    figure(
        "decade",
        "Cleared convictions by decade of conviction",
        "Decade of the conviction (disposition) date. Dismissed and reduced convictions "
        "are the cleared ones.",
        by_outcome(
            "decade", "Convictions by decade of conviction and outcome", "Decade", run.decade
        ),
        "Stacked bar chart of convictions by decade of conviction and outcome",
    )
    for attr, label in (("race", "race"), ("gender", "gender")):
        b = getattr(run, attr)
        if b is None:
            missing.append(label)
            continue
        figure(
            attr,
            f"By {label}",
            f"The person's {label} as recorded in the DOJ research file (the first row of "
            "the person in the file).",
            by_outcome(
                attr, f"Convictions by the person's {label} and outcome", label.capitalize(), b
            ),
            f"Stacked bar chart of convictions by {label} and outcome",
        )
    figure(
        "age",
        "By age at conviction",
        "Age in completed years on the conviction date, from the date of birth in the "
        "research file.",
        by_outcome(
            "age", "Convictions by age at conviction and outcome", "Age at conviction", run.age
        ),
        "Stacked bar chart of convictions by age at conviction and outcome",
    )
    figure(
        "court",
        "By court",
        f"The court (STP_ORI_DESCR) of the conviction: the {TOP_COURTS} courts with the most "
        "convictions, then all other courts together.",
        by_outcome("court", "Convictions by court and outcome", "Court", run.court),
        "Stacked bar chart of convictions by court and outcome",
    )
    figure(
        "review",
        "Review queue",
        "Convictions a person must look at, by the reason code of the rule that sent them.",
        queue,
        "Bar chart of convictions sent to review, by reason code",
        [("count", "Convictions")],
    )
    if run.multi_county:
        figure(
            "county",
            "By county",
            "Each county's convictions; the last row is the statewide total.",
            by_outcome(
                "county",
                "Convictions by county and outcome",
                "County",
                run.county,
                total_label="Statewide total",
            ),
            "Stacked bar chart of convictions by county and outcome",
        )

    d.apply()  # charts are drawn after suppression, from the published counts only
    for f in figures:
        f.svg = _chart(d, public, f.id, f.heading, f.what, f.table, f.series)

    county = gogen.get("county") or manifest.get("counties", "")
    since = since_text(gogen.get("earliestConviction"))
    policy = manifest.get("policy", {})
    seconds = run.seconds
    facts = [
        ("county", "County", str(county)),
        ("earliest", "Convictions since", since),
        ("as_of", "Decided as of", str(summary.get("as_of", manifest.get("as_of", "")))),
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
    inputs = [
        {"name": Path(str(i.get("path", ""))).name, "sha256": str(i.get("sha256", ""))[:12]}
        for i in manifest.get("inputs", [])
    ]
    notes = _notes(run, public)
    return ReportModel(
        public=public,
        title=f"Prop 64 relief: {county}",
        facts=facts,
        inputs=inputs,
        rows_table=rows_table,
        people_table=people_table,
        reasons_table=reasons_table,
        figures=figures,
        notes=notes,
        disclosure=d,
        missing=missing,
    )


PEOPLE_ROWS = (
    ("CountSubjectsNoFelony", "no_felony", "People who no longer have a felony"),
    (
        "CountSubjectsNoConvictionLast7Years",
        "no_conviction_7y",
        "People with no conviction left in the 7 years before the as-of date",
    ),
    ("CountSubjectsNoConviction", "no_conviction", "People with no conviction left at all"),
)


def _people_table(reg: Registry, gogen: dict[str, Any], run: RunData) -> CountTable:
    """gogen's counts of people: not a sum of anything, so each stands alone."""
    current = gogen.get("reliefWithCurrentEligibilityChoices", {})
    everything = gogen.get("reliefWithDismissAllProp64", {})
    table = CountTable(
        "people",
        "People: relief with this policy, and if every Prop 64 conviction were dismissed",
        "People",
        [("policy", "With this policy"), ("all", "If all were dismissed")],
    )
    rows = [
        Row(
            "People with a Prop 64 conviction decided",
            [
                Cell(
                    reg.var("people:prop64", gogen["subjectsWithProp64ConvictionCountInCounty"]),
                    "policy",
                ),
                Cell("", "all", text="n/a"),
            ],
        ),
        Row(
            "People with some relief",
            [
                Cell(reg.var("people:some_relief", gogen["subjectsWithSomeReliefCount"]), "policy"),
                Cell("", "all", text="n/a"),
            ],
        ),
    ]
    for key, var, label in PEOPLE_ROWS:
        rows.append(
            Row(
                label,
                [
                    Cell(reg.var(f"people:{var}:policy", int(current.get(key, 0))), "policy"),
                    Cell(reg.var(f"people:{var}:all", int(everything.get(key, 0))), "all"),
                ],
            )
        )
    table.groups.append(Group(None, rows))
    return table


def _notes(run: RunData, public: bool) -> list[str]:
    notes = [
        "Convictions are the Prop 64 convictions (HS 11357–11360, attempts included) this run "
        "decided: one row each in determinations.csv. Counts of people come from gogen.json.",
        "Cleared means dismissed or reduced.",
    ]
    if run.person_source and run.person_source != "determinations":
        notes.append(
            "Race and gender were read from the person's first row in "
            f"{run.person_source} (the run's determinations do not carry them)."
        )
    if public:
        notes.append(
            f"Public version: counts from 1 to {SMALL_MAX} are shown as “{SUPPRESSED_TEXT}”, "
            f"and further counts are hidden (“{COMPLEMENT_TEXT}”) wherever a count under "
            f"{SMALL_MAX + 1} could otherwise be worked out from the totals. Hidden counts are "
            "not drawn in the charts on their own: where a row total is published, the sum of "
            "its hidden counts is one grey segment."
        )
    return notes


def build_report(run_dir: Path, *, public: bool = False, pdf: bool = True) -> list[Path]:
    """Write report.html and report.pdf (report-public.* with ``public``) into ``run_dir``."""
    run = load_run(Path(run_dir))
    model = build_model(run, public)
    html = render_html("report.html.j2", model=model, d=model.disclosure)
    stem = "report-public" if public else "report"
    return write_outputs(Path(run_dir), stem, html, pdf=pdf)
