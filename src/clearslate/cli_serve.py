"""`clearslate serve`: the office workspace on 127.0.0.1 (see docs/workspace.md).

A plain function with Typer annotations, registered on the main app in cli.py. The web
modules (Starlette, SQLAlchemy, Alembic, argon2: the `web` extra) are imported only when it runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"clearslate: {message}", err=True)
    raise typer.Exit(1)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clearslate" / "workspace"


def _read_password() -> str:
    """Without echo at a terminal; one line from standard input otherwise (scripts, tests)."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("Again: ") != first:
            _fail("the two passwords differ; nothing was created.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def serve(
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1.")
    ] = 8765,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Folder for uploads, results, documents and the SQLite database (created "
            "readable by you only). Default: ~/.local/share/clearslate/workspace.",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="CLEARSLATE_DATABASE_URL",
            help="A database URL instead of SQLite, e.g. postgresql+psycopg://user@host/db "
            "(or set CLEARSLATE_DATABASE_URL, which keeps a password off the command line).",
        ),
    ] = None,
    create_admin: Annotated[
        str | None,
        typer.Option(
            "--create-admin",
            metavar="USERNAME",
            help="Create an administrator (password asked without echo, or one line on "
            "standard input) and exit.",
        ),
    ] = None,
    idle_minutes: Annotated[
        int, typer.Option("--idle-minutes", min=1, help="A session ends after this idle time.")
    ] = 30,
) -> None:
    """Start the office workspace: a local web application to run batches, review the doubtful
    cases, sign off, and download the documents. Listens on 127.0.0.1 only."""
    try:
        import uvicorn

        from clearslate.web.app import Settings, create_app
    except ImportError as exc:
        _fail(
            f"the workspace needs the optional web packages ({exc.name} is missing): "
            "pip install 'clearslate[web]'"
        )
    import sqlalchemy.exc

    settings = Settings(
        data_dir=(data_dir or default_data_dir()).expanduser().resolve(),
        database_url=database,
        idle_minutes=idle_minutes,
    )
    try:
        app = create_app(settings)
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        where = (
            "the database" if isinstance(exc, sqlalchemy.exc.SQLAlchemyError) else settings.data_dir
        )
        _fail(f"cannot open {where}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    if create_admin is not None:
        _create_admin(app.state.ws, create_admin)
        return
    typer.echo(f"clearslate workspace: http://127.0.0.1:{port}/  (data in {settings.data_dir})")
    typer.echo("Press Ctrl-C to stop.")
    # No access log: its lines would carry searches and subject ids (personal data).
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _create_admin(ws: object, username: str) -> None:
    from clearslate.web import audit, auth

    password = _read_password()
    try:
        with ws.db.write() as conn:  # type: ignore[attr-defined]
            auth.create_user(conn, username, password, "administrator", ws.settings.clock())  # type: ignore[attr-defined]
            audit.record(conn, "command-line", "user_created", f"user {username.lower()}",
                         {"role": "administrator"})  # fmt: skip
    except auth.AccountError as exc:
        _fail(f"no administrator created: {exc}.")
    typer.echo(f"administrator {username.lower()} created.")
