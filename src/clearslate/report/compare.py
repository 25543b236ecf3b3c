"""What-if: several policies over one input, read once, decided once per policy, side by side.

The research files are read once into one DuckDB connection; each policy is decided over the
same rows with the run's own `decide_rows`, and its `determinations` table is renamed
`determinations_<i>` before the next. The first policy is the baseline: every other one is
compared with it conviction by conviction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate.engine.facts import ROW_FACTS
from clearslate.engine.pipeline import decide_rows
from clearslate.outputs.files import make_private_dir, remove_partials, sha256_file, write_text
from clearslate.outputs.summary import gogen_summary
from clearslate.policy import DEFAULT_POLICY, Policy
from clearslate.report.california import OUTCOME_LABELS, OUTCOMES
from clearslate.report.charts import Series, bar_chart_svg
from clearslate.report.data import ReportError, manifest_as_of
from clearslate.report.render import render_html
from clearslate.run import (
    RunOptions,
    as_of_date,
    connect,
    county_label,
    workdir_prefix,
)
from clearslate.sources.ca_doj import InputError, read_doj_files

NOT_DECIDED = "not_decided"  # a conviction one policy decides and another does not evaluate

METRICS: tuple[tuple[str, str], ...] = (
    ("convictions", "Convictions decided"),
    *((f"outcome:{o}", OUTCOME_LABELS[o]) for o in OUTCOMES),
    ("people:prop64", "People with a Prop 64 conviction decided"),
    ("people:some_relief", "People with some relief"),
    ("people:no_felony", "People who no longer have a felony"),
    (
        "people:no_conviction_7y",
        "People with no conviction left in the 7 years before the as-of date",
    ),
    ("people:no_conviction", "People with no conviction left at all"),
)


@dataclass(frozen=True)
class Kind:
    """What differs between comparing California and Illinois policies."""

    outcomes: tuple[str, ...]
    outcome_labels: dict[str, str]
    metrics: tuple[tuple[str, str], ...]
    unit: str  # a decided row, plural: "convictions", "charges"
    key: str  # the column that identifies a decided row in every policy's table
    detail: tuple[tuple[str, str], ...]  # (column, CSV header) of the per-row changes file
    detail_file: str
    inputs_label: str  # "Research files", "Exports"
    region_label: str  # "County", "Counties"


CALIFORNIA = Kind(
    outcomes=OUTCOMES,
    outcome_labels=OUTCOME_LABELS,
    metrics=METRICS,
    unit="convictions",
    key="row_id",
    detail=(
        ("subject_id", "subject_id"),
        ("source_file", "source_file"),
        ("source_line", "source_line"),
        ("code_section_raw", "code_section_raw"),
        ("conviction_date", "disposition_date"),
    ),
    detail_file="compare-convictions.csv",
    inputs_label="Research files",
    region_label="County",
)


@dataclass
class CompareSource:
    inputs: list[Path]
    counties: list[str] | None
    as_of: dt.date
    run_dir: Path | None = None
    manifest: dict[str, Any] | None = None


@dataclass
class PolicyResult:
    index: int
    label: str
    policy: Any  # Policy or ILPolicy: a pydantic model with name, description, sha256
    source: str
    table: str
    metrics: dict[str, int]


@dataclass
class Change:
    baseline: int
    other: int
    outcome_from: str
    reason_from: str
    outcome_to: str
    reason_to: str
    count: int


@dataclass
class CompareResult:
    outputs: list[Path]
    source: CompareSource
    read: Any  # the reader's result: .files (each with .path) and .rows_read
    policies: list[PolicyResult]
    changes: list[Change] = field(default_factory=list)
    changed: dict[int, int] = field(default_factory=dict)  # other policy -> rows changed
    kind: Kind = CALIFORNIA
    region: str = ""  # the counties, in words


def parse_counties(value: str) -> list[str] | None:
    names = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not names:
        raise ReportError("--county is empty: give a county name, a comma-separated list, or ALL.")
    return None if names == ["ALL"] else names


def run_manifest(path: Path) -> tuple[dict[str, Any], dt.date]:
    """A run's manifest.json as compare reads it: a JSON object, its "inputs" (each with its
    "path") and its "as_of" date. An edited one is said in words (which key is missing or
    wrong), not by the bare text of a KeyError."""
    again = "run clearslate run again, or compare the input files themselves."
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc}).") from None
    if not isinstance(manifest, dict):
        raise ReportError(f"{path}: not a run's manifest (a JSON object is expected); {again}")
    inputs = manifest.get("inputs")
    if (
        not isinstance(inputs, list)
        or not inputs
        or not all(isinstance(i, dict) and isinstance(i.get("path"), str) for i in inputs)
    ):
        raise ReportError(
            f'{path}: "inputs" is missing or not a list of the run\'s input files, each with '
            f'its "path"; {again}'
        )
    return manifest, manifest_as_of(manifest, path, again)


def check_inputs_present(manifest: dict[str, Any], manifest_path: Path, instead: str) -> None:
    """A run's input that is not there. Its path is as the run was given it, so a relative
    one is relative to the folder the run was started from (not to the run's folder, nor to
    where compare was started): said here plainly, instead of the read's advice about a flag
    (--input-doj) that compare does not have. `instead`: what else to do."""
    for recorded in manifest["inputs"]:
        path = Path(recorded["path"])
        if path.exists():
            continue
        if path.is_absolute():
            raise ReportError(
                f"{path}: no such file, though {manifest_path} lists it as the run's input: it "
                f"was moved or removed since the run. Put it back, or {instead}."
            )
        raise ReportError(
            f"{path}: no such file here. {manifest_path} lists the run's input as the run was "
            "given it, relative to the folder the run was started from: start compare from "
            f"that folder, or {instead}."
        )


def resolve_source(run_or_input: Path, county: str | None, compute_at: str | None) -> CompareSource:
    """A research file (then --county and --compute-at are required) or a run's folder
    (then its manifest gives the inputs, the counties and the as-of date; flags override)."""
    path = Path(run_or_input)
    as_of: dt.date | None = None
    if compute_at:
        try:
            as_of = as_of_date(compute_at)  # as `run` checks it: from 1900 on
        except ValueError as exc:
            raise ReportError(str(exc)) from None
    counties = parse_counties(county) if county else None
    if path.is_dir():
        manifest_path = path / "manifest.json"
        if not manifest_path.is_file():
            raise ReportError(
                f"{path}: a folder without manifest.json. Give a research file, or the "
                "--outputs folder of a finished run."
            )
        manifest, run_as_of = run_manifest(manifest_path)
        run_counties = manifest.get("counties")
        if not county and (not isinstance(run_counties, str) or not run_counties.strip()):
            raise ReportError(
                f'{manifest_path}: "counties" is missing or empty (the run\'s --county); run '
                "clearslate run again, or give --county."
            )
        check_inputs_present(
            manifest, manifest_path, "compare the file itself with --county and --compute-at"
        )
        return CompareSource(
            inputs=[Path(i["path"]) for i in manifest["inputs"]],
            counties=counties if county else parse_counties(str(run_counties)),
            as_of=as_of or run_as_of,
            run_dir=path,
            manifest=manifest,
        )
    if not county:
        raise ReportError("--county is required with a research file (or give a run's folder).")
    if as_of is None:
        raise ReportError(
            "--compute-at is required with a research file: the as-of date, YYYY-MM-DD "
            "(or give a run's folder, whose as-of date is used)."
        )
    return CompareSource(inputs=[path], counties=counties, as_of=as_of)


def _labels(policies: Sequence[tuple[Policy, str]]) -> list[str]:
    labels: list[str] = []
    for policy, _source in policies:
        label = policy.name
        n = 2
        while label in labels:
            label = f"{policy.name} ({n})"
            n += 1
        labels.append(label)
    return labels


def _metrics(con: duckdb.DuckDBPyConnection, gogen: dict[str, Any]) -> dict[str, int]:
    counts = dict(con.execute("SELECT outcome, count(*) FROM determinations GROUP BY 1").fetchall())
    relief = gogen["reliefWithCurrentEligibilityChoices"]
    metrics = {"convictions": sum(counts.values())}
    metrics.update({f"outcome:{o}": int(counts.get(o, 0)) for o in OUTCOMES})
    metrics.update(
        {
            "people:prop64": gogen["subjectsWithProp64ConvictionCountInCounty"],
            "people:some_relief": gogen["subjectsWithSomeReliefCount"],
            "people:no_felony": relief["CountSubjectsNoFelony"],
            "people:no_conviction_7y": relief["CountSubjectsNoConvictionLast7Years"],
            "people:no_conviction": relief["CountSubjectsNoConviction"],
        }
    )
    return metrics


def check_inputs_unchanged(
    manifest: dict[str, Any] | None, run_dir: Path | None, remedy: str
) -> None:
    """A run's inputs must be the files it read (their SHA-256 in its manifest), or the
    comparison would not be of that run. Checked before the read, so that a changed file is
    said at once, not after the whole read. A file that is gone is left to the read to
    report, as for any input."""
    for recorded in (manifest or {}).get("inputs", []):
        path = Path(recorded["path"])
        if recorded.get("sha256") and path.is_file() and recorded["sha256"] != sha256_file(path):
            raise ReportError(
                f"{path}: changed since the run in {run_dir} (its SHA-256 differs from "
                f"manifest.json). {remedy}"
            )


def prepare_outputs(outputs: Path, force: bool) -> Path:
    """The comparison's folder: private, and not an earlier comparison unless ``force``."""
    outputs = Path(outputs)
    if (outputs / "compare.html").exists() and not force:
        raise ReportError(
            f"{outputs}: holds an earlier comparison (compare.html). Choose another --outputs "
            "folder, or add --force to replace it."
        )
    try:
        make_private_dir(outputs)
    except OSError as exc:
        raise ReportError(f"{outputs}: cannot write here ({exc.strerror}).") from None
    remove_partials(outputs)
    return outputs


