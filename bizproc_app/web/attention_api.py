"""Needs attention (admins only): payments Linkly never settled, to decide from the receipts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate

from bizproc_app.extensions import db
from bizproc_app.models import Payment, Terminal
from bizproc_app.payments import attention
from bizproc_app.payments.attention import ResolveRefused
from bizproc_app.payments.screen_json import amount
from bizproc_app.web.frame_session import frame_api, portal_payment
from bizproc_app.web.http import error, invalid_fields, json_body
from bizproc_app.wiring.services import payments

bp = Blueprint("attention", __name__, url_prefix="/api/attention")
bp.register_error_handler(ValidationError, invalid_fields)


class ResolveForm(Schema):
    """An admin's decision, from the PIN pad's receipt."""

    decision = fields.String(
        required=True, data_key="as", validate=validate.OneOf(sorted(attention.DECISIONS))
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@bp.errorhandler(ResolveRefused)
def _refused(exc: ResolveRefused) -> ResponseReturnValue:
    return error(409, exc.message, {exc.field: [exc.message]})


def _view(p: Payment) -> dict[str, Any]:
    terminal = db.session.get(Terminal, p.terminal_id)
    return {
        "id": p.id,
        "kind": p.kind,
        "amount": amount(p.amount_cents),
        "currency": p.currency,
        "deal_id": p.deal_id,
        "invoice_id": p.invoice_id,
        "txn_ref": p.txn_ref,
        "terminal": {"id": p.terminal_id, "name": terminal.name if terminal else ""},
        "holds_terminal": terminal is not None and terminal.active_payment_id == p.id,
        "sent_at": p.sent_at.isoformat() if p.sent_at else None,
        "attention_at": p.attention_at.isoformat() if p.attention_at else None,
    }


@bp.get("")
@frame_api(admin=True)
def listing() -> ResponseReturnValue:
    """The portal's payments waiting for a decision."""
    waiting = attention.needs_attention(db.session, g.portal.id)
    return jsonify({"payments": [_view(p) for p in waiting]})


@bp.post("/<payment_id>/resolve")
@frame_api(admin=True)
def resolve(payment_id: str) -> ResponseReturnValue:
    """Record the admin's decision: approved or declined, and why."""
    form = json_body(ResolveForm())
    payment = portal_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    done = payments().resolve(
        payment,
        decision=form["decision"],
        reason=form["reason"],
        by=f"user {g.user.user_id}",
    )
    return jsonify({"payment": {"id": done.id, "state": done.state}})


@bp.post("/<payment_id>/release")
@frame_api(admin=True)
def release(payment_id: str) -> ResponseReturnValue:
    """Free the terminal a given-up payment holds."""
    payment = portal_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    terminal = payments().release(payment, by=f"user {g.user.user_id}")
    return jsonify({"terminal": {"id": terminal.id, "name": terminal.name}})
