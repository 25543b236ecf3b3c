"""The command line. Flags of `run` are gogen 0.2.13's, so BEAR and office scripts can call
clearslate where they called gogen. Heavy modules are imported inside the commands so that
`clearslate --help` starts at once."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from clearslate.cli_illinois import (
    CanonicalOpt,
    CourtExportOpt,
    CourtMappingOpt,
    IspExportOpt,
    IspMappingOpt,
    JurisdictionOpt,
    MaxBatchOpt,
)

if TYPE_CHECKING:
    from clearslate.cli_explain import ExplanationTree
    from clearslate.engine.explain import SubjectExplanation
    from clearslate.policy import Policy

app = typer.Typer(
    name="clearslate",
    help="Clear criminal records in bulk: decide every Prop 64 conviction in a California DOJ "
    "research file, explain each decision, and write the files courts and BEAR take.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


class _Refused(Exception):
    """A flag or option file that cannot be used; `run` also writes it to gogen.err."""


def _split_inputs(values: list[str]) -> list[Path]:
    """`--input-doj a,b` as gogen, and repeated flags; a path with a comma cannot be given
    the gogen way but can be given alone in a flag of its own when it exists."""
    paths: list[Path] = []
    for v in values:
        if "," in v and not Path(v).exists():
            paths += [Path(p) for p in v.split(",") if p]
        else:
            paths.append(Path(v))
    return paths


def _as_of(value: str | None) -> dt.date:
    from clearslate.run import as_of_date

    if not value:
        raise _Refused(
            "--compute-at is required: the as-of date of the decisions, YYYY-MM-DD "
            "(clearslate never reads the clock, so two runs of the same input agree)."
        )
    try:
        return as_of_date(value)
    except ValueError as exc:
        raise _Refused(str(exc)) from None


def _memory_limit(value: str | None) -> str:
    """--memory-limit, else $CLEARSLATE_MEMORY_LIMIT, else 1GB; checked by DuckDB itself,
    before the command's work: a bad size was an "unexpected error"."""
    import duckdb

    from clearslate import database
    from clearslate.run import DEFAULT_MEMORY_LIMIT

    where = "--memory-limit" if value else "$CLEARSLATE_MEMORY_LIMIT"
    value = value or DEFAULT_MEMORY_LIMIT
    try:
        database.connect(config={"memory_limit": value}).close()
    except duckdb.Error:
        raise _Refused(
            f"{where} {value!r}: not a size DuckDB understands. Write e.g. 1GB, 4GB or 512MB."
        ) from None
    return value


def _threads(value: int | None) -> int | None:
    from clearslate import database

    try:
        database.check_at_most_one_per_cpu("--threads", value)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    return value


def _new_output_file(output: Path, force: bool, example: str) -> None:
    """--output of a generator: a file, and none that is there already unless --force (it may
    be the office's real research or address file)."""
    if output.is_dir():
        _fail(f"--output {output}: is a folder. Give the file to write, e.g. --output {example}.")
    if output.exists() and not force:
        _fail(f"{output}: exists. Choose another --output, or add --force.")


# Path separators (a backslash is one on Windows, where results are often copied) and control
# characters. A `:` stays allowed: gogen took it, and a script may pass a time of day.
_NOT_IN_A_FILE_NAME = {"/", "\\"} | {chr(c) for c in range(32)} | {"\x7f"}


def _file_name_suffix(value: str) -> str:
    """gogen's suffix goes into every output name (gogen_SUFFIX.json): a `/` made the name a
    path, and the run failed with "a file could not be written", naming no option."""
    bad = next((c for c in value if c in _NOT_IN_A_FILE_NAME), None)
    if bad is not None:
        raise _Refused(
            f"--file-name-suffix {value!r}: the suffix must be a plain file-name part, and it "
            f"holds {bad!r}. Use letters, digits, '-', '_' or '.', e.g. 2020-07."
        )
    return value


def _counties(value: str) -> list[str] | None:
    names = [c.strip().upper() for c in value.split(",") if c.strip()]
    if not names:
        raise _Refused("--county is empty: give a county name, a comma-separated list, or ALL.")
    return None if names == ["ALL"] else names


def _policy(policy: str | None, options: Path | None) -> tuple[Policy, str]:
    from clearslate.policy import DEFAULT_POLICY, PolicyError, load_policy, shipped_policy

    if policy and options:
        raise _Refused("give either --policy or --eligibility-options, not both.")
    try:
        if options:
            return load_policy(options), str(options)
        if policy:
            path = Path(policy)
            if not path.exists() and not path.suffix:
                path = shipped_policy(policy)
            return load_policy(path), str(path)
    except PolicyError as exc:
        raise _Refused(str(exc)) from None
    return DEFAULT_POLICY, "dismiss-all (default)"


