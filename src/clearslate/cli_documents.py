"""The `documents` command (and `generate-addresses`, its synthetic address file).

Plain functions with Typer annotations, registered on the main app in cli.py:

    app.command()(documents)
    app.command("generate-addresses")(generate_addresses)

``python -m clearslate.cli_documents`` runs them on an app of their own.
Heavy modules are imported inside the commands so that `clearslate --help` starts at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, NoReturn

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


def documents(
    run_dir: Annotated[
        Path, typer.Argument(help="The --outputs folder of a finished `clearslate run`.")
    ],
    out_given: Annotated[
        str, typer.Option("--out", metavar="<path>", help="Folder for the documents and letters.")
    ],
    addresses: Annotated[
        Path | None,
        typer.Option("--addresses", help="Office address CSV keyed by subject_id or cii_number."),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions", help="Reviewers' decisions CSV (dismiss, reduce or not_eligible)."
        ),
    ] = None,
    office: Annotated[
        Path | None,
        typer.Option("--office", help="Office YAML: name, attorney, bar number, address, phone."),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option("--templates", help="Folder of .j2 templates replacing shipped ones by name."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Letters per PDF file.")
    ] = 500,
    form: Annotated[
        Path | None, typer.Option("--form", help="The office's fillable PDF form to fill.")
    ] = None,
    form_map: Annotated[
        Path | None,
        typer.Option("--form-map", help="YAML: which form field gets which value."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Date on the letters, YYYY-MM-DD. Default: the run's date."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", min=1, help="Worker processes. Default: every core, large runs."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace documents made earlier in --out.")
    ] = False,
    include_on_motion: Annotated[
        bool,
        typer.Option(
            "--include-on-motion",
            help="Illinois: also the eligible_on_motion convictions (more than 30 g).",
        ),
    ] = False,
) -> None:
    """Write the court documents (motion, proposed order and exhibit per court and relief),
    the notice letters (English and Spanish) and the mailing lists for a finished run."""
    from clearslate.cli import _outputs
    from clearslate.documents import DocumentsError, DocumentsOptions, make_documents

    # `--out ""` was the current folder: every document was written there, unasked.
    out = _outputs(out_given, "--out", "documents")
    letter_date = None
    if date:
        try:
            letter_date = dt.date.fromisoformat(date)
        except ValueError:
            _fail(f"invalid --date {date!r}: use YYYY-MM-DD.")
    opts = DocumentsOptions(
        run_dir=run_dir,
        out=out,
        office=office,
        addresses=addresses,
        decisions=decisions,
        templates=templates,
        batch_size=batch_size,
        form=form,
        form_map=form_map,
        date=letter_date,
        jobs=jobs,
        force=force,
        on_motion=include_on_motion,
    )
    try:
        result = make_documents(opts, progress=lambda stage: typer.echo(f"  {stage}", err=True))
    except DocumentsError as exc:
        _fail(str(exc))
        return
    s = result.summary
    for warning in result.warnings:
        typer.echo(f"clearslate: warning: {warning}", err=True)
    for g in s["court_documents"]:
        typer.echo(
            f"{g['folder']}: motion, order, exhibit of {g['convictions']:,} convictions "
            f"({g['exhibit_pages']:,} pages)"
        )
    letters = s["letters"]
    typer.echo(
        f"letters: {letters['letters']:,} letters, {letters['pages']:,} pages in "
        f"{letters['files']} file(s); {letters['exceptions']:,} people without a letter "
        "(exceptions.csv)"
    )
    d = s["decisions"]
    if d["rows"]:
        typer.echo(
            f"decisions: {d['applied']} applied, {d['confirmed']} confirmed, "
            f"{d['duplicate']} duplicate, {d['error']} rejected (overrides.csv)"
        )
    if s["forms"]:
        typer.echo(f"forms: {s['forms']['files']:,} filled ({out / 'forms' / 'index.csv'})")
    typer.echo(f"{result.seconds:.1f} s. Documents in {out}")


def generate_addresses(
    run_dir: Annotated[Path, typer.Argument(help="The --outputs folder of a finished run.")],
    output: Annotated[Path, typer.Option("--output", help="Address CSV to write.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same file.")] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file at --output.")
    ] = False,
) -> None:
    """Write a synthetic office address file for the people of a run (fictional addresses)."""
    from clearslate.cli import _new_output_file
    from clearslate.report.data import ReportError, read_manifest
    from clearslate.synth.addresses import AddressesError
    from clearslate.synth.addresses import generate_addresses as generate

    _new_output_file(output, force, "addresses.csv")
    if output.parent.exists() and not output.parent.is_dir():
        _fail(f"{output.parent}: not a folder. Give --output a file in a folder.")
    try:
        manifest = read_manifest(run_dir)
    except ReportError as exc:
        _fail(str(exc))
    # An Illinois run's letters go to the records' own addresses (docs/documents.md).
    code = manifest.get("jurisdiction") or "ca"
    if code == "il":
        _fail(
            f"{run_dir}: an Illinois run: generate-addresses makes addresses for California "
            "runs only (documents takes an Illinois run's addresses from its records)."
        )
    if code != "ca":
        _fail(
            f"{run_dir / 'manifest.json'}: jurisdiction {code!r}: generate-addresses makes "
            "addresses for California runs only."
        )
    try:
        stats = generate(run_dir, output, seed=seed)
    except AddressesError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{output}: cannot write here ({exc.strerror}).")
    typer.echo(f"wrote {output}: {stats}")


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command()(documents)
    app.command("generate-addresses")(generate_addresses)
    return app


if __name__ == "__main__":
    _app()()
