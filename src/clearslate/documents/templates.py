"""The document templates: Jinja2 text that renders to clearslate's block markup.

The shipped templates are in ``templates/`` beside this module. ``--templates DIR`` overrides
them by file name: a file ``DIR/letter_en.j2`` replaces the shipped one, and a template that is
not in DIR is the shipped one. The variables of each template are listed in docs/documents.md.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import jinja2

from clearslate.documents.layout import Block, MarkupError, parse_markup

SHIPPED_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAMES = (
    "motion.j2",
    "order.j2",
    "exhibit.j2",
    "letter_en.j2",
    "letter_es.j2",
    "continuation.j2",
    "caption.j2",
)

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


class TemplateError(ValueError):
    """A template that cannot be read or rendered; the message names the file and line."""


def long_date(value: Any, lang: str = "en") -> str:
    """``September 16, 2005`` / ``16 de septiembre de 2005``; "" for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if lang == "es":
        return f"{value.day} de {MONTHS_ES[value.month - 1]} de {value.year}"
    return f"{MONTHS_EN[value.month - 1]} {value.day}, {value.year}"


def short_date(value: Any) -> str:
    """``09/16/2005``; "" for no date."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return f"{value.month:02d}/{value.day:02d}/{value.year}"


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``: none prints as nothing; a value cannot start a markup line or
    turn text bold (data is data, not markup)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r", " ").replace("\n", " ").replace("**", "*")
    return value


def environment(
    override_dir: Path | None = None, shipped: tuple[Path, ...] = (SHIPPED_DIR,)
) -> jinja2.Environment:
    """Templates from ``override_dir`` first, then the jurisdiction's shipped folders."""
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        if not override_dir.is_dir():
            raise TemplateError(f"{override_dir}: --templates must be a folder of .j2 files.")
        unknown = sorted(p.name for p in override_dir.glob("*.j2") if p.name not in TEMPLATE_NAMES)
        if unknown:
            raise TemplateError(
                f"{override_dir}: unknown template file(s) {', '.join(unknown)}. A template "
                f"overrides the shipped one of the same name: {', '.join(TEMPLATE_NAMES)}."
            )
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders += [jinja2.FileSystemLoader(str(d)) for d in shipped]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        auto_reload=False,
    )
    env.filters["long_date"] = long_date
    env.filters["short_date"] = short_date
    env.globals["plural"] = _plural
    return env


def _template_line(exc: BaseException, name: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def template_path(env: jinja2.Environment, name: str) -> str:
    try:
        _source, filename, _up = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except jinja2.TemplateNotFound:
        return name
    return filename or name


def render(
    env: jinja2.Environment, name: str, context: dict[str, Any]
) -> tuple[dict[str, str], list[Block]]:
    """Render a template and parse its markup; any failure is a TemplateError with file:line."""
    try:
        template = env.get_template(name)
        text = template.render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{exc.filename or name}, line {exc.lineno}: template syntax error: {exc.message}"
        ) from None
    except jinja2.TemplateError as exc:
        line = _template_line(exc, name)
        where = f", line {line}" if line else ""
        raise TemplateError(f"{template_path(env, name)}{where}: {exc}") from None
    except Exception as exc:  # a filter or an expression that failed on the data
        line = _template_line(exc, name)
        where = f", line {line}" if line else ""
        raise TemplateError(
            f"{template_path(env, name)}{where}: {type(exc).__name__}: {exc}"
        ).with_traceback(sys.exc_info()[2]) from None
    try:
        return parse_markup(text, source=name)
    except MarkupError as exc:
        raise TemplateError(str(exc).replace(name, template_path(env, name), 1)) from None