def compare_policies(
    source: CompareSource,
    policies: Sequence[tuple[Policy, str]],
    outputs: Path,
    *,
    memory_limit: str = "1GB",
    force: bool = False,
) -> CompareResult:
    """Decide `source` once per policy and write compare.html and the CSVs into `outputs`."""
    if len(policies) < 2:
        raise ReportError("give at least two policies to compare (--policy A --policy B).")
    outputs = prepare_outputs(outputs, force)
    opts = RunOptions(
        inputs=source.inputs,
        outputs=outputs,
        counties=source.counties,
        as_of=source.as_of,
        policy=DEFAULT_POLICY,
        memory_limit=memory_limit,
    )
    check_inputs_unchanged(
        source.manifest, source.run_dir, "Compare the file itself with --county and --compute-at."
    )
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix("compare-")))
    try:
        con = connect(opts, workdir)
        try:
            try:
                # the row facts only, as the bulk run reads them (not the 95 raw columns)
                read = read_doj_files(con, list(source.inputs), select=list(ROW_FACTS))
            except InputError as exc:
                raise ReportError(str(exc)) from exc

            def decide(policy: Policy) -> dict[str, int]:
                decide_rows(con, counties=source.counties, as_of=source.as_of, policy=policy)
                gogen = gogen_summary(
                    con,
                    county=county_label(source.counties),
                    line_count=read.rows_read,
                    seconds=0.0,
                    policy=policy,
                    as_of=source.as_of,
                )
                return _metrics(con, gogen)

            def keep(table: str) -> None:
                con.execute(f"DROP TABLE IF EXISTS {table}")
                con.execute(f"ALTER TABLE determinations RENAME TO {table}")

            result = CompareResult([], source, read, [], region=county_label(source.counties))
            return decide_all(con, result, policies, decide, keep, outputs)
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def decide_all(
    con: duckdb.DuckDBPyConnection,
    result: CompareResult,
    policies: Sequence[tuple[Any, str]],
    decide: Callable[[Any], dict[str, int]],
    keep: Callable[[str], None],
    outputs: Path,
) -> CompareResult:
    """Decide the rows already read under each policy (`decide` returns its metrics, `keep`
    keeps its decided rows as the named table), compare each with the first, write."""
    for i, ((policy, policy_source), label) in enumerate(
        zip(policies, _labels(policies), strict=True)
    ):
        metrics = decide(policy)
        table = f"determinations_{i}"
        keep(table)
        result.policies.append(PolicyResult(i, label, policy, policy_source, table, metrics))
    _changes(con, result)
    result.outputs = _write(con, result, outputs)
    return result


