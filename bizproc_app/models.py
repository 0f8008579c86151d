"""Database models; secrets are stored only as Fernet tokens (columns ending in _enc)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import JSON

from bizproc_app.crypto import SecretBox

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    portal: Mapped[Portal] = relationship(back_populates="terminals")

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
    properties: Mapped[dict[str, object]] = mapped_column(JSON)
    # received -> verified -> reported; or forged / error.
    state: Mapped[str] = mapped_column(String(16), default="received")
    outcome: Mapped[dict[str, object] | None] = mapped_column(JSON)
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
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
