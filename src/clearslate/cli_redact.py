"""`clearslate redact`: a de-identified copy of a research file, to share when reporting a
problem. A plain function with Typer annotations; `clearslate.cli` registers it:

    from clearslate.cli_redact import redact
    app.command()(redact)

Heavy modules are imported inside the function so that `clearslate --help` starts at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from clearslate.cli_report import MemoryLimitOpt

if TYPE_CHECKING:
    from clearslate.policy import Policy


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


def _policy(policy: str | None, options: Path | None) -> Policy | None:
    from clearslate.policy import PolicyError, load_policy, shipped_policy

    if policy and options:
        _fail("give either --policy or --eligibility-options, not both.")
    try:
        if options:
            return load_policy(options)
        if policy:
            path = Path(policy)
            if not path.exists() and not path.suffix:
                path = shipped_policy(policy)
            return load_policy(path)
    except PolicyError as exc:
        _fail(str(exc))
    return None


def redact(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="The research file to de-identify. Several files (one person's rows may be "
            "spread over them) are de-identified together; --output is then a folder.",
            show_default=False,
            metavar="INPUT...",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The de-identified copy (a folder for several inputs)."
        ),
    ],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Same seed, same copy (for tests). Without it a secret random key is used "
            "and forgotten: share only copies made without --seed.",
        ),
    ] = None,
    compute_at: Annotated[
        str | None,
        typer.Option(
            "--compute-at",
            help="The as-of date (YYYY-MM-DD) of the run the copy must reproduce: dates are "
            "then moved without changing any decision that depends on it.",
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option("--policy", help="The policy of that run (default: dismiss-all)."),
    ] = None,
    eligibility_options: Annotated[
        Path | None,
        typer.Option("--eligibility-options", help="Or the gogen/BEAR options of that run."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing copy at --output.")
    ] = False,
    memory_limit: MemoryLimitOpt = None,
) -> None:
    """Write a de-identified copy of a research file, to share when reporting a problem.

    Identifiers become consistent pseudonyms, names fictional ones, and each person's dates
    move together by their own number of days; charges, counties, dispositions, sentences
    and the file's structure are kept, so the copy gives the same decisions.
    """
    from clearslate.cli import _as_of, _memory_limit, _Refused
    from clearslate.redact import MAX_SHIFT_DAYS, RedactError
    from clearslate.redact import redact as redact_files

    try:
        as_of = _as_of(compute_at) if compute_at else None
        memory_limit = _memory_limit(memory_limit)
    except _Refused as exc:
        _fail(str(exc))
    pol = _policy(policy, eligibility_options)
    try:
        result = redact_files(
            inputs,
            output,
            seed=seed,
            as_of=as_of,
            policy=pol,
            force=force,
            memory_limit=memory_limit,
        )
    except RedactError as exc:
        _fail(str(exc))
    say = typer.echo
    written = ", ".join(str(p) for p in result.outputs)
    say(f"wrote {written}: {result.rows_written:,} rows, {result.people:,} people.")
    if result.rejects:
        shown = "; ".join(
            f"{Path(r.source_file).name} line {r.line}: {r.reason}" for r in result.rejects[:10]
        )
        more = f" (and {len(result.rejects) - 10:,} more)" if len(result.rejects) > 10 else ""
        say(
            f"{len(result.rejects):,} of {result.rows_read:,} rows rejected, as `clearslate "
            f"run` rejects them, and left out of the copy: {shown}{more}."
        )
    say(
        f"Each person's dates moved together by 1 to {MAX_SHIFT_DAYS} days; kept on their "
        f"side of: {'; '.join(result.boundaries)}."
    )
    if as_of is None:
        say(
            "Without --compute-at, a decision that depends on the as-of date (years since, "
            "crime-free, age, still serving) may differ in a run of the copy; give the run's "
            "--compute-at (and policy) to keep them."
        )
    if result.unconstrained:
        say(
            f"{result.unconstrained:,} people had no shift that kept their dates within those "
            "lines; they were moved anyway (privacy first) and a decision of theirs may differ."
        )
    if result.seeded:
        say(
            "Made with --seed: anyone who knows the seed can test a guessed value. Share a copy "
            "made without --seed."
        )
    say("The copy is de-identified, not anonymous: share it as confidential data.")
