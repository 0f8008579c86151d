"""The payment screen's JSON API (docs/ui-api.md): invoices, payments, cancel, keys, refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from bizproc_app.bitrix import BitrixError
from bizproc_app.extensions import db
from bizproc_app.frame import frame_api, portal_payment
from bizproc_app.linkly import Key, LinklyError
from bizproc_app.models import MAX_ID, Payment, PaymentState, Terminal
from bizproc_app.payments import crm as crm_reads
from bizproc_app.payments import presenter, screen_crm
from bizproc_app.payments.service import PaymentRefused, PaymentRequest
from bizproc_app.schemas import Amount
from bizproc_app.services import bitrix_client_for, payments
from bizproc_app.terminals import usable_terminals
from bizproc_app.web import error, invalid_fields, json_body

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


NOT_YOURS = "Only who started this payment, the users of its terminal and admins may do this."


def _may_act(payment: Payment) -> bool:
    """Cancel and keys: admins, the user who started it, and users of its terminal."""
    if g.user.admin or payment.requested_by == g.user.user_id:
        return True
    terminal = db.session.get(Terminal, payment.terminal_id)
    return terminal is not None and terminal.serves(g.user.user_id)


bp.register_error_handler(ValidationError, invalid_fields)


@bp.errorhandler(LookupError)
def _not_found(exc: LookupError) -> ResponseReturnValue:
    return error(404, str(exc) or "Not found in Bitrix24.")


@bp.errorhandler(BitrixError)
def _bitrix_down(exc: BitrixError) -> ResponseReturnValue:
    return error(502, f"Bitrix24 did not answer as expected ({exc.code or 'error'}); try again.")


def _document(deal: dict[str, Any] | None, invoices: list[dict], orders: list[dict]) -> dict:  # type: ignore[type-arg]
    """Invoices and order payments with our latest payment of each, plus the history."""
    ours = db.session.scalars(
        select(Payment)
        .where(Payment.portal_id == g.portal.id)
        .where(
            Payment.invoice_id.in_([int(i["id"]) for i in invoices] or [0])
            | Payment.order_payment_id.in_([int(o["id"]) for o in orders] or [0])
            | (Payment.deal_id == (int(deal["id"]) if deal else 0))
        )
        .order_by(Payment.created_at.desc())
    ).all()

    def latest(**match: int) -> Payment | None:
        return next(
            (
                p
                for p in ours
                if p.kind == "purchase" and all(getattr(p, k) == v for k, v in match.items())
            ),
            None,
        )

    def row(kind: str, item: dict[str, Any], paid: bool) -> dict[str, Any]:
        found = latest(**{kind: int(item["id"])})
        view = presenter.payment_view(db.session, found) if found else None
        due = presenter.due_cents(db.session, found)  # one look at the document's payments
        return {
            "id": int(item["id"]),
            "title": item["title"],
            "amount": item["amount"],
            "currency": item["currency"],
            "status": presenter.invoice_status(db.session, found, paid, due),
            "due": presenter.amount(due) if found else None,
            "payment": view,
            "refundable": view["refundable"] if view else None,
        }

    return {
        "deal": deal,
        "invoices": [row("invoice_id", i, i["paid"]) for i in invoices],
        "order_payments": [row("order_payment_id", o, o["paid"]) for o in orders],
        "history": [presenter.payment_view(db.session, p) for p in ours],
    }


@bp.get("/deals/<int:deal_id>")
@frame_api()
def deal(deal_id: int) -> ResponseReturnValue:
    """The deal, its smart invoices, its order payments, and our payments."""
    found = screen_crm.read_deal(bitrix_client_for(g.portal), deal_id)
    return jsonify(_document(found["deal"], found["invoices"], found["orders"]))


@bp.get("/invoices/<int:invoice_id>")
@frame_api()
def invoice(invoice_id: int) -> ResponseReturnValue:
    """One smart invoice (opened from its own card), with its deal."""
    found = screen_crm.read_invoice(bitrix_client_for(g.portal), invoice_id)
    return jsonify(_document(found["deal"], found["invoices"], []))


@bp.post("/deals/<int:deal_id>/invoices")
@frame_api()
def add_invoice(deal_id: int) -> ResponseReturnValue:
    """Add Invoice: a smart invoice bound to the deal with one product row."""
    form = json_body(InvoiceForm())
    client = bitrix_client_for(g.portal)
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
    default = (assigned or usable or [None])[0]
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
    crm = crm_reads.read_context(
        bitrix_client_for(g.portal),
        event_token=None,
        deal_id=None,
        invoice_id=int(target_id) if kind == "invoice" else None,
        order_payment_id=int(target_id) if kind == "order_payment" else None,
    )
    try:
        payment = payments().start(
            PaymentRequest(
                portal=g.portal,
                kind="purchase",
                source="ui",
                user_id=g.user.user_id,
                user_is_admin=g.user.admin,
                terminal_ref=str(form["terminal_id"]),
                crm=crm,
                invoice_id=crm.invoice_id,
                order_payment_id=crm.order_payment_id,
            ),
        )
    except PaymentRefused as exc:
        return error(409, exc.message, {exc.field: [exc.message]})
    return jsonify({"payment": presenter.payment_view(db.session, payment)}), 201


@bp.get("/payments/<payment_id>")
@frame_api()
def get_payment(payment_id: str) -> ResponseReturnValue:
    """One payment, for the live panel."""
    payment = portal_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    return jsonify({"payment": presenter.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/cancel")
@frame_api()
def cancel(payment_id: str) -> ResponseReturnValue:
    """Cancel: drop a queued payment, or press Cancel on the PIN pad when it allows it."""
    payment = portal_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    if not _may_act(payment):
        return error(403, NOT_YOURS)
    try:
        done = payments().cancel(payment)
    except LinklyError as exc:
        return error(502, f"The terminal did not take the cancel: {exc}")
    if not done:
        return error(409, "The terminal does not allow cancelling now.")
    return jsonify({"payment": presenter.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/keys")
@frame_api()
def press(payment_id: str) -> ResponseReturnValue:
    """Yes / No / OK (with data) on the PIN pad's current prompt."""
    form = json_body(KeyForm())
    payment = portal_payment(payment_id)
    if payment is None:
        return error(404, "No such payment.")
    if not _may_act(payment):
        return error(403, NOT_YOURS)
    enabled = (payment.display or {}).get(form["key"])
    if payment.state != PaymentState.IN_PROGRESS or not enabled:
        return error(409, "The terminal is not asking for that now.")
    key = {"yes": Key.YES, "no": Key.NO, "ok": Key.CANCEL_OR_OK}[form["key"]]
    try:
        payments().press(payment, key, form["data"])
    except LinklyError as exc:
        return error(502, f"The terminal did not take the key: {exc}")
    return jsonify({"payment": presenter.payment_view(db.session, payment)})


@bp.post("/payments/<payment_id>/refunds")
@frame_api()
def refund(payment_id: str) -> ResponseReturnValue:
    """Refund an approved payment, fully or in part (refund rights needed)."""
    form = json_body(RefundForm())
    original = portal_payment(payment_id)
    if original is None:
        return error(404, "No such payment.")
    if not g.user.can_refund():
        return error(403, "Refunds need refund rights: ask an administrator.")
    try:
        made = payments().start(
            PaymentRequest(
                portal=g.portal,
                kind="refund",
                source="ui",
                user_id=g.user.user_id,
                user_is_admin=True,
                original_payment_id=original.id,
                amount=Decimal(form["amount"]) if form["amount"] is not None else None,
            ),
        )
    except PaymentRefused as exc:
        return error(409, exc.message, {exc.field: [exc.message]})
    return jsonify({"payment": presenter.payment_view(db.session, made)}), 201
