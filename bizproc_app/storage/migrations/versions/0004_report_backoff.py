"""report back-off, handler call state index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(
            sa.Column("report_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("report_next_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_handler_calls_state"), "handler_calls", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_handler_calls_state"), table_name="handler_calls")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("report_next_at")
        batch_op.drop_column("report_attempts")
