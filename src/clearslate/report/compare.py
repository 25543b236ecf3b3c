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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate.engine.pipeline import decide_rows
from clearslate.outputs.files import make_private_dir, remove_partials, write_text
from clearslate.outputs.summary import gogen_summary
from clearslate.policy import DEFAULT_POLICY, Policy
from clearslate.report.charts import Series, bar_chart_svg
from clearslate.report.california import OUTCOME_LABELS, OUTCOMES
from clearslate.report.data import ReportError
from clearslate.report.render import render_html
from clearslate.run import RunOptions, connect, county_label
from clearslate.sources.ca_doj import InputError, ReadResult, read_doj_files

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
    policy: Policy
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
    read: ReadResult
    policies: list[PolicyResult]
    changes: list[Change] = field(default_factory=list)
    changed: dict[int, int] = field(default_factory=dict)  # other policy -> convictions changed


def parse_counties(value: str) -> list[str] | None:
    names = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not names:
        raise ReportError("--county is empty: give a county name, a comma-separated list, or ALL.")
    return None if names == ["ALL"] else names


def resolve_source(run_or_input: Path, county: str | None, compute_at: str | None) -> CompareSource:
    """A research file (then --county and --compute-at are required) or a run's folder
    (then its manifest gives the inputs, the counties and the as-of date; flags override)."""
    path = Path(run_or_input)
    as_of: dt.date | None = None
    if compute_at:
        try:
            as_of = dt.date.fromisoformat(compute_at)
        except ValueError:
            raise ReportError(
                f"invalid --compute-at date {compute_at!r}: give YYYY-MM-DD."
            ) from None
    counties = parse_counties(county) if county else None
    if path.is_dir():
        manifest_path = path / "manifest.json"
        if not manifest_path.is_file():
            raise ReportError(
                f"{path}: a folder without manifest.json. Give a research file, or the "
                "--outputs folder of a finished run."
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            inputs = [Path(i["path"]) for i in manifest["inputs"]]
            run_as_of = dt.date.fromisoformat(manifest["as_of"])
            run_counties = parse_counties(str(manifest["counties"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ReportError(f"{manifest_path}: cannot be read ({exc}).") from None
        return CompareSource(
            inputs=inputs,
            counties=counties if county else run_counties,
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


def _check_inputs_unchanged(source: CompareSource, read: ReadResult) -> None:
    if source.manifest is None:
        return
    for recorded, now in zip(source.manifest["inputs"], read.files, strict=True):
        if recorded.get("sha256") and recorded["sha256"] != now.sha256:
            raise ReportError(
                f"{now.path}: changed since the run in {source.run_dir} (its SHA-256 differs "
                "from manifest.json). Compare the file itself with --county and --compute-at."
            )


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
    labels = _labels(policies)
    opts = RunOptions(
        inputs=source.inputs,
        outputs=outputs,
        counties=source.counties,
        as_of=source.as_of,
        policy=DEFAULT_POLICY,
        memory_limit=memory_limit,
    )
    workdir = Path(tempfile.mkdtemp(prefix="clearslate-compare-"))
    try:
        con = connect(opts, workdir)
        try:
            try:
                read = read_doj_files(con, list(source.inputs))
            except InputError as exc:
                raise ReportError(str(exc)) from exc
            _check_inputs_unchanged(source, read)
            results: list[PolicyResult] = []
            for i, ((policy, policy_source), label) in enumerate(
                zip(policies, labels, strict=True)
            ):
                decide_rows(con, counties=source.counties, as_of=source.as_of, policy=policy)
                gogen = gogen_summary(
                    con,
                    county=county_label(source.counties),
                    line_count=read.rows_read,
                    seconds=0.0,
                    policy=policy,
                    as_of=source.as_of,
                )
                metrics = _metrics(con, gogen)
                table = f"determinations_{i}"
                con.execute(f"DROP TABLE IF EXISTS {table}")
                con.execute(f"ALTER TABLE determinations RENAME TO {table}")
                results.append(PolicyResult(i, label, policy, policy_source, table, metrics))
            result = CompareResult([], source, read, results)
            _changes(con, result)
            result.outputs = _write(con, result, outputs)
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


_PAIR_SQL = """
    SELECT coalesce(a.outcome, '{nd}') AS outcome_from, coalesce(a.reason, '') AS reason_from,
           coalesce(b.outcome, '{nd}') AS outcome_to, coalesce(b.reason, '') AS reason_to,
           coalesce(a.row_id, b.row_id) AS row_id,
           coalesce(a.subject_id, b.subject_id) AS subject_id,
           coalesce(a.source_file, b.source_file) AS source_file,
           coalesce(a.source_line, b.source_line) AS source_line,
           coalesce(a.code_section_raw, b.code_section_raw) AS code_section_raw,
           coalesce(a.conviction_date, b.conviction_date) AS conviction_date
    FROM {a} a FULL OUTER JOIN {b} b USING (row_id)
    WHERE a.outcome IS DISTINCT FROM b.outcome
"""


def _changes(con: duckdb.DuckDBPyConnection, result: CompareResult) -> None:
    base = result.policies[0]
    for other in result.policies[1:]:
        sql = _PAIR_SQL.format(nd=NOT_DECIDED, a=base.table, b=other.table)
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
    labels = [p.label for p in result.policies]
    written = []

    path = out / "compare.csv"
    write_text(
        path,
        _csv_text(
            ["metric", "label", *labels],
            [[key, label, *(p.metrics[key] for p in result.policies)] for key, label in METRICS],
        ),
    )
    written.append(path)

    path = out / "compare-changes.csv"
    write_text(
        path,
        _csv_text(
            [
                "baseline",
                "policy",
                "outcome_from",
                "reason_from",
                "outcome_to",
                "reason_to",
                "count",
            ],
            [
                [
                    labels[c.baseline],
                    labels[c.other],
                    c.outcome_from,
                    c.reason_from,
                    c.outcome_to,
                    c.reason_to,
                    c.count,
                ]
                for c in result.changes
            ],
        ),
    )
    written.append(path)

    # One row per conviction whose outcome differs (personal data: this folder is private).
    rows: list[Sequence[Any]] = []
    for other in result.policies[1:]:
        for r in con.execute(
            f"""SELECT subject_id, source_file, source_line, code_section_raw,
                       conviction_date::VARCHAR, outcome_from, reason_from, outcome_to, reason_to
                FROM changes_{other.index} ORDER BY row_id"""
        ).fetchall():
            rows.append([labels[0], other.label, *("" if v is None else v for v in r)])
    path = out / "compare-convictions.csv"
    write_text(
        path,
        _csv_text(
            [
                "baseline",
                "policy",
                "subject_id",
                "source_file",
                "source_line",
                "code_section_raw",
                "disposition_date",
                "outcome_from",
                "reason_from",
                "outcome_to",
                "reason_to",
            ],
            rows,
        ),
    )
    written.append(path)

    path = out / "compare.html"
    write_text(path, render_html("compare.html.j2", model=_compare_model(result)))
    written.append(path)
    return written


def _settings_that_differ(policies: Sequence[Policy]) -> list[tuple[str, list[str]]]:
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
    policies = result.policies
    base = policies[0]
    metrics = []
    for key, label in METRICS:
        values = [p.metrics[key] for p in policies]
        diffs = []
        for p in policies[1:]:
            delta = p.metrics[key] - base.metrics[key]
            kind = "same" if delta == 0 else "changed"
            diffs.append({"delta": delta, "kind": kind, "policy": p.index})
        metrics.append({"key": key, "label": label, "values": values, "diffs": diffs})
    chart = bar_chart_svg(
        "chart-compare",
        "Outcomes by policy",
        "Stacked bar chart of convictions by policy and outcome. "
        + "; ".join(
            f"{p.label}: "
            + ", ".join(f"{OUTCOME_LABELS[o]} {p.metrics['outcome:' + o]:,}" for o in OUTCOMES)
            for p in policies
        )
        + ".",
        [p.label for p in policies],
        [
            Series(o, OUTCOME_LABELS[o], [p.metrics[f"outcome:{o}"] for p in policies])
            for o in OUTCOMES
        ],
    )
    from markupsafe import Markup

    changes_by_policy = []
    for p in policies[1:]:
        rows = [c for c in result.changes if c.other == p.index]
        changes_by_policy.append(
            {"policy": p, "rows": rows, "total": result.changed.get(p.index, 0)}
        )
    source = result.source
    return {
        "title": "What if: policies compared",
        "inputs": [Path(f.path).name for f in result.read.files],
        "rows_read": result.read.rows_read,
        "counties": county_label(source.counties),
        "as_of": source.as_of.isoformat(),
        "run_dir": source.run_dir.name if source.run_dir else "",
        "policies": policies,
        "metrics": metrics,
        "settings": _settings_that_differ([p.policy for p in policies]),
        "chart": Markup(chart),
        "changes": changes_by_policy,
        "outcome_labels": {**OUTCOME_LABELS, NOT_DECIDED: "Not decided"},
        "base": base,
    }
