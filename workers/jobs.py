"""RQ jobs. Each takes ids, is idempotent, and lets errors escape to RQ's retry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy.orm import Session

from bizproc_app import calls
from bizproc_app.extensions import db, redis_conn
from bizproc_app.models import HandlerCall, Payment, Portal
from bizproc_app.payments import outcome, report, states
from bizproc_app.services import bitrix_client_for, lifecycle, pipeline
from workers.queues import enqueue_send_next


@contextmanager
def _session() -> Iterator[Session]:
    """A fresh database session for one job, removed afterwards."""
    try:
        yield db.session
    finally:
        current_app.extensions["database"].session.remove()


def _portal(session: Session, portal_id: int) -> Portal | None:
    portal = session.get(Portal, portal_id)
    return portal if portal is not None and portal.installed else None


def process_call(call_id: int) -> str:
    """Verify a robot call through Bitrix24, read the CRM and start its payment."""
    with _session() as session:
        call = session.get(HandlerCall, call_id)
        if call is None:
            return "missing"
        portal = _portal(session, call.portal_id)
        if portal is None:
            return "portal gone"
        cfg = current_app.config["APP_CONFIG"]
        payment = calls.process(session, cfg, call, bitrix_client_for(portal))
        if payment is not None:
            enqueue_send_next(redis_conn.client, payment.terminal_id)
        return call.state


def send_next(terminal_id: int) -> str | None:
    """Start the terminal's oldest queued payment if its PIN pad is free."""
    with _session():
        return pipeline().send_next(terminal_id)


def recover(payment_id: str) -> str:
    """Resume a send that died before the request left, or ask Linkly for the outcome."""
    with _session() as session:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.is_final:
            return "final"
        runner = pipeline()
        if payment.state == "sending" and payment.sent_at is None:
            runner.send(payment)
        else:
            runner.recover(payment)
        return payment.state


def report_payment(payment_id: str) -> str:
    """Write the outcome to Bitrix24 once (or tell people it is unknown); retried until done."""
    with _session() as session:
        payment = session.get(Payment, payment_id)
        if payment is None or payment.report_state != "pending":
            return "nothing to do"
        portal = _portal(session, payment.portal_id)
        if portal is None:
            payment.report_state = "portal gone"
            session.commit()
            return payment.report_state
        late = payment.reported_status == "unknown" and payment.is_final
        if not payment.is_final and payment.reported_status == "unknown":
            payment.report_state = "done"
            session.commit()
            return "already told unknown"
        # One `done` for the whole life of the report: the unknown phase and the late one.
        done = dict(payment.report_done or {})
        try:
            report.report(bitrix_client_for(portal), _input(session, payment, portal, late), done)
        except report.ReportIncomplete as exc:
            payment.report_done = dict(exc.done)
            session.commit()
            raise
        payment.report_done = done
        if payment.reported_status is None:
            payment.reported_status = outcome.status_of(payment)
        payment.report_state = "done"
        session.commit()
        return payment.report_state


def _input(session: Session, payment: Payment, portal: Portal, late: bool) -> report.ReportInput:
    cfg = current_app.config["APP_CONFIG"]
    ctx = payment.context or {}
    fully_refunded = False
    if payment.kind == "refund" and payment.state == "approved" and payment.original_id:
        original = session.get(Payment, payment.original_id)
        fully_refunded = original is not None and states.refundable_cents(session, original) <= 0
    people = tuple(sorted({u for u in (payment.requested_by, portal.auth_user_id) if u}))
    conflict = bool(ctx.get("conflict"))
    return report.ReportInput(
        payment_id=payment.id,
        kind=payment.kind,
        status=outcome.status_of(payment),
        resolved_late=late,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        deal_id=payment.deal_id,
        invoice_id=payment.invoice_id,
        order_payment_id=payment.order_payment_id,
        bitrix_payment_id=ctx.get("bitrix_payment_id"),
        success_stage=ctx.get("success_stage"),
        refund_stage=cfg.REFUND_STAGE or None,
        fully_refunded=fully_refunded,
        event_token=None if late else ctx.get("event_token"),
        return_values=outcome.return_values(payment),
        comment=outcome.comment(payment),
        notify_user_ids=people if (late or conflict or not payment.is_final) else (),
        notify_message=outcome.message(payment, late=late),
    )


def confirm_uninstall(member_id: str) -> str:
    """Purge a portal's secrets once Bitrix24 refuses our token; raise (and retry) until then."""
    with _session():
        lifecycle().confirm_uninstall(member_id)
        return "uninstalled"


def sweep_once() -> dict[str, int]:
    """One pass of the sweep (the scheduler process runs it in a loop)."""
    from bizproc_app.payments.sweep import Sweep
    from workers.scheduler import RqEnqueue

    with _session() as session:
        return dict(Sweep(current_app.config["APP_CONFIG"], session, RqEnqueue()).run())
