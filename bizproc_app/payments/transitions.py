"""Every change of a payment's state, in one table: from-states x event -> to-state, with guards.

Each transition is one conditional UPDATE on the exact from-states it allows, plus its guards;
a transition that lost its race (another actor moved the payment first) changes nothing and
returns False. No other module writes `Payment.state`.

Guards:
- UNSENT: `sent_at IS NULL`. Every "not charged" ending requires it: sent_at is committed
  before the request leaves, so a payment without it was never seen by Linkly.
- SESSION: `session_id` equals the one the caller acted on (the recovery GET, the POST, the
  event): a result about an earlier attempt never ends a later one.
- UNMINTED: `session_id IS NULL` (ids are minted once, before anything leaves).
- IN_TIME: the deadline has not passed: a payment past its deadline is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true, update
from sqlalchemy.orm import Session

from bizproc_app.models import Payment, utcnow
from bizproc_app.models import PaymentState as S

now = utcnow  # the payment domain's name for the one clock (models.utcnow)


class Guard(Enum):
    """Conditions a transition checks in its UPDATE, beside the from-states."""

    UNSENT = "sent_at IS NULL"
    SESSION = "session_id = the caller's"
    UNMINTED = "session_id IS NULL"
    IN_TIME = "deadline not passed"


class Event(StrEnum):
    """What happens to a payment."""

    CLAIM = "claim"  # a runner takes the oldest queued payment for its free PIN pad
    MINT = "mint"  # session id and TxnRef, committed before anything leaves
    SEND = "send"  # sent_at set: whoever sets it sends the request
    ACCEPTED = "accepted"  # Linkly took the POST (202)
    SEEN = "seen"  # an event or a recovery GET says the PIN pad is working on it
    LOST = "lost"  # the answer was lost, or the deadline passed without an outcome
    APPROVED = "approved"  # Linkly's final result
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"
    CANCEL_QUEUED = "cancel_queued"  # the clerk cancelled before it reached the PIN pad
    BUSY_TIMEOUT = "busy_timeout"  # waited too long for a busy PIN pad
    EXPIRED = "expired"  # its deadline passed before it was sent
    REFUSED = "refused"  # Linkly refused the PIN pad's secret: nothing left
    REJECTED = "rejected"  # Linkly answered 400 to the POST: not performed
    NOT_RECEIVED = "not_received"  # the recovery GET's 404, trusted after the grace period
    LATE_APPROVAL = "late_approval"  # Linkly approved a payment we had ended otherwise
    RESOLVED_APPROVED = "resolved_approved"  # an admin settled an unknown payment from receipts
    RESOLVED_DECLINED = "resolved_declined"


@dataclass(frozen=True)
class Rule:
    """One row of the table."""

    sources: tuple[S, ...]
    target: S | None  # None: the state stays (a guarded step within it)
    guards: tuple[Guard, ...] = ()

    @property
    def not_charged(self) -> bool:
        """True for endings that say the card was not charged."""
        return Guard.UNSENT in self.guards and self.target is S.FAILED


_SENT = (S.SENDING, S.IN_PROGRESS, S.UNKNOWN)  # a session id exists: Linkly may have it
_ENDED_OTHERWISE = (S.DECLINED, S.CANCELLED, S.FAILED)

TABLE: dict[Event, Rule] = {
    Event.CLAIM: Rule((S.QUEUED,), S.SENDING, (Guard.IN_TIME,)),
    Event.MINT: Rule((S.SENDING,), None, (Guard.UNMINTED, Guard.UNSENT)),
    Event.SEND: Rule((S.SENDING,), None, (Guard.UNSENT, Guard.IN_TIME)),
    Event.ACCEPTED: Rule((S.SENDING,), S.IN_PROGRESS, (Guard.SESSION,)),
    Event.SEEN: Rule((S.SENDING, S.UNKNOWN), S.IN_PROGRESS, (Guard.SESSION,)),
    Event.LOST: Rule((S.SENDING, S.IN_PROGRESS), S.UNKNOWN, (Guard.SESSION,)),
    Event.APPROVED: Rule(_SENT, S.APPROVED, (Guard.SESSION,)),
    Event.DECLINED: Rule(_SENT, S.DECLINED, (Guard.SESSION,)),
    Event.CANCELLED: Rule(_SENT, S.CANCELLED, (Guard.SESSION,)),
    Event.FAILED: Rule(_SENT, S.FAILED, (Guard.SESSION,)),
    Event.CANCEL_QUEUED: Rule((S.QUEUED,), S.CANCELLED, (Guard.UNSENT,)),
    Event.BUSY_TIMEOUT: Rule((S.QUEUED,), S.FAILED, (Guard.UNSENT,)),
    Event.EXPIRED: Rule((S.QUEUED, S.SENDING), S.FAILED, (Guard.UNSENT,)),
    Event.REFUSED: Rule((S.SENDING,), S.FAILED, (Guard.UNSENT,)),
    Event.REJECTED: Rule(_SENT, S.FAILED, (Guard.SESSION,)),
    Event.NOT_RECEIVED: Rule(_SENT, S.FAILED, (Guard.SESSION,)),
    Event.LATE_APPROVAL: Rule(_ENDED_OTHERWISE, S.APPROVED, (Guard.SESSION,)),
    Event.RESOLVED_APPROVED: Rule((S.UNKNOWN,), S.APPROVED),
    Event.RESOLVED_DECLINED: Rule((S.UNKNOWN,), S.DECLINED),
}

OUTCOME_EVENTS = {
    S.APPROVED: Event.APPROVED,
    S.DECLINED: Event.DECLINED,
    S.CANCELLED: Event.CANCELLED,
    S.FAILED: Event.FAILED,
}


class Lost(Exception):
    """Raised by `require` when a transition lost its race."""


def _guard(guard: Guard, acting_on: Any, at: datetime) -> ColumnElement[bool]:
    if guard is Guard.UNSENT:
        return Payment.sent_at.is_(None)
    if guard is Guard.UNMINTED:
        return Payment.session_id.is_(None)
    if guard is Guard.IN_TIME:
        return or_(Payment.deadline_at.is_(None), Payment.deadline_at > at)
    if acting_on is None:
        raise ValueError("this transition needs the session id it acts on")
    same: ColumnElement[bool] = Payment.session_id == acting_on
    return same


def condition(event: Event, *, acting_on: Any = None, at: datetime | None = None) -> Any:
    """The WHERE clause of a transition (from-states and guards); `acting_on` is a session id
    or a bound parameter standing for one."""
    rule = TABLE[event]
    at = at or now()
    return and_(
        Payment.state.in_(rule.sources) if rule.sources else true(),
        *(_guard(g, acting_on, at) for g in rule.guards),
    )


def move(
    session: Session,
    payment_id: str,
    event: Event,
    *,
    acting_on: str | None = None,
    **values: Any,
) -> bool:
    """Apply the event with the given column values; True if it applied (not committed).

    `acting_on` is the session id the caller's result or request is about (SESSION guard).
    """
    rule = TABLE[event]
    at = now()
    if rule.target is not None:
        values["state"] = rule.target
    stmt = (
        update(Payment)
        .where(Payment.id == payment_id, condition(event, acting_on=acting_on, at=at))
        .values(updated_at=at, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount == 1)


GUARD_NAMES = {Guard.UNSENT: "unsent", Guard.SESSION: "its session", Guard.UNMINTED: "no ids",
               Guard.IN_TIME: "in time"}  # fmt: skip


def diagram() -> str:
    """The table as a Mermaid state diagram (docs/architecture.md shows it; a test checks it)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for event, rule in TABLE.items():
        if rule.target is None:
            continue
        guards = ", ".join(GUARD_NAMES[g] for g in rule.guards)
        label = event.value + (f" ({guards})" if guards else "")
        for source in rule.sources:
            edges.setdefault((source.value, rule.target.value), []).append(label)
    lines = ["stateDiagram-v2", "    [*] --> queued"]
    lines += [f"    {a} --> {b}: {' / '.join(labels)}" for (a, b), labels in edges.items()]
    return "\n".join(lines)
