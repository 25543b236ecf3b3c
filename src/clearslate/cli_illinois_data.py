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
