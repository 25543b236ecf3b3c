"""End-to-end runs of `clearslate run` and `clearslate explain` on generated research files."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import stat
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from clearslate.cli import app
from clearslate.engine.explain import explain_subject
from clearslate.engine.facts import ROW_FACTS
from clearslate.policy import DEFAULT_POLICY
from clearslate.sources.ca_doj import read_doj_files
from clearslate.synth import generate_doj_file

from doj import conviction, write

AS_OF = "2020-07-01"
runner = CliRunner()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "la.csv"
    generate_doj_file(path, county="LOS ANGELES", rows=4000, seed=11)
    return path


def run_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["run", *args])
    return result.exit_code, result.output


def run_ok(inputs: list[Path], out: Path, *extra: str, report: bool = False) -> Path:
    flags = [a for p in inputs for a in ("--input-doj", str(p))]
    if not report:
        flags.append("--no-report")  # the report has its own tests (test_report.py)
    code, output = run_cli(*flags, "--county", "LOS ANGELES", "--compute-at", AS_OF,
                           "--outputs", str(out), *extra)  # fmt: skip
    assert code == 0, output
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_run_writes_every_output_and_loses_nothing(generated: Path, tmp_path: Path) -> None:
    out = run_ok([generated], tmp_path / "out", report=True)
    names = {p.name for p in out.iterdir()}
    assert {"All_Results.csv", "All_Results_Condensed.csv", "Prop64_Results.csv", "gogen.json",
            "determinations.csv", "determinations.parquet", "summary.json", "errors.csv",
            "manifest.json", "timings.json", "report.html", "report.pdf"} <= names  # fmt: skip
    assert not any(n.startswith(".partial-") for n in names)
    summary = json.loads((out / "summary.json").read_text())
    all_results = read_csv(out / "All_Results.csv")
    assert summary["rows"]["read"] == 4000 == len(all_results) + summary["rows"]["rejected"]
    determinations = read_csv(out / "determinations.csv")
    assert len(determinations) == summary["convictions"]["evaluated"] > 0
    assert {d["outcome"] for d in determinations} <= {"dismiss", "reduce", "not_eligible", "review"}
    assert all(d["reason"] and d["citation"] and d["rule_id"] for d in determinations)
    assert sum(summary["outcomes"].values()) == len(determinations)
    # The gogen bundle carries the same decisions, on the conviction's own input row.
    by_line = {int(d["source_line"]): d for d in determinations}
    decided_rows = [(i + 2, r) for i, r in enumerate(all_results) if r["Eligibility Determination"]]
    assert len(decided_rows) == len(determinations)
    for line, r in decided_rows:
        assert r["Eligibility Reason"] == by_line[line]["reason"]
    manifest = json.loads((out / "manifest.json").read_text())
    digest = hashlib.sha256(generated.read_bytes()).hexdigest()
    assert manifest["inputs"][0]["sha256"] == digest
    assert manifest["inputs"][0]["rows_read"] == 4000
    assert manifest["inputs"][0]["reader"] == "duckdb"
    assert manifest["policy"]["sha256"] == DEFAULT_POLICY.sha256
    for listed in manifest["outputs"]:  # (All_Results' digest taken as it was written)
        digest = hashlib.sha256((out / listed["file"]).read_bytes()).hexdigest()
        assert listed["sha256"] == digest, listed["file"]


def test_outputs_are_private(generated: Path, tmp_path: Path) -> None:
    out = run_ok([generated], tmp_path / "out")
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_same_inputs_give_byte_identical_outputs(generated: Path, tmp_path: Path) -> None:
    a = run_ok([generated], tmp_path / "a")
    b = run_ok([generated], tmp_path / "b")
    for p in sorted(a.iterdir()):
        if p.name in {"timings.json", "gogen.json"}:
            continue  # these hold the processing time
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    ga, gb = (json.loads((d / "gogen.json").read_text()) for d in (a, b))
    ga.pop("processingTimeInSeconds")
    gb.pop("processingTimeInSeconds")
    assert ga == gb


def test_the_runs_time_includes_the_wait_for_the_inputs_sha256(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time a run prints and keeps in timings.json is the whole run's, up to the manifest,
    whose inputs' SHA-256 it waits for: at 30M rows (24 GB, more than the page cache holds)
    that wait was 22 s the time left out. gogen.json's processing time stays the time to its
    summary, as gogen's. Here a hash slowed to take 3 s stands for such a disk."""
    import time

    import clearslate.run as run_module

    real = run_module._input_sha256

    def slow(inputs: list[Path], halt: object) -> object:
        digests = yield from real(inputs, halt)
        for _ in range(30):
            time.sleep(0.1)
            yield
        return digests

    monkeypatch.setattr(run_module, "_input_sha256", slow)
    out = run_ok([generated], tmp_path / "out")
    seconds = json.loads((out / "timings.json").read_text())["seconds"]
    assert seconds >= 3.0
    assert json.loads((out / "gogen.json").read_text())["processingTimeInSeconds"] < seconds
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] == hashlib.sha256(generated.read_bytes()).hexdigest()


