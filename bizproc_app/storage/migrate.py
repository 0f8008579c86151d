"""Run Alembic migrations against an engine, without an alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine

from bizproc_app.models import Base

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")


def _alembic_config(connection: Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to a revision (default: the newest)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to a revision."""
    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the models' differences to the database."""
    with engine.begin() as connection:
        command.revision(_alembic_config(connection), message=message, autogenerate=True)


def pending_changes(engine: Engine) -> list[Any]:
    """List differences between the models and the migrated schema (empty when in step)."""
    with engine.connect() as connection:
        changes: list[Any] = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        return changes
