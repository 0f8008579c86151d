"""RQ jobs. Each takes ids, is idempotent, and lets errors escape to RQ's retry."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from flask import current_app
from redis.exceptions import LockError
from sqlalchemy import case, func, update
from sqlalchemy.orm import Session

from bizproc_app import calls
from bizproc_app.extensions import db, redis_conn
from bizproc_app.models import ACTIVE_STATES, HandlerCall, Payment, Portal
from bizproc_app.payments import outcome, report, states
from bizproc_app.portals import journal
from bizproc_app.services import bitrix_client_for, lifecycle, pipeline
from workers.queues import enqueue_send_next

# Longer than a report job may run (its job_timeout), so a killed worker's lock expires.
REPORT_LOCK_SECONDS = 150


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
    # One report at a time per payment: two runs from the same `done` would both write.
    lock = redis_conn.client.lock(f"report-lock:{payment_id}", timeout=REPORT_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return "busy"  # the running report finishes it; the sweep re-queues what stays pending
    try:
        return _report_payment(payment_id)
    finally:
        with suppress(LockError):
            lock.release()


def _report_payment(payment_id: str) -> str:
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
            # Nothing new to tell, unless the outcome lands right now: then it stays pending.
            session.execute(
                update(Payment)
                .where(Payment.id == payment.id, Payment.state.in_(ACTIVE_STATES))
                .values(report_state="done")
                .execution_options(synchronize_session=False)
            )
            session.commit()
            return "already told unknown"
        version = payment.updated_at
        # One `done` for the whole life of the report: the unknown phase and the late one.
        done = copy.deepcopy(payment.report_done or {})
        before = copy.deepcopy(done)
        status = outcome.status_of(payment)
        try:
            report.report(bitrix_client_for(portal), _input(session, payment, portal, late), done)
        except report.ReportIncomplete as exc:
            payment.report_done = dict(exc.done)
            _journal_writes(session, payment, status, before, exc.done, str(exc))
            session.commit()
            raise
        _journal_writes(session, payment, status, before, done, "")
        # Done only if nothing happened meanwhile (say, the unknown outcome became final):
        # otherwise it stays pending and the next run reports what changed.
        unchanged = Payment.updated_at == version
        session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(
                report_done=done,
                reported_status=func.coalesce(Payment.reported_status, status),
                report_state=case((unchanged, "done"), else_=Payment.report_state),
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return "done"


def _journal_writes(
    session: Session,
    payment: Payment,
    status: str,
    before: dict[str, Any],
    after: dict[str, Any],
    error: str,
) -> None:
    """Journal what this report run wrote to Bitrix24 (and what it could not)."""
    landed = sorted(k for k in after if k != "uncertain" and after[k] != before.get(k))
    if landed or error:
        journal(
            session,
            "bitrix.write",
            portal=payment.portal_id,
            subject=payment.id,
            method="batch",
            status=status,
            landed=landed,
            done=after,
            error=error,
        )


def _input(session: Session, payment: Payment, portal: Portal, late: bool) -> report.ReportInput:
    cfg = current_app.config["APP_CONFIG"]
    ctx = payment.context or {}
    fully_refunded = False
    bitrix_payment_id = ctx.get("bitrix_payment_id")
    if payment.kind == "refund" and payment.original_id:
        original = session.get(Payment, payment.original_id)
        if original is not None and payment.state == "approved":
            fully_refunded = states.refundable_cents(session, original) <= 0
        if original is not None and not bitrix_payment_id:
            # The invoice had no payment of its own: the purchase's report created the one to
            # unpay, and only that report knows its id.
            bitrix_payment_id = (original.report_done or {}).get("payment_added")
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
        bitrix_payment_id=bitrix_payment_id,
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
