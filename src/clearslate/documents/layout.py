"""Text layout and PDF writing for the documents, fast enough for a hundred thousand pages.

Text is laid out here with reportlab's font metrics and turned into PDF operators (a paragraph
that repeats from letter to letter, most of a letter, is wrapped and turned into operators once
and then reused). Two writers take the finished pages:

* :class:`CanvasPdf`, reportlab's canvas (``Canvas.addLiteral``): the court documents and the
  continuation pages of forms, a few thousand pages per run;
* :class:`PdfFile`, a small streaming writer kept for the letter batches only, nine tenths of
  all pages. With the letters on reportlab's canvas (handed finished pages, its cheapest path,
  with its C accelerator rl_accel) the whole command takes 1.33 times the CPU
  (``bench/bench_documents.py --compare-letter-writers``): some 118 s instead of 89 s for the
  66,000 convictions that must fit in 120 s (docs/documents.md, "Speed and memory").

Both take the same page operators and font names, so a page looks the same from either.

Text uses the standard PDF fonts (Times, Helvetica) in WinAnsi encoding, which covers English
and Spanish (á é í ó ú ñ ü ¿ ¡ § “ ” – —). A character outside it prints as "?".

The markup that templates render to is described in ``docs/documents.md``:

    ---                      front matter (``key: value`` lines) between two ``---`` lines
    # Title                  centred, bold
    ## Heading               bold, kept with the next block
    text text                a paragraph (lines are joined; a blank line ends it)
    - item                   a bullet item (indented lines continue it)
    > text                   an indented paragraph
    | text                   a line kept as it is (signature blocks, addresses)
    |> text                  the same, starting at the middle of the page
    ===                      a page break
    **bold**                 bold inside any text
    \\# text                 a backslash keeps a line from being read as markup
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas

ENCODING = "cp1252"  # the WinAnsi encoding of reportlab's standard fonts
FONTS = (
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Courier",
)
LETTER = (612.0, 792.0)
LETTER_LANDSCAPE = (792.0, 612.0)

_TYPOGRAPHY = str.maketrans({"\u00a0": " ", "\u2011": "-", "\u2009": " ", "\u202f": " "})


def pdf_bytes(text: str) -> bytes:
    return text.translate(_TYPOGRAPHY).encode(ENCODING, errors="replace")


# Each byte as it goes inside a PDF literal string: printable ASCII as itself (with \\ ( )
# escaped), every other byte as an octal escape, so that content streams are pure ASCII.
_ESCAPE = {
    b: (("\\" + chr(b)) if chr(b) in "\\()" else chr(b)) if 32 <= b < 127 else f"\\{b:03o}"
    for b in range(256)
}


def pdf_string(text: str) -> str:
    """A PDF literal string, ``(...)``, for text in WinAnsi encoding."""
    if text.isascii():  # most text: only the three special characters need escaping
        if "\\" in text or "(" in text or ")" in text:
            text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return "(" + text + ")"
    return "(" + pdf_bytes(text).decode("latin-1").translate(_ESCAPE) + ")"


class Metrics:
    """Advance widths of the standard fonts, with a cache per font and word."""

    def __init__(self) -> None:
        self._widths = {name: pdfmetrics.getFont(name).widths for name in FONTS}
        self._cache: dict[str, dict[str, float]] = {name: {} for name in FONTS}

    def units(self, text: str, font: str) -> float:
        """Width in thousandths of the font size."""
        cache = self._cache[font]
        w = cache.get(text)
        if w is None:
            widths = self._widths[font]
            w = float(sum(widths[b] for b in pdf_bytes(text)))
            if len(cache) > 100_000:  # bounded: names and numbers are mostly unique
                cache.clear()
            cache[text] = w
        return w

    def cache(self, font: str) -> dict[str, float]:
        return self._cache[font]

    def width(self, text: str, font: str, size: float) -> float:
        return self.units(text, font) * size / 1000.0


METRICS = Metrics()


# ---------------------------------------------------------------------------------------------
# Markup


@dataclass(frozen=True)
class Block:
    """One unit of a rendered template. ``kind`` is title, heading, para, bullet, quote,
    lines (``text`` holds one line per ``\\n``, a line starting with ``\\t`` is at the middle
    column) or break."""

    kind: str
    text: str = ""


class MarkupError(ValueError):
    pass


_FRONT_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s?(.*)$")


def parse_markup(text: str, *, source: str = "template") -> tuple[dict[str, str], list[Block]]:
    """Split a rendered template into its front matter and its blocks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i < len(lines) and lines[i].strip() == "---":
        start = i
        i += 1
        while i < len(lines) and lines[i].strip() != "---":
            line = lines[i].strip()
            if line:
                m = _FRONT_KEY.match(line)
                if not m:
                    raise MarkupError(
                        f"{source}: front matter line {i + 1} is not 'key: value': {line[:60]!r}"
                    )
                meta[m.group(1)] = m.group(2).strip()
            i += 1
        if i >= len(lines):
            raise MarkupError(f"{source}: the front matter opened on line {start + 1} never closes")
        i += 1
    blocks: list[Block] = []
    para: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal para, kind
        if para:
            joiner = "\n" if kind == "lines" else " "
            blocks.append(Block(kind, joiner.join(para)))
        para, kind = [], ""

    for raw in lines[i:]:
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if kind == "bullet" and raw[:1] in (" ", "\t") and not stripped.startswith("- "):
            para.append(stripped)  # continuation of a bullet item
            continue
        if stripped.startswith("\\"):
            new_kind, content = "para", stripped[1:]
        elif stripped == "===":
            flush()
            blocks.append(Block("break"))
            continue
        elif stripped.startswith("## "):
            flush()
            blocks.append(Block("heading", stripped[3:].strip()))
            continue
        elif stripped.startswith("# "):
            flush()
            blocks.append(Block("title", stripped[2:].strip()))
            continue
        elif stripped.startswith("- "):
            flush()
            new_kind, content = "bullet", stripped[2:].strip()
        elif stripped.startswith(">"):
            new_kind, content = "quote", stripped[1:].strip()
        elif stripped.startswith("|>"):
            new_kind, content = "lines", "\t" + line.split("|>", 1)[1].strip()
        elif stripped.startswith("|"):
            new_kind, content = "lines", line.split("|", 1)[1].removeprefix(" ").rstrip()
        else:
            new_kind, content = "para", stripped
        if kind and new_kind != kind:
            flush()
        kind = new_kind
        para.append(content)
    flush()
    return meta, blocks


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def runs(text: str) -> list[tuple[str, bool]]:
    """``**bold**`` spans of a text, as (text, bold) runs."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _BOLD.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


# ---------------------------------------------------------------------------------------------
# Styles and laid-out lines


@dataclass(frozen=True)
class Style:
    font: str = "Times-Roman"
    bold: str = "Times-Bold"
    size: float = 12.0
    leading: float = 24.0
    align: str = "left"  # left | center | right
    first_indent: float = 0.0
    left_indent: float = 0.0
    right_indent: float = 0.0
    space_before: float = 0.0
    bullet: str = ""
    all_bold: bool = False
    keep_with_next: bool = False


@dataclass(frozen=True)
class Line:
    """One laid-out line: ``ops`` draw it with its baseline at y = 0 and the frame's left edge
    at x = 0; ``leading`` is its distance below the line before it."""

    leading: float
    ops: str
    text: str


class Fonts:
    """The PDF resource names of the standard fonts in one document."""

    def __init__(self, refs: dict[str, str]) -> None:
        self.refs = refs
        self.key = tuple(sorted(refs.items()))


Word = tuple[str, bool, float]  # text, bold, width in points


def wrap(text: str, width: float, style: Style) -> list[list[Word]]:
    """Greedy word wrap into lines of (word, bold, width)."""
    size = style.size
    k = size / 1000.0
    regular, bold_c = METRICS.cache(style.font), METRICS.cache(style.bold)
    space = METRICS.units(" ", style.font) * k
    full = width - style.left_indent - style.right_indent
    lines: list[list[Word]] = []
    line: list[Word] = []
    used = 0.0
    avail = full - style.first_indent
    segments = runs(text) if "**" in text else [(text, style.all_bold)]
    for seg, seg_bold in segments:
        bold = seg_bold or style.all_bold
        font = style.bold if bold else style.font
        cache = bold_c if bold else regular
        for token in seg.split():
            u = cache.get(token)
            w = (u if u is not None else METRICS.units(token, font)) * k
            pieces = [(token, w)] if w <= full else _cut(token, font, size, full)
            for word, w in pieces:
                if line and used + space + w > avail:
                    lines.append(line)
                    line, used, avail = [], 0.0, full
                used += w + (space if line else 0.0)
                line.append((word, bold, w))
    if line:
        lines.append(line)
    return lines


def _cut(word: str, font: str, size: float, width: float) -> list[tuple[str, float]]:
    """A token wider than a whole line, cut into pieces that fit."""
    pieces = []
    while word:
        n = len(word)
        while n > 1 and METRICS.width(word[:n], font, size) > width:
            n -= 1
        pieces.append((word[:n], METRICS.width(word[:n], font, size)))
        word = word[n:]
    return pieces


def _line_ops(
    words: list[Word], x0: float, width: float, style: Style, fonts: Fonts
) -> tuple[str, str]:
    """Operators for one line: a text object per run of equal boldness."""
    size = style.size
    space = METRICS.units(" ", style.font) * size / 1000.0
    groups: list[list[Any]] = []  # [bold, [words], width]
    for word, bold, w in words:
        if groups and groups[-1][0] == bold:
            g = groups[-1]
            g[1].append(word)
            g[2] += space + w
        else:
            groups.append([bold, [word], w])
    total = sum(g[2] for g in groups) + space * (len(groups) - 1)
    if style.align == "center":
        x = x0 + (width - total) / 2
    elif style.align == "right":
        x = x0 + width - total
    else:
        x = x0
    parts = []
    texts = []
    for i, (bold, group, w) in enumerate(groups):
        if i:
            x += space
        text = " ".join(group)
        texts.append(text)
        ref = fonts.refs[style.bold if bold else style.font]
        parts.append(f"BT {ref} {size:g} Tf {x:.2f} 0 Td {pdf_string(text)} Tj ET")
        x += w
    return " ".join(parts), " ".join(texts)


class Layout:
    """Lays blocks out as lines for one width, with a bounded cache of repeated blocks."""

    def __init__(self, fonts: Fonts, width: float, styles: dict[str, Style]) -> None:
        self.fonts = fonts
        self.width = width
        self.styles = styles
        self._cache: dict[tuple[Any, ...], list[Line]] = {}

    def lines(self, block: Block) -> list[Line]:
        key = (block.kind, block.text)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        style = self.styles.get(block.kind) or self.styles["para"]
        out: list[Line] = []
        if block.kind == "lines":
            for raw in block.text.split("\n"):
                mid = raw.startswith("\t")
                text = raw.lstrip("\t").rstrip()
                x0 = style.left_indent + (self.width / 2 if mid else 0.0)
                avail = self.width - x0 - style.right_indent
                if not text.strip():
                    out.append(Line(style.leading, "", ""))
                    continue
                segments = runs(text) if "**" in text else [(text, style.all_bold)]
                width = sum(
                    METRICS.width(seg, style.bold if b else style.font, style.size)
                    for seg, b in segments
                )
                if width > avail:  # too long to keep: wrap it, from the same left edge
                    for words in wrap(text, avail, replace(style, first_indent=0.0)):
                        ops, shown = _line_ops(words, x0, avail, style, self.fonts)
                        out.append(Line(style.leading, ops, shown))
                    continue
                # a kept line keeps its own spacing: one text object per bold span
                ops_parts = []
                x = x0
                for seg, b in segments:
                    font = style.bold if b else style.font
                    ref = self.fonts.refs[font]
                    ops_parts.append(
                        f"BT {ref} {style.size:g} Tf {x:.2f} 0 Td {pdf_string(seg)} Tj ET"
                    )
                    x += METRICS.width(seg, font, style.size)
                out.append(Line(style.leading, " ".join(ops_parts), text.replace("**", "").strip()))
        else:
            wrapped = wrap(block.text, self.width, style)
            for i, words in enumerate(wrapped):
                x0 = style.left_indent + (style.first_indent if i == 0 else 0.0)
                avail = self.width - x0 - style.right_indent
                ops, text = _line_ops(words, x0, avail, style, self.fonts)
                if i == 0 and style.bullet:
                    ref = self.fonts.refs[style.font]
                    bx = style.left_indent - METRICS.width(
                        style.bullet + "  ", style.font, style.size
                    )
                    ops = (
                        f"BT {ref} {style.size:g} Tf {bx:.2f} 0 Td "
                        f"{pdf_string(style.bullet)} Tj ET " + ops
                    )
                out.append(Line(style.leading, ops, text))
        if len(self._cache) > 5000:
            self._cache.clear()
        self._cache[key] = out
        return out


# ---------------------------------------------------------------------------------------------
# Pages


@dataclass
class Frame:
    x: float
    width: float
    top: float  # baseline of the first line on a page
    bottom: float  # lowest baseline allowed


@dataclass
class Page:
    ops: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class Flow:
    """Pours blocks into pages. Lines land at their leading below the line before; a block's
    ``space_before`` is dropped at the top of a page; a heading keeps with the next block; a
    paragraph does not leave its first line alone at the foot of a page; the closing kept
    lines (a signature) do not go alone onto a page of their own."""

    def __init__(self, layout: Layout, frame: Frame, first_top: float | None = None) -> None:
        self.layout = layout
        self.frame = frame
        self.first_top = frame.top if first_top is None else first_top
        self.pages: list[Page] = [Page()]
        self.y: float | None = None  # baseline of the last line; None: nothing on this page yet

    def _top(self) -> float:
        return self.first_top if len(self.pages) == 1 else self.frame.top

    def _new_page(self) -> None:
        self.pages.append(Page())
        self.y = None

    def _fits(self, *parts: tuple[Sequence[Line], float]) -> bool:
        """Would these lines (each part: its lines and its space before) fit on this page?"""
        y = self.y
        for lines, space_before in parts:
            for i, ln in enumerate(lines):
                y = self._top() if y is None else y - ln.leading - (space_before if i == 0 else 0)
                if y < self.frame.bottom - 0.01:
                    return False
        return True

    def _needs(self, blocks: list[Block], i: int) -> list[tuple[Sequence[Line], float]]:
        """What must fit below the last line for block i to start on this page: a block of
        kept lines (a signature) whole; a paragraph's first two lines (no line alone at the
        foot of a page); a heading whole with what its next block needs; a short paragraph
        whole with the kept lines that close the text (no signature alone on a page)."""
        block = blocks[i]
        style = self.layout.styles.get(block.kind) or self.layout.styles["para"]
        lines = self.layout.lines(block)
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if nxt is None or nxt.kind == "break":
            return [(lines if block.kind == "lines" else lines[:2], style.space_before)]
        if style.keep_with_next:
            return [(lines, style.space_before), *self._needs(blocks, i + 1)]
        nxt_lines = self.layout.lines(nxt)
        if (
            nxt.kind == "lines"
            and block.kind != "lines"
            and len(lines) <= 4
            and len(nxt_lines) <= 12
            and all(b.kind == "lines" for b in blocks[i + 1 :])
        ):
            nxt_style = self.layout.styles.get(nxt.kind) or self.layout.styles["para"]
            return [(lines, style.space_before), (nxt_lines, nxt_style.space_before)]
        return [(lines if block.kind == "lines" else lines[:2], style.space_before)]

    def space(self, points: float) -> None:
        if self.y is not None:
            self.y -= points

    def add(self, blocks: Iterable[Block]) -> None:
        blocks = list(blocks)
        for i, block in enumerate(blocks):
            if block.kind == "break":
                if self.y is not None:
                    self._new_page()
                continue
            style = self.layout.styles.get(block.kind) or self.layout.styles["para"]
            lines = self.layout.lines(block)
            if not lines:
                continue
            if self.y is not None and not self._fits(*self._needs(blocks, i)):
                self._new_page()
            for j, ln in enumerate(lines):
                if self.y is None:
                    y = self._top()
                else:
                    y = self.y - ln.leading - (style.space_before if j == 0 else 0.0)
                    if y < self.frame.bottom - 0.01:
                        self._new_page()
                        y = self._top()
                self.y = y
                if ln.ops:
                    page = self.pages[-1]
                    page.ops.append(f"q 1 0 0 1 {self.frame.x:.2f} {y:.2f} cm {ln.ops} Q")
                    page.text.append(ln.text)


class PdfFile:
    """A streaming PDF writer for pages of finished operators.

    Each page is compressed and written as soon as it is given, so memory does not grow with
    the page count (reportlab's canvas keeps every page until it saves). The file uses the
    standard Type 1 fonts in WinAnsi encoding, one resource dictionary shared by all pages, and
    no dates or random ids: the same pages give the same bytes."""

    def __init__(
        self, path: Path | BinaryIO, pagesize: tuple[float, float], *, title: str = ""
    ) -> None:
        self._own = isinstance(path, Path | str)
        self._fh: BinaryIO = open(path, "wb") if self._own else path  # type: ignore[arg-type]  # noqa: SIM115
        self._pos = 0
        self._offsets: dict[int, int] = {}
        self._kids: list[int] = []
        self._next = 4 + len(FONTS)  # 1 catalog, 2 pages, 3 resources, 4.. fonts, then pages
        self._size = pagesize
        self._title = title
        self.fonts = Fonts({name: f"/F{i + 1}" for i, name in enumerate(FONTS)})
        self.pages = 0
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self._fh.write(data)
        self._pos += len(data)

    def _object(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[num] = self._pos
        if stream is None:
            self._write(b"%d 0 obj\n%s\nendobj\n" % (num, body))
        else:
            self._write(b"%d 0 obj\n%s\nstream\n" % (num, body))
            self._write(stream)
            self._write(b"\nendstream\nendobj\n")

    def page(self, ops: Iterable[str], pagesize: tuple[float, float] | None = None) -> None:
        data = zlib.compress("\n".join(ops).encode("latin-1"), 1)
        content, page = self._next, self._next + 1
        self._next += 2
        self._object(content, b"<< /Length %d /Filter /FlateDecode >>" % len(data), data)
        w, h = pagesize or self._size
        self._object(
            page,
            b"<< /Type /Page /Parent 2 0 R /Resources 3 0 R /MediaBox [0 0 %s %s] "
            b"/Contents %d 0 R >>" % (_num(w), _num(h), content),
        )
        self._kids.append(page)
        self.pages += 1

    def save(self) -> None:
        if self.pages == 0:
            self.page([])
        fonts = b" ".join(b"/F%d %d 0 R" % (i + 1, 4 + i) for i in range(len(FONTS)))
        self._object(3, b"<< /Font << %s >> /ProcSet [/PDF /Text] >>" % fonts)
        for i, name in enumerate(FONTS):
            encoding = b"" if name in ("Symbol", "ZapfDingbats") else b" /Encoding /WinAnsiEncoding"
            self._object(
                4 + i,
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s%s >>" % (name.encode(), encoding),
            )
        kids = b" ".join(b"%d 0 R" % k for k in self._kids)
        self._object(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._kids)))
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        info = self._next
        title = pdf_string(self._title).encode("latin-1")
        self._object(info, b"<< /Title %s /Creator (clearslate) /Producer (clearslate) >>" % title)
        count = info + 1
        xref = self._pos
        lines = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        for num in range(1, count):
            lines.append(b"%010d 00000 n \n" % self._offsets[num])
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (count, info, xref)
        )
        if self._own:
            self._fh.close()


class CanvasPdf:
    """A PDF written by reportlab's canvas from pages of finished operators; a page may have
    its own size (a landscape exhibit after a portrait motion). reportlab keeps the pages until
    :meth:`save`. ``invariant`` makes the same pages give the same bytes."""

    def __init__(
        self, path: Path | BinaryIO, pagesize: tuple[float, float], *, title: str = ""
    ) -> None:
        target = str(path) if isinstance(path, Path | str) else path
        self._canvas = rl_canvas.Canvas(target, pagesize=pagesize, invariant=1, pageCompression=1)
        self._canvas.setTitle(title)
        self._canvas.setCreator("clearslate")
        self._size = pagesize
        # the resource names reportlab gives the standard fonts in this document
        self.fonts = Fonts({name: self._canvas._doc.getInternalFontName(name) for name in FONTS})
        self.pages = 0

    def page(self, ops: Iterable[str], pagesize: tuple[float, float] | None = None) -> None:
        self._canvas.setPageSize(pagesize or self._size)
        self._canvas.addLiteral("\n".join(ops))
        self._canvas.showPage()
        self.pages += 1

    def save(self) -> None:
        if self.pages == 0:
            self.page([])
        self._canvas.save()


Writer = CanvasPdf | PdfFile  # what the pages of a document are given to


def _num(value: float) -> bytes:
    return (b"%d" % value) if value == int(value) else (b"%.2f" % value)


def text_ops(fonts: Fonts, font: str, size: float, x: float, y: float, text: str) -> str:
    return f"BT {fonts.refs[font]} {size:g} Tf {x:.2f} {y:.2f} Td {pdf_string(text)} Tj ET"


def text_right(fonts: Fonts, font: str, size: float, x_right: float, y: float, text: str) -> str:
    return text_ops(fonts, font, size, x_right - METRICS.width(text, font, size), y, text)


def text_center(fonts: Fonts, font: str, size: float, x_mid: float, y: float, text: str) -> str:
    return text_ops(fonts, font, size, x_mid - METRICS.width(text, font, size) / 2, y, text)


def rule(x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> str:
    return f"{width:g} w {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S"


def fit(text: str, font: str, size: float, width: float) -> list[str]:
    """Wrap one cell's text into lines no wider than ``width`` (hard-cut long tokens)."""
    if not text:
        return [""]
    style = Style(font=font, bold=font, size=size)
    return [" ".join(w[0] for w in ln) for ln in wrap(text, width, style)] or [""]
