"""`clearslate report` and `clearslate compare`: numbers recomputed independently from the
run's files, disclosure control, self-containment, accessibility, and the pages as a browser
and a PDF viewer show them.

Set CLEARSLATE_REPORT_SHOTS=DIR to keep the screenshots and PDF pages for a look."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter, defaultdict
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from clearslate.cli_documents import documents
from clearslate.cli_report import compare, report
from clearslate.outputs.files import sha256_file
from clearslate.policy import DEFAULT_POLICY
from clearslate.report.disclosure import Disclosure
from clearslate.run import RunOptions
from clearslate.run import run as run_job
from clearslate.synth import generate_doj_file

AS_OF = dt.date(2020, 7, 1)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTCOMES = ("dismiss", "reduce", "not_eligible", "review")

cli = typer.Typer()
cli.command()(report)
cli.command()(compare)
cli.command()(documents)
runner = CliRunner()


# ------------------------------------------------------------------------------------------
# Fixtures: runs of generated research files
# ------------------------------------------------------------------------------------------


def _run(path: Path, out: Path, counties: list[str] | None) -> Path:
    run_job(
        RunOptions(
            inputs=[path],
            outputs=out,
            counties=counties,
            as_of=AS_OF,
            policy=DEFAULT_POLICY,
            policy_source="dismiss-all",
        )
    )
    return out


@pytest.fixture(scope="module")
def la(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An LA run with both reports written into it."""
    base = tmp_path_factory.mktemp("la")
    research = base / "la.csv"
    generate_doj_file(research, county="LOS ANGELES", rows=6000, seed=5)
    out = _run(research, base / "out", ["LOS ANGELES"])
    for flags in ([], ["--public"]):
        result = runner.invoke(cli, ["report", str(out), *flags])
        assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def statewide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `--county ALL` run with its public report (no PDF)."""
    base = tmp_path_factory.mktemp("all")
    research = base / "all.csv"
    generate_doj_file(research, county="ALL", rows=6000, seed=8)
    out = _run(research, base / "out", None)
    for flags in (["--no-pdf"], ["--public", "--no-pdf"]):
        result = runner.invoke(cli, ["report", str(out), *flags])
        assert result.exit_code == 0, result.output
    return out


def _shots_dir() -> Path | None:
    value = os.environ.get("CLEARSLATE_REPORT_SHOTS")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


# ------------------------------------------------------------------------------------------
# Reading the HTML back
# ------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table.counts: its tbodies, rows and cells with their attributes and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict[str, Any]] = {}
        self.fields: dict[str, str] = {}
        self.svgs: list[dict[str, Any]] = []
        self._table: dict[str, Any] | None = None
        self._section: list[Any] | None = None
        self._row: dict[str, Any] | None = None
        self._cell: dict[str, Any] | None = None
        self._field: str | None = None
        self._svg: dict[str, Any] | None = None
        self._svg_part: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and "data-table" in a:
            self._table = {"id": a["data-table"], "bodies": [], "foot": []}
            self.tables[a["data-table"]] = self._table
        elif self._table is not None and tag == "tbody":
            self._section = []
            self._table["bodies"].append(self._section)
        elif self._table is not None and tag == "tfoot":
            self._section = self._table["foot"]
        elif self._table is not None and tag == "tr" and self._section is not None:
            self._row = {"class": a.get("class", ""), "label": "", "cells": []}
            self._section.append(self._row)
        elif self._row is not None and tag in ("td", "th"):
            self._cell = {"tag": tag, "attrs": a, "text": ""}
            if tag == "td":
                self._row["cells"].append(self._cell)
        elif "data-field" in a:
            self._field = a["data-field"]
            self.fields[self._field] = ""
        elif tag == "svg":
            self._svg = {"attrs": a, "title": "", "desc": ""}
            self.svgs.append(self._svg)
        elif self._svg is not None and tag in ("title", "desc"):
            self._svg_part = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = self._section = self._row = None
        elif tag in ("tbody", "tfoot"):
            self._section = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            if self._cell["tag"] == "th" and self._row is not None and not self._row["label"]:
                self._row["label"] = self._cell["text"].strip()
            self._cell = None
        elif tag in ("dd", "span") and self._field:
            self._field = None
        elif tag == "svg":
            self._svg = None
        elif tag in ("title", "desc"):
            self._svg_part = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
        if self._field:
            self.fields[self._field] += data
        if self._svg is not None and self._svg_part:
            self._svg[self._svg_part] += data


def parse(path: Path) -> _Tables:
    p = _Tables()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def numbers(tables: _Tables, table: str) -> dict[tuple[str, str], int | None]:
    """(row label, column key) -> published count (None if hidden), rows of every section."""
    found: dict[tuple[str, str], int | None] = {}
    t = tables.tables[table]
    for section in [*t["bodies"], t["foot"]]:
        for row in section:
            for cell in row["cells"]:
                a = cell["attrs"]
                if "data-var" not in a:
                    continue
                key = (a["data-row"], a["data-col"])
                found[key] = int(a["data-value"]) if "data-value" in a else None
    return found


def outcome_table(tables: _Tables, table: str) -> dict[str, dict[str, int | None]]:
    rows: dict[str, dict[str, int | None]] = defaultdict(dict)
    for (row, col), value in numbers(tables, table).items():
        rows[row][col] = value
    return dict(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def counts_by(rows: list[dict[str, str]], key: Any) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        table[key(r)][r["outcome"]] += 1
    return {k: {o: c[o] for o in OUTCOMES} | {"total": sum(c.values())} for k, c in table.items()}


def _age_group(r: dict[str, str]) -> str:
    dob = json.loads(r["facts"]).get("dob")
    if not dob or not r["disposition_date"]:
        return "Age unknown"
    born, convicted = dt.date.fromisoformat(dob), dt.date.fromisoformat(r["disposition_date"])
    age = convicted.year - born.year - ((convicted.month, convicted.day) < (born.month, born.day))
    for label, lo, hi in (
        ("Under 18", 0, 17),
        ("18–20", 18, 20),
        ("21–24", 21, 24),
        ("25–29", 25, 29),
        ("30–39", 30, 39),
        ("40–49", 40, 49),
        ("50 and over", 50, 200),
    ):
        if lo <= age <= hi:
            return label
    return "Age unknown"


def _first_rows(research: Path) -> dict[str, tuple[str, str]]:
    """Each person's race and gender from their first row of the research file."""
    people: dict[str, tuple[str, str]] = {}
    with research.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            people.setdefault(
                row["SUBJECT_ID"].strip(), (row["RACE_DESCR"].strip(), row["GENDER"].strip())
            )
    return people


