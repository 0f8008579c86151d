"""portal lifecycle, handler calls, journal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:48:45.429320
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults let existing portals take the new NOT NULL columns.
    op.create_table(
        "handler_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("event_token", sa.String(length=255), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("document_id", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_handler_calls_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handler_calls")),
        sa.UniqueConstraint("portal_id", "event_token", name="uq_handler_calls_token"),
    )
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_journal_portal_id_portals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_subject"), ["subject"], unique=False)

    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_token_enc", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("scope", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=8), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("auth_user_id", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("installed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rate_limit", sa.Float(), nullable=False, server_default="2"))
        batch_op.add_column(
            sa.Column("rate_burst", sa.Integer(), nullable=False, server_default="50")
        )


def downgrade() -> None:
    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.drop_column("rate_burst")
        batch_op.drop_column("rate_limit")
        batch_op.drop_column("uninstalled_at")
        batch_op.drop_column("installed")
        batch_op.drop_column("auth_user_id")
        batch_op.drop_column("status")
        batch_op.drop_column("scope")
        batch_op.drop_column("application_token_enc")

    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_subject"))
        batch_op.drop_index(batch_op.f("ix_journal_kind"))

    op.drop_table("journal")
    op.drop_table("handler_calls")
