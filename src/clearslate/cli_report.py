"""`clearslate report` and `clearslate compare`: plain functions with Typer annotations,
registered on the application in cli.py. Heavy modules are imported inside them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer


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


def compare(
    run_or_input: Annotated[
        Path,
        typer.Argument(
            help="A DOJ research file, or the results folder of a run (its manifest gives the "
            "input files, county and as-of date)."
        ),
    ],
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy",
            help="A policy YAML (or gogen options JSON) or a shipped policy name; repeat, "
            "at least twice. The first is the baseline.",
        ),
    ],
    outputs: Annotated[
        Path, typer.Option("--outputs", help="Folder for compare.html and the CSV files.")
    ],
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
    memory_limit: Annotated[
        str, typer.Option("--memory-limit", help="DuckDB memory limit; beyond it, spill to disk.")
    ] = "1GB",
) -> None:
    """Decide one input under several policies (read once) and compare them side by side."""
    from clearslate.policy import PolicyError, resolve_policy
    from clearslate.report.compare import compare_policies, resolve_source
    from clearslate.report.data import ReportError

    try:
        policies = [(resolve_policy(p), p) for p in policy]
    except PolicyError as exc:
        _fail(str(exc))
    try:
        source = resolve_source(run_or_input, county, compute_at)
        result = compare_policies(source, policies, outputs, memory_limit=memory_limit, force=force)
    except ReportError as exc:
        _fail(str(exc))
    for p in result.policies:
        m = p.metrics
        typer.echo(
            f"{p.label}: {m['outcome:dismiss']:,} dismissed, {m['outcome:reduce']:,} reduced, "
            f"{m['outcome:not_eligible']:,} not eligible, {m['outcome:review']:,} to review; "
            f"{m['people:some_relief']:,} people with some relief"
        )
    for path in result.outputs:
        typer.echo(f"wrote {path}")
