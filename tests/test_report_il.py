"""The Illinois impact report and policy comparison (docs/report.md, "Illinois").

A generated Illinois input (300 people, court and state-police exports) is run once under the
cook-county policy; every number of its report is recomputed here from determinations.csv
with Python's csv module, the public version is checked for small counts and for counts that
could be worked out, and `compare` is checked against separate runs of each policy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from clearslate.il_policy import resolve_il_policy
from clearslate.illinois_run import ILRunOptions, run_illinois
from clearslate.report.illinois import LINK_LABELS
from clearslate.sources.il_canonical import IL_DETERMINATION_COLUMNS, IL_OUTCOMES
from clearslate.synth.illinois import generate_illinois
from test_report import (
    _assert_self_contained,
    _check_public,
    _png_size,
    cli,
    outcome_table,
    parse,
    read_csv,
    runner,
)

AS_OF = dt.date(2020, 7, 1)
RELIEF = ("vacate_and_expunge", "expunge_arrest", "eligible_on_motion")


def _run(inputs: Path, out: Path, policy: str) -> Path:
    pol, source = resolve_il_policy(policy)
    run_illinois(
        ILRunOptions(
            outputs=out,
            as_of=AS_OF,
            policy=pol,
            policy_source=source,
            court_exports=[inputs / "court_export.csv"],
            isp_exports=[inputs / "isp_export.csv"],
        )
    )
    return out


@pytest.fixture(scope="module")
def il_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("il-in")
    generate_illinois(out, people=300, seed=11)
    return out


@pytest.fixture(scope="module")
def il_run(il_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cook-county run with its internal report (HTML and PDF) and public report (HTML)."""
    out = _run(il_inputs, tmp_path_factory.mktemp("il-run") / "out", "cook-county")
    for flags in ([], ["--public", "--no-pdf"]):
        result = runner.invoke(cli, ["report", str(out), *flags])
        assert result.exit_code == 0, result.output
    return out


def _by(rows: list[dict[str, str]], key) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        table[key(r)][r["outcome"]] += 1
    return {
        k: {o: c[o] for o in IL_OUTCOMES} | {"total": sum(c.values())} for k, c in table.items()
    }


# The report's row labels, written out here so that a mislabelled row fails.
OUTCOME_LABELS = {
    "expunge_arrest": "Arrest expunged",
    "vacate_and_expunge": "Vacated and expunged",
    "eligible_on_motion": "Eligible on motion",
    "not_eligible": "Not eligible",
    "review": "Sent to review",
}
TRACK_LABELS = {"arrest": "Arrest (no conviction)", "conviction": "Conviction"}
SOURCE_LABELS = {"court": "Circuit clerk export", "isp": "State police export"}
LINK_STATUS_LABELS = {
    "linked": "Linked to other rows",
    "single": "Alone (no other row)",
    "review": "Uncertain link, left apart",
}
GRAMS_LABELS = {True: "Inferred from the offense class", False: "Recorded (or not needed)"}


def _tier_label(r: dict[str, str]) -> str:
    """The tier and its deadline as the report writes them: "2013-2019, due 1 Jan 2021"."""
    if not r["tier"]:
        return "No deadline tier"
    if not r["deadline"]:
        return f"{r['tier']}, due ?"
    d = dt.date.fromisoformat(r["deadline"])
    return f"{r['tier']}, due {d.day} {d:%b %Y}"


def _decade_label(r: dict[str, str]) -> str:
    d = r["record_date"]
    return f"{int(d[:4]) // 10 * 10}s" if d else "Date unknown"


def _data_rows(table: dict[str, dict[str, int | None]]) -> dict[str, dict[str, int | None]]:
    return {k: v for k, v in table.items() if k != "Total"}


def test_determinations_carry_race_and_sex(il_run: Path) -> None:
    rows = read_csv(il_run / "determinations.csv")
    assert list(rows[0]) == [c[0] for c in IL_DETERMINATION_COLUMNS]
    assert {"race", "sex"} <= set(rows[0])
    assert any(r["race"] for r in rows) and any(r["sex"] for r in rows)


