"""Filling the office's own fillable PDF form (``--form FORM.pdf --form-map MAP.yaml``).

The map says which form field gets which value, as Jinja2 text, one form per court case of a
person (``per: case``) or per person (``per: person``)::

    name: CR-403                      # optional: used in the continuation page's heading
    per: case                         # case | person
    fields:                           # form field: value (Jinja2); a check box is checked by
      Name: "{{ name }}"              #   true, yes, on, x or 1 and cleared by anything else
      CaseNumber: "{{ case_number }}"
      Dismiss: "{{ dismiss }}"
    rows:                             # optional: the form's numbered lines for counts
      count: 3                        # how many the form has; {n} in a name is 1, 2, ...
      fields:
        "Section{n}": "{{ row.code_section }}"
        "Date{n}": "{{ row.disposition_date | short_date }}"

Counts beyond ``rows.count`` go on continuation pages (template ``continuation.j2``) added
after the form. Fields are filled with pypdf; the files stay fillable.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clearslate.documents.layout import LETTER, CanvasPdf, Flow, Frame, Layout
from clearslate.documents.letters import letter_styles
from clearslate.documents.templates import environment, render
from clearslate.outputs.files import atomic_path

TRUE = {"true", "yes", "on", "x", "1", "checked"}


class FormError(ValueError):
    """A form or form map that cannot be used."""


@dataclass(frozen=True)
class FormMap:
    name: str
    per: str
    fields: dict[str, str]
    row_count: int
    row_fields: dict[str, str]


def _loc(root: yaml.Node | None, *keys: str) -> str:
    node = root
    mark = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        found = None
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found, mark = v, k.start_mark
        node = found
        if node is None:
            break
    return f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def form_fields(form: Path) -> dict[str, str]:
    """The form's fields: name -> /Tx, /Btn, /Ch or /Sig."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(form))
        fields = reader.get_fields() or {}
    except (OSError, PdfReadError, ValueError) as exc:
        raise FormError(f"{form}: cannot read the PDF form ({exc}).") from None
    if not fields:
        raise FormError(f"{form}: this PDF has no fillable fields (no AcroForm).")
    return {name: str(f.get("/FT", "")) for name, f in fields.items()}


