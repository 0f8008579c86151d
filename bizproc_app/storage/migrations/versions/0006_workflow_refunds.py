"""workflow refunds: allowed or not, and an optional limit per refund

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portals") as batch_op:
        batch_op.add_column(
            sa.Column("workflow_refunds", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("workflow_refund_limit_cents", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portals") as batch_op:
        batch_op.drop_column("workflow_refund_limit_cents")
        batch_op.drop_column("workflow_refunds")