def test_report_numbers_equal_the_determinations(il_run: Path) -> None:
    det = read_csv(il_run / "determinations.csv")
    summary = json.loads((il_run / "summary.json").read_text())
    tables = parse(il_run / "report.html")
    assert json.loads((il_run / "manifest.json").read_text())["jurisdiction"] == "il"

    outcomes = Counter(r["outcome"] for r in det)
    shown = {row: cols["count"] for row, cols in outcome_table(tables, "outcomes").items()}
    assert shown == {OUTCOME_LABELS[o]: outcomes[o] for o in IL_OUTCOMES} | {"Total": len(det)}
    assert shown["Total"] == len(det) == summary["charges"]["evaluated"]
    assert outcomes == Counter({k: v for k, v in summary["outcomes"].items() if v})

    def check(table: str, label) -> None:
        """The table's rows are the determinations grouped by the row label `label` gives."""
        assert _data_rows(outcome_table(tables, table)) == _by(det, label), table

    check("tier", _tier_label)
    check("track", lambda r: TRACK_LABELS.get(r["track"], "No track"))
    check("decade", _decade_label)
    if len({r["county"] for r in det}) > 1:
        check("county", lambda r: r["county"] or "County unknown")
    else:  # one county: its row would repeat the outcomes; it is named in the facts
        assert "county" not in tables.tables
        assert f'data-field="county">{det[0]["county"]}<' in (il_run / "report.html").read_text()
    check("source", lambda r: SOURCE_LABELS.get(r["source"], r["source"] or "Other"))
    check("links", lambda r: LINK_STATUS_LABELS.get(r["link_status"], "Not recorded"))
    check("grams", lambda r: GRAMS_LABELS[r["grams_inferred"].lower() == "true"])
    check("race", lambda r: r["race"].strip() or "Not recorded")
    check("sex", lambda r: r["sex"].strip() or "Not recorded")
    courts = _data_rows(outcome_table(tables, "court"))
    assert sum(c["total"] for c in courts.values()) == len(det)
    assert {k: c["total"] for k, c in courts.items() if not k.startswith("No court")} == dict(
        Counter(r["court"] for r in det if r["court"])
    )

    # The review queue and the rules that decided.
    review = {k: v["count"] for k, v in outcome_table(tables, "review").items()}
    assert review.pop("Sent to review") == outcomes["review"]
    assert review == summary["review_reasons"]
    reasons = {k: v["count"] for k, v in outcome_table(tables, "reasons").items()}
    assert reasons.pop("Total") == len(det)
    rules = {k: v for k, v in reasons.items() if not k.endswith(": total")}
    assert rules == summary["rules"]

    # Rows of the exports by link status, people, and the plan.
    rows = {k: v["count"] for k, v in outcome_table(tables, "rows").items()}
    assert rows["Read"] == summary["rows"]["read"]
    assert rows["Accepted: total"] == summary["rows"]["accepted"]
    assert {k: rows[LINK_LABELS[k]] for k in summary["links"]} == summary["links"]
    people = {k: v["count"] for k, v in outcome_table(tables, "people").items()}
    assert people["People with a cannabis charge decided"] == len({r["person_id"] for r in det})
    assert people["People with some relief"] == len(
        {r["person_id"] for r in det if r["outcome"] in RELIEF}
    )
    assert people["People in the exports"] == summary["people"]["records"]
    plan = outcome_table(tables, "plan")
    total = plan.pop("Total")
    for o in RELIEF:
        assert total[o] == outcomes[o]
        assert sum(v[o] for v in plan.values()) == outcomes[o]
    batches = json.loads((il_run / "plan.json").read_text())["batches"]
    tiers = [b["tier"] for b in batches]
    assert [k.split(",")[0] for k in plan] == list(dict.fromkeys(tiers))  # earliest deadline first
    per_tier = Counter(r["tier"] for r in det if r["outcome"] in RELIEF)
    for label, cols in plan.items():
        assert cols["total"] == per_tier[label.split(",")[0]]


