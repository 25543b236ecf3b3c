"""Notice letters: one per person, in English and Spanish, in batch PDFs in mailing order.

A letter is the person's first language (from the address file; English when not given) then
the other, each starting on a new page. The first page carries the office's return address at
the top left and the person's address where a #10 double-window envelope shows it (the return
address 0.6 inch from the top, the recipient's block 2.2 inches from the top and 0.9 inch from
the left, the page folded in three). Every page has the letter's id and "Page n of N" in its
footer so that a print-and-mail vendor can check each envelope against the manifest.

Batches are rendered in worker processes; each batch file is written whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from clearslate.documents.layout import (
    LETTER,
    Block,
    Flow,
    Frame,
    Layout,
    Page,
    PdfFile,
    Style,
    fit,
    rule,
    text_ops,
    text_right,
)
from clearslate.documents.templates import environment, render
from clearslate.outputs.files import atomic_path

X = 72.0
WIDTH = 468.0
BOTTOM = 64.0
TOP_FIRST = 792.0 - 3.3 * 72  # below the window
TOP_SECTION = 792.0 - 1.75 * 72  # first page of the second language: below the letterhead
TOP_NEXT = 792.0 - 1.0 * 72
RETURN_X, RETURN_Y = 0.5 * 72, 792.0 - 0.6 * 72
WINDOW_X, WINDOW_Y = 0.9 * 72, 792.0 - 2.2 * 72
LANGUAGES = ("en", "es")


def letter_styles() -> dict[str, Style]:
    base = Style(font="Helvetica", bold="Helvetica-Bold", size=11, leading=13.6)
    return {
        "para": replace(base, space_before=6.0),
        "title": replace(
            base,
            size=13,
            leading=17,
            align="center",
            all_bold=True,
            space_before=8.0,
            keep_with_next=True,
        ),
        "heading": replace(
            base, size=12, leading=15, all_bold=True, space_before=9.0, keep_with_next=True
        ),
        "bullet": replace(base, left_indent=18.0, bullet="\u2022", space_before=3.0),
        "quote": replace(base, left_indent=24.0, right_indent=24.0, space_before=7.0),
        "lines": replace(base, space_before=6.0),
    }


@dataclass
class LetterBatchJob:
    path: Path
    letters: list[dict[str, Any]]
    office: dict[str, Any]
    templates: Path | None
    date: dt.date
    shipped: tuple[Path, ...]  # the jurisdiction's template folders


@dataclass
class LetterBatchResult:
    path: Path
    pages: list[int] = field(default_factory=list)  # per letter


_ENV: dict[Any, Any] = {}


def _env(templates: Path | None, shipped: tuple[Path, ...]) -> Any:
    env = _ENV.get((templates, shipped))
    if env is None:
        env = environment(templates, shipped)
        _ENV.clear()
        _ENV[(templates, shipped)] = env
    return env


def letter_blocks(
    env: Any, letter: dict[str, Any], office: dict[str, Any], date: dt.date, lang: str
) -> tuple[dict[str, str], list[Block]]:
    """The letter in one language: its front matter (``sender``: who the letter is from,
    default the office) and its blocks."""
    context = {**letter, "office": office, "date": date, "language": lang}
    return render(env, f"letter_{lang}.j2", context)


def _letterhead(pdf: PdfFile, sender: str, office: dict[str, Any]) -> list[str]:
    f = pdf.fonts
    ops = [text_ops(f, "Helvetica-Bold", 9, RETURN_X, RETURN_Y, sender)]
    y = RETURN_Y
    for ln in office["address"]:
        y -= 10.5
        ops.append(text_ops(f, "Helvetica", 8.5, RETURN_X, y, ln))
    return ops


def _window(pdf: PdfFile, lines: list[str]) -> list[str]:
    ops = []
    y = WINDOW_Y
    for ln in lines[:6]:
        for part in fit(ln, "Helvetica", 10, 4.0 * 72)[:1]:  # the window is 4 1/2 inches wide
            ops.append(text_ops(pdf.fonts, "Helvetica", 10, WINDOW_X, y, part))
        y -= 11.5
    return ops


def _footer(pdf: PdfFile, office_name: str, letter_id: str, n: int, total: int) -> list[str]:
    f = pdf.fonts
    return [
        rule(X, 50, X + WIDTH, 50, 0.4),
        text_ops(f, "Helvetica", 7.5, X, 40, office_name),
        text_right(
            f, "Helvetica", 7.5, X + WIDTH, 40, f"Letter {letter_id} \u00b7 Page {n} of {total}"
        ),
    ]


def _pages(layout: Layout, blocks: list[Block], first_top: float) -> list[Page]:
    flow = Flow(layout, Frame(X, WIDTH, TOP_NEXT, BOTTOM), first_top=first_top)
    flow.add(blocks)
    return flow.pages


def render_letter_batch(job: LetterBatchJob) -> LetterBatchResult:
    env = _env(job.templates, job.shipped)
    result = LetterBatchResult(job.path)
    with atomic_path(job.path) as tmp:
        pdf = PdfFile(tmp, LETTER, title="Notice letters")
        layout = Layout(pdf.fonts, WIDTH, letter_styles())
        heads: dict[str, list[str]] = {}  # letterhead ops per sender
        for letter in job.letters:
            first = letter["first_language"]
            order = [first] + [lang for lang in LANGUAGES if lang != first]
            sections: list[tuple[str, list[Page]]] = []
            sender = ""
            for i, lang in enumerate(order):
                meta, blocks = letter_blocks(env, letter, job.office, job.date, lang)
                sender = sender or meta.get("sender") or job.office["office_name"]
                sections.append(
                    (lang, _pages(layout, blocks, TOP_FIRST if i == 0 else TOP_SECTION))
                )
            if sender not in heads:
                heads[sender] = _letterhead(pdf, sender, job.office)
            head = heads[sender]
            total = sum(len(p) for _, p in sections)
            n = 0
            for i, (_lang, pages) in enumerate(sections):
                for j, page in enumerate(pages):
                    n += 1
                    ops: list[str] = []
                    if j == 0:
                        ops += head
                        if i == 0:
                            ops += _window(pdf, letter["address"]["lines"])
                    ops += page.ops
                    ops += _footer(pdf, sender, letter["letter_id"], n, total)
                    pdf.page(ops)
            result.pages.append(total)
        pdf.save()
    return result
