"""One payment service for every entry point: robots, the clerk's screen and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bizproc_app.config import Config
from bizproc_app.linkly import format_cents, to_cents
from bizproc_app.models import (
    Payment,
    PaymentState,
    Portal,
    Terminal,
    find_payment,
    has_refund_grant,
)
from bizproc_app.payments import ledger, states
from bizproc_app.payments.states import aware, now, refundable_cents
from bizproc_app.portals.access import journal
from bizproc_app.terminals.management import TerminalError, find_terminal, usable_terminals


class PaymentRefused(Exception):
    """The request cannot start a payment; nothing was charged or stored."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CrmContext:
    """What Bitrix24 says about the document being paid (read before the payment starts)."""

    amount: Decimal | None = None
    currency: str | None = None
    paid: bool = False
    deal_id: int | None = None
    invoice_id: int | None = None
    order_payment_id: int | None = None
    bitrix_payment_id: int | None = None
    success_stage: str | None = None
    title: str = ""


@dataclass(frozen=True)
class PaymentRequest:
    """Who asks for what; amounts are Decimal, never float."""

    portal: Portal
    kind: str  # purchase | refund
    source: str  # robot | ui | cli
    user_id: int | None = None
    user_is_admin: bool = False
    terminal_ref: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    invoice_id: int | None = None
    order_payment_id: int | None = None
    original_payment_id: str | None = None
    handler_call_id: int | None = None
    workflow_id: str | None = None  # a robot's or activity's workflow: named on refunds
    operator: str = ""  # the clerk's name, sent to Linkly with the sale (OPR)
    event_token: str | None = None
    timeout_seconds: int = 0
    # When the request reached us (a robot call's arrival): deadlines count from here.
    received_at: datetime | None = None
    crm: CrmContext = field(default_factory=CrmContext)


def start(session: Session, cfg: Config, req: PaymentRequest) -> Payment:
    """Validate a purchase or refund and queue it on its terminal; raise PaymentRefused."""
    if req.kind == "refund":
        return _start_refund(session, cfg, req)
    return _start_purchase(session, cfg, req)


def _start_purchase(session: Session, cfg: Config, req: PaymentRequest) -> Payment:
    terminal = _resolve_terminal(session, req)
    crm = req.crm
    if crm.paid:
        raise PaymentRefused("invoice_id", "This invoice or order payment is already paid.")
    currency = (req.currency or crm.currency or terminal.currency).upper()
    if crm.currency and currency != crm.currency.upper():
        raise PaymentRefused(
            "currency", f"The document is in {crm.currency.upper()}, not {currency}."
        )
    if currency != terminal.currency:
        raise PaymentRefused("currency", f"The terminal takes {terminal.currency}, not {currency}.")
    asked = _cents(req.amount) if req.amount is not None else None
    # What the document asks for: an invoice's or order payment's amount; a deal's amount only
    # when that is what is being paid (no amount given). An explicit amount on a deal is a
    # charge of its own, and a deal's amount of 0 means no price is set.
    on_document = bool(crm.invoice_id or crm.order_payment_id or req.invoice_id)
    target = _cents(crm.amount) if crm.amount and (on_document or asked is None) else None
    if asked is None and target is None:
        raise PaymentRefused("amount", "No amount given and none could be read from the CRM.")
    payment = _new_payment(cfg, req, terminal, "purchase", asked or target or 0, currency, None)
    payment.context["target_cents"] = target
    payment.invoice_lock = states.lock_key(payment)
    session.add(payment)
    try:
        session.flush()  # the document's lock: no other purchase of it runs from here on
    except IntegrityError as exc:
        session.rollback()
        raise PaymentRefused(
            "invoice_id", "This invoice already has a payment running: wait for its result."
        ) from exc
    due = ledger.due_cents(session, payment)
    if due is not None:
        if due <= 0:
            session.rollback()
            raise PaymentRefused("invoice_id", "This invoice is already paid.")
        if asked is not None and asked > due:
            session.rollback()
            raise PaymentRefused("amount", f"At most {format_cents(due)} is still due.")
        payment.amount_cents = asked if asked is not None else due
    return _queued(session, payment)


def _start_refund(session: Session, cfg: Config, req: PaymentRequest) -> Payment:
    if req.source != "robot" and not (req.user_is_admin or _granted(session, req)):
        raise PaymentRefused("user", "Refunds need refund rights: ask an administrator.")
    # Touch the original first: concurrent refunds of one payment queue up behind this lock.
    original = _original(session, req)
    session.execute(update(Payment).where(Payment.id == original.id).values(updated_at=now()))
    remainder = refundable_cents(session, original)
    cents = _cents(req.amount) if req.amount is not None else remainder
    if remainder <= 0:
        session.rollback()
        raise PaymentRefused("amount", "This payment is already fully refunded.")
    if cents > remainder:
        session.rollback()
        raise PaymentRefused("amount", f"At most {format_cents(remainder)} can still be refunded.")
    if req.source == "robot":
        _workflow_may_refund(session, req, cents)
    if not original.rfn:
        session.rollback()
        raise PaymentRefused("payment_id", "The original payment has no Linkly reference (RFN).")
    if req.terminal_ref:
        terminal = _resolve_terminal(session, req)
    else:  # by default the refund runs where the card was charged
        where_charged = session.get(Terminal, original.terminal_id)
        if where_charged is None or not where_charged.active:
            raise PaymentRefused("terminal", "The original terminal is no longer active: name one.")
        terminal = where_charged
        if req.source != "robot" and req.user_id and not terminal.serves(req.user_id):
            raise PaymentRefused("terminal", f"User {req.user_id} may not use {terminal.name}.")
    if terminal.currency != original.currency:
        raise PaymentRefused("currency", f"The terminal takes {terminal.currency}.")
    payment = _new_payment(cfg, req, terminal, "refund", cents, original.currency, None)
    payment.original_id = original.id
    payment.deal_id, payment.invoice_id = original.deal_id, original.invoice_id
    payment.order_payment_id = original.order_payment_id
    # The original's CRM targets (its invoice's own payment to un-pay, its stages), nothing of
    # its own history (conflicts, decisions), and this request's workflow token.
    crm_keys = ("bitrix_payment_id", "success_stage", "title")
    payment.context = {k: original.context.get(k) for k in crm_keys}
    payment.context |= {
        "event_token": req.event_token,
        "rfn": original.rfn,
        "operator": req.operator,
    }
    if req.workflow_id:
        payment.context["workflow_id"] = req.workflow_id
    session.add(payment)
    return _queued(session, payment)


