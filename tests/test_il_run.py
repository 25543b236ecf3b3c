"""The whole Illinois run through the command line, on canonical input (records already in
il_records columns, people already linked): accounting, byte-identical reruns, privacy of the
run folder, the batch plan's order, and `explain` giving the bulk decision for everyone."""

from __future__ import annotations

import csv
import gc
import io
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from clearslate import database
from clearslate.cli import app
from clearslate.illinois_run import RunError, _import
from clearslate.sources.il_canonical import IL_DETERMINATION_COLUMNS, IL_OUTCOMES

from il_records import DISPOSITIONS, STATUTES, varied_records, write_canonical

AS_OF = "2021-06-01"
runner = CliRunner()


@pytest.fixture(scope="module")
def canonical(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("in") / "canonical.csv"
    rows = varied_records(120, seed=9)
    write_canonical(path, rows)
    # Two bad rows: a date that is not a date, and a disposition outside the vocabulary.
    with path.open("a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        bad = {**rows[0], "record_id": "court:9:1", "offense_date": "2015-13-45"}
        worse = {**rows[0], "record_id": "court:9:2", "disposition": "GUILTY"}
        for r in (bad, worse):
            w.writerow(["" if r.get(c) is None else r[c] for c in _header(path)])
    return path


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _run(canonical: Path, out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical",
                                 str(canonical), "--compute-at", AS_OF, "--outputs", str(out),
                                 "--no-report", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def run_dir(canonical: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    _run(canonical, out, "--max-batch", "7")
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_accounting_every_row_is_decided_kept_or_rejected(canonical: Path, run_dir: Path):
    summary = json.loads((run_dir / "summary.json").read_text())
    data_rows = len(_rows(canonical))
    assert summary["rows"] == {"read": data_rows, "accepted": data_rows - 2, "rejected": 2}
    errors = _rows(run_dir / "errors.csv")
    assert [(e["line"], e["column"]) for e in errors] == [
        (str(data_rows), "offense_date"), (str(data_rows + 1), "disposition")]  # fmt: skip
    assert "2015-13-45" not in (run_dir / "errors.csv").read_text()  # no value repeated
    decided = _rows(run_dir / "determinations.csv")
    assert list(decided[0]) == [c[0] for c in IL_DETERMINATION_COLUMNS]
    assert len(decided) == summary["charges"]["evaluated"]
    assert {d["outcome"] for d in decided} <= set(IL_OUTCOMES)
    assert set(IL_OUTCOMES) <= {d["outcome"] for d in decided}  # the mix reaches every outcome
    for outcome in IL_OUTCOMES:
        assert summary["outcomes"][outcome] == sum(d["outcome"] == outcome for d in decided)
    for d in decided:
        assert d["rule_id"] and d["citation"] and d["reason"]
        assert bool(d["review_reason"]) == (d["outcome"] == "review")
        json.loads(d["facts"])
    # Every cannabis charge of the input is decided, nothing else is.
    accepted = _rows(canonical)[: data_rows - 2]
    cannabis = {r["record_id"] for r in accepted
                if "550" in r["statute_raw"] or "56 1/2" in r["statute_raw"]
                or "CANNABIS" in r["statute_raw"]}  # fmt: skip
    assert {d["record_id"] for d in decided} == cannabis


def test_rerun_gives_byte_identical_outputs(canonical: Path, run_dir: Path, tmp_path: Path):
    again = tmp_path / "again"
    _run(canonical, again, "--max-batch", "7")
    for name in ("determinations.csv", "determinations.parquet", "summary.json", "errors.csv",
                 "plan.csv", "plan.json"):  # fmt: skip
        assert (again / name).read_bytes() == (run_dir / name).read_bytes(), name
    first = json.loads((run_dir / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first == second


def test_manifest_and_privacy(canonical: Path, run_dir: Path):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["jurisdiction"] == "il" and manifest["as_of"] == AS_OF
    assert manifest["law_version"] == "il-crta-2019-06-25"
    assert manifest["policy"]["name"] == "statewide" and len(manifest["policy"]["sha256"]) == 64
    assert manifest["inputs"][0]["kind"] == "canonical"
    assert manifest["inputs"][0]["rows_rejected"] == 2
    assert {o["file"] for o in manifest["outputs"]} >= {"determinations.csv", "plan.csv",
                                                        "summary.json", "errors.csv"}  # fmt: skip
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    for path in run_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    summary = (run_dir / "summary.json").read_text()
    plan = (run_dir / "plan.csv").read_text()
    for r in _rows(canonical)[:50]:
        for value in (r["last_name"], r["case_number"], r["dob"], r["person_id"]):
            assert value not in summary and value not in plan


def test_run_writes_the_impact_report_unless_told_not_to(canonical: Path, run_dir: Path):
    assert not (run_dir / "report.html").exists()  # the fixture's run said --no-report
    out = run_dir.parent / "with-report"
    result = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical",
                                 str(canonical), "--compute-at", AS_OF, "--outputs", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "vacate_and_expunge" in html or "Vacate" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_an_illinois_run_takes_threads(
    canonical: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """--threads was dropped for --jurisdiction il: DuckDB used every CPU whatever was asked."""
    import clearslate.run as run_module

    seen: list[int] = []
    real = run_module.connect

    def connect(opts: Any, workdir: Path) -> Any:
        con = real(opts, workdir)
        seen.append(con.execute("SELECT current_setting('threads')").fetchone()[0])
        return con

    monkeypatch.setattr(run_module, "connect", connect)
    args = ["run", "--jurisdiction", "il", "--input-canonical", str(canonical), "--compute-at",
            AS_OF, "--no-report", "--threads"]  # fmt: skip
    result = runner.invoke(app, [*args, "1", "--outputs", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert seen == [1]
    cpus = database.usable_cpus()  # as the bound counts them (the affinity)
    result = runner.invoke(app, [*args, str(cpus + 1), "--outputs", str(tmp_path / "many")])
    assert result.exit_code == 1 and f"give at most {cpus}" in result.output, result.output


def test_a_second_run_into_the_same_folder_needs_force(canonical: Path, run_dir: Path):
    again = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical",
                                str(canonical), "--compute-at", AS_OF, "--outputs",
                                str(run_dir)])  # fmt: skip
    assert again.exit_code == 1 and "--force" in again.output


def test_a_forced_run_whose_input_cannot_be_read_keeps_the_earlier_run(
    canonical: Path, run_dir: Path, tmp_path: Path
):
    """As in California: --force removed the earlier results before the inputs were
    checked, so a mistyped path left the folder with neither run."""
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    results = {p.name: p.read_bytes() for p in out.iterdir()}
    for bad, says in ((tmp_path / "typo.csv", "no such file"),
                      (out / "determinations.csv", "a result of the earlier run")):  # fmt: skip
        result = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical",
                                     str(bad), "--compute-at", AS_OF, "--outputs", str(out),
                                     "--force"])  # fmt: skip
        assert result.exit_code == 1 and says in result.output, result.output
        assert {p.name: p.read_bytes() for p in out.iterdir()} == results


def test_plan_is_in_statutory_order_newest_first(run_dir: Path):
    plan = json.loads((run_dir / "plan.json").read_text())["batches"]
    decided = {d["record_id"]: d for d in _rows(run_dir / "determinations.csv")}
    relief = {k for k, d in decided.items()
              if d["outcome"] in ("vacate_and_expunge", "expunge_arrest", "eligible_on_motion")}  # fmt: skip
    assert sorted(r for b in plan for r in b["record_ids"]) == sorted(relief)
    deadlines = [b["deadline"] for b in plan]
    assert deadlines == sorted(deadlines)  # 2021 tier, then 2023, then 2025
    assert {b["tier"] for b in plan} == {"2013-2019", "2000-2012", "before-2000"}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for b in plan:
        assert 1 <= b["records"] <= 7 and b["records"] == len(b["record_ids"])
        for rid in b["record_ids"]:
            d = decided[rid]
            assert (d["tier"], d["outcome"], d["court"]) == (b["tier"], b["outcome"], b["court"])
        groups.setdefault((b["tier"], b["outcome"], b["court"]), []).extend(b["record_ids"])
    for ids in groups.values():
        dates = [decided[r]["record_date"] for r in ids]
        assert dates == sorted(dates, reverse=True)  # newest first, across the group's batches
    printed = runner.invoke(app, ["illinois", "plan", str(run_dir), "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == plan
    rows = _rows(run_dir / "plan.csv")
    assert [int(r["records"]) for r in rows] == [b["records"] for b in plan]
    table = runner.invoke(app, ["illinois", "plan", str(run_dir), "--max-batch", "1000"])
    assert table.exit_code == 0 and "2013-2019" in table.output


def test_plan_refuses_a_run_folder_edited_after_the_run(run_dir: Path, tmp_path: Path):
    """A manifest that is no JSON object ended in "unexpected error (AttributeError)", and
    a determinations.parquet replaced after the run was planned from as the run's."""
    edited = tmp_path / "run"
    shutil.copytree(run_dir, edited)
    (edited / "determinations.parquet").write_bytes(b"PAR1 not the run's")
    plan = runner.invoke(app, ["illinois", "plan", str(edited)])
    assert plan.exit_code == 1 and "changed since the run" in plan.output, plan.output
    (edited / "manifest.json").write_text("[]")
    plan = runner.invoke(app, ["illinois", "plan", str(edited)])
    assert plan.exit_code == 1 and "not a run's manifest" in plan.output, plan.output


def test_explain_gives_the_bulk_decision_for_every_person(canonical: Path, run_dir: Path):
    decided = _rows(run_dir / "determinations.csv")
    people = sorted({d["person_id"] for d in decided})
    for person in people[:40]:
        result = runner.invoke(app, ["explain", "--jurisdiction", "il", "--input-canonical",
                                     str(canonical), "--compute-at", AS_OF, "--person", person,
                                     "--json"])  # fmt: skip
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        got = sorted((c["record_id"], c["outcome"], c["rule_id"], c["facts"]["tier"])
                     for c in data["charges"])  # fmt: skip
        want = sorted((d["record_id"], d["outcome"], d["rule_id"], d["tier"] or None)
                      for d in decided if d["person_id"] == person)  # fmt: skip
        assert got == want
    text = runner.invoke(app, ["explain", "--jurisdiction", "il", "--input-canonical",
                               str(canonical), "--compute-at", AS_OF, "--person", people[0]])  # fmt: skip
    assert text.exit_code == 0 and "il.crta." in text.output


def test_bad_inputs_are_refused_with_a_clear_message(canonical: Path, tmp_path: Path):
    policy = tmp_path / "p.yaml"
    policy.write_text("name: x\nassociated_means: [same_case, same_street]\n")
    bad = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical", str(canonical),
                              "--compute-at", AS_OF, "--outputs", str(tmp_path / "o"),
                              "--policy", str(policy)])  # fmt: skip
    assert bad.exit_code == 1
    assert "p.yaml, line 2" in bad.output and "associated_means" in bad.output
    assert "Traceback" not in bad.output
    missing = runner.invoke(app, ["run", "--jurisdiction", "il", "--compute-at", AS_OF,
                                  "--outputs", str(tmp_path / "o")])  # fmt: skip
    assert missing.exit_code == 1 and "no input" in missing.output
    with pytest.raises(RunError, match="Illinois readers not installed"):
        _import(("clearslate.sources.no_such_reader",), "Illinois readers not installed")


# -- bad input: a clear message, no personal value, and nothing lost ------------------------------


def _invoke(*args: str):
    return runner.invoke(app, [*args, "--compute-at", AS_OF])


def _personal_values(line: str) -> list[str]:
    """The values of a CSV line that could identify someone (long enough not to be a code)."""
    return [v.strip() for v in next(csv.reader([line])) if len(v.strip()) >= 3]


def test_canonical_file_without_its_header_names_no_value(canonical: Path, tmp_path: Path):
    lines = canonical.read_text(encoding="utf-8").splitlines(keepends=True)
    headless = tmp_path / "nohdr.csv"
    headless.write_text("".join(lines[1:]), encoding="utf-8")
    result = _invoke("run", "--jurisdiction", "il", "--input-canonical", str(headless),
                     "--outputs", str(tmp_path / "o"), "--no-report")  # fmt: skip
    assert result.exit_code == 1
    for value in _personal_values(lines[1]):
        assert value not in result.output, "a value of the first row is repeated"
    assert "nohdr.csv, line 1" in result.output and "header line missing" in result.output
    assert "Traceback" not in result.output and "unexpected error" not in result.output
    # A misspelt column is named: it looks like a column, not like someone's data.
    typo = tmp_path / "typo.csv"
    typo.write_text(lines[0].replace("statute_raw", "statue_raw") + "".join(lines[1:]))
    result = _invoke("run", "--jurisdiction", "il", "--input-canonical", str(typo),
                     "--outputs", str(tmp_path / "o"), "--no-report")  # fmt: skip
    assert result.exit_code == 1 and "'statue_raw' (did you mean statute_raw?)" in result.output


def test_a_canonical_file_in_utf16_decides_alike(
    canonical: Path, run_dir: Path, tmp_path: Path
) -> None:
    """A canonical file saved as UTF-16 without a byte-order mark (a spreadsheet's "Unicode
    text"): read as UTF-8, its header was not found."""
    utf16 = tmp_path / "canonical.csv"  # the same name: determinations carry it
    utf16.write_bytes(canonical.read_text(encoding="utf-8").encode("utf-16-le"))
    out = tmp_path / "o"
    _run(utf16, out, "--max-batch", "7")
    mine, theirs = _rows(out / "determinations.csv"), _rows(run_dir / "determinations.csv")
    assert len(mine) == len(theirs) > 0
    assert [{**r, "source_file": ""} for r in mine] == [{**r, "source_file": ""} for r in theirs]


def test_canonical_numbers_are_ascii_and_fit_their_column(tmp_path: Path) -> None:
    """A charge number of 99999999999 stopped the run (it does not fit an INTEGER); Python
    read '1_000' and other scripts' digits as numbers; a date that is no date was reported
    with Python's message, which repeats the value when it holds the word "must"."""
    base = varied_records(2, seed=4)[0]
    values = [
        ("charge_seq", "99999999999"),
        ("charge_seq", "1_000"),
        ("charge_seq", "١٢"),
        ("grams", "1_0"),
        ("grams", "٣"),
        ("dob", "must-1980"),
        ("charge_seq", "-7"),
    ]
    path = write_canonical(tmp_path / "c.csv", [
        {**base, "record_id": f"court:0:{i}", column: value}
        for i, (column, value) in enumerate(values)
    ])  # fmt: skip
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical", str(path),
                                 "--compute-at", AS_OF, "--outputs", str(out), "--no-report"])  # fmt: skip
    assert result.exit_code == 0, result.output
    errors = _rows(out / "errors.csv")
    assert [(e["line"], e["column"]) for e in errors] == [
        (str(i + 2), column) for i, (column, _) in enumerate(values[:-1])
    ]
    assert errors[0]["reason"] == "must be a whole number from -2,147,483,648 to 2,147,483,647"
    assert errors[5]["reason"] == "not a date YYYY-MM-DD"
    assert "must-1980" not in (out / "errors.csv").read_text()


def test_unclosed_quote_in_canonical_file_loses_one_line_only(canonical: Path, tmp_path: Path):
    lines = canonical.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    rows = list(csv.reader(lines[1:]))
    at = header.index("last_name")
    # Line 6: a quote opened and never closed; line 9: a real line end inside a quoted field.
    cut = [csv_line(r) for r in rows]
    cut[4] = cut[4].replace(f",{rows[4][at]},", f',"{rows[4][at]},', 1)
    rows[7][header.index("charge_description")] = 'POSSESSION\nOF "CANNABIS", SMALL'
    cut[7] = csv_line(rows[7])
    broken = tmp_path / "unclosed.csv"
    broken.write_text(lines[0] + "".join(cut), encoding="utf-8")
    out = tmp_path / "o"
    result = _invoke("run", "--jurisdiction", "il", "--input-canonical", str(broken),
                     "--outputs", str(out), "--no-report")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    # The fixture's two bad rows, and line 6 only: every row after it goes through, and the
    # record with a real line end in a quoted field too.
    assert summary["rows"] == {"read": len(rows), "accepted": len(rows) - 3, "rejected": 3}
    errors = _rows(out / "errors.csv")
    assert [(e["line"], e["column"]) for e in errors] == [
        ("6", ""), (str(len(rows) + 1), "offense_date"), (str(len(rows) + 2), "disposition")]  # fmt: skip
    assert "never closed" in errors[0]["reason"]


def csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clearslate.synth.illinois import generate_illinois

    folder = tmp_path_factory.mktemp("exports")
    generate_illinois(folder, people=40, seed=5)
    return folder


MAPPING_MISTAKES = [
    ("FG: convicted ", "FG: gilty ", "line 21: fields.disposition: values ['gilty']"),
    ("unit: g}", "unit: stone}", "line 19: fields.grams.unit"),
    ('layout: "LAST, FIRST MIDDLE SUFFIX"', 'layout: "LAST FIRST"', "line 9: fields.full_name"),
    ('formats: ["%m/%d/%Y"]}', 'formats: "%m/%d/%Y"}', "line 10: fields.dob.formats"),
    ('["%m/%d/%Y"]', '["%Q"]', "line 10: fields.dob: date format '%Q' cannot be used"),
    ("source: court\n", "source: court\nsource: isp\n", "line 4, column 1: source: given twice"),
    (None, "", "this one is empty"),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    MAPPING_MISTAKES,
    ids=["unknown-code", "unit", "layout", "formats-text", "format-Q", "key-twice", "empty"],
)
def test_mapping_mistakes_stop_run_explain_and_compare(
    exports: Path, tmp_path: Path, old: str | None, new: str, message: str
):
    from clearslate.sources import il_mapping

    shipped = Path(il_mapping.__file__).parent / "il_mappings" / "court_generated.yaml"
    text = shipped.read_text(encoding="utf-8")
    assert old is None or old in text
    mapping = tmp_path / "m.yaml"
    mapping.write_text(new if old is None else text.replace(old, new, 1), encoding="utf-8")
    inputs = ["--jurisdiction", "il", "--court-export", str(exports / "court_export.csv"),
              "--court-mapping", str(mapping)]  # fmt: skip
    commands = [["run", *inputs, "--outputs", str(tmp_path / "o"), "--no-report"]]
    if old == "FG: convicted ":
        commands += [["explain", *inputs, "--person", "P1"],
                     ["compare", *inputs, "--policy", "statewide", "--policy", "statewide",
                      "--outputs", str(tmp_path / "c")]]  # fmt: skip
    for command in commands:
        result = _invoke(*command)
        assert result.exit_code == 1, (command[0], result.output)
        assert "m.yaml" in result.output and message in result.output, (command[0], result.output)
        assert "unexpected error" not in result.output and "Traceback" not in result.output


def test_a_mapping_mistake_frees_the_runs_database(exports: Path, tmp_path: Path):
    """The pydantic error behind a mapping mistake kept the frames of its traceback, and the
    run's DuckDB connection in them, alive for good (gc.collect() could not free them): in
    the web server, every refused upload would have kept one."""
    from clearslate.sources import il_mapping

    shipped = Path(il_mapping.__file__).parent / "il_mappings" / "court_generated.yaml"
    mapping = tmp_path / "m.yaml"
    text = shipped.read_text(encoding="utf-8")  # a mistake that the mapping's own check finds
    mapping.write_text(text.replace('"LAST, FIRST MIDDLE SUFFIX"', '"LAST FIRST"', 1))

    def connections() -> int:
        gc.collect()
        return sum(type(o).__name__ == "DuckDBPyConnection" for o in gc.get_objects())

    before = connections()
    result = _invoke("run", "--jurisdiction", "il", "--court-export",
                     str(exports / "court_export.csv"), "--court-mapping", str(mapping),
                     "--outputs", str(tmp_path / "o"), "--no-report")  # fmt: skip
    assert result.exit_code == 1 and "fields.full_name" in result.output, result.output
    del result
    assert connections() == before


def test_run_lists_values_left_empty_in_warnings_csv(exports: Path, tmp_path: Path):
    court = exports / "court_export.csv"
    lines = court.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    row = next(csv.reader([lines[3]]))
    row[header.index("DISPOSITION_DATE")] = "02/30/2014"  # no such day
    bad = tmp_path / "court.csv"
    bad.write_text("".join([*lines[:3], csv_line(row), *lines[4:]]), encoding="utf-8")
    out = tmp_path / "o"
    result = _invoke("run", "--jurisdiction", "il", "--court-export", str(bad),
                     "--outputs", str(out), "--no-report")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "values left empty (warnings.csv)" in result.output
    # the note the workspace shows too (illinois_run.run_notes)
    assert "1 value(s) could not be read and were left empty" in " ".join(result.output.split())
    warnings = _rows(out / "warnings.csv")
    assert [(w["file"], w["line"], w["column"]) for w in warnings] == [
        (str(bad), "4", "DISPOSITION_DATE")]  # fmt: skip
    assert "disposition_date" in warnings[0]["reason"]
    assert "02/30/2014" not in (out / "warnings.csv").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "warnings.csv" in {o["file"] for o in manifest["outputs"]}


@pytest.mark.parametrize("kind", ["canonical", "exports"])
def test_the_run_tells_its_meter_each_stage_and_ends_full(
    canonical: Path, exports: Path, tmp_path: Path, kind: str
) -> None:
    """(the progress bar of the command line and of the workspace: stage by stage, and
    through reading and linking step by step)"""
    import datetime as dt

    from clearslate.il_policy import resolve_il_policy
    from clearslate.illinois_run import ILRunOptions, run_illinois
    from clearslate.progress import DONE, Gauge, RunMeter

    seen: list[tuple[str, float]] = []
    parts: list[float] = []

    class Seen(RunMeter):
        def begin(self, stage: str, gauge: Gauge | None = None) -> None:
            super().begin(stage, gauge)
            seen.append((stage, self.fraction()))

        def part(self, share: float, gauge: Gauge | None = None) -> None:
            super().part(share, gauge)
            parts.append(share)

    policy, _ = resolve_il_policy(None)
    inputs: dict[str, object] = (
        {"canonical": [canonical]}
        if kind == "canonical"
        else {"court_exports": [exports / "court_export.csv"],
              "isp_exports": [exports / "isp_export.csv"]}
    )  # fmt: skip
    opts = ILRunOptions(outputs=tmp_path / "out", as_of=dt.date.fromisoformat(AS_OF),
                        policy=policy, **inputs)  # type: ignore[arg-type]  # fmt: skip
    run_illinois(opts, meter=Seen())
    assert [stage for stage, _ in seen] == [
        "Reading Illinois records", "Deciding", "Writing outputs", DONE
    ]  # fmt: skip
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1.0
    assert 0 < fractions[1] < fractions[2] < 1
    # reading's steps (linking's too, from exports: 40 people take Splink's fixed values, so
    # its EM training's three steps are left out) are within the stage
    assert len(parts) == (1 if kind == "canonical" else 6)
    assert sum(parts) <= 1 + 1e-9


def _accounted_and_decided(out: Path) -> int:
    """The run in `out` kept or rejected every row it read and gave every evaluated charge a
    named outcome and its rule; the rows read."""
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["rejected"]
    decided = _rows(out / "determinations.csv")
    assert len(decided) == summary["charges"]["evaluated"]
    assert all(d["outcome"] in IL_OUTCOMES and d["rule_id"] for d in decided)
    return int(rows["read"])


# Real, edge and arbitrary values for the canonical fields the reader types and the rules read.
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_DATE = st.one_of(
    st.sampled_from(["2015-06-01", "0001-01-01", "9999-12-31", "2030-01-01", "1850-01-01", ""]),
    _TEXT,
)
_IL_VALUES = {
    "charge_seq": st.one_of(st.sampled_from(["1", "2", "1.5", "-1", "99999999999", ""]), _TEXT),
    "dob": _DATE,
    "offense_date": _DATE,
    "arrest_date": _DATE,
    "disposition_date": _DATE,
    "grams": st.one_of(
        st.sampled_from(["30", "30.1", "0", "-5", "1e308", "inf", "nan", ""]), _TEXT
    ),
    "statute_raw": st.one_of(st.sampled_from([*STATUTES, ""]), _TEXT),
    "offense_class": st.one_of(st.sampled_from(["X", "1", "4", "A", "B", "C", "P", ""]), _TEXT),
    "disposition": st.one_of(st.sampled_from([*DISPOSITIONS, ""]), _TEXT),
    "attempt": st.sampled_from(["true", "false", "", "x"]),
    "fingerprinted": st.sampled_from(["true", "false", ""]),
    "county": st.one_of(st.sampled_from(["COOK", "", "cook"]), _TEXT),
    "person_id": st.sampled_from(["P0000", "P0001", ""]),
    "last_name": _TEXT,
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.fixed_dictionaries({}, optional=_IL_VALUES), min_size=1, max_size=8))
def test_any_values_in_the_canonical_fields_are_decided_kept_or_rejected(
    tmp_path: Path, changes: list[dict[str, str]]
) -> None:
    """Every row is accounted for and every cannabis charge decided, whatever the typed and
    decisive fields hold (a run stopped would print its error and exit 1)."""
    rows = [{**r, **c} for r, c in zip(varied_records(4, seed=3), changes, strict=False)]
    path = write_canonical(tmp_path / "canonical.csv", rows)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--jurisdiction", "il", "--input-canonical", str(path),
                                 "--compute-at", AS_OF, "--outputs", str(out), "--no-report",
                                 "--force"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _accounted_and_decided(out) == len(rows)


_EXPORT_VALUES = {
    "DEFENDANT_NAME": st.one_of(st.sampled_from(["DOE, JOHN Q JR", "DOE", ", ", ""]), _TEXT),
    "DEFENDANT_DOB": st.one_of(st.sampled_from(["07/30/1940", "02/30/1999", "00/00/0000"]), _TEXT),
    "CHARGE_NO": st.one_of(st.sampled_from(["1", "1.5", "0x10", "99999999999", ""]), _TEXT),
    "STATUTE": st.one_of(st.sampled_from([*STATUTES, ""]), _TEXT),
    "CHARGE_CLASS": st.one_of(st.sampled_from(["F4", "FX", "MB", "FM", ""]), _TEXT),
    "AMOUNT_GRAMS": st.one_of(st.sampled_from(["256", "2 OZ", ".5", "1e308", "-1", ""]), _TEXT),
    "DISPOSITION": st.one_of(st.sampled_from(["FG", "SUPV", "ZZ", ""]), _TEXT),
    "DISPOSITION_DATE": _TEXT,
    "OFFENSE_DATE": st.one_of(st.sampled_from(["09/13/2002", "12/31/9999", "01/01/0001"]), _TEXT),
    "COUNTY": st.one_of(st.sampled_from(["COOK", "", "cook"]), _TEXT),
    "FP_FLAG": st.sampled_from(["Y", "N", "", "?"]),
    "SID_NUMBER": _TEXT,
}


@pytest.fixture(scope="module")
def small_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clearslate.synth.illinois import generate_illinois

    folder = tmp_path_factory.mktemp("small_exports")
    generate_illinois(folder, people=3, seed=1)
    return folder


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.fixed_dictionaries({}, optional=_EXPORT_VALUES), max_size=6))
def test_any_values_in_the_court_export_are_decided_kept_or_rejected(
    small_exports: Path, tmp_path: Path, changes: list[dict[str, str]]
) -> None:
    """The court export read through its mapping, its people linked with the state police's
    (Splink), and decided, whatever the mapped fields hold."""
    with (small_exports / "court_export.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows = [{**r, **c} for r, c in zip(rows, [*changes, *[{}] * len(rows)], strict=False)]
    court = tmp_path / "court_export.csv"
    with court.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--jurisdiction", "il", "--court-export", str(court),
                                 "--isp-export", str(small_exports / "isp_export.csv"),
                                 "--compute-at", AS_OF, "--outputs", str(out), "--no-report",
                                 "--force"])  # fmt: skip
    assert result.exit_code == 0, result.output
    _accounted_and_decided(out)