# `run` and `explain` also serve --jurisdiction il, which has no DOJ file and no --county.
InputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input-doj", help="DOJ research file(s): comma-separated as gogen, or repeat the flag."
    ),
]
CountyOpt = Annotated[
    str | None,
    typer.Option("--county", "-c", help='County, e.g. "LOS ANGELES"; a list; or ALL.'),
]


def _jurisdiction(value: str) -> str:
    if value.strip().lower() not in ("ca", "il"):
        _fail(f"--jurisdiction {value!r}: give ca (California) or il (Illinois).")
    return value.strip().lower()


def _required_ca(input_doj: list[str] | None, county: str | None) -> tuple[list[str], str]:
    """California needs --input-doj and --county (typer's exit code 2, as when it required them)."""
    for value, flag in ((input_doj, "--input-doj"), (county, "--county")):
        if not value:
            typer.echo(f"clearslate: Missing option '{flag}'.", err=True)
            raise typer.Exit(2)
    return input_doj, county  # type: ignore[return-value]


ComputeAtOpt = Annotated[
    str | None,
    typer.Option("--compute-at", help="As-of date of the decisions, YYYY-MM-DD."),
]
OptionsOpt = Annotated[
    Path | None,
    typer.Option("--eligibility-options", help="gogen/BEAR eligibility options JSON."),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Policy YAML (or JSON), or a shipped policy name such as dismiss-all. "
        "Default: dismiss-all (Illinois: statewide).",
    ),
]


def _outputs(value: str, flag: str = "--outputs", example: str = "results") -> Path:
    """Typer made `--outputs ""` the current folder (Path("") is "."): a whole run was written
    there, unasked. There is no folder to write gogen.err to, so it is only said."""
    if not value.strip():
        _fail(
            f"{flag} is empty: give the folder for the {example}, e.g. {flag} {example} "
            f"({flag} . for the current folder)."
        )
    return Path(value)


@app.command()
def run(
    outputs_given: Annotated[
        str, typer.Option("--outputs", metavar="<path>", help="Folder for the results.")
    ],
    input_doj: InputOpt = None,
    county: CountyOpt = None,
    compute_at: ComputeAtOpt = None,
    eligibility_options: OptionsOpt = None,
    policy: PolicyOpt = None,
    file_name_suffix: Annotated[
        str, typer.Option("--file-name-suffix", help="Suffix for output names, as gogen.")
    ] = "",
    no_gogen_bundle: Annotated[
        bool, typer.Option("--no-gogen-bundle", help="Skip the gogen CSVs (decisions only).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the results of an earlier run in --outputs.")
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB memory limit, e.g. 1GB (default: $CLEARSLATE_MEMORY_LIMIT or 1GB); "
            "beyond it DuckDB spills to the temporary folder. The process needs about 0.3 GB more.",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=1, help="DuckDB threads (default and most: one per CPU)."),
    ] = None,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip the impact report (report.html/.pdf).")
    ] = False,
    jurisdiction: JurisdictionOpt = "ca",
    court_export: CourtExportOpt = None,
    isp_export: IspExportOpt = None,
    court_mapping: CourtMappingOpt = None,
    isp_mapping: IspMappingOpt = None,
    input_canonical: CanonicalOpt = None,
    max_batch: MaxBatchOpt = None,
) -> None:
    """Decide every Prop 64 conviction in the county (or, with --jurisdiction il, every
    Illinois cannabis charge per linked person) and write the results."""
    outputs = _outputs(outputs_given)
    if _jurisdiction(jurisdiction) == "il":
        from clearslate.cli_illinois import run_il

        try:
            memory_limit = _memory_limit(memory_limit)
            threads = _threads(threads)
        except _Refused as exc:
            _fail(str(exc))
        return run_il(outputs, force, memory_limit, max_batch, no_report, compute_at=compute_at,
                      policy=policy, court_export=court_export, isp_export=isp_export,
                      court_mapping=court_mapping, isp_mapping=isp_mapping,
                      input_canonical=input_canonical, threads=threads)  # fmt: skip
    input_doj, county = _required_ca(input_doj, county)
    from rich.console import Console

    from clearslate.run import RunError, RunOptions, write_error_file
    from clearslate.run import run as run_job

    console = Console(stderr=True)
    inputs = _split_inputs(input_doj)
    try:
        _file_name_suffix(file_name_suffix)
    except _Refused as exc:
        # gogen_SUFFIX.err cannot be named: the error goes to the plain gogen.err
        write_error_file(outputs, "", RunError(str(exc)))
        _fail(str(exc))
    try:
        as_of = _as_of(compute_at)
        memory_limit = _memory_limit(memory_limit)
        threads = _threads(threads)
        counties = _counties(county)
        pol, source = _policy(policy, eligibility_options)
    except _Refused as exc:
        write_error_file(outputs, file_name_suffix, RunError(str(exc)))
        _fail(str(exc))
    opts = RunOptions(
        inputs=inputs,
        outputs=outputs,
        counties=counties,
        as_of=as_of,
        policy=pol,
        policy_source=source,
        file_name_suffix=file_name_suffix,
        gogen_bundle=not no_gogen_bundle,
        force=force,
        memory_limit=memory_limit,
        threads=threads,
    )
    try:
        with _RunProgress(console, inputs) as progress:
            result = run_job(opts, meter=progress.meter)
    except RunError as exc:
        write_error_file(outputs, file_name_suffix, exc)
        _fail(str(exc))
    _print_summary(console, result)
    if not no_report:
        write_report(console, outputs)


