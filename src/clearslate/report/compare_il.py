"""What-if for Illinois: the same exports decided under several Illinois policies.

The exports are read and people linked once (illinois_run.load_inputs); each policy is decided
over the same records by the run's own `decide_il`, its plan and summary by the run's own
functions, so each policy's numbers are those of `clearslate run --jurisdiction il` with it.
The comparison itself (changes, files, page) is compare.py's.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clearslate.report.compare import (
    CompareResult,
    CompareSource,
    Kind,
    check_inputs_present,
    check_inputs_unchanged,
    decide_all,
    run_manifest,
)
from clearslate.report.compare import prepare_outputs as _prepare
from clearslate.report.data import ReportError
from clearslate.report.illinois import OUTCOME_LABELS
from clearslate.sources.il_canonical import IL_OUTCOMES

METRICS: tuple[tuple[str, str], ...] = (
    ("charges", "Charges decided"),
    *((f"outcome:{o}", OUTCOME_LABELS[o]) for o in IL_OUTCOMES),
    ("people:charges", "People with a cannabis charge decided"),
    ("people:relief", "People with some relief"),
    ("grams_inferred", "Charges with the amount inferred from the offense class"),
    ("batches", "Batches in the plan"),
)

ILLINOIS = Kind(
    outcomes=IL_OUTCOMES,
    outcome_labels=OUTCOME_LABELS,
    metrics=METRICS,
    unit="charges",
    key="record_id",
    detail=(
        ("person_id", "person_id"),
        ("source_file", "source_file"),
        ("source_line", "source_line"),
        ("statute_raw", "statute_raw"),
        ("record_date", "record_date"),
    ),
    detail_file="compare-charges.csv",
    inputs_label="Exports",
    region_label="Counties",
)
_KINDS = {"court": "court_exports", "isp": "isp_exports", "canonical": "canonical"}


def il_inputs_from_run(run_dir: Path) -> tuple[dict[str, list[Path]], dt.date, dict[str, Any]]:
    """The exports (by kind), as-of date and manifest of an Illinois run's folder."""
    path = run_dir / "manifest.json"
    manifest, as_of = run_manifest(path)
    inputs: dict[str, list[Path]] = {v: [] for v in _KINDS.values()}
    for i in manifest["inputs"]:
        if i.get("kind") not in _KINDS:
            raise ReportError(
                f'{path}: an input\'s "kind" is missing or not one of {", ".join(_KINDS)}; run '
                "clearslate run again, or compare the exports themselves."
            )
        inputs[_KINDS[i["kind"]]].append(Path(i["path"]))
    check_inputs_present(manifest, path, "compare the exports themselves (--court-export ...)")
    return inputs, as_of, manifest


def compare_il_policies(
    opts: Any,  # illinois_run.ILRunOptions: the inputs, as-of date, memory limit
    policies: Sequence[tuple[Any, str]],
    outputs: Path,
    *,
    force: bool = False,
    run_dir: Path | None = None,
    manifest: dict[str, Any] | None = None,
) -> CompareResult:
    """Decide the Illinois inputs once per policy; write compare.html and the CSVs."""
    from clearslate.engine.il_decide import decide_il
    from clearslate.engine.il_plan import plan_batches
    from clearslate.illinois_run import RunError, il_summary, load_inputs
    from clearslate.run import connect, workdir_prefix

    if len(policies) < 2:
        raise ReportError("give at least two policies to compare (--policy A --policy B).")
    outputs = _prepare(outputs, force)
    check_inputs_unchanged(manifest, run_dir, "Compare the exports themselves.")
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix("compare-")))
    try:
        con = connect(opts, workdir)
        try:
            try:
                read = load_inputs(con, opts)
            except RunError as exc:
                raise ReportError(str(exc)) from exc

            def decide(policy: Any) -> dict[str, int]:
                law, _rules = decide_il(con, policy, opts.as_of)
                batches = plan_batches(con, "il_determinations", opts.max_batch)
                s = il_summary(con, opts, read, law.version_id, len(batches))
                return {
                    "charges": s["charges"]["evaluated"],
                    **{f"outcome:{o}": s["outcomes"][o] for o in IL_OUTCOMES},
                    "people:charges": s["people"]["with_cannabis_charges"],
                    "people:relief": s["people"]["with_relief"],
                    "grams_inferred": s["grams_inferred"],
                    "batches": s["batches"],
                }

            def keep(table: str) -> None:
                con.execute(
                    f"""CREATE OR REPLACE TABLE {table} AS
                        SELECT d.*, r.source_file, r.source_line, r.statute_raw
                        FROM il_determinations d JOIN il_records r USING (record_id)"""
                )

            source = CompareSource(list(opts.inputs), None, opts.as_of, run_dir, manifest)
            result = CompareResult(
                [], source, read, [], kind=ILLINOIS,
                region="; ".join(
                    f"{p.name}: {', '.join(p.counties) if p.counties else 'every county'}"
                    for p, _ in policies
                ),
            )  # fmt: skip
            return decide_all(con, result, policies, decide, keep, outputs)
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
