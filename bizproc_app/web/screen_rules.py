"""What a payment screen may reach: its own card, and payments its user may act on."""

from __future__ import annotations

from flask import g

from bizproc_app.extensions import db
from bizproc_app.models import Payment, Terminal
from bizproc_app.web.frame_session import Entity, FrameUser, admin_now, portal_payment

NOT_YOURS = "Only who started this payment, the users of its terminal and admins may do this."
NOT_ALLOWED = "Bitrix24 does not let you see or change this deal or invoice."
OTHER_CARD = "This screen belongs to another deal or invoice: open the payment screen on that card."


def may_act(payment: Payment) -> bool:
    """Cancel and keys: the user who started it, users of its terminal, and admins."""
    if payment.requested_by == g.user.user_id:
        return True
    terminal = db.session.get(Terminal, payment.terminal_id)
    return (terminal is not None and terminal.serves(g.user.user_id)) or admin_now()


def on_card(kind: str, entity_id: int) -> bool:
    """Whether the frame was opened on this very card."""
    user: FrameUser = g.user
    return user.entity == Entity(kind, entity_id)


def card_payment(payment_id: str) -> Payment | None:
    """A payment of the frame's portal made on the frame's card (else None: a 404)."""
    payment = portal_payment(payment_id)
    card: Entity | None = g.user.entity
    if payment is None or card is None:
        return None
    return payment if card.holds(deal_id=payment.deal_id, invoice_id=payment.invoice_id) else None