def _assert_breakdown(
    html: dict[str, dict[str, int | None]], expected: dict[str, dict[str, int]], table: str
) -> None:
    for label, counts in expected.items():
        assert html[label] == counts, (table, label)


# ------------------------------------------------------------------------------------------
# The numbers
# ------------------------------------------------------------------------------------------


def test_report_numbers_equal_the_determinations_and_the_summaries(la: Path) -> None:
    tables = parse(la / "report.html")
    det = read_csv(la / "determinations.csv")
    summary = json.loads((la / "summary.json").read_text())
    gogen = json.loads((la / "gogen.json").read_text())
    assert det and len(det) == summary["convictions"]["evaluated"]

    # Outcomes, and the totals every breakdown shares.
    outcomes = Counter(r["outcome"] for r in det)
    got = numbers(tables, "outcomes")
    labels = {
        "dismiss": "Dismissed",
        "reduce": "Reduced to a misdemeanor",
        "not_eligible": "Not eligible",
        "review": "Sent to review",
    }
    for o in OUTCOMES:
        assert got[(labels[o], "count")] == outcomes[o] == summary["outcomes"].get(o, 0)
    assert got[("Total", "count")] == len(det)

    # Sections by felony/misdemeanor, as gogen and summary.json count them.
    sections = outcome_table(tables, "sections")
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for r in det:
        section = json.loads(r["facts"])["prop64_section"]
        label = f"HS {section}" if section else "Section only in the comment text"
        by[label]["felony" if r["felony"] == "true" else "misdemeanor"] += 1
    for label, c in by.items():
        assert sections[label] == {
            "felony": c["felony"],
            "misdemeanor": c["misdemeanor"],
            "total": c.total(),
        }
        if label.startswith("HS "):
            code = label[3:]
            assert c.total() == gogen["prop64ConvictionsCountInCountyByCodeSection"][code]
    assert sections["Total"]["felony"] == sum(
        v for k, v in summary["by_section"].items() if k.endswith(" felony")
    )
    assert sections["Total"]["felony"] >= gogen["prop64FelonyConvictionsCountInCounty"]

    # Reasons: every (outcome, reason) of summary.json; gogen's dismissals by section.
    reasons = numbers(tables, "reasons")
    for key, n in summary["reasons"].items():
        outcome, reason = key.split(": ", 1)
        assert reasons[(reason, "count")] == n, key
        assert reasons[(f"{labels[outcome]}: total", "count")] == summary["outcomes"][outcome]
    for section, n in gogen["convictionDismissalCountByCodeSection"].items():
        assert reasons.get((f"Dismiss all HS {section} convictions", "count"), 0) == n

    # Review queue by reason code.
    queue = numbers(tables, "review")
    codes = Counter(r["reason_code"] for r in det if r["outcome"] == "review")
    assert codes == Counter(summary["review_queue"])
    for code, n in codes.items():
        assert queue[(code, "count")] == n
    assert queue[("Sent to review", "count")] == outcomes["review"]

    # Breakdowns by outcome, recomputed row by row.
    def decade(r: dict[str, str]) -> str:
        d = r["disposition_date"]
        return f"{int(d[:4]) // 10 * 10}s" if d else "Date unknown"

    _assert_breakdown(outcome_table(tables, "decade"), counts_by(det, decade), "decade")
    _assert_breakdown(outcome_table(tables, "age"), counts_by(det, _age_group), "age")
    people = _first_rows(Path(json.loads((la / "manifest.json").read_text())["inputs"][0]["path"]))
    for attr, index in (("race", 0), ("gender", 1)):
        expected = counts_by(det, lambda r, i=index: people[r["subject_id"]][i] or "Not recorded")
        _assert_breakdown(outcome_table(tables, attr), expected, attr)
    courts = counts_by(det, lambda r: r["court"] or "Not recorded")
    html_courts = outcome_table(tables, "court")
    for label, counts in html_courts.items():
        if label not in ("Total", "All other courts"):
            assert counts == courts[label], label
    for table in ("decade", "age", "race", "gender", "court"):
        total = outcome_table(tables, table)["Total"]
        assert total == {o: outcomes[o] for o in OUTCOMES} | {"total": len(det)}, table

    # People: gogen's counts.
    ppl = numbers(tables, "people")
    assert ppl[("People with some relief", "policy")] == gogen["subjectsWithSomeReliefCount"]
    assert ppl[("People with some relief", "policy")] == len(
        {r["subject_id"] for r in det if r["outcome"] in ("dismiss", "reduce")}
    )
    assert (
        ppl[("People with a Prop 64 conviction decided", "policy")]
        == gogen["subjectsWithProp64ConvictionCountInCounty"]
    )
    for label, key in (
        ("People who no longer have a felony", "CountSubjectsNoFelony"),
        (
            "People with no conviction left in the 7 years before the as-of date",
            "CountSubjectsNoConvictionLast7Years",
        ),
        ("People with no conviction left at all", "CountSubjectsNoConviction"),
    ):
        assert ppl[(label, "policy")] == gogen["reliefWithCurrentEligibilityChoices"][key]
        assert ppl[(label, "all")] == gogen["reliefWithDismissAllProp64"][key]

    # The run: rows, county, since, processing time.
    rows = numbers(tables, "rows")
    assert rows[("Read", "count")] == summary["rows"]["read"] == 6000
    assert rows[("Accepted", "count")] == summary["rows"]["accepted"]
    assert tables.fields["county"] == "LOS ANGELES"
    earliest = dt.date.fromisoformat(gogen["earliestConviction"][:10])
    assert tables.fields["earliest"] == f"{earliest:%B} {earliest.day}, {earliest.year}"
    assert tables.fields["processing_time"] == f"{gogen['processingTimeInSeconds']:,.1f} seconds"
    assert "county" not in tables.tables  # one county: no per-county table