def _pair_sql(kind: Kind, a: str, b: str) -> str:
    detail = ", ".join(f"coalesce(a.{c}, b.{c}) AS {c}" for c, _ in kind.detail)
    return f"""
        SELECT coalesce(a.outcome, '{NOT_DECIDED}') AS outcome_from,
               coalesce(a.reason, '') AS reason_from,
               coalesce(b.outcome, '{NOT_DECIDED}') AS outcome_to,
               coalesce(b.reason, '') AS reason_to,
               {kind.key}, {detail}
        FROM {a} a FULL OUTER JOIN {b} b USING ({kind.key})
        WHERE a.outcome IS DISTINCT FROM b.outcome
    """


def _changes(con: duckdb.DuckDBPyConnection, result: CompareResult) -> None:
    base = result.policies[0]
    for other in result.policies[1:]:
        sql = _pair_sql(result.kind, base.table, other.table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE changes_{other.index} AS {sql}")
        rows = con.execute(
            f"""SELECT outcome_from, reason_from, outcome_to, reason_to, count(*)
                FROM changes_{other.index} GROUP BY ALL ORDER BY 5 DESC, 1, 2, 3, 4"""
        ).fetchall()
        result.changes += [Change(base.index, other.index, *r) for r in rows]
        result.changed[other.index] = sum(r[4] for r in rows)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _write(con: duckdb.DuckDBPyConnection, result: CompareResult, out: Path) -> list[Path]:
    kind = result.kind
    labels = [p.label for p in result.policies]
    files = {
        "compare.csv": _csv_text(
            ["metric", "label", *labels],
            [[key, label, *(p.metrics[key] for p in result.policies)] for key, label in kind.metrics],
        ),
        "compare-changes.csv": _csv_text(
            ["baseline", "policy", "outcome_from", "reason_from", "outcome_to", "reason_to",
             "count"],
            [[labels[c.baseline], labels[c.other], c.outcome_from, c.reason_from, c.outcome_to,
              c.reason_to, c.count] for c in result.changes],
        ),
    }  # fmt: skip
    # One row per decided row whose outcome differs (personal data: this folder is private).
    rows: list[Sequence[Any]] = []
    columns = ", ".join(f"{c}::VARCHAR" for c, _ in kind.detail)
    for other in result.policies[1:]:
        for r in con.execute(
            f"""SELECT {columns}, outcome_from, reason_from, outcome_to, reason_to
                FROM changes_{other.index} ORDER BY {kind.key}"""
        ).fetchall():
            rows.append([labels[0], other.label, *("" if v is None else v for v in r)])
    files[kind.detail_file] = _csv_text(
        ["baseline", "policy", *(h for _, h in kind.detail), "outcome_from", "reason_from",
         "outcome_to", "reason_to"],
        rows,
    )  # fmt: skip
    files["compare.html"] = render_html("compare.html.j2", model=_compare_model(result))
    written = []
    for name, text in files.items():
        write_text(out / name, text)
        written.append(out / name)
    return written


def _settings_that_differ(policies: Sequence[Any]) -> list[tuple[str, list[str]]]:
    dumps = [p.model_dump(mode="json") for p in policies]
    rows = []
    for key in dumps[0]:
        if key in ("name", "description"):
            continue
        values = [_setting_text(d.get(key)) for d in dumps]
        if len(set(values)) > 1:
            rows.append((key, values))
    return rows


def _setting_text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)  # as in the YAML: true, false, null
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_setting_text(v)}" for k, v in value.items())
    return str(value)


