"""`clearslate illinois generate` and `clearslate illinois link`: synthetic Illinois exports,
and people linked across the court and state-police exports.

Registered on `illinois_app` (cli_illinois.py). Output names counts only: no name, date of
birth or number of a person is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from clearslate.cli_illinois import illinois_app


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


@illinois_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the three files.")],
    people: Annotated[int, typer.Option("--people", min=1, help="Number of people.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same files.")] = 0,
) -> None:
    """Write a synthetic court export, ISP export and truth file (fictional people only)."""
    from clearslate.synth.illinois import generate_illinois

    if out.exists() and not out.is_dir():
        _fail(f"{out}: exists and is not a folder; give a folder for --out.")
    stats = generate_illinois(out, people=people, seed=seed)
    typer.echo(
        f"wrote {out}: {stats.people} people, {stats.arrests} arrests, {stats.cases} court cases; "
        f"court_export.csv ({stats.court_rows} rows), isp_export.csv ({stats.isp_rows} rows), "
        "truth.csv (the true person of each row: keep it apart from the exports)"
    )


@illinois_app.command("link")
def link(
    out_given: Annotated[
        str, typer.Option("--out", metavar="<path>", help="Folder for the results.")
    ],
    court: Annotated[
        list[Path] | None, typer.Option("--court", help="Court export (CSV); may be repeated.")
    ] = None,
    isp: Annotated[
        list[Path] | None, typer.Option("--isp", help="ISP arrest export (CSV); may be repeated.")
    ] = None,
    court_mapping: Annotated[
        Path | None,
        typer.Option("--court-mapping", help="YAML mapping of the court export's columns."),
    ] = None,
    isp_mapping: Annotated[
        Path | None, typer.Option("--isp-mapping", help="YAML mapping of the ISP export's columns.")
    ] = None,
    settings: Annotated[
        Path | None, typer.Option("--settings", help="Linking settings YAML (thresholds, seed).")
    ] = None,
) -> None:
    """Read the exports and link their people: links.csv, review_pairs.csv, rejects.csv,
    warnings.csv and summary.json in --out."""
    import json

    from clearslate import database
    from clearslate.cli import _outputs
    from clearslate.link.settings import LinkSettingsError, load_link_settings
    from clearslate.sources.il_mapping import MappingError
    from clearslate.sources.il_reader import InputError, read_illinois

    out = _outputs(out_given, "--out", "links")  # `--out ""` was the current folder
    if not court and not isp:
        _fail("give at least one export: --court FILE and/or --isp FILE.")
    if out.exists() and not out.is_dir():
        _fail(f"{out}: exists and is not a folder; give a folder for --out.")
    con = database.connect()
    try:
        link_settings = load_link_settings(settings)
        read = read_illinois(con, court or [], isp or [], court_mapping, isp_mapping)
    except (InputError, MappingError, LinkSettingsError) as exc:
        _fail(str(exc))
    try:
        from clearslate.link.people import link_people

        result = link_people(con, link_settings)
    except ImportError as exc:
        _fail(str(exc))
    out.mkdir(parents=True, exist_ok=True)
    for table, name in (
        ("il_person_links", "links.csv"),
        ("il_link_review", "review_pairs.csv"),
        ("il_rejects", "rejects.csv"),
        ("il_warnings", "warnings.csv"),
    ):
        target = database.sql_string(str(out / name))
        con.execute(f"COPY (SELECT * FROM {table} ORDER BY ALL) TO {target} (HEADER)")
    summary = {
        "rows_read": read.rows_read,
        "rows_kept": read.rows_kept,
        "rows_rejected": read.rows_rejected,
        "warnings": len(read.warnings),
        "identities": result.identities,
        "persons": result.persons,
        "records_linked": result.linked_records,
        "records_in_review": result.review_records,
        "review_pairs": result.review_pairs,
        "pairs_scored": result.pairs_scored,
        "training": result.training,
        "prior": result.prior,
        "accept": link_settings.accept,
        "review_from": link_settings.review_from,
        "seconds": round(result.seconds, 2),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    typer.echo(
        f"read {read.rows_read} rows: {read.rows_kept} kept, {read.rows_rejected} rejected "
        f"(rejects.csv), {len(read.warnings)} values left empty (warnings.csv)"
    )
    typer.echo(
        f"linked {result.records} records into {result.persons} people; "
        f"{result.review_pairs} pairs for review (review_pairs.csv); results in {out}"
    )