def test_an_earlier_run_is_not_overwritten_without_force(generated: Path, tmp_path: Path) -> None:
    out = run_ok([generated], tmp_path / "out")
    code, output = run_cli("--input-doj", str(generated), "--county", "LOS ANGELES",
                           "--compute-at", AS_OF, "--outputs", str(out))  # fmt: skip
    assert code == 1 and "--force" in output
    run_ok([generated], out, "--force")


def test_a_county_not_in_the_file_is_said(generated: Path, tmp_path: Path) -> None:
    """A misspelt county is a valid run with nothing decided, so it says so (exit 0)."""
    code, output = run_cli("--input-doj", str(generated), "--county", "LOS ANGELE",
                           "--compute-at", AS_OF, "--outputs", str(tmp_path / "a"),
                           "--no-report")  # fmt: skip
    assert code == 0 and "no conviction was decided" in " ".join(output.split())
    code, output = run_cli("--input-doj", str(generated), "--county", "LOS ANGELES",
                           "--compute-at", AS_OF, "--outputs", str(tmp_path / "b"),
                           "--no-report")  # fmt: skip
    assert code == 0 and "no conviction was decided" not in " ".join(output.split())


def test_a_file_whose_every_row_is_rejected_is_said(tmp_path: Path) -> None:
    """Such a file (too few fields on every line; tab or semicolon delimiters) is a complete
    run (exit 0, every row in errors.csv), and ended without a word about it."""
    good = tmp_path / "good.csv"
    generate_doj_file(good, county="LOS ANGELES", rows=50, seed=3)
    header, *lines = good.read_text().splitlines()
    short = tmp_path / "short.csv"  # every data row cut to 90 of its 95 fields
    short.write_text("\n".join([header, *(",".join(ln.split(",")[:90]) for ln in lines)]) + "\n")
    code, output = run_cli("--input-doj", str(short), "--input-doj", str(good), "--county",
                           "LOS ANGELES", "--compute-at", AS_OF, "--outputs",
                           str(tmp_path / "a"), "--no-report")  # fmt: skip
    said = " ".join(output.split())
    assert code == 0, output
    assert f"every one of the 50 rows of {short} was rejected" in said, output
    assert "see errors.csv" in said and "Is it a DOJ research file" in said
    assert f"rows of {good}" not in said
    errors = read_csv(tmp_path / "a" / "errors.csv")
    assert len(errors) == 50 and {e["source_file"] for e in errors} == {str(short)}
    # a file with some good rows gets no such note
    code, output = run_cli("--input-doj", str(good), "--county", "LOS ANGELES", "--compute-at",
                           AS_OF, "--outputs", str(tmp_path / "b"), "--no-report")  # fmt: skip
    assert code == 0 and "was rejected" not in " ".join(output.split())


