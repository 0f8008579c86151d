"""Database models; secrets are stored only as Fernet tokens (columns ending in _enc)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import JSON

from bizproc_app.storage.secret_box import SecretBox

# Every integer id we store or look up fits a 32-bit column (PostgreSQL's INTEGER).
MAX_ID = 2**31 - 1

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING)

    @classmethod
    def core_table(cls) -> Table:
        """The model's Core table, for inserts and updates that skip the ORM."""
        return cast(Table, cls.__table__)


class Portal(Base):
    """A Bitrix24 portal that installed the app."""

    __tablename__ = "portals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64), unique=True)
    domain: Mapped[str] = mapped_column(String(255))
    client_endpoint: Mapped[str] = mapped_column(String(255), default="")
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    application_token_enc: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(8), default="")
    # The admin who installed the app: robots run their handler calls as this user.
    auth_user_id: Mapped[int] = mapped_column(Integer, default=0)
    installed: Mapped[bool] = mapped_column(Boolean, default=False)
    uninstalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bitrix24's leaky bucket: 2/s with a burst of 50, or 5/s and 250 on Enterprise plans.
    rate_limit: Mapped[float] = mapped_column(Float, default=2.0)
    rate_burst: Mapped[int] = mapped_column(Integer, default=50)
    # Refund via POS from workflows: on by default (settings page), optionally capped per refund.
    workflow_refunds: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    workflow_refund_limit_cents: Mapped[int | None] = mapped_column(Integer)
    # The timeline ENTITY_TYPE this portal took for smart invoices (the sources disagree).
    invoice_timeline_type: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    terminals: Mapped[list[Terminal]] = relationship(back_populates="portal")

    def set_tokens(self, box: SecretBox, *, access: str, refresh: str) -> None:
        """Store the OAuth tokens encrypted."""
        self.access_token_enc = box.encrypt(access)
        self.refresh_token_enc = box.encrypt(refresh)

    def clear_tokens(self) -> None:
        """Forget the OAuth tokens (the app was uninstalled)."""
        self.access_token_enc = self.refresh_token_enc = None
        self.token_expires_at = None