def test_public_report_hides_small_counts(il_run: Path) -> None:
    assert _check_public(il_run / "report-public.html", il_run / "report.html") > 0


def test_report_is_self_contained(il_run: Path) -> None:
    for name in ("report.html", "report-public.html"):
        _assert_self_contained(il_run / name)
    text = (il_run / "report.html").read_text()
    sections = ("tier", "track", "decade", "court", "source", "links", "grams", "race", "sex",
                "review")  # fmt: skip
    for section in (*sections, "plan", "people", "reasons"):
        assert f'id="{section}"' in text, section
    assert text.count("<svg") == 1 + len(sections)  # the outcomes, then each breakdown
    assert "Prop 64" not in text and "gogen" not in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm")
def test_report_pdf_renders_to_pages(il_run: Path, tmp_path: Path) -> None:
    pdf = il_run / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 12  # the run, people, rules, plan, then a page per chart
    assert all(_png_size(p) == (510, 660) for p in pages)


def test_compare_equals_separate_runs(il_inputs: Path, il_run: Path, tmp_path: Path) -> None:
    """cook-county, statewide and a file: read once, each policy's counts a run's."""
    own = tmp_path / "three-years.yaml"
    shipped = resolve_il_policy("statewide")[1]
    text = Path(shipped).read_text().replace("name: statewide", "name: three-years")
    own.write_text(text.replace("arrest_min_years: 1", "arrest_min_years: 3"))
    out = tmp_path / "cmp"
    result = runner.invoke(
        cli,
        ["compare", "--jurisdiction", "il",
         "--court-export", str(il_inputs / "court_export.csv"),
         "--isp-export", str(il_inputs / "isp_export.csv"),
         "--compute-at", AS_OF.isoformat(), "--policy", "cook-county", "--policy", "statewide",
         "--policy", str(own), "--outputs", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_self_contained(out / "compare.html")
    table = {r["metric"]: r for r in read_csv(out / "compare.csv")}
    runs = {"cook-county": il_run, "statewide": _run(il_inputs, tmp_path / "sw", "statewide")}
    for label, run_dir in runs.items():
        s = json.loads((run_dir / "summary.json").read_text())
        for o in IL_OUTCOMES:
            assert int(table[f"outcome:{o}"][label]) == s["outcomes"][o], (label, o)
        assert int(table["people:relief"][label]) == s["people"]["with_relief"]
        assert int(table["batches"][label]) == s["batches"]
    # Three years since the arrest instead of one: fewer arrests expunged, nothing else read.
    arrests = table["outcome:expunge_arrest"]
    assert int(arrests["three-years"]) < int(arrests["statewide"])
    assert table["charges"]["three-years"] == table["charges"]["statewide"]
    # Every charge whose outcome changes is listed, and the counts of changes add up.
    changes = read_csv(out / "compare-changes.csv")
    listed = read_csv(out / "compare-charges.csv")
    for policy in ("statewide", "three-years"):
        n = sum(int(c["count"]) for c in changes if c["policy"] == policy)
        assert n == sum(1 for r in listed if r["policy"] == policy) > 0

    # From the run's folder: the same numbers.
    again = runner.invoke(
        cli, ["compare", str(il_run), "--policy", "cook-county", "--policy", "statewide",
              "--outputs", str(tmp_path / "cmp2")],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    table2 = {r["metric"]: r for r in read_csv(tmp_path / "cmp2" / "compare.csv")}
    assert all(table2[m][p] == table[m][p] for m in table2 for p in ("cook-county", "statewide"))


def test_report_refuses_illinois_determinations_edited_after_the_run(
    il_inputs: Path, tmp_path: Path
) -> None:
    out = _run(il_inputs, tmp_path / "out", "cook-county")
    (out / "determinations.parquet").unlink()  # the CSV is read then: cut to a few rows
    lines = (out / "determinations.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "determinations.csv").write_text("".join(lines[:10]), encoding="utf-8")
    result = runner.invoke(cli, ["report", str(out), "--no-pdf"])
    assert isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1, result.output
    assert "determinations.csv: changed since the run (its SHA-256" in result.output
    assert not (out / "report.html").exists()
