"""payments needing a person: given up by the sweep

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("attention_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_payments_attention_at"), "payments", ["attention_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_attention_at"), table_name="payments")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("attention_at")
