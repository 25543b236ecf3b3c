"""Illinois-only commands: `clearslate illinois …` (synthetic data, linking diagnostics).

Deciding, explaining and documents for Illinois go through the common commands with
`--jurisdiction il`; this group holds what has no California counterpart. Each command imports
its heavy parts only when run, so `clearslate --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from clearslate.cli_explain import ExplanationTree
    from clearslate.engine.il_explain import PersonExplanation

illinois_app = typer.Typer(
    help="Illinois (CRTA): synthetic court and state-police exports, linking people.",
    no_args_is_help=True,
)


# --------------------------------------------------------------------------------------------
# Options that `clearslate run` and `explain` take for `--jurisdiction il` (declared here so
# cli.py only dispatches), and the Illinois halves of those commands.
# --------------------------------------------------------------------------------------------


JurisdictionOpt = Annotated[
    str, typer.Option("--jurisdiction", help="ca (Prop 64, the default) or il (CRTA).")
]
CourtExportOpt = Annotated[
    list[str] | None,
    typer.Option("--court-export", help="il: circuit clerk export(s); repeat or comma list."),
]
IspExportOpt = Annotated[
    list[str] | None,
    typer.Option("--isp-export", help="il: state police export(s); repeat or comma list."),
]
CourtMappingOpt = Annotated[
    Path | None,
    typer.Option("--court-mapping", help="il: YAML column mapping of the court export."),
]
IspMappingOpt = Annotated[
    Path | None, typer.Option("--isp-mapping", help="il: YAML column mapping of the ISP export.")
]
CanonicalOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input-canonical",
        help="il: CSV already in il_records columns (person_id column: people as linked there).",
    ),
]
MaxBatchOpt = Annotated[
    int | None, typer.Option("--max-batch", min=1, help="il: at most this many records a batch.")
]


def _fail(message: str) -> Any:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


def _paths(values: list[str] | None) -> list[Path]:
    from clearslate.cli import _split_inputs

    return _split_inputs(values or [])


def _options(
    outputs: Path | None,
    compute_at: str | None,
    policy: str | None,
    court_export: list[str] | None,
    isp_export: list[str] | None,
    court_mapping: Path | None,
    isp_mapping: Path | None,
    input_canonical: list[str] | None,
    **extra: Any,
) -> Any:
    from clearslate.cli import _as_of, _Refused
    from clearslate.il_policy import resolve_il_policy
    from clearslate.illinois_run import ILRunOptions
    from clearslate.policy import PolicyError

    try:
        as_of = _as_of(compute_at)  # as California's: required, a date from 1900 on
    except _Refused as exc:
        _fail(str(exc))
    try:
        pol, source = resolve_il_policy(policy)
    except PolicyError as exc:
        _fail(str(exc))
    return ILRunOptions(
        outputs=outputs or Path("."), as_of=as_of, policy=pol, policy_source=source,
        court_exports=_paths(court_export), isp_exports=_paths(isp_export),
        court_mapping=court_mapping, isp_mapping=isp_mapping,
        canonical=_paths(input_canonical), **extra,
    )  # fmt: skip


def run_il(
    outputs: Path,
    force: bool,
    memory_limit: str,
    max_batch: int | None,
    no_report: bool,
    **inputs: Any,
) -> None:
    """`clearslate run --jurisdiction il`: decide, write the run folder, print the counts."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from clearslate.illinois_run import RunError, run_illinois, run_notes

    opts = _options(outputs, force=force, memory_limit=memory_limit, max_batch=max_batch,
                    **inputs)  # fmt: skip
    from clearslate.cli import _RunProgress

    console = Console(stderr=True)
    try:
        with _RunProgress(console, opts.inputs) as progress:
            result = run_illinois(opts, meter=progress.meter)
    except RunError as exc:
        _fail(str(exc))
    table = Table(title="clearslate run (Illinois)")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("rows read", f"{result.read.rows_read:,}")
    table.add_row("rows rejected (errors.csv)", f"{len(result.read.rejects):,}")
    table.add_row("values left empty (warnings.csv)", f"{len(result.read.warnings):,}")
    table.add_row("cannabis charges decided", f"{result.evaluated:,}")
    for outcome, n in result.outcomes.items():
        table.add_row(f"  {outcome}", f"{n:,}")
    table.add_row("people with some relief", f"{result.people_with_relief:,}")
    table.add_row("batches (plan.csv)", f"{result.batches:,}")
    console.print(table)
    console.print(f"{result.seconds:.1f} s. Results in {result.outputs}")
    for note in run_notes(result):
        console.print(f"[bold]Note:[/] {escape(note)}", soft_wrap=True)
    if not no_report:
        from clearslate.cli import write_report

        write_report(console, result.outputs)