def test_statewide_report_has_counties_and_a_statewide_total(statewide: Path) -> None:
    tables = parse(statewide / "report.html")
    det = read_csv(statewide / "determinations.csv")
    counties = outcome_table(tables, "county")
    expected = counts_by(det, lambda r: r["county"] or "County unknown")
    assert len(expected) > 10
    _assert_breakdown(counties, expected, "county")
    total = counties["Statewide total"]
    assert total["total"] == len(det)
    summary = json.loads((statewide / "summary.json").read_text())
    for key, n in summary["by_county"].items():
        county, outcome = key.rsplit(": ", 1)
        assert counties[county][outcome] == n


def test_report_is_reproducible(la: Path, tmp_path: Path) -> None:
    before = (la / "report-public.html").read_bytes()
    copy = tmp_path / "copy"
    shutil.copytree(la, copy)
    result = runner.invoke(cli, ["report", str(copy), "--public", "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert (copy / "report-public.html").read_bytes() == before


# ------------------------------------------------------------------------------------------
# Disclosure control
# ------------------------------------------------------------------------------------------


def _equations(tables: _Tables) -> tuple[list[tuple[list[str], str]], dict[str, int | None]]:
    """The sums a reader can check, from the HTML structure alone, and every count."""
    equations: list[tuple[list[str], str]] = []
    values: dict[str, int | None] = {}

    def var(cell: dict[str, Any]) -> str | None:
        a = cell["attrs"]
        if "data-var" not in a:
            return None
        values[a["data-var"]] = int(a["data-value"]) if "data-value" in a else None
        return a["data-var"]

    for t in tables.tables.values():
        data_rows = []
        for body in t["bodies"]:
            plain = [r for r in body if "subtotal" not in r["class"] and r["cells"]]
            data_rows += plain
            for sub in [r for r in body if "subtotal" in r["class"]]:
                for i, cell in enumerate(sub["cells"]):
                    equations.append(([var(r["cells"][i]) for r in plain], var(cell)))
        for row in [
            *data_rows,
            *t["foot"],
            *(r for b in t["bodies"] for r in b if "subtotal" in r["class"]),
        ]:
            cells = row["cells"]
            if cells and "total" in cells[-1]["attrs"].get("class", ""):
                equations.append(([var(c) for c in cells[:-1]], var(cells[-1])))
        for row in t["foot"]:
            for i, cell in enumerate(row["cells"]):
                if var(cell) is not None:
                    equations.append(([var(r["cells"][i]) for r in data_rows], var(cell)))
    for row in equations:
        assert None not in row[0] and row[1] is not None
    return equations, values  # type: ignore[return-value]


def _derivable(equations: list[tuple[list[str], str]], hidden: set[str]) -> set[str]:
    """Hidden counts a reader can compute exactly: Gauss-Jordan over the rationals."""
    unknowns = sorted(hidden)
    col = {k: i for i, k in enumerate(unknowns)}
    matrix = []
    for parts, total in equations:
        row = [Fraction(0)] * len(unknowns)
        for p in parts:
            if p in col:
                row[col[p]] += 1
        if total in col:
            row[col[total]] -= 1
        if any(row):
            matrix.append(row)
    pivot_rows = []
    r = 0
    for c in range(len(unknowns)):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][c] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][c]
        matrix[r] = [v / lead for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][c] != 0:
                f = matrix[i][c]
                matrix[i] = [a - f * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        pivot_rows.append(r)
        r += 1
    return {
        unknowns[next(c for c, v in enumerate(matrix[i]) if v != 0)]
        for i in pivot_rows
        if sum(1 for v in matrix[i] if v != 0) == 1
    }


def _check_public(public: Path, internal: Path) -> int:
    tables = parse(public)
    text = public.read_text(encoding="utf-8")
    hidden_count = 0
    for t in tables.tables.values():
        for section in [*t["bodies"], t["foot"]]:
            for row in section:
                for cell in row["cells"]:
                    shown = cell["text"].strip().replace(",", "")
                    if shown.isdigit():
                        assert not 1 <= int(shown) <= 10, (t["id"], row["label"], shown)
                    a = cell["attrs"]
                    if "data-suppressed" in a:
                        hidden_count += 1
                        assert "data-value" not in a
                        assert shown in ("<11", "—")
    equations, values = _equations(tables)
    hidden = {k for k, v in values.items() if v is None}
    assert not _derivable(equations, hidden)
    # Shown counts are the internal report's, and every hidden small count is small.
    _eq, internal_values = _equations(parse(internal))
    for k, v in values.items():
        assert v is None or v == internal_values[k], k
        assert v is not None or internal_values[k] is not None
    for k in hidden:
        assert internal_values[k] is not None
    small = {k for k, v in internal_values.items() if v is not None and 1 <= v <= 10}
    assert small <= hidden
    for svg in tables.svgs:
        assert svg["title"] and svg["desc"]
    assert text.count('data-suppressed="small"') >= len(small) > 0
    return hidden_count


def test_public_report_hides_small_counts_and_their_complements(la: Path) -> None:
    assert _check_public(la / "report-public.html", la / "report.html") > 0
    internal = parse(la / "report.html")
    assert not any(
        "data-suppressed" in c["attrs"]
        for t in internal.tables.values()
        for s in [*t["bodies"], t["foot"]]
        for r in s
        for c in r["cells"]
    )


def test_public_statewide_report_hides_small_counts(statewide: Path) -> None:
    assert _check_public(statewide / "report-public.html", statewide / "report.html") > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=1, max_value=5).flatmap(
        lambda rows: st.lists(
            st.lists(st.sampled_from([0, 1, 3, 7, 10, 11, 15, 40, 200]), min_size=3, max_size=3),
            min_size=rows,
            max_size=rows,
        )
    )
)
def test_disclosure_never_leaves_a_small_count_derivable(grid: list[list[int]]) -> None:
    d = Disclosure()
    equations = []
    for i, row in enumerate(grid):
        cells = [d.add(f"c{i}{j}", v) for j, v in enumerate(row)]
        total = d.add(f"r{i}", sum(row))
        d.add_equation(cells, total)
        equations.append((cells, total))
    col_totals = []
    for j in range(3):
        cells = [f"c{i}{j}" for i in range(len(grid))]
        col_totals.append(d.add(f"t{j}", sum(grid[i][j] for i in range(len(grid)))))
        d.add_equation(cells, col_totals[-1])
        equations.append((cells, col_totals[-1]))
    grand = d.add("g", sum(map(sum, grid)))
    d.add_equation(col_totals, grand)
    d.add_equation([f"r{i}" for i in range(len(grid))], grand)
    equations += [(col_totals, grand), ([f"r{i}" for i in range(len(grid))], grand)]
    hidden = d.apply()
    assert {k for k, v in d.values.items() if 1 <= v <= 10} <= hidden
    assert not _derivable(equations, hidden)


