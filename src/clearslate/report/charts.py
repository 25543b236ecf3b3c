"""Charts as inline SVG, drawn by matplotlib's SVG backend with text kept as text.

Each chart is a horizontal bar chart (stacked when there are several series) with a
colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2008). The SVG carries a
``<title>`` and a ``<desc>`` and ``role="img"``; its element ids are prefixed with the chart's
id so that several charts can live in one HTML page. Values given as None (suppressed counts
in a public report) are not drawn, and the bars after them are not shifted by them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

# Okabe-Ito. Outcomes keep one colour each in every chart.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
SERIES_COLOURS = {
    "dismiss": OKABE_ITO["bluish_green"],
    "reduce": OKABE_ITO["blue"],
    "not_eligible": OKABE_ITO["vermillion"],
    "review": OKABE_ITO["orange"],
    "vacate_and_expunge": OKABE_ITO["bluish_green"],
    "expunge_arrest": OKABE_ITO["sky_blue"],
    "eligible_on_motion": OKABE_ITO["blue"],
    "felony": OKABE_ITO["vermillion"],
    "misdemeanor": OKABE_ITO["sky_blue"],
    "count": OKABE_ITO["blue"],
    "hidden": "#BBBBBB",
}
FALLBACK_COLOURS = list(OKABE_ITO.values())
MAX_HEIGHT_IN = 7.0  # fits a US Letter page with its margins, a heading, a line and a caption


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[int | None]  # one per category; None = not shown
    colours: Sequence[str] | None = None  # one per category, else the series' colour


def _matplotlib():  # imported on first use: the CLI stays fast to start
    import matplotlib

    matplotlib.use("svg", force=True)
    import matplotlib.pyplot as plt

    return plt


def bar_chart_svg(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    xlabel: str = "Convictions",
) -> str:
    """An accessible inline SVG: horizontal bars, one per category, stacked by series."""
    plt = _matplotlib()
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    labels = [_short(c) for c in categories] or ["(none)"]
    n = len(labels)
    rc = {
        "svg.fonttype": "none",  # text stays text: selectable, searchable, read by screen readers
        "svg.hashsalt": chart_id,  # stable ids, distinct between charts
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with plt.rc_context(rc):
        # A bar per category, 0.26 in high, until the chart would not fit on a printed page
        # (an SVG cannot be split across pages): then thinner bars and smaller labels.
        extra = 0.8 + (0.3 if len(series) > 1 else 0)
        row = min(0.26, (MAX_HEIGHT_IN - extra) / n)
        fig, ax = plt.subplots(figsize=(7.2, extra + row * n), layout="constrained")
        if row < 0.2:
            ax.tick_params(axis="y", labelsize=max(5.0, row * 60))
        try:
            positions = list(range(n))
            left = [0.0] * n
            for i, s in enumerate(series):
                widths = [float(v) if v else 0.0 for v in s.values] or [0.0]
                colour: Any = SERIES_COLOURS.get(s.key, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)])
                if s.colours is not None:
                    colour = list(s.colours) or colour
                ax.barh(
                    positions,
                    widths,
                    left=left,
                    height=0.7,
                    color=colour,
                    edgecolor="white",
                    linewidth=0.6,
                    label=s.label,
                    hatch="////" if s.key == "hidden" else None,
                )
                left = [a + b for a, b in zip(left, widths, strict=True)]
            ax.set_yticks(positions, labels)
            ax.invert_yaxis()
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
            ax.set_xlim(0, max([*left, 1.0]) * 1.04)
            ax.set_xlabel(xlabel)
            ax.grid(axis="x", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            if len(series) > 1:
                fig.legend(
                    loc="outside upper left",
                    ncol=_legend_columns([s.label for s in series]),
                    frameon=False,
                    handlelength=1.2,
                    columnspacing=1.2,
                )
            buf = io.StringIO()
            fig.savefig(
                buf,
                format="svg",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
            )
        finally:
            plt.close(fig)
    return accessible_svg(buf.getvalue(), chart_id, title, description)


def _legend_columns(labels: Sequence[str], width_in: float = 7.0) -> int:
    """As many legend entries a line as fit the chart's width (a 9 pt character is about
    0.075 in, a handle and the space after it about 0.4 in): a legend wider than the figure
    would be cut off, not wrapped."""
    for ncol in range(min(len(labels), 5), 1, -1):
        lines = [labels[i : i + ncol] for i in range(0, len(labels), ncol)]
        widest = max(sum(0.075 * len(x) + 0.4 for x in line) for line in lines)
        if widest <= width_in:
            return ncol
    return 1


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_OPEN_TAG = re.compile(r"<svg\b[^>]*>")


def accessible_svg(svg: str, chart_id: str, title: str, description: str) -> str:
    """Inline-ready SVG: no XML prologue or DOCTYPE or metadata, ids prefixed with the
    chart id, a ``<title>``/``<desc>`` pair, role and label for assistive technology."""
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _METADATA.sub("", svg)
    prefix = f"{chart_id}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"

    def opening(match: re.Match[str]) -> str:
        tag = match.group(0)
        tag = re.sub(r'\s(width|height)="[^"]*"', "", tag)
        tag = tag[:-1] + (
            f' role="img" aria-labelledby="{title_id} {desc_id}" class="chart"'
            f' preserveAspectRatio="xMinYMin meet">'
        )
        return (
            f'{tag}\n <title id="{title_id}">{escape(title)}</title>\n'
            f' <desc id="{desc_id}">{escape(description)}</desc>'
        )

    return _OPEN_TAG.sub(opening, svg, count=1)
