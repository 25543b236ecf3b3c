"""Illinois-only commands: `clearslate illinois …` (synthetic data, linking diagnostics).

Deciding, explaining and documents for Illinois go through the common commands with
`--jurisdiction il`; this group holds what has no California counterpart. Each command imports
its heavy parts only when run, so `clearslate --help` stays fast.
"""

from __future__ import annotations

import typer

illinois_app = typer.Typer(
    help="Illinois (CRTA): synthetic court and state-police exports, linking people.",
    no_args_is_help=True,
)
from clearslate import cli_illinois_data  # noqa: E402,F401
