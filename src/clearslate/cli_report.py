"""`clearslate report` and `clearslate compare`: plain functions with Typer annotations,
registered on the application in cli.py. Heavy modules are imported inside them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from clearslate.cli_illinois import (
    CanonicalOpt,
    CourtExportOpt,
    CourtMappingOpt,
    IspExportOpt,
    IspMappingOpt,
    JurisdictionOpt,
)

# compare's and redact's; `run` says more (the process's own memory beside DuckDB's).
MemoryLimitOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="DuckDB memory limit (default: $CLEARSLATE_MEMORY_LIMIT or 1GB); beyond it, "
        "spill to disk.",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


def report(
    run_dir: Annotated[
        Path, typer.Argument(help="The results folder of a `clearslate run` (its --outputs).")
    ],
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="For publication: counts from 1 to 10 shown as <11, and the cells that would "
            "reveal them hidden too. Writes report-public.html/.pdf.",
        ),
    ] = False,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF (default: yes).")
    ] = True,
) -> None:
    """Write the impact report of a run (HTML with charts, and PDF) into its folder."""
    from clearslate.report.build import build_report
    from clearslate.report.data import ReportError

    try:
        written = build_report(run_dir, public=public, pdf=pdf)
    except ReportError as exc:
        _fail(str(exc))
    for path in written:
        typer.echo(f"wrote {path}")


def _manifest_jurisdiction(path: Path | None) -> str:
    """A run folder's jurisdiction (its manifest's), "" for anything else."""
    import json

    manifest = path / "manifest.json" if path is not None else None
    if manifest is None or not manifest.is_file():
        return ""
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("jurisdiction", "ca"))
    except (OSError, ValueError, AttributeError):
        return ""  # resolve_source says what is wrong with it


def compare(
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy",
            help="A policy YAML (or gogen options JSON) or a shipped policy name; repeat, "
            "at least twice. The first is the baseline.",
        ),
    ],
    outputs: Annotated[
        str, typer.Option("--outputs", help="Folder for compare.html and the CSV files.")
    ],
    run_or_input: Annotated[
        Path | None,
        typer.Argument(
            help="A DOJ research file, or the results folder of a run (its manifest gives the "
            "input files, county and as-of date). Illinois: a run folder, or the export flags."
        ),
    ] = None,
    county: Annotated[
        str | None,
        typer.Option(
            "--county",
            "-c",
            help='County, e.g. "LOS ANGELES"; a list; or ALL. Default: the run\'s.',
        ),
    ] = None,
    compute_at: Annotated[
        str | None,
        typer.Option("--compute-at", help="As-of date, YYYY-MM-DD. Default: the run's."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier comparison in --outputs.")
    ] = False,
    memory_limit: MemoryLimitOpt = None,
    jurisdiction: JurisdictionOpt = "ca",
    court_export: CourtExportOpt = None,
    isp_export: IspExportOpt = None,
    court_mapping: CourtMappingOpt = None,
    isp_mapping: IspMappingOpt = None,
    input_canonical: CanonicalOpt = None,
) -> None:
    """Decide one input under several policies (read once) and compare them side by side."""
    from clearslate.cli import _memory_limit, _outputs, _Refused
    from clearslate.report.data import ReportError

    out = _outputs(outputs)  # `--outputs ""` was the current folder (Path("") is ".")
    try:
        memory_limit = _memory_limit(memory_limit)
    except _Refused as exc:
        _fail(str(exc))
    il_flags = court_export or isp_export or input_canonical
    if (
        jurisdiction.strip().lower() == "il"
        or il_flags
        or _manifest_jurisdiction(run_or_input) == "il"
    ):
        try:
            result = _compare_il(
                policy, out, run_or_input, compute_at, force, memory_limit,
                court_export=court_export, isp_export=isp_export, court_mapping=court_mapping,
                isp_mapping=isp_mapping, input_canonical=input_canonical,
            )  # fmt: skip
        except ReportError as exc:
            _fail(str(exc))
        for p in result.policies:
            m = p.metrics
            typer.echo(
                f"{p.label}: {m['outcome:vacate_and_expunge']:,} vacated and expunged, "
                f"{m['outcome:expunge_arrest']:,} arrests expunged, "
                f"{m['outcome:eligible_on_motion']:,} eligible on motion, "
                f"{m['outcome:not_eligible']:,} not eligible, {m['outcome:review']:,} to review; "
                f"{m['people:relief']:,} people with some relief"
            )
    else:
        if run_or_input is None:
            _fail("give a DOJ research file or a run's folder to compare.")
        result = _compare_ca(policy, out, run_or_input, county, compute_at, force, memory_limit)
        for p in result.policies:
            m = p.metrics
            typer.echo(
                f"{p.label}: {m['outcome:dismiss']:,} dismissed, {m['outcome:reduce']:,} reduced, "
                f"{m['outcome:not_eligible']:,} not eligible, {m['outcome:review']:,} to review; "
                f"{m['people:some_relief']:,} people with some relief"
            )
    for path in result.outputs:
        typer.echo(f"wrote {path}")


def _compare_ca(
    policy: list[str],
    outputs: Path,
    run_or_input: Path,
    county: str | None,
    compute_at: str | None,
    force: bool,
    memory_limit: str,
) -> Any:
    from clearslate.policy import PolicyError, resolve_policy
    from clearslate.report.compare import compare_policies, resolve_source
    from clearslate.report.data import ReportError

    try:
        policies = [(resolve_policy(p), p) for p in policy]
    except PolicyError as exc:
        _fail(str(exc))
    try:
        source = resolve_source(run_or_input, county, compute_at)
        return compare_policies(source, policies, outputs, memory_limit=memory_limit, force=force)
    except ReportError as exc:
        _fail(str(exc))


def _compare_il(
    policy: list[str],
    outputs: Path,
    run_dir: Path | None,
    compute_at: str | None,
    force: bool,
    memory_limit: str,
    **flags: Any,
) -> Any:
    """Illinois: the inputs from a run's folder (its manifest) or from the export flags."""
    from clearslate.cli_illinois import _options
    from clearslate.il_policy import resolve_il_policy
    from clearslate.policy import PolicyError
    from clearslate.report.compare_il import compare_il_policies, il_inputs_from_run

    try:
        policies = [resolve_il_policy(p)[0] for p in policy]
    except PolicyError as exc:
        _fail(str(exc))
    manifest = None
    if run_dir is not None:
        if not (run_dir / "manifest.json").is_file():
            _fail(
                f"{run_dir}: not the folder of a finished Illinois run (no manifest.json). "
                "Give the exports with --court-export / --isp-export instead."
            )
        inputs, as_of, manifest = il_inputs_from_run(run_dir)
        flags.update(
            court_export=[str(p) for p in inputs["court_exports"]] or None,
            isp_export=[str(p) for p in inputs["isp_exports"]] or None,
            input_canonical=[str(p) for p in inputs["canonical"]] or None,
        )
        compute_at = compute_at or as_of.isoformat()
    opts = _options(None, compute_at, policy[0], memory_limit=memory_limit, **flags)
    return compare_il_policies(
        opts, list(zip(policies, policy, strict=True)), outputs, force=force, run_dir=run_dir,
        manifest=manifest,
    )  # fmt: skip
