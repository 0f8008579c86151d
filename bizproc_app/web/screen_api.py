"""The payment screen's JSON API (docs/ui-api.md): invoices, payments, cancel, keys, refunds."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate

from bizproc_app.bitrix import AuthError, BitrixError, OAuthError
from bizproc_app.extensions import db
from bizproc_app.linkly import Key, LinklyError
from bizproc_app.models import MAX_ID, PaymentState
from bizproc_app.payments import crm_context as crm_reads
from bizproc_app.payments import screen_crm, screen_json
from bizproc_app.payments.crm_context import DocumentDenied
from bizproc_app.payments.robot_properties import Amount
from bizproc_app.payments.starting import PaymentRefused, PaymentRequest
from bizproc_app.terminals.management import usable_terminals
from bizproc_app.web.frame_session import (
    SESSION_ENDED,
    Entity,
    admin_now,
    as_user,
    frame_api,
    may_refund,
)
from bizproc_app.web.http import bitrix_down, error, invalid_fields, json_body
from bizproc_app.web.screen_rules import (
    NOT_ALLOWED,
    NOT_YOURS,
    OTHER_CARD,
    card_payment,
    may_act,
    on_card,
)
from bizproc_app.wiring.services import payments

bp = Blueprint("api", __name__, url_prefix="/api")


class InvoiceForm(Schema):
    """Add Invoice."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = Amount(required=True)


class PaymentForm(Schema):
    """Send Payment."""

    target = fields.Dict(required=True)
    terminal_id = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=MAX_ID)
    )


class KeyForm(Schema):
    """Yes / No / OK on the PIN pad's prompt."""

    key = fields.String(required=True, validate=validate.OneOf(["yes", "no", "ok"]))
    data = fields.String(load_default="", validate=validate.Length(max=60))


class RefundForm(Schema):
    """Refund, full by default."""

    amount = Amount(load_default=None, allow_none=True)


bp.register_error_handler(ValidationError, invalid_fields)


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> ResponseReturnValue:
    return error(404, str(exc) or "Not found in Bitrix24.")


@bp.errorhandler(AuthError)
@bp.errorhandler(OAuthError)
def _user_token_dead(exc: BitrixError) -> ResponseReturnValue:
    # The screen calls Bitrix24 only with the user's own token: it died with their session.
    return error(401, SESSION_ENDED)


@bp.errorhandler(DocumentDenied)
def _not_allowed(exc: DocumentDenied) -> ResponseReturnValue:
    return error(403, NOT_ALLOWED)


bp.register_error_handler(BitrixError, bitrix_down)


@bp.get("/deals/<int:deal_id>")
@frame_api()
def deal(deal_id: int) -> ResponseReturnValue:
    """The deal, its smart invoices, its order payments, and our payments."""
    if not on_card("deal", deal_id):
        return error(403, OTHER_CARD)
    found = screen_crm.read_deal(as_user(), deal_id)
    view = screen_json.document(
        db.session, g.portal.id, found["deal"], found["invoices"], found["orders"]
    )
    return jsonify(view)


@bp.get("/invoices/<int:invoice_id>")
@frame_api()
def invoice(invoice_id: int) -> ResponseReturnValue:
    """One smart invoice (opened from its own card), with its deal."""
    if not on_card("invoice", invoice_id):
        return error(403, OTHER_CARD)
    found = screen_crm.read_invoice(as_user(), invoice_id)
    view = screen_json.document(db.session, g.portal.id, found["deal"], found["invoices"], [])
    return jsonify(view)


@bp.post("/deals/<int:deal_id>/invoices")
@frame_api()
def add_invoice(deal_id: int) -> ResponseReturnValue:
    """Add Invoice: a smart invoice bound to the deal with one product row."""
    form = json_body(InvoiceForm())
    if not on_card("deal", deal_id):
        return error(403, OTHER_CARD)
    client = as_user()
    found = screen_crm.read_deal(client, deal_id)
    if found["deal"] is None:
        return error(404, "No such deal.")
    made = screen_crm.add_invoice(client, found["deal"], form["title"], form["amount"])
    return jsonify(
        {"invoice": {**made, "status": "unpaid", "payment": None, "refundable": None}}
    ), 201


@bp.get("/terminals")
@frame_api()
def terminals() -> ResponseReturnValue:
    """The terminals this user may use; the assigned one is the default."""
    usable = usable_terminals(db.session, g.portal, g.user.user_id)
    assigned = [t for t in usable if g.user.user_id in t.user_ids]
    default = (assigned or usable)[0] if usable else None
    return jsonify(
        {
            "terminals": [
                {"id": t.id, "name": t.name, "currency": t.currency, "shared": t.shared}
                for t in usable
            ],
            "default_id": default.id if default else None,
        }
    )


