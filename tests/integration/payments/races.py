"""Deterministic races: stop one actor between its read and its write, run another, go on.

`pause_before_first_payment_write(session, other)` runs `other` (in its own thread, app context
and database session, as a second process would) right before the first UPDATE of a payment
that `session` executes, i.e. after that actor read the payment and decided. Nothing depends on
timing: the other actor has finished before the first one writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import event, update
from sqlalchemy.orm import ORMExecuteState, Session

from bizproc_app.bitrix import BatchResult
from bizproc_app.extensions import db
from bizproc_app.models import Payment, Portal
from bizproc_app.payments import starting
from bizproc_app.payments.starting import CrmContext, PaymentRequest
from bizproc_app.payments.states import now

PAYMENTS = Payment.__table__


def in_thread(app: Flask, actor: Callable[[], Any]) -> Any:
    """Run actor to the end in another thread with its own app context and session."""
    out: dict[str, Any] = {}

    def target() -> None:
        with app.app_context():
            try:
                out["value"] = actor()
            except BaseException as exc:  # re-raised in the caller
                out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the other actor did not finish"
    if "error" in out:
        raise out["error"]
    return out.get("value")


@contextmanager
def pause_before_first_payment_write(
    app: Flask, session: Session, other: Callable[[], Any]
) -> Iterator[dict[str, Any]]:
    """Run `other` once, just before `session` first updates a payment row."""
    seen: dict[str, Any] = {}

    def hook(state: ORMExecuteState) -> None:
        if seen or not state.is_update:
            return
        table = getattr(state.statement, "table", None)
        if table is not None and table.name == PAYMENTS.name:
            seen["other"] = in_thread(app, other)

    event.listen(session, "do_orm_execute", hook)
    try:
        yield seen
    finally:
        event.remove(session, "do_orm_execute", hook)


def queued_purchase(app: Flask, shop: dict[str, Any], amount: str = "12.00", **changes: Any) -> str:
    """A clerk's purchase queued on the shop's terminal through the real service; its id."""
    cfg = app.config["APP_CONFIG"]
    portal = db.session.get(Portal, shop["portal_id"])
    assert portal is not None
    request = PaymentRequest(
        portal=portal,
        kind="purchase",
        source="ui",
        user_id=1,
        amount=Decimal(amount),
        crm=CrmContext(deal_id=shop["deal_id"]),
    )
    payment = starting.start(db.session, cfg, request)
    if changes:
        db.session.execute(update(Payment).where(Payment.id == payment.id).values(**changes))
        db.session.commit()
    return payment.id


def ago(seconds: float) -> datetime:
    """A UTC time `seconds` ago (negative: from now)."""
    return now() - timedelta(seconds=seconds)


class Recorded:
    """Enqueues written down instead of queued (the sweep's and the pipeline's)."""

    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    def send_next(self, terminal_id: int) -> None:
        self.log.append(("send_next", terminal_id))

    def recover(self, payment_id: str) -> None:
        self.log.append(("recover", payment_id))

    def reports(self, portal_id: int) -> None:
        self.log.append(("reports", portal_id))

    def calls(self, portal_id: int) -> None:
        self.log.append(("calls", portal_id))


class RecordingPortal:
    """A Bitrix24 client that answers every command with success and records each batch.

    The invoice has one product row of `invoice_cents` and its own unpaid payment 1033 carrying it.
    """

    def __init__(self, during: Any = None, invoice_cents: int = 1000) -> None:
        self.requests: list[dict[str, Any]] = []
        self.during = during
        amount = invoice_cents / 100
        self.answers: dict[str, Any] = {
            "crm.item.payment.add": 1033,
            "crm.item.productrow.list": {
                "productRows": [{"id": 12, "price": amount, "quantity": 1}]
            },
            "crm.item.payment.list": [{"id": 1033, "sum": amount, "paid": "N"}],
            "crm.item.payment.get": {"id": 1033, "sum": amount, "paid": "N"},
        }

    def batch(self, commands: dict[str, Any], *, halt: bool = False) -> BatchResult:
        if self.during is not None:
            during, self.during = self.during, None
            during()  # another actor runs while this batch is in flight
        self.requests.append(commands)
        results = {n: self.answers.get(m, 1) for n, (m, _) in commands.items()}
        return BatchResult(results=results)

    def methods(self) -> list[str]:
        """Every method sent, in order."""
        return [m for request in self.requests for m, _ in request.values()]


def stored_payment(shop: dict[str, Any], **fields: Any) -> Payment:
    """An approved invoice purchase (report pending) stored directly; fields override."""
    values: dict[str, Any] = dict(
        portal_id=shop["portal_id"], terminal_id=shop["terminal_id"], kind="purchase",
        amount_cents=1000, currency="AUD", state="approved", source="robot",
        deal_id=shop["deal_id"], invoice_id=5, report_state="pending",
        result={"response_code": "00", "amount_cents": fields.get("amount_cents", 1000)},
        context={"bitrix_payment_id": 1033, "success_stage": "DT31_13:P", "target_cents": 1000},
        rfn="RFN1",
    )  # fmt: skip
    values.update(fields)
    payment = Payment(**values)
    db.session.add(payment)
    db.session.commit()
    return payment