class Terminal(Base):
    """A paired Linkly PIN pad belonging to one portal."""

    __tablename__ = "terminals"
    __table_args__ = (UniqueConstraint("portal_id", "name", name="uq_terminals_portal_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    secret_enc: Mapped[str | None] = mapped_column(Text)
    # Linkly wants one posId per POS instance, kept for its lifetime.
    pos_id: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str] = mapped_column(String(255), default="")
    # The payment holding the PIN pad; claimed and released with conditional UPDATEs.
    active_payment_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    portal: Mapped[Portal] = relationship(back_populates="terminals")
    users: Mapped[list[TerminalUser]] = relationship(cascade="all, delete-orphan")

    @property
    def user_ids(self) -> list[int]:
        """The Bitrix24 users assigned to this terminal."""
        return sorted(u.user_id for u in self.users)

    def serves(self, user_id: int) -> bool:
        """True if the user may use this PIN pad: it is shared, or assigned to them."""
        return self.shared or user_id in self.user_ids

    def set_secret(self, box: SecretBox, secret: str) -> None:
        """Store the Linkly pairing secret encrypted."""
        self.secret_enc = box.encrypt(secret)

    def secret(self, box: SecretBox) -> str:
        """Return the decrypted Linkly pairing secret."""
        if self.secret_enc is None:
            raise LookupError(f"terminal {self.id} has no Linkly secret")
        return box.decrypt(self.secret_enc)


class HandlerCall(Base):
    """One robot or activity call from Bitrix24, kept once per event_token."""

    __tablename__ = "handler_calls"
    __table_args__ = (UniqueConstraint("portal_id", "event_token", name="uq_handler_calls_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    event_token: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[list[str]] = mapped_column(JSON)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Seconds before Bitrix24 closes the activity (0: never); the answer must come first.
    timeout_duration: Mapped[int] = mapped_column(Integer, default=0)
    # received | invalid -> started (a payment runs) | reported; or forged.
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class JournalEntry(Base):
    """An append-only record of every charge, refund, notification and write to Bitrix24."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int | None] = mapped_column(ForeignKey("portals.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(100), default="", index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TerminalUser(Base):
    """A Bitrix24 user assigned to a terminal (one terminal may serve several users)."""

    __tablename__ = "terminal_users"

    terminal_id: Mapped[int] = mapped_column(
        ForeignKey("terminals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RefundGrant(Base):
    """A non-admin Bitrix24 user an admin allowed to start refunds."""

    __tablename__ = "refund_grants"

    portal_id: Mapped[int] = mapped_column(
        ForeignKey("portals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def has_refund_grant(session: Session, portal_id: int, user_id: int | None) -> bool:
    """Whether an admin granted this user refunds on this portal."""
    return bool(user_id) and session.get(RefundGrant, (portal_id, user_id)) is not None


class PaymentState(StrEnum):
    """Where a payment stands; only `payments.transitions` moves it from one to another."""

    QUEUED = "queued"  # waiting for its PIN pad
    SENDING = "sending"  # holds the PIN pad; the request is leaving (or left: see sent_at)
    IN_PROGRESS = "in_progress"  # Linkly has it; the customer is at the PIN pad
    UNKNOWN = "unknown"  # sent, outcome not known yet: only the recovery GET may decide
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"


ACTIVE_STATES = (
    PaymentState.QUEUED,
    PaymentState.SENDING,
    PaymentState.IN_PROGRESS,
    PaymentState.UNKNOWN,
)
FINAL_STATES = (
    PaymentState.APPROVED,
    PaymentState.DECLINED,
    PaymentState.CANCELLED,
    PaymentState.FAILED,
)


def payment_key(value: str) -> str | None:
    """The value if it is a payment id as we mint them (a lower-case UUID), else None.

    Checked before any look-up: text from a URL or a command line may hold a NUL byte, which
    PostgreSQL refuses with an error instead of finding nothing.
    """
    try:
        return value if str(uuid.UUID(value)) == value else None
    except (TypeError, ValueError):
        return None


def find_payment(session: Session, value: str) -> Payment | None:
    """The payment with this id, or None (also for text that cannot be one of our ids)."""
    key = payment_key(value)
    return session.get(Payment, key) if key else None


class Payment(Base):
    """One purchase or refund on a terminal, from request to the report in Bitrix24."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # purchase | refund
    original_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    source: Mapped[str] = mapped_column(String(8))  # robot | ui | cli
    requested_by: Mapped[int | None] = mapped_column(Integer)
    handler_call_id: Mapped[int | None] = mapped_column(
        ForeignKey("handler_calls.id", ondelete="SET NULL"), unique=True
    )
    deal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    invoice_id: Mapped[int | None] = mapped_column(Integer, index=True)
    order_payment_id: Mapped[int | None] = mapped_column(Integer)
    # Set while this purchase pays (or is paying) its invoice: a second one cannot be created.
    invoice_lock: Mapped[str | None] = mapped_column(String(64), unique=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Minted and committed before the request leaves; reused only by recovery and sendkey.
    session_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    txn_ref: Mapped[str | None] = mapped_column(String(16), unique=True)
    notify_hash: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    display: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    receipt: Mapped[str] = mapped_column(Text, default="")
    merchant_receipt: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rfn: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text, default="")
    # What the workflow was told (its one outcome), and the Bitrix24 report's progress.
    reported_status: Mapped[str | None] = mapped_column(String(12))
    report_state: Mapped[str] = mapped_column(String(12), default="none", index=True)
    report_done: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Back-off of a report that did not land: failed tries so far, and when to try again.
    report_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report_next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the sweep stopped asking Linkly about an unknown payment: a person decides now.
    attention_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    @property
    def is_final(self) -> bool:
        """True once approved, declined, cancelled or failed: nothing may change it."""
        return self.state in FINAL_STATES