def explain_il(person: str | None, as_json: bool, **inputs: Any) -> None:
    """`clearslate explain --jurisdiction il --person ID`: one person's rule tree."""
    from clearslate import database
    from clearslate.cli_explain import show_explanation
    from clearslate.engine.il_explain import explain_person
    from clearslate.illinois_run import RunError, load_inputs

    if not person:
        _fail("--person is required with --jurisdiction il: the linked person's id.")
    opts = _options(None, **inputs)
    con = database.connect()
    try:
        load_inputs(con, opts)
    except RunError as exc:
        _fail(str(exc))
    result = explain_person(con, person, policy=opts.policy, as_of=opts.as_of)
    if result is None:
        _fail(f"no records of person {person!r} in the input.")
    show_explanation(result, as_json, _explanation_tree)


def _explanation_tree(result: PersonExplanation) -> ExplanationTree:
    from rich.markup import escape as e

    from clearslate.cli_explain import ExplanationTree

    return ExplanationTree(
        header=f"[bold]{e(result.person_id)}[/] {e(result.name)} (DOB {e(str(result.dob))}): "
        f"{result.records_on_file} record(s) on file",
        record=[
            e(
                f"{r['date'] or 'date unknown'}  {r['statute'] or '?'}  "
                f"{r['disposition'] or '?'}  {r['source']}  {r['court'] or ''}"
            )
            for r in result.record
        ],
        decisions=[
            (
                f"[bold]{e(c.statute_raw or '?')}[/] on {c.record_date or 'unknown date'} "
                f"({e(c.source_file)}:{c.source_line}, tier {c.tier or '-'}) → [bold]{c.outcome}[/]"
                f"{' (' + c.review_reason + ')' if c.review_reason else ''}: {e(c.reason)}",
                c,
            )
            for c in result.charges
        ],
    )


@illinois_app.command("plan")
def plan(
    run_dir: Annotated[Path, typer.Argument(help="An Illinois run folder.")],
    max_batch: MaxBatchOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the batch plan of an Illinois run: eligible records by deadline tier and court,
    newest first (recomputed from determinations.parquet when --max-batch is given)."""
    import json

    import duckdb
    from rich.console import Console
    from rich.table import Table

    from clearslate import database
    from clearslate.engine.il_plan import PLAN_COLUMNS, plan_batches
    from clearslate.report.data import ReportError, checked_output, q, read_manifest, unreadable

    try:
        meta = read_manifest(run_dir)
        if meta.get("jurisdiction") != "il":
            _fail(f"{run_dir}: not an Illinois run (manifest jurisdiction is not 'il').")
        # the run's own determinations, as report and documents read them
        source = checked_output(run_dir, meta, "determinations.parquet")
    except ReportError as exc:
        _fail(str(exc))
    con = database.connect()
    try:
        con.execute(f"CREATE TABLE d AS SELECT * FROM read_parquet({q(str(source))})")
    except duckdb.Error:
        _fail(unreadable(source))
    batches = plan_batches(con, "d", max_batch if max_batch else meta.get("max_batch"))
    if as_json:
        typer.echo(json.dumps(batches, indent=2))
        return
    table = Table(title=f"Illinois batch plan (as of {meta.get('as_of')})")
    for column in PLAN_COLUMNS:
        table.add_column(
            column, justify="right" if column in ("batch", "records", "people") else "left"
        )
    for b in batches:
        table.add_row(*("" if b[c] is None else str(b[c]) for c in PLAN_COLUMNS))
    console = Console(highlight=False)
    if not console.is_terminal:  # piped to a file: whole lines, not an 80-column wrap
        console.width = 200
    console.print(table)


from clearslate import cli_illinois_data  # noqa: E402,F401