def write_report(console: Any, outputs: Path) -> None:
    """The impact report of a completed run folder (either jurisdiction), as `run` writes it."""
    from clearslate.report.build import build_report
    from clearslate.report.data import ReportError

    try:
        for path in build_report(outputs):
            console.print(f"Impact report: {path}")
    except ReportError as exc:
        _fail(f"the run completed, but its report could not be written: {exc}")


class _RunProgress:
    """One bar for the whole run, read from its RunMeter (`clearslate.progress`): the stage
    under way, how far the run has come, its rows per second so far (from the rows the
    inputs are estimated to hold) and the time left at that pace."""

    def __init__(self, console: Any, inputs: list[Path]) -> None:
        import threading

        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from clearslate.progress import RunMeter

        self.meter = RunMeter()
        self._rows = _estimate_rows(inputs)
        self._progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
            # The time left at the run's pace so far, not the last 30 s's: the stages'
            # shares are measured, so the pace holds from one stage to the next.
            speed_estimate_period=24 * 3600,
        )
        self._task = self._progress.add_task(self.meter.stage, total=100, rate="")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> _RunProgress:
        self._progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self._progress.stop()

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            self.show()

    def show(self) -> None:
        """The bar as the meter has it now."""
        fraction = self.meter.fraction()
        elapsed = self._progress.tasks[0].elapsed or 0
        known = elapsed and self._rows and fraction  # (no pace before the bar first moves)
        rate = f"{fraction * self._rows / elapsed:,.0f} rows/s" if known else ""
        self._progress.update(
            self._task, description=self.meter.stage, completed=100 * fraction, rate=rate
        )


def _estimate_rows(inputs: list[Path]) -> int:
    """Rows in the inputs, estimated from the line length of the first megabyte."""
    total = 0
    for p in inputs:
        if not p.is_file():  # a pipe would block here; the reader refuses it plainly
            continue
        try:
            with p.open("rb") as fh:
                head = fh.read(1 << 20)
            lines = max(head.count(b"\n"), 1)
            total += int(p.stat().st_size / (len(head) / lines))
        except (OSError, ZeroDivisionError):
            continue
    return total


def _print_summary(console: Any, result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    from clearslate.run import run_notes

    rate = result.read.rows_read / result.seconds if result.seconds else 0.0
    table = Table(title="clearslate run", show_header=True)
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("rows read", f"{result.read.rows_read:,}")
    table.add_row("rows rejected (errors.csv)", f"{len(result.read.rejects):,}")
    table.add_row("convictions decided", f"{result.evaluated:,}")
    for outcome in ("dismiss", "reduce", "not_eligible", "review"):
        table.add_row(f"  {outcome}", f"{result.outcomes.get(outcome, 0):,}")
    table.add_row("people with some relief", f"{result.people_with_relief:,}")
    console.print(table)
    console.print(f"{result.seconds:.1f} s, {rate:,.0f} rows/s. Results in {result.outputs}")
    for note in run_notes(result):
        console.print(f"[bold]Note:[/] {escape(note)}", soft_wrap=True)


@app.command()
def explain(
    input_doj: InputOpt = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="SUBJECT_ID of the person.")
    ] = None,
    county: CountyOpt = None,
    compute_at: ComputeAtOpt = None,
    eligibility_options: OptionsOpt = None,
    policy: PolicyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    jurisdiction: JurisdictionOpt = "ca",
    person: Annotated[
        str | None, typer.Option("--person", help="il: the linked person's id.")
    ] = None,
    court_export: CourtExportOpt = None,
    isp_export: IspExportOpt = None,
    court_mapping: CourtMappingOpt = None,
    isp_mapping: IspMappingOpt = None,
    input_canonical: CanonicalOpt = None,
) -> None:
    """Show one person's record and the decision tree of each Prop 64 conviction (or, with
    --jurisdiction il, of each Illinois cannabis charge of a linked person)."""
    if _jurisdiction(jurisdiction) == "il":
        from clearslate.cli_illinois import explain_il

        return explain_il(person, as_json, compute_at=compute_at, policy=policy,
                          court_export=court_export, isp_export=isp_export,
                          court_mapping=court_mapping, isp_mapping=isp_mapping,
                          input_canonical=input_canonical)  # fmt: skip
    input_doj, county = _required_ca(input_doj, county)
    if subject is None:
        typer.echo("clearslate: Missing option '--subject'.", err=True)
        raise typer.Exit(2)

    from clearslate.cli_explain import show_explanation
    from clearslate.engine.explain import explain_subject
    from clearslate.engine.facts import ROW_FACTS
    from clearslate.run import scratch_database
    from clearslate.sources.ca_doj import InputError, read_doj_files

    inputs = _split_inputs(input_doj)
    try:
        as_of = _as_of(compute_at)
        counties = _counties(county)
        pol, _ = _policy(policy, eligibility_options)
        memory_limit = _memory_limit(None)
    except _Refused as exc:
        _fail(str(exc))
    # The rows as the bulk run reads them: its row facts, not the 95 raw columns (2.4 GB of
    # memory and 14.6 s for one person in a 1M-row file; now 0.6 GB and 6.5 s).
    with scratch_database(memory_limit) as con:
        try:
            read_doj_files(con, inputs, select=list(ROW_FACTS))
        except InputError as exc:
            _fail(str(exc))
        result = explain_subject(con, subject, policy=pol, as_of=as_of, counties=counties)
    if result is None:
        _fail(f"no rows with SUBJECT_ID {subject!r} in the input.")
    show_explanation(result, as_json, _explanation_tree)


