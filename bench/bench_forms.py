"""Benchmark of filling the office's own fillable PDF form (``documents --form``).

Makes a one-page form like Judicial Council CR-403 (66 text fields, 6 check boxes) with
reportlab, then fills it N times, in one run, two ways: pypdf's
``update_page_form_field_values`` (which builds an appearance stream for every text field)
and clearslate's ``forms._Fields`` (values set on the field objects, the viewer draws them:
``NeedAppearances``). Prints milliseconds per filled form and their ratio.

    python bench/bench_forms.py --forms 200
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from clearslate.documents.forms import _Fields


def make_form() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 750, "TEST FORM: ORDER AFTER PETITION (HS 11361.8)")
    for i in range(66):
        c.acroForm.textfield(
            name=f"T{i}", x=72 + (i % 3) * 170, y=720 - (i // 3) * 30, width=160, height=18
        )
    for i in range(6):
        c.acroForm.checkbox(name=f"C{i}", x=72 + i * 30, y=40, size=14)
    c.save()
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--forms", type=int, default=200)
    n = ap.parse_args().forms
    data = make_form()
    values = [
        {**{f"T{i}": f"value {k} {i}" for i in range(66)}, **{f"C{i}": "/Yes" for i in range(6)}}
        for k in range(n)
    ]
    writer = PdfWriter(clone_from=io.BytesIO(data))
    start = time.perf_counter()
    for v in values:
        for page in writer.pages:
            writer.update_page_form_field_values(page, v, auto_regenerate=False)
        writer.set_need_appearances_writer(True)
        writer.write(io.BytesIO())
    pypdf_ms = (time.perf_counter() - start) / n * 1000
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.set_need_appearances_writer(True)
    fields = _Fields(writer)
    start = time.perf_counter()
    for v in values:
        fields.fill({k: ("yes" if x == "/Yes" else x) for k, x in v.items()})
        out = io.BytesIO()
        writer.write(out)
    ours_ms = (time.perf_counter() - start) / n * 1000
    check = PdfReader(io.BytesIO(out.getvalue())).get_fields() or {}
    assert check["T5"].get("/V") == f"value {n - 1} 5" and check["C1"].get("/V") == "/Yes"
    print(f"pypdf update_page_form_field_values: {pypdf_ms:.1f} ms a form")
    print(f"clearslate _Fields.fill:             {ours_ms:.1f} ms a form")
    print(f"ratio: {pypdf_ms / ours_ms:.1f}x faster")


if __name__ == "__main__":
    main()
