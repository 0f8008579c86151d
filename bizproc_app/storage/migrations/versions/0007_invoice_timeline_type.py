"""the timeline ENTITY_TYPE a portal accepted for smart invoices

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portals") as batch_op:
        batch_op.add_column(sa.Column("invoice_timeline_type", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portals") as batch_op:
        batch_op.drop_column("invoice_timeline_type")
