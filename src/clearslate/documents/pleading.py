"""Pleading paper: the motion and the proposed order, with the caption of the case.

The page follows the California Rules of Court, rules 2.100-2.119, as a word processor's
pleading template does: 28 numbered lines (24 points apart) in the left margin beside a double
rule, a rule at the right margin, the attorney's block from line 1 (leaving the clerk's space
on the right), the title of the court on line 8, the caption below it with the title of the
case on the left and the case number and the nature of the paper on the right, and on every
page a footer with the page number and the title of the paper. Text is Times 12 point;
paragraphs are double-spaced so that each line of text sits on a numbered line.

Nothing here is one jurisdiction's: the court's title, the parties, the bar-number label and
whether the lines are numbered come from the template's front matter (``court``, ``plaintiff``,
``defendants``, ``counsel_for``, ``bar_label``, ``elected_title``, ``line_numbers``; a ``|``
separates lines). Illinois papers use the same page without line numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from clearslate.documents.layout import (
    LETTER,
    METRICS,
    Block,
    Flow,
    Fonts,
    Frame,
    Layout,
    Style,
    Writer,
    fit,
    rule,
    text_center,
    text_ops,
    text_right,
)
from clearslate.documents.office import Office

LINE_1 = 708.0  # baseline of numbered line 1
STEP = 24.0  # numbered lines are double-spaced
HALF = 12.0
LINES = 28
LEFT_RULE = 86.0
RIGHT_RULE = 572.0
TEXT_X = 100.0
TEXT_W = 466.0
BOTTOM = LINE_1 - (LINES - 1) * STEP  # line 28
CAPTION_SPLIT = 326.0  # the vertical line between case title and case number
OFFICE_BLOCK_W = 262.0


def line_y(n: int) -> float:
    return LINE_1 - (n - 1) * STEP


def pleading_styles() -> dict[str, Style]:
    base = Style(font="Times-Roman", bold="Times-Bold", size=12, leading=STEP)
    return {
        "para": replace(base, first_indent=36.0),
        "title": replace(base, align="center", all_bold=True, keep_with_next=True),
        "heading": replace(base, all_bold=True, keep_with_next=True),
        "bullet": replace(base, left_indent=36.0, bullet="\u2022"),
        "quote": replace(
            base, leading=HALF, left_indent=36.0, right_indent=36.0, space_before=HALF
        ),
        "lines": replace(base, leading=HALF, space_before=HALF),
    }


def _frame_ops(fonts: Fonts, numbered: bool) -> str:
    """Rules and line numbers: the same on every page."""
    if not numbered:
        return ""
    ops = [
        rule(LEFT_RULE, 0, LEFT_RULE, 792, 0.75),
        rule(LEFT_RULE + 3, 0, LEFT_RULE + 3, 792, 0.75),
        rule(RIGHT_RULE, 0, RIGHT_RULE, 792, 0.75),
    ]
    for n in range(1, LINES + 1):
        ops.append(text_right(fonts, "Times-Roman", 12, LEFT_RULE - 8, line_y(n), str(n)))
    return "\n".join(ops)


def _footer_ops(fonts: Fonts, page: int, footer: str) -> str:
    ops = [
        rule(TEXT_X, BOTTOM - 14, TEXT_X + TEXT_W, BOTTOM - 14, 0.75),
        text_center(fonts, "Times-Roman", 12, TEXT_X + TEXT_W / 2, BOTTOM - 28, f"- {page} -"),
    ]
    title = footer
    while title and METRICS.width(title, "Times-Roman", 9) > TEXT_W:
        title = title[: max(len(title) - 4, 1)].rstrip() + "..."
        if len(title) < 8:
            break
    ops.append(text_center(fonts, "Times-Roman", 9, TEXT_X + TEXT_W / 2, BOTTOM - 40, title))
    return "\n".join(ops)


def _office_lines(office: Office, meta: dict[str, str]) -> list[str]:
    lines: list[str] = []
    if office.district_attorney:  # the elected prosecutor, e.g. "Jane Doe, District Attorney"
        title = meta.get("elected_title", "")
        lines.append(f"{office.district_attorney}, {title}" if title else office.district_attorney)
    lines.append(f"{office.attorney_name} ({meta.get('bar_label', 'Bar No.')} {office.bar_number})")
    lines.append(office.attorney_title)
    lines.append(office.office_name)
    lines += office.address
    lines.append(f"Telephone: {office.phone}")
    if office.email:
        lines.append(f"Email: {office.email}")
    lines.append("")
    lines += _split(meta.get("counsel_for", ""))
    out: list[str] = []
    for ln in lines:
        out += fit(ln, "Times-Roman", 12, OFFICE_BLOCK_W) if ln else [""]
    return out


def _split(text: str) -> list[str]:
    """A front-matter value of several lines: ``line one | line two``."""
    return [part.strip() for part in text.split("|") if part.strip()]


def _first_page(fonts: Fonts, office: Office, meta: dict[str, str]) -> tuple[list[str], float]:
    """The office block, court title and caption; returns their ops and the baseline of the
    first body line (a numbered line)."""
    ops: list[str] = []
    y = LINE_1
    for ln in _office_lines(office, meta):
        if ln:
            ops.append(text_ops(fonts, "Times-Roman", 12, TEXT_X, y, ln))
        y -= HALF
    # the title of the court: on line 8, or lower when the office block is long
    n = 8
    while line_y(n) > y:
        n += 1
    y = line_y(n)
    for ln in _split(meta.get("court", "")):
        ops.append(text_center(fonts, "Times-Bold", 12, TEXT_X + TEXT_W / 2, y, ln))
        y -= HALF
    # the caption, from the second numbered line below the court's title
    y = line_y(n + 3)
    top = y
    left_w = CAPTION_SPLIT - TEXT_X - 8
    left: list[tuple[float, str]] = []
    for ln in fit(meta.get("plaintiff", ""), "Times-Roman", 12, left_w):
        left.append((0.0, ln))
    left += [(0.0, ""), (110.0, "Plaintiff,"), (0.0, ""), (50.0, "v."), (0.0, "")]
    for ln in fit(meta.get("defendants", ""), "Times-Roman", 12, left_w):
        left.append((0.0, ln))
    left += [(0.0, ""), (110.0, "Defendants.")]
    yl = top
    for dx, ln in left:
        if ln:
            ops.append(text_ops(fonts, "Times-Roman", 12, TEXT_X + dx, yl, ln))
        yl -= HALF
    right_x = CAPTION_SPLIT + 10
    right_w = TEXT_X + TEXT_W - right_x
    right: list[tuple[str, str]] = [
        ("Times-Roman", f"Case No.: {meta.get('case_no', '')}"),
        ("", ""),
    ]
    for ln in fit(meta.get("title", ""), "Times-Bold", 12, right_w):
        right.append(("Times-Bold", ln))
    if meta.get("subtitle"):
        right.append(("", ""))
        for ln in fit(meta["subtitle"], "Times-Roman", 12, right_w):
            right.append(("Times-Roman", ln))
    for extra in ("line1", "line2", "line3"):
        if meta.get(extra):
            right.append(("", ""))
            right.append(("Times-Roman", meta[extra]))
    yr = top
    for font, ln in right:
        if ln:
            for part in fit(ln, font, 12, right_w):
                ops.append(text_ops(fonts, font, 12, right_x, yr, part))
                yr -= HALF
        else:
            yr -= HALF
    bottom = min(yl, yr) + HALF - 6
    ops.append(rule(CAPTION_SPLIT, top + 10, CAPTION_SPLIT, bottom, 0.75))
    ops.append(rule(TEXT_X, bottom, CAPTION_SPLIT, bottom, 0.75))
    # the body starts on the first numbered line at least one line below the caption
    k = 1
    while line_y(k) > bottom - HALF:
        k += 1
    return ops, line_y(k)


def draw_pleading(
    pdf: Writer, *, office: Office, meta: dict[str, str], blocks: Sequence[Block]
) -> None:
    """Add one pleading's pages to ``pdf``."""
    numbered = meta.get("line_numbers", "yes").lower() not in ("no", "false", "0")
    first_ops, body_top = _first_page(pdf.fonts, office, meta)
    layout = Layout(pdf.fonts, TEXT_W, pleading_styles())
    flow = Flow(layout, Frame(TEXT_X, TEXT_W, LINE_1, BOTTOM), first_top=body_top)
    flow.add(blocks)
    frame = _frame_ops(pdf.fonts, numbered)
    footer = meta.get("footer") or meta.get("title", "")
    for i, page in enumerate(flow.pages, start=1):
        ops = [frame, *(first_ops if i == 1 else []), *page.ops]
        ops.append(_footer_ops(pdf.fonts, i, footer))
        pdf.page(ops, LETTER)
