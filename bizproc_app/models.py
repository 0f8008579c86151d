"""Database models; secrets are stored only as Fernet tokens (columns ending in _enc)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    terminals: Mapped[list[Terminal]] = relationship(back_populates="portal")

    def set_tokens(self, box: SecretBox, *, access: str, refresh: str) -> None:
        """Store the OAuth tokens encrypted."""
        self.access_token_enc = box.encrypt(access)
        self.refresh_token_enc = box.encrypt(refresh)


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
