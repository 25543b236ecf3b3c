"""HTML from Jinja2 templates (autoescaped), PDF from that HTML with WeasyPrint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clearslate.outputs.files import atomic_path, write_text
from clearslate.report.disclosure import COMPLEMENT_TEXT, SUPPRESSED_TEXT

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["SUPPRESSED_TEXT"] = SUPPRESSED_TEXT
    env.globals["COMPLEMENT_TEXT"] = COMPLEMENT_TEXT
    env.globals["table_hides"] = lambda d, table: any(
        c.var in d.suppressed
        for r in [*table.data_rows(), *(g.subtotal for g in table.groups if g.subtotal)]
        + ([table.total] if table.total else [])
        for c in r.cells
    )
    env.filters["count"] = lambda n: f"{n:,}"
    return env


def render_html(template: str, **context: Any) -> str:
    from markupsafe import Markup

    env = environment()
    # Charts are SVG made by matplotlib, not user text: mark them safe to inline.
    for fig in getattr(context.get("model"), "figures", []) or []:
        fig.svg = Markup(fig.svg)
    return env.get_template(template).render(**context)


def html_to_pdf(html: str, path: Path) -> None:
    """PDF with WeasyPrint. The HTML is self-contained: fetching anything is refused."""
    import weasyprint

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"the report must be self-contained; refused to fetch {url}")

    with atomic_path(path) as tmp:
        weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf(str(tmp))


def write_outputs(out_dir: Path, stem: str, html: str, *, pdf: bool = True) -> list[Path]:
    html_path = out_dir / f"{stem}.html"
    write_text(html_path, html)
    written = [html_path]
    if pdf:
        pdf_path = out_dir / f"{stem}.pdf"
        html_to_pdf(html, pdf_path)
        written.append(pdf_path)
    return written
