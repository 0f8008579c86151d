"""Flask CLI commands: `flask db` (schema migrations) and the `flask pos` group."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from bizproc_app.cli.terminals import pos_cli
from bizproc_app.extensions import db
from bizproc_app.storage import migrate

db_cli = AppGroup("db", help="Database schema migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Upgrade the database schema (default: to the newest revision)."""
    migrate.upgrade(db.engine, revision)
    click.echo(f"database upgraded to {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the migration changes.")
def revision_command(message: str) -> None:
    """Autogenerate a migration from the models."""
    migrate.revision(db.engine, message)


def init_app(app: Flask) -> None:
    """Register the CLI groups."""
    app.cli.add_command(db_cli)
    # Importing them adds pay, refund, status, resolve and release to `pos`.
    from bizproc_app.cli import attention, payments  # noqa: F401

    app.cli.add_command(pos_cli)