def _resolve_terminal(session: Session, req: PaymentRequest) -> Terminal:
    portal = req.portal
    if req.terminal_ref:
        try:
            terminal = find_terminal(session, portal, req.terminal_ref)
        except TerminalError as exc:
            raise PaymentRefused("terminal", str(exc)) from exc
        if not terminal.active:
            raise PaymentRefused("terminal", f"Terminal {terminal.name} is not active.")
        if req.user_id and not terminal.serves(req.user_id):
            raise PaymentRefused(
                "terminal", f"User {req.user_id} is not assigned to terminal {terminal.name}."
            )
        return terminal
    if not req.user_id:
        raise PaymentRefused("terminal", "Name a terminal, or a user with an assigned terminal.")
    choices = usable_terminals(session, portal, req.user_id)
    assigned = [t for t in choices if req.user_id in t.user_ids]
    picks = assigned or choices
    if not picks:
        raise PaymentRefused("terminal", f"No terminal is assigned to user {req.user_id}.")
    if len(picks) > 1:
        names = ", ".join(t.name for t in picks)
        raise PaymentRefused(
            "terminal", f"User {req.user_id} has several terminals ({names}): name one."
        )
    return picks[0]


def _original(session: Session, req: PaymentRequest) -> Payment:
    if req.original_payment_id:
        original = find_payment(session, req.original_payment_id)
    elif req.invoice_id:
        original = session.scalar(
            select(Payment)
            .where(
                Payment.portal_id == req.portal.id,
                Payment.invoice_id == req.invoice_id,
                Payment.kind == "purchase",
                Payment.state == PaymentState.APPROVED,
            )
            .order_by(Payment.created_at.desc())
        )
    else:
        raise PaymentRefused("payment_id", "Give the payment (or invoice) to refund.")
    if original is None or original.portal_id != req.portal.id:
        raise PaymentRefused("payment_id", "No such payment on this portal.")
    if original.kind != "purchase" or original.state != PaymentState.APPROVED:
        raise PaymentRefused("payment_id", "Only an approved purchase can be refunded.")
    return original


def _workflow_may_refund(session: Session, req: PaymentRequest, cents: int) -> None:
    """The settings page's rules for Refund via POS; the robot's `user` needs refund rights."""
    portal, refused = req.portal, None
    if not portal.workflow_refunds:
        refused = ("payment_id", "Refunds by workflow are turned off in the app's settings.")
    elif req.user_id and req.user_id != portal.auth_user_id and not _granted(session, req):
        refused = ("user", f"User {req.user_id} has no refund rights (the app's settings).")
    elif (limit := portal.workflow_refund_limit_cents) is not None and cents > limit:
        refused = ("amount", f"Workflows may refund at most {format_cents(limit)} at a time.")
    if refused:
        session.rollback()
        raise PaymentRefused(*refused)


def _granted(session: Session, req: PaymentRequest) -> bool:
    return has_refund_grant(session, req.portal.id, req.user_id)


def _cents(amount: Decimal) -> int:
    try:
        return to_cents(amount)
    except (TypeError, ValueError) as exc:
        raise PaymentRefused("amount", str(exc)) from exc


def _new_payment(
    cfg: Config,
    req: PaymentRequest,
    terminal: Terminal,
    kind: str,
    cents: int,
    currency: str,
    lock: str | None,
) -> Payment:
    deadline = cfg.PAYMENT_DEADLINE_SECONDS
    if req.timeout_seconds:  # answer before the workflow's own timeout closes the activity
        deadline = min(deadline, max(30.0, req.timeout_seconds - 30.0))
    crm = req.crm
    return Payment(
        portal_id=req.portal.id,
        terminal_id=terminal.id,
        kind=kind,
        amount_cents=cents,
        currency=currency,
        state=PaymentState.QUEUED,
        source=req.source,
        requested_by=req.user_id,
        handler_call_id=req.handler_call_id,
        deal_id=crm.deal_id,
        invoice_id=crm.invoice_id or req.invoice_id,
        order_payment_id=crm.order_payment_id or req.order_payment_id,
        invoice_lock=lock,
        deadline_at=(aware(req.received_at) or now()) + timedelta(seconds=deadline),
        context={
            "event_token": req.event_token,
            "bitrix_payment_id": crm.bitrix_payment_id,
            "success_stage": crm.success_stage,
            "title": crm.title,
            "operator": req.operator,
        },
    )


def _queued(session: Session, payment: Payment) -> Payment:
    session.flush()  # the id is minted at insert: the journal names the payment by it
    journal(
        session,
        "payment.requested",
        portal=payment.portal_id,
        subject=payment.id,
        kind=payment.kind,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        source=payment.source,
        terminal_id=payment.terminal_id,
        user=payment.requested_by,
        **({"workflow": w} if (w := payment.context.get("workflow_id")) else {}),
    )
    session.commit()
    return payment