# ------------------------------------------------------------------------------------------
# Self-contained and accessible
# ------------------------------------------------------------------------------------------

_FETCH = re.compile(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _assert_self_contained(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not _FETCH.search(text), path.name
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", text, re.I), path.name
    assert "@import" not in text and "<script" not in text.lower() and "<link" not in text
    assert "<!DOCTYPE svg" not in text and "<?xml" not in text


def test_reports_are_self_contained_and_accessible(la: Path) -> None:
    for name in ("report.html", "report-public.html"):
        path = la / name
        _assert_self_contained(path)
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and '<html lang="en">' in text
        assert text.count("<h1") == 1 and "<h2" in text and "@media print" in text
        tables = parse(path)
        assert len(tables.svgs) >= 8
        for svg in tables.svgs:
            a = svg["attrs"]
            assert a["role"] == "img" and "viewbox" in a
            assert re.fullmatch(r"(chart-[a-z]+)-title \1-desc", a["aria-labelledby"])
            assert svg["title"].strip() and len(svg["desc"]) > 40
        ids = re.findall(r'\sid="([^"]+)"', text)
        assert len(ids) == len(set(ids)), "element ids must be unique in the page"
        assert text.count("<caption>") == len(tables.tables)
    for colour in ("#009e73", "#d55e00", "#e69f00"):  # Okabe-Ito
        assert colour in (la / "report.html").read_text().lower()


def test_report_refuses_a_folder_without_a_run(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 1 and "manifest.json" in result.output


# ------------------------------------------------------------------------------------------
# As a person sees it: Chromium screenshot, PDF pages
# ------------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian: apt-get install -y chromium)"
)
@pytest.mark.parametrize("name", ["report.html", "report-public.html"])
def test_report_renders_in_headless_chromium(la: Path, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{Path(name).stem}.png"
    subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            (la / name).as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, height = _png_size(shot)
    assert (width, height) == (1280, 2400)
    assert shot.stat().st_size > 40_000  # text, tables and charts, not a blank page
    dom = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            (la / name).as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    assert dom.count("<svg") >= 8 and "Prop 64 relief" in dom
    if shots := _shots_dir():
        shutil.copy(shot, shots / shot.name)


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="needs pdftoppm (Debian: apt-get install poppler-utils)",
)
@pytest.mark.parametrize("name", ["report.pdf", "report-public.pdf"])
def test_report_pdf_renders_to_pages(la: Path, tmp_path: Path, name: str) -> None:
    pdf = la / name
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 8  # the run, people, reasons, then a page per chart
    for page in pages:
        width, height = _png_size(page)
        assert (width, height) == (510, 660)  # US Letter at 60 dpi
    if shots := _shots_dir():
        for page in pages:
            shutil.copy(page, shots / f"{pdf.stem}-{page.name}")


# ------------------------------------------------------------------------------------------
# What if: compare
# ------------------------------------------------------------------------------------------

DISMISS_ALL = """\
name: test dismiss all
dismiss: ["11357", "11358", "11359", "11360"]
"""
REDUCE = """\
name: test reduce 11359 11360
dismiss: ["11357", "11358"]
reduce: ["11359", "11360"]
"""


def _policies(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(DISMISS_ALL)
    b.write_text(REDUCE)
    return a, b


def _compare_numbers(path: Path) -> dict[tuple[str, int], int]:
    found = {}
    for m in re.finditer(
        r'data-metric="([^"]+)" data-policy="(\d+)" data-value="(-?\d+)"', path.read_text()
    ):
        found[(m.group(1), int(m.group(2)))] = int(m.group(3))
    return found


def test_compare_two_policies_gives_different_consistent_numbers(
    la: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clearslate.report.compare as compare_module

    a, b = _policies(tmp_path)
    manifest = json.loads((la / "manifest.json").read_text())
    research = Path(manifest["inputs"][0]["path"])
    reads = []
    real_read = compare_module.read_doj_files
    monkeypatch.setattr(
        compare_module,
        "read_doj_files",
        lambda *args, **kw: reads.append(1) or real_read(*args, **kw),
    )
    out = tmp_path / "cmp"
    result = runner.invoke(
        cli,
        [
            "compare",
            str(research),
            "--policy",
            str(a),
            "--policy",
            str(b),
            "--county",
            "LOS ANGELES",
            "--compute-at",
            AS_OF.isoformat(),
            "--outputs",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert reads == [1]  # the input is read once for every policy
    _assert_self_contained(out / "compare.html")

    # Each policy's numbers equal a run of that policy alone.
    runs = []
    for i, policy in enumerate((a, b)):
        from clearslate.policy import load_policy

        run_out = tmp_path / f"run{i}"
        run_job(
            RunOptions(
                inputs=[research],
                outputs=run_out,
                counties=["LOS ANGELES"],
                as_of=AS_OF,
                policy=load_policy(policy),
            )
        )
        runs.append(run_out)
    html = _compare_numbers(out / "compare.html")
    with (out / "compare.csv").open(newline="") as fh:
        table = {r["metric"]: r for r in csv.DictReader(fh)}
    names = ("test dismiss all", "test reduce 11359 11360")
    for i, run_out in enumerate(runs):
        summary = json.loads((run_out / "summary.json").read_text())
        expect = {f"outcome:{o}": summary["outcomes"].get(o, 0) for o in OUTCOMES}
        expect["convictions"] = summary["convictions"]["evaluated"]
        expect["people:some_relief"] = summary["people_with_relief"]
        expect["people:no_felony"] = summary["relief"]["CountSubjectsNoFelony"]
        expect["people:no_conviction"] = summary["relief"]["CountSubjectsNoConviction"]
        expect["people:no_conviction_7y"] = summary["relief"]["CountSubjectsNoConvictionLast7Years"]
        for key, n in expect.items():
            assert html[(key, i)] == n == int(table[key][names[i]]), (key, i)
    # Different: B reduces what A dismisses; consistent: the same convictions are decided.
    assert html[("outcome:reduce", 0)] == 0 < html[("outcome:reduce", 1)]
    assert (
        html[("outcome:dismiss", 0)] - html[("outcome:dismiss", 1)] == html[("outcome:reduce", 1)]
    )
    assert html[("convictions", 0)] == html[("convictions", 1)]
    assert html[("people:no_conviction", 1)] <= html[("people:no_conviction", 0)]

    # The changes, conviction by conviction, against the two runs' determinations.
    before = {
        (r["source_file"], r["source_line"]): r for r in read_csv(runs[0] / "determinations.csv")
    }
    after = {
        (r["source_file"], r["source_line"]): r for r in read_csv(runs[1] / "determinations.csv")
    }
    changed = Counter(
        (before[k]["outcome"], before[k]["reason"], after[k]["outcome"], after[k]["reason"])
        for k in before
        if before[k]["outcome"] != after[k]["outcome"]
    )
    assert changed and all(k[0] == "dismiss" and k[2] == "reduce" for k in changed)
    with (out / "compare-changes.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {
        (r["outcome_from"], r["reason_from"], r["outcome_to"], r["reason_to"]): int(r["count"])
        for r in rows
    } == dict(changed)
    total = sum(changed.values())
    assert re.search(rf'data-changed="1" data-value="{total}"', (out / "compare.html").read_text())
    listed = read_csv(out / "compare-convictions.csv")
    assert len(listed) == total
    assert {(r["source_file"], r["source_line"]) for r in listed} == {
        k for k in before if before[k]["outcome"] != after[k]["outcome"]
    }


def test_compare_from_a_run_folder_uses_its_manifest(la: Path, tmp_path: Path) -> None:
    _a, b = _policies(tmp_path)
    out = tmp_path / "cmp"
    result = runner.invoke(
        cli,
        ["compare", str(la), "--policy", "dismiss-all", "--policy", str(b), "--outputs", str(out)],
    )
    assert result.exit_code == 0, result.output
    html = _compare_numbers(out / "compare.html")
    summary = json.loads((la / "summary.json").read_text())
    for o in OUTCOMES:
        assert html[(f"outcome:{o}", 0)] == summary["outcomes"].get(o, 0)
    assert "LOS ANGELES" in (out / "compare.html").read_text()
    again = runner.invoke(
        cli,
        ["compare", str(la), "--policy", "dismiss-all", "--policy", str(b), "--outputs", str(out)],
    )
    assert again.exit_code == 1 and "--force" in again.output


def test_compare_says_at_once_that_a_runs_input_changed(tmp_path: Path) -> None:
    research = tmp_path / "la.csv"
    generate_doj_file(research, county="LOS ANGELES", rows=300, seed=2)
    run_dir = _run(research, tmp_path / "run", ["LOS ANGELES"])
    # Emptied: read first, the comparison would stop at the read's "is empty" instead of
    # saying that this is not the file the run read.
    research.write_bytes(b"")
    out = tmp_path / "cmp"
    result = runner.invoke(
        cli,
        ["compare", str(run_dir), "--policy", "dismiss-all", "--policy", "dismiss-all",
         "--outputs", str(out)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "changed since the run" in result.output and "SHA-256" in result.output
    assert not (out / "compare.html").exists()


def test_compare_refuses_bad_requests(la: Path, tmp_path: Path) -> None:
    a, _b = _policies(tmp_path)
    one = runner.invoke(
        cli, ["compare", str(la), "--policy", str(a), "--outputs", str(tmp_path / "o")]
    )
    assert one.exit_code == 1 and "at least two policies" in one.output
    research = tmp_path / "r.csv"
    research.write_text("x\n")
    no_date = runner.invoke(
        cli,
        [
            "compare",
            str(research),
            "--policy",
            str(a),
            "--policy",
            str(a),
            "--county",
            "X",
            "--outputs",
            str(tmp_path / "o"),
        ],
    )
    assert no_date.exit_code == 1 and "--compute-at is required" in no_date.output
    bad = runner.invoke(
        cli,
        [
            "compare",
            str(la),
            "--policy",
            "no-such-policy",
            "--policy",
            str(a),
            "--outputs",
            str(tmp_path / "o"),
        ],
    )
    assert bad.exit_code == 1 and "no-such-policy" in bad.output


# ------------------------------------------------------------------------------------------
# Run folders edited after the run, and bad requests: a plain message and exit 1
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LA run, copied by each test that edits it."""
    base = tmp_path_factory.mktemp("small")
    research = base / "la.csv"
    generate_doj_file(research, county="LOS ANGELES", rows=300, seed=2)
    return _run(research, base / "run", ["LOS ANGELES"])


def _cut_csv(d: Path) -> None:  # the audit's edit: no Parquet, the CSV cut to its first rows
    (d / "determinations.parquet").unlink()
    lines = (d / "determinations.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (d / "determinations.csv").write_text("".join(lines[:10]), encoding="utf-8")


def _csv_cut_mid_row(d: Path) -> None:
    (d / "determinations.parquet").unlink()
    (d / "determinations.csv").write_bytes((d / "determinations.csv").read_bytes()[:5000])


def _no_determinations(d: Path) -> None:
    (d / "determinations.parquet").unlink()
    (d / "determinations.csv").unlink()


def _unreadable_yet_listed(d: Path) -> None:  # should not happen: still no unexpected error
    parquet = d / "determinations.parquet"
    parquet.write_bytes(b"not parquet\n")
    manifest = json.loads((d / "manifest.json").read_text())
    for o in manifest["outputs"]:
        if o["file"] == parquet.name:
            o.update(size=parquet.stat().st_size, sha256=sha256_file(parquet))
    (d / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_cut_csv, "determinations.csv: changed since the run (its SHA-256 is not the one"),
        (_csv_cut_mid_row, "determinations.csv: changed since the run"),
        (lambda d: (d / "determinations.parquet").write_bytes(b"x"), "parquet: changed since"),
        (_no_determinations, "determinations.csv: missing; run clearslate run again"),
        (_unreadable_yet_listed, "cannot be read, although its SHA-256 is the one"),
    ],
)
def test_report_and_documents_refuse_determinations_edited_after_the_run(
    small: Path, tmp_path: Path, edit: Any, message: str
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(small, run_dir)
    edit(run_dir)
    for args in (
        ["report", str(run_dir), "--no-pdf"],
        ["documents", str(run_dir), "--out", str(tmp_path / "docs"), "--jobs", "1"],
    ):
        result = runner.invoke(cli, args)
        assert isinstance(result.exception, SystemExit), result.output  # not "unexpected"
        assert result.exit_code == 1 and message in result.output, result.output
        assert "SELECT" not in result.output and "Error" not in result.output
    assert not (run_dir / "report.html").exists() and not any((tmp_path / "docs").rglob("*"))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("manifest.json", "[]", "manifest.json: not a run's manifest"),
        ("manifest.json", '{"as_of": "2020-07-01"}', "not among the outputs manifest.json lists"),
        ("summary.json", '{"x": 1}', "summary.json: changed since the run"),
        ("summary.json", "null", "summary.json: changed since the run"),
    ],
)
def test_report_refuses_edited_json_in_words(
    small: Path, tmp_path: Path, name: str, text: str, message: str
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(small, run_dir)
    (run_dir / name).write_text(text)
    result = runner.invoke(cli, ["report", str(run_dir), "--no-pdf"])
    assert isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1 and message in result.output, result.output


def _compare(*args: str) -> Any:
    return runner.invoke(
        cli, ["compare", *args, "--policy", "dismiss-all", "--policy", "los-angeles"]
    )


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([], "not a run's manifest (a JSON object is expected)"),
        ({"as_of": "2020-07-01", "counties": "X"}, '"inputs" is missing or not a list'),
        ({"inputs": [{"path": "x.csv"}], "counties": "X"}, 'no "as_of" (the run\'s as-of date)'),
        ({"inputs": [{"path": "x.csv"}], "as_of": "2020-02-31"}, '"as_of" is not a date'),
        ({"inputs": [{"path": "x.csv"}], "as_of": "0001-01-01"}, "a date from 1900-01-01 on"),
        ({"inputs": [{"path": "x.csv"}], "as_of": "2020-07-01"}, '"counties" is missing'),
    ],
)
def test_compare_says_in_words_what_an_edited_manifest_lacks(
    tmp_path: Path, manifest: Any, message: str
) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(json.dumps(manifest))
    result = _compare(str(tmp_path / "run"), "--outputs", str(tmp_path / "cmp"))
    assert isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1 and message in result.output, result.output
    assert "('" not in result.output  # not a KeyError's bare text


def test_compare_refuses_an_early_date_and_an_empty_outputs(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    research = json.loads((small / "manifest.json").read_text())["inputs"][0]["path"]
    early = _compare(research, "--county", "LOS ANGELES", "--compute-at", "0001-01-01",
                     "--outputs", str(tmp_path / "cmp"))  # fmt: skip
    assert isinstance(early.exception, SystemExit), early.output
    assert early.exit_code == 1 and "give a date from 1900-01-01 on" in early.output
    monkeypatch.chdir(tmp_path)
    empty = _compare(str(small), "--outputs", "")
    assert empty.exit_code == 1 and "--outputs is empty" in empty.output, empty.output
    assert not (tmp_path / "compare.html").exists()


def test_compare_says_a_runs_relative_input_is_relative_to_where_the_run_started(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(json.loads((small / "manifest.json").read_text())["inputs"][0]["path"], "la.csv")
    _run(Path("la.csv"), Path("run"), ["LOS ANGELES"])
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = _compare("../run", "--outputs", "cmp")
    assert result.exit_code == 1, result.output
    assert "la.csv: no such file here. ../run/manifest.json lists the run's input" in result.output
    assert "relative to the folder the run was started from" in result.output
    assert "--input-doj" not in result.output
    monkeypatch.chdir(tmp_path)  # from there, the same run compares
    assert _compare("run", "--outputs", "cmp").exit_code == 0