@bp.post("/payments")
@frame_api()
def start_payment() -> ResponseReturnValue:
    """Send Payment on an invoice or an order payment."""
    form = json_body(PaymentForm())
    kind, target_id = form["target"].get("kind"), form["target"].get("id")
    if (
        kind not in ("invoice", "order_payment")
        or not str(target_id).isdigit()
        or not (0 < int(str(target_id)) <= MAX_ID)
    ):
        return error(400, "Choose an invoice.", {"target": ["Unknown invoice or payment."]})
    card: Entity | None = g.user.entity
    if card is None:
        return error(403, OTHER_CARD)
    client = as_user()
    if kind == "order_payment" and (
        card.kind != "deal" or int(str(target_id)) not in screen_crm.order_ids(client, card.id)
    ):
        return error(403, OTHER_CARD)
    crm = crm_reads.read_context(
        client,
        event_token=None,
        deal_id=card.id if kind == "order_payment" else None,
        invoice_id=int(target_id) if kind == "invoice" else None,
        order_payment_id=int(target_id) if kind == "order_payment" else None,
    )
    if kind == "invoice" and not card.holds(deal_id=crm.deal_id, invoice_id=crm.invoice_id):
        return error(403, OTHER_CARD)
    try:
        payment = payments().start(
            PaymentRequest(
                portal=g.portal,
                kind="purchase",
                source="ui",
                user_id=g.user.user_id,
                operator=g.user.name,
                user_is_admin=admin_now(),
                terminal_ref=str(form["terminal_id"]),
                crm=crm,
                invoice_id=crm.invoice_id,
                order_payment_id=crm.order_payment_id,
            ),
        )
    except PaymentRefused as exc:
        return error(409, exc.message, {exc.field: [exc.message]})
    return jsonify({"payment": screen_json.payment_view(db.session, payment)}), 201


@bp.get("/payments/<payment_id>")
@frame_api()
def get_payment(payment_id: str) -> ResponseReturnValue:
    """One payment, for the live panel."""
    payment = card_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    return jsonify({"payment": screen_json.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/cancel")
@frame_api()
def cancel(payment_id: str) -> ResponseReturnValue:
    """Cancel: drop a queued payment, or press Cancel on the PIN pad when it allows it."""
    payment = card_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    if not may_act(payment):
        return error(403, NOT_YOURS)
    try:
        done = payments().cancel(payment)
    except LinklyError as exc:
        return error(502, f"The terminal did not take the cancel: {exc}")
    if not done:
        return error(409, "The terminal does not allow cancelling now.")
    return jsonify({"payment": screen_json.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/keys")
@frame_api()
def press(payment_id: str) -> ResponseReturnValue:
    """Yes / No / OK (with data) on the PIN pad's current prompt."""
    form = json_body(KeyForm())
    payment = card_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    if not may_act(payment):
        return error(403, NOT_YOURS)
    enabled = (payment.display or {}).get(form["key"])
    if payment.state != PaymentState.IN_PROGRESS or not enabled:
        return error(409, "The terminal is not asking for that now.")
    key = {"yes": Key.YES, "no": Key.NO, "ok": Key.CANCEL_OR_OK}[form["key"]]
    try:
        payments().press(payment, key, form["data"])
    except LinklyError as exc:
        return error(502, f"The terminal did not take the key: {exc}")
    return jsonify({"payment": screen_json.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/refunds")
@frame_api()
def refund(payment_id: str) -> ResponseReturnValue:
    """Refund an approved payment, fully or in part (refund rights needed)."""
    form = json_body(RefundForm())
    original = card_payment(payment_id)
    if original is None:
        return error(404, "No such payment.")
    if not may_refund():
        return error(403, "Refunds need refund rights: ask an administrator.")
    try:
        made = payments().start(
            PaymentRequest(
                portal=g.portal,
                kind="refund",
                source="ui",
                user_id=g.user.user_id,
                operator=g.user.name,
                user_is_admin=True,
                original_payment_id=original.id,
                amount=Decimal(form["amount"]) if form["amount"] is not None else None,
            ),
        )
    except PaymentRefused as exc:
        return error(409, exc.message, {exc.field: [exc.message]})
    return jsonify({"payment": screen_json.payment_view(db.session, made)}), 201