def _explanation_tree(result: SubjectExplanation) -> ExplanationTree:
    from rich.markup import escape as e

    from clearslate.cli_explain import ExplanationTree

    record: list[str] = []
    for r in result.record:
        kind = "felony" if r["felony"] else "misdemeanor/infraction"
        record.append(
            e(f"{r['date'] or 'date unknown'}  {r['code_section']}  {kind}  {r['county']}")
        )
    return ExplanationTree(
        header=f"[bold]{e(result.subject_id)}[/] {e(result.name)} (DOB {e(result.dob)}): "
        f"{result.convictions_on_record} conviction(s) on record",
        record=record,
        decisions=[
            (
                f"[bold]{e(c.code_section_raw)}[/] on {c.conviction_date or 'unknown date'} "
                f"({e(c.source_file)}:{c.source_line}) → [bold]{c.outcome}[/]: {e(c.reason)}",
                c,
            )
            for c in result.convictions
        ],
    )


@app.command()
def generate(
    output: Annotated[Path, typer.Option("--output", help="File to write.")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Number of data rows.")] = 50_000,
    county: Annotated[
        str, typer.Option("--county", "-c", help="County, a comma-separated list, or ALL.")
    ] = "LOS ANGELES",
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same file.")] = 0,
    no_header: Annotated[bool, typer.Option("--no-header", help="Omit the header row.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output.")] = False,
) -> None:
    """Write a synthetic DOJ research file (fictional people only)."""
    from clearslate.synth import generate_doj_file

    # A research file of real people has the same name and shape: never replaced unasked.
    _new_output_file(output, force, "research_file.csv")
    try:
        stats = generate_doj_file(output, county=county, rows=rows, seed=seed, header=not no_header)
    except ValueError as exc:  # the county
        _fail(str(exc))
    except OSError as exc:
        said = f"{output}: cannot be written ({exc.strerror})" if exc.strerror else str(exc)
        _fail(f"{said}. Choose another --output.")
    typer.echo(f"wrote {output}: {stats}")


@app.command()
def version() -> None:
    """Print the version."""
    from clearslate import __version__

    typer.echo(__version__)


# Commands that live in their own modules (each imports its heavy parts only when run).
from clearslate.cli_documents import documents, generate_addresses  # noqa: E402
from clearslate.cli_illinois import illinois_app  # noqa: E402
from clearslate.cli_redact import redact  # noqa: E402
from clearslate.cli_report import compare, report  # noqa: E402
from clearslate.cli_serve import serve  # noqa: E402

app.command()(report)
app.command()(compare)
app.command()(documents)
app.command("generate-addresses")(generate_addresses)
app.command()(redact)
app.command()(serve)
app.add_typer(illinois_app, name="illinois")


def main() -> None:
    import os

    try:
        app()
    except KeyboardInterrupt:
        typer.echo("clearslate: interrupted; no partial result was left behind.", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("CLEARSLATE_DEBUG"):
            raise
        # An error's text may quote a record, so by default only its kind is shown.
        typer.echo(
            f"clearslate: unexpected error ({type(exc).__name__}); the run did not complete. "
            "Set CLEARSLATE_DEBUG=1 to see the details (they may contain personal data) and "
            "please report it with manifest.json.",
            err=True,
        )
        sys.exit(1)