def load_form_map(path: Path, form: Path) -> FormMap:
    try:
        text = path.read_text(encoding="utf-8-sig")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise FormError(f"{path}: cannot read the form map ({exc.strerror}).") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise FormError(f"{path}{where}: not valid YAML.") from None
    if not isinstance(data, dict):
        raise FormError(f"{path}: the form map must be a YAML mapping with per: and fields:.")
    unknown = sorted(set(data) - {"name", "per", "fields", "rows"})
    if unknown:
        raise FormError(
            f"{path}{_loc(root, unknown[0])}: {unknown[0]}: unknown key. "
            "Valid keys: name, per, fields, rows."
        )
    per = data.get("per", "case")
    if per not in ("case", "person"):
        raise FormError(f"{path}{_loc(root, 'per')}: per: must be case or person.")
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise FormError(f"{path}{_loc(root, 'fields')}: fields: give form field: value pairs.")
    rows = data.get("rows") or {}
    if not isinstance(rows, dict) or set(rows) - {"count", "fields"}:
        raise FormError(f"{path}{_loc(root, 'rows')}: rows: needs count: and fields: only.")
    count = rows.get("count", 0)
    if rows and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise FormError(f"{path}{_loc(root, 'rows', 'count')}: rows.count: a number, 1 or more.")
    row_fields = rows.get("fields") or {}
    if rows and (not isinstance(row_fields, dict) or not row_fields):
        raise FormError(f"{path}{_loc(root, 'rows', 'fields')}: rows.fields: give field pairs.")
    for name in row_fields:
        if "{n}" not in str(name):
            raise FormError(
                f"{path}{_loc(root, 'rows', 'fields', str(name))}: rows.fields: {name}: a row "
                "field name needs {n} where the row number goes, e.g. Section{n}."
            )
    have = form_fields(form)
    wanted = [str(k) for k in fields] + [
        str(k).replace("{n}", str(i)) for k in row_fields for i in range(1, count + 1)
    ]
    for name in wanted:
        if name not in have:
            close = difflib.get_close_matches(name, list(have), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            key = (
                name
                if name in fields
                else next(
                    (
                        str(k)
                        for k in row_fields
                        if re.fullmatch(re.escape(str(k)).replace(r"\{n\}", r"\d+"), name)
                    ),
                    name,
                )
            )
            section = ("fields",) if name in fields else ("rows", "fields")
            raise FormError(
                f"{path}{_loc(root, *section, key)}: the form {form.name} has no field "
                f"{name!r}.{hint}"
            )
    env = environment(None)
    for k, v in list(fields.items()) + list(row_fields.items()):
        try:
            env.from_string(str(v))
        except Exception as exc:
            section = ("fields",) if k in fields else ("rows", "fields")
            raise FormError(f"{path}{_loc(root, *section, str(k))}: {k}: {exc}") from None
    return FormMap(
        name=str(data.get("name") or form.stem),
        per=per,
        fields={str(k): str(v) for k, v in fields.items()},
        row_count=count if rows else 0,
        row_fields={str(k): str(v) for k, v in row_fields.items()},
    )


@dataclass
class FormJob:
    form: Path
    form_map: FormMap
    items: list[dict[str, Any]]  # one per form to fill: its context, with "file"
    office: dict[str, Any]
    templates: Path | None
    out_dir: Path
    shipped: tuple[Path, ...]  # the jurisdiction's template folders


@dataclass
class FormResult:
    index: list[list[Any]] = field(default_factory=list)


class _Fields:
    """The form's fields in a pypdf writer, found once: each field's dictionary (where its
    value goes), its widgets (where a check box shows its state) and its kind.

    Filling sets the values on these objects directly and leaves the drawing of text fields to
    the viewer (``NeedAppearances``): pypdf's ``update_page_form_field_values`` builds an
    appearance stream for every text field of every form, parsing the field's font each time,
    three quarters of the cost of a form (bench/bench_forms.py)."""

    def __init__(self, writer: Any) -> None:
        from pypdf.generic import NameObject

        self.fields: dict[str, Any] = {}
        self.widgets: dict[str, list[Any]] = {}
        self.kinds: dict[str, str] = {}
        self.on: dict[str, Any] = {}  # a check box's on state (often /Yes, sometimes /On or /1)
        for page in writer.pages:
            for annot in page.get("/Annots", []) or []:
                widget = annot.get_object()
                if widget.get("/Subtype") != "/Widget":
                    continue
                field = widget if "/T" in widget else widget.get("/Parent", widget).get_object()
                names = []
                node = field
                while node is not None and "/T" in node:  # a full name: parent.child
                    names.append(str(node["/T"]))
                    parent = node.get("/Parent")
                    node = parent.get_object() if parent is not None else None
                name = ".".join(reversed(names))
                self.fields[name] = field
                self.widgets.setdefault(name, []).append(widget)
                self.kinds[name] = str(field.get("/FT") or widget.get("/FT") or "")
                states = [k for k in widget.get("/AP", {}).get("/N", {}) if k != "/Off"]
                if states:
                    self.on.setdefault(name, NameObject(states[0]))

    def fill(self, values: dict[str, str]) -> None:
        from pypdf.generic import NameObject, TextStringObject

        off = NameObject("/Off")
        for name, value in values.items():
            field = self.fields.get(name)
            if field is None:
                continue
            if self.kinds[name] == "/Btn":
                state = (
                    self.on.get(name, NameObject("/Yes")) if value.strip().lower() in TRUE else off
                )
                field[NameObject("/V")] = state
                for widget in self.widgets[name]:
                    widget[NameObject("/AS")] = state
            else:
                field[NameObject("/V")] = TextStringObject(value)
                for widget in self.widgets[name]:
                    widget.pop("/AP", None)  # stale: the viewer draws the new value


def _continuation(
    env: Any, templates: Path | None, ctx: dict[str, Any], rows: list[dict[str, Any]], first: int
) -> bytes:
    buf = io.BytesIO()
    pdf = CanvasPdf(buf, LETTER, title="Continuation")
    layout = Layout(pdf.fonts, 468.0, letter_styles())
    context = {
        **ctx,
        "form_name": ctx.get("form_name", "the form"),
        "rows": rows,
        "first_row": first,
        "last_row": first + len(rows) - 1,
        "total_rows": len(ctx["rows"]),
    }
    _meta, blocks = render(env, "continuation.j2", context)
    flow = Flow(layout, Frame(72.0, 468.0, 720.0, 72.0))
    flow.add(blocks)
    for page in flow.pages:
        pdf.page(page.ops)
    pdf.save()
    return buf.getvalue()


def fill_forms(job: FormJob) -> FormResult:
    """Fill one form per item; one PDF file each."""
    from pypdf import PdfReader, PdfWriter

    env = environment(job.templates, job.shipped)
    fmap = job.form_map
    compiled = {k: env.from_string(v) for k, v in fmap.fields.items()}
    compiled_rows = {k: env.from_string(v) for k, v in fmap.row_fields.items()}
    writer = PdfWriter(clone_from=io.BytesIO(job.form.read_bytes()))
    writer.set_need_appearances_writer(True)
    fields = _Fields(writer)
    result = FormResult()
    for item in job.items:
        ctx = {**item, "office": job.office, "form_name": fmap.name}
        values: dict[str, Any] = {}
        for name, tpl in compiled.items():
            values[name] = tpl.render(**ctx)
        rows = item["rows"]
        for i in range(fmap.row_count):
            row = rows[i] if i < len(rows) else None
            for name, tpl in compiled_rows.items():
                values[name.replace("{n}", str(i + 1))] = (
                    tpl.render(**ctx, row=row) if row is not None else ""
                )
        fields.fill(values)
        buf = io.BytesIO()
        writer.write(buf)
        overflow = rows[fmap.row_count :] if fmap.row_count else []
        cont_pages = 0
        out = buf.getvalue()
        if overflow:
            cont = _continuation(env, job.templates, ctx, overflow, fmap.row_count + 1)
            merged = PdfWriter(clone_from=io.BytesIO(out))
            extra = PdfReader(io.BytesIO(cont))
            cont_pages = len(extra.pages)
            merged.append(extra)
            buf = io.BytesIO()
            merged.write(buf)
            out = buf.getvalue()
        path = job.out_dir / item["file"]
        with atomic_path(path) as tmp:
            tmp.write_bytes(out)
        result.index.append(
            [
                item["file"],
                fmap.per,
                item["subject_id"],
                item["name"],
                item["case_number"],
                item["court"],
                len(rows),
                cont_pages,
            ]
        )
    return result


INDEX_COLUMNS = (
    "file",
    "per",
    "subject_id",
    "name",
    "case_number",
    "court",
    "counts",
    "continuation_pages",
)
