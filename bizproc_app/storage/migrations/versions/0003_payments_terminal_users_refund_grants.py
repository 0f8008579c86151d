"""payments, terminal users, refund grants

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:07:35.919672
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "refund_grants",
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_refund_grants_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portal_id", "user_id", name=op.f("pk_refund_grants")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("original_id", sa.String(length=36), nullable=True),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("handler_call_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("order_payment_id", sa.Integer(), nullable=True),
        sa.Column("invoice_lock", sa.String(length=64), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=True),
        sa.Column("txn_ref", sa.String(length=16), nullable=True),
        sa.Column("notify_hash", sa.String(length=64), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("display", sa.JSON(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("merchant_receipt", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("rfn", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("reported_status", sa.String(length=12), nullable=True),
        sa.Column("report_state", sa.String(length=12), nullable=False),
        sa.Column("report_done", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handler_call_id"],
            ["handler_calls.id"],
            name=op.f("fk_payments_handler_call_id_handler_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["payments.id"], name=op.f("fk_payments_original_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_payments_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_payments_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("handler_call_id", name=op.f("uq_payments_handler_call_id")),
        sa.UniqueConstraint("invoice_lock", name=op.f("uq_payments_invoice_lock")),
        sa.UniqueConstraint("session_id", name=op.f("uq_payments_session_id")),
        sa.UniqueConstraint("txn_ref", name=op.f("uq_payments_txn_ref")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_deal_id"), ["deal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_next_check_at"), ["next_check_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_original_id"), ["original_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_portal_id"), ["portal_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_report_state"), ["report_state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payments_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_terminal_id"), ["terminal_id"], unique=False)

    op.create_table(
        "terminal_users",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.id"],
            name=op.f("fk_terminal_users_terminal_id_terminals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("terminal_id", "user_id", name=op.f("pk_terminal_users")),
    )
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_payment_id", sa.String(length=36), nullable=True))

    with op.batch_alter_table("handler_calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timeout_duration", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("handler_calls", schema=None) as batch_op:
        batch_op.drop_column("timeout_duration")

    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_column("active_payment_id")

    op.drop_table("terminal_users")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_terminal_id"))
        batch_op.drop_index(batch_op.f("ix_payments_state"))
        batch_op.drop_index(batch_op.f("ix_payments_report_state"))
        batch_op.drop_index(batch_op.f("ix_payments_portal_id"))
        batch_op.drop_index(batch_op.f("ix_payments_original_id"))
        batch_op.drop_index(batch_op.f("ix_payments_next_check_at"))
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payments_deal_id"))

    op.drop_table("payments")
    op.drop_table("refund_grants")