def test_run_level_errors_exit_1_with_gogen_err(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = run_cli("--input-doj", str(tmp_path / "missing.csv"), "--county", "X",
                           "--compute-at", AS_OF, "--outputs", str(out))  # fmt: skip
    assert code == 1 and "no such file" in output and "Traceback" not in output
    err = json.loads((out / "gogen.err").read_text())
    assert err[""]["errorType"] == "OTHER"
    code, output = run_cli("--input-doj", str(tmp_path / "x.csv"), "--county", "X",
                           "--outputs", str(out))  # fmt: skip
    assert code == 1 and "--compute-at is required" in output


def test_one_person_across_two_files_is_one_person(tmp_path: Path) -> None:
    """gogen evaluated each file alone; the record is the person's, wherever the rows are."""
    first = [conviction("00000009", "101001002000", "11359 HS-POSSESS FOR SALE", "20100102")]
    second = [conviction("00000009", "102001002000", "459 PC-BURGLARY", "20190102")]
    a, b = write(tmp_path / "a.csv", first), write(tmp_path / "b.csv", second)
    out = run_ok([a, b], tmp_path / "out", "--policy", str(_policy(tmp_path)))
    (row,) = read_csv(out / "determinations.csv")
    facts = json.loads(row["facts"])
    assert facts["subject_convictions"] == 2
    assert row["reason"] == "Reduce all HS 11359 convictions"  # not "Only has 11357-60 charges"
    assert (out / "All_Results_1.csv").exists() and (out / "All_Results_2.csv").exists()


def _policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "name: test\nreduce: ['11359']\nadditional_relief:\n  only_prop64_charges: true\n"
    )
    return path


def test_explain_equals_bulk_for_every_person(generated: Path, tmp_path: Path) -> None:
    out = run_ok([generated], tmp_path / "out")
    bulk: dict[str, list[tuple[int, str, str]]] = {}
    for d in read_csv(out / "determinations.csv"):
        bulk.setdefault(d["subject_id"], []).append(
            (int(d["source_line"]), d["outcome"], d["rule_id"])
        )
    # `clearslate explain` reads the row facts, as the run does; rows the web server kept
    # before it kept facts are the raw columns. Both explain alike (every third person: each
    # explain takes 0.1 s).
    facts, raw = duckdb.connect(), duckdb.connect()
    read_doj_files(facts, [generated], select=list(ROW_FACTS))
    read_doj_files(raw, [generated])
    as_of = dt.date.fromisoformat(AS_OF)
    for i, (subject, decisions) in enumerate(bulk.items()):
        result = explain_subject(facts, subject, policy=DEFAULT_POLICY, as_of=as_of,
                                 counties=["LOS ANGELES"])  # fmt: skip
        assert result is not None
        if i % 3 == 0:
            assert result == explain_subject(raw, subject, policy=DEFAULT_POLICY, as_of=as_of,
                                             counties=["LOS ANGELES"])  # fmt: skip
        explained = [(c.source_line, c.outcome, c.rule_id) for c in result.convictions]
        assert explained == decisions, subject
        for c in result.convictions:
            fired = [s for s in c.steps if s.holds]
            assert [s.rule_id for s in fired] == [c.rule_id]  # the last step tried decided
            assert c.steps[-1].rule_id == c.rule_id


def test_explain_command(generated: Path) -> None:
    with generated.open(newline="") as fh:
        subject = next(r for r in csv.reader(fh) if r[2] != "SUBJECT_ID")[2]
    result = runner.invoke(app, ["explain", "--input-doj", str(generated), "--county", "LOS ANGELES",
                                 "--compute-at", AS_OF, "--subject", subject, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["subject_id"] == subject and data["record"]
    missing = runner.invoke(app, ["explain", "--input-doj", str(generated), "--county", "X",
                                  "--compute-at", AS_OF, "--subject", "nobody"])  # fmt: skip
    assert missing.exit_code == 1


def test_generated_file_decides_every_prop64_conviction(generated: Path, tmp_path: Path) -> None:
    """Every Prop 64 conviction in the county is decided: none is left without an outcome."""
    out = run_ok([generated], tmp_path / "out")
    con = duckdb.connect()
    n = con.execute(
        f"""SELECT count(*) FROM read_csv('{out / "determinations.csv"}', all_varchar=true)
            WHERE outcome IS NULL OR outcome = ''"""
    ).fetchone()[0]
    assert n == 0