def _compare_model(result: CompareResult) -> dict[str, Any]:
    from markupsafe import Markup

    kind, policies = result.kind, result.policies
    base = policies[0]
    metrics = []
    for key, label in kind.metrics:
        values = [p.metrics[key] for p in policies]
        diffs = []
        for p in policies[1:]:
            delta = p.metrics[key] - base.metrics[key]
            kind_text = "same" if delta == 0 else "changed"
            diffs.append({"delta": delta, "kind": kind_text, "policy": p.index})
        metrics.append({"key": key, "label": label, "values": values, "diffs": diffs})
    unit = kind.unit
    chart = bar_chart_svg(
        "chart-compare",
        "Outcomes by policy",
        f"Stacked bar chart of {unit} by policy and outcome. "
        + "; ".join(
            f"{p.label}: "
            + ", ".join(
                f"{kind.outcome_labels[o]} {p.metrics['outcome:' + o]:,}" for o in kind.outcomes
            )
            for p in policies
        )
        + ".",
        [p.label for p in policies],
        [
            Series(o, kind.outcome_labels[o], [p.metrics[f"outcome:{o}"] for p in policies])
            for o in kind.outcomes
        ],
        xlabel=unit.capitalize(),
    )
    changes_by_policy = []
    for p in policies[1:]:
        rows = [c for c in result.changes if c.other == p.index]
        changes_by_policy.append(
            {"policy": p, "rows": rows, "total": result.changed.get(p.index, 0)}
        )
    source = result.source
    return {
        "title": "What if: policies compared",
        "unit": unit,
        "inputs_label": kind.inputs_label,
        "region_label": kind.region_label,
        "detail_file": kind.detail_file,
        "inputs": [Path(f.path).name for f in result.read.files],
        "rows_read": result.read.rows_read,
        "counties": result.region,
        "as_of": source.as_of.isoformat(),
        "run_dir": source.run_dir.name if source.run_dir else "",
        "policies": policies,
        "metrics": metrics,
        "settings": _settings_that_differ([p.policy for p in policies]),
        "chart": Markup(chart),
        "changes": changes_by_policy,
        "outcome_labels": {**kind.outcome_labels, NOT_DECIDED: "Not decided"},
        "base": base,
    }
