"""Drain a portal's pending reports: many payments share each batch request, each resumable."""

from __future__ import annotations

import copy
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from bizproc_app.bitrix import BATCH_LIMIT, BitrixClient, OperationTimeLimit, OverloadLimit
from bizproc_app.config import Config
from bizproc_app.linkly import format_cents
from bizproc_app.models import ACTIVE_STATES, Payment, PaymentState, Portal
from bizproc_app.payments import ledger, outcome_text, report, states
from bizproc_app.payments.queues import BITRIX_BACKOFF
from bizproc_app.portals.access import journal

log = logging.getLogger(__name__)
# Seconds before the n-th retry of a report that did not land (then hourly).
# A report taken for a batch is not taken by another drain for this long: longer than one batch
# request can last in the client (5 tries of 5 s connect + 30 s read, 15 s of back-off between
# them: 190 s), so it only expires once its drain is gone (a killed worker delays these
# reports by at most this much; the portal's Redis lock alone could expire under a slow batch).
# How many due reports a group is chosen from (oldest first, reports not begun before the rest).
DUE_WINDOW = 4 * BATCH_LIMIT


@dataclass
class Pending:
    """One payment in the batch being built."""

    payment: Payment
    inp: report.ReportInput
    done: dict[str, Any]
    before: dict[str, Any]
    version: Any


@dataclass
class ReportDrain:
    """Report every due payment of one portal, up to 50 commands to a request, until none is due."""

    cfg: Config
    session: Session
    client_for: Callable[[Portal], BitrixClient]
    # Stop after this long so other jobs get their turn; the caller queues the rest.
    budget_seconds: float = 60.0

    def run(self, portal_id: int, on_batch: Callable[[], None] = lambda: None) -> Counter[str]:
        """Report until nothing is due; return what happened, by kind ("more" = time ran out)."""
        done: Counter[str] = Counter()
        portal = self.session.get(Portal, portal_id)
        if portal is None or not portal.installed:
            self._portal_gone(portal_id, done)
            return done
        client = self.client_for(portal)
        skip: set[str] = set()  # failed, or out of rounds, in this run: their back-off decides
        rounds: Counter[str] = Counter()
        stop_at = time.monotonic() + self.budget_seconds
        while True:
            if time.monotonic() >= stop_at:
                done["more"] += 1
                return done
            group = self._group(portal, skip, done)
            if group is None:
                return done
            if not group:
                continue
            on_batch()  # still ours: renew the portal's lock before anything is sent
            errors = report.report_many(
                client, {f"p{i}": (p.inp, p.done) for i, p in enumerate(group)}
            )
            overload = _overload(errors)
            if overload is not None:  # support blocked the app: nothing lands until it is lifted
                journal(self.session, "bitrix.overload_limit", portal=portal.id,
                        method=overload.method or "", error=str(overload))  # fmt: skip
                log.error("portal %s: Bitrix24 support blocked the app (OVERLOAD_LIMIT)", portal.id)
            for i, item in enumerate(group):
                rounds[item.payment.id] += 1
                self._remember_timeline_form(portal, item.done)
                failed = errors.get(f"p{i}")
                left = report.plan_commands(item.inp, item.done)
                if failed and not report.go_on_without(failed, left):
                    self._retry_later(item, failed)
                    skip.add(item.payment.id)
                    done["retry"] += 1
                elif left:
                    self._save(item, finished=False)  # look-ups first: another round
                    if rounds[item.payment.id] >= report.MAX_ROUNDS:
                        self._retry_later(item, failed or {})
                        skip.add(item.payment.id)
                else:
                    self._save(item, finished=True)
                    done["reported"] += 1
            self.session.commit()
            if overload is not None:
                done["overload"] += 1
                return done

    def _due(self, portal_id: int, skip: set[str]) -> list[Payment]:
        now = states.now()
        stmt = (
            select(Payment)
            .where(
                Payment.portal_id == portal_id,
                Payment.report_state == "pending",
                or_(Payment.report_next_at.is_(None), Payment.report_next_at <= now),
            )
            .order_by(Payment.updated_at)
            .limit(DUE_WINDOW + len(skip))
            .execution_options(populate_existing=True)  # rows we updated with Core statements
        )
        due = [p for p in self.session.scalars(stmt) if p.id not in skip]
        # Reports not begun first: their workflows wait for the event, while the rounds left of
        # begun ones (an invoice payment's read-back and pay, comments) are bookkeeping.
        return sorted(due, key=lambda p: bool(p.report_done))

    def _group(self, portal: Portal, skip: set[str], done: Counter[str]) -> list[Pending] | None:
        """Due payments whose commands fit one request; None when nothing is due."""
        due = self._due(portal.id, skip)
        if not due:
            return None
        group: list[Pending] = []
        room = BATCH_LIMIT
        for payment in due:
            told = (payment.report_done or {}).get("notify", {})
            new_attention = payment.attention_at is not None and "attention" not in told
            if (
                not payment.is_final
                and payment.reported_status == PaymentState.UNKNOWN
                and not new_attention
            ):
                self._nothing_new(payment)
                done["unknown_kept"] += 1
                continue
            # The workflow was told something else (unknown, or an ending Linkly overturned).
            told = payment.reported_status
            late = payment.is_final and told is not None and told != outcome_text.status_of(payment)
            done_so_far = copy.deepcopy(payment.report_done or {})
            try:
                inp = self._input(payment, portal, late)
                need = len(report.plan_commands(inp, done_so_far))
            except Exception as exc:  # one bad record must not stop its portal's other reports
                log.exception("report of payment %s cannot be built", payment.id)
                self._back_off(payment, f"cannot build the report: {exc!r}")
                skip.add(payment.id)
                continue
            if need > room:
                break
            if self._behind_an_earlier_report(payment) or not self._lease(payment):
                continue  # its turn comes after the earlier one's report, or another drain has it
            room -= need
            group.append(
                Pending(payment, inp, done_so_far, copy.deepcopy(done_so_far), payment.updated_at)
            )
        self.session.commit()
        return group if group or not due else None

    def _behind_an_earlier_report(self, payment: Payment) -> bool:
        """An invoice's reports land in the order of its payments (never un-pay before pay).

        Elsewhere (a deal's own charges) only a refund waits for its purchase's report.
        """
        if payment.invoice_id or payment.order_payment_id:
            where = ledger.document_filter(
                payment.portal_id, payment.invoice_id, payment.order_payment_id, None
            )
        elif payment.original_id:
            where = [Payment.id == payment.original_id]
        else:
            return False
        earlier = self.session.scalar(
            select(Payment.id)
            .where(
                *where,
                Payment.id != payment.id,
                Payment.created_at < payment.created_at,
                Payment.report_state == "pending",
            )
            .limit(1)
        )
        return earlier is not None

    def _lease(self, payment: Payment) -> bool:
        """Take the payment's report for this run's batch; False when another drain holds it.

        Held in the database, not only by the portal's Redis lock: a drain whose lock expired
        under a slow batch can never send the same commands as the next one.
        """
        now = states.now()
        return bool(
            self.session.execute(
                update(Payment)
                .where(
                    Payment.id == payment.id,
                    Payment.report_state == "pending",
                    or_(Payment.report_next_at.is_(None), Payment.report_next_at <= now),
                )
                # updated_at kept: it is the version `_save` compares to see news.
                .values(
                    report_next_at=now + timedelta(seconds=self.cfg.timings.report_lease),
                    updated_at=Payment.updated_at,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        )

    def _remember_timeline_form(self, portal: Portal, done: dict[str, Any]) -> None:
        """Keep the invoice comment form the portal took, for its next reports (journaled)."""
        form = done.get("invoice_timeline_type")
        if form and form != portal.invoice_timeline_type:
            portal.invoice_timeline_type = form
            journal(self.session, "bitrix.timeline_form", portal=portal, form=form)

    def _nothing_new(self, payment: Payment) -> None:
        """Told "unknown" and still unknown: done, unless the outcome lands right now."""
        self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.state.in_(ACTIVE_STATES))
            .values(report_state="done")
            .execution_options(synchronize_session=False)
        )

    def _save(self, item: Pending, *, finished: bool) -> None:
        payment, status = item.payment, item.inp.status
        _journal_writes(self.session, payment, status, item.before, item.done, "")
        # Done only if nothing happened meanwhile (say, the unknown outcome became final):
        # otherwise it stays pending and the next round reports what changed.
        unchanged = Payment.updated_at == item.version
        values: dict[str, Any] = {"report_attempts": 0, "report_next_at": None}  # lease ends
        if finished:
            values.update(
                reported_status=func.coalesce(Payment.reported_status, status),
                report_state=case((unchanged, "done"), else_=Payment.report_state),
            )
        self._write_done(item, values)

    def _retry_later(self, item: Pending, errors: dict[str, BaseException]) -> None:
        detail = "; ".join(f"{name}: {err}" for name, err in errors.items()) or "commands left"
        _journal_writes(self.session, item.payment, item.inp.status, item.before, item.done, detail)
        # A method the portal blocked is not asked again before its reset time.
        resets = [
            e.operating_reset_at
            for e in errors.values()
            if isinstance(e, OperationTimeLimit) and e.operating_reset_at is not None
        ]
        self._back_off(item.payment, None, not_before=max(resets, default=None))
        self._write_done(item, {})

    def _write_done(self, item: Pending, values: dict[str, Any]) -> None:
        """Store what landed; if the outcome changed meanwhile (Linkly's late approval reopened
        the report), keep only what was told to the workflow and people: the rest is reported
        again for the new outcome."""
        payment = item.payment
        same = self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.state == payment.state)
            .values(report_done=item.done, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if same:
            return
        current = self.session.scalar(select(Payment.report_done).where(Payment.id == payment.id))
        kept = {k: v for k, v in item.done.items() if k in states.KEPT_ON_REOPEN}
        values.pop("report_state", None)
        self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(report_done={**(current or {}), **kept}, **values)
            .execution_options(synchronize_session=False)
        )

    def _back_off(
        self, payment: Payment, error: str | None, not_before: float | None = None, **values: Any
    ) -> None:
        """Try this payment's report again after its next back-off step (not before a reset)."""
        attempts = (payment.report_attempts or 0) + 1
        delay: float = BITRIX_BACKOFF[min(attempts, len(BITRIX_BACKOFF)) - 1]
        if not_before is not None:
            delay = max(delay, not_before - time.time())
        if error:
            journal(self.session, "bitrix.report_failed", portal=payment.portal_id,
                    subject=payment.id, error=error)  # fmt: skip
        self.session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(
                report_attempts=attempts,
                report_next_at=states.now() + timedelta(seconds=delay),
                **values,
            )
            .execution_options(synchronize_session=False)
        )

    def _portal_gone(self, portal_id: int, done: Counter[str]) -> None:
        done["portal_gone"] = self.session.execute(
            update(Payment)
            .where(Payment.portal_id == portal_id, Payment.report_state == "pending")
            .values(report_state="portal gone")
            .execution_options(synchronize_session=False)
        ).rowcount
        self.session.commit()

    def _input(self, payment: Payment, portal: Portal, late: bool) -> report.ReportInput:
        ctx = payment.context or {}
        done = payment.report_done or {}
        target = ledger.target_cents(payment)
        covers, fully_refunded, paid_cents = True, False, None
        comment = outcome_text.comment(payment)
        bitrix_payment_id = ctx.get("bitrix_payment_id")
        # Only an approved payment moves money in the CRM: only then the document is read.
        approved = payment.state == PaymentState.APPROVED
        doc = ledger.document_of(self.session, payment) if approved else None
        if doc is not None and payment.kind == "purchase":
            paid_by_another = doc.paid_in_crm and not done.get("pay")
            covers = (target is None or doc.net >= target) and not paid_by_another
            paid_cents = doc.net
            if target is not None and doc.net < target:
                comment += "\n" + _partial_line(doc.net, target, payment.currency)
        elif doc is not None:
            # Un-pay once refunds took everything back; the payment a purchase marked paid.
            marked = doc.paid_in_crm or bool(done.get("unpay"))
            fully_refunded = doc.net <= 0 and (marked or doc.closed_unpaid)
            if payment.invoice_id:  # un-pay only the payment a purchase marked paid
                bitrix_payment_id = doc.paid_payment_id if doc.paid_in_crm else None
            else:
                bitrix_payment_id = doc.paid_payment_id or bitrix_payment_id
        people = tuple(sorted({u for u in (payment.requested_by, portal.auth_user_id) if u}))
        conflict = bool(ctx.get("conflict") or ctx.get("late_approval"))
        attention = payment.attention_at is not None and not payment.is_final
        return report.ReportInput(
            payment_id=payment.id,
            kind=payment.kind,
            status=outcome_text.status_of(payment),
            resolved_late=late,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            deal_id=payment.deal_id,
            invoice_id=payment.invoice_id,
            order_payment_id=payment.order_payment_id,
            bitrix_payment_id=bitrix_payment_id,
            success_stage=ctx.get("success_stage"),
            refund_stage=self.cfg.REFUND_STAGE or None,
            fully_refunded=fully_refunded,
            event_token=None if late else ctx.get("event_token"),
            return_values=outcome_text.return_values(payment),
            comment=comment,
            notify_user_ids=people,  # told only when the plan wants it (unknown, late, gone...)
            invoice_timeline_type=portal.invoice_timeline_type or report.INVOICE_TIMELINE_TYPES[0],
            paid_cents=paid_cents,
            notify_message=outcome_text.message(payment, late=late),
            covers=covers,
            alert=conflict or attention,
            notify_key="attention" if attention else "",
        )


def _overload(errors: dict[str, dict[str, BaseException]]) -> OverloadLimit | None:
    """Support's manual block among a batch's errors, if any."""
    found = (e for per in errors.values() for e in per.values() if isinstance(e, OverloadLimit))
    return next(found, None)


def _partial_line(paid: int, target: int, currency: str) -> str:
    due = target - paid
    return (
        f"Partly paid: {format_cents(paid)} of {format_cents(target)} {currency}, "
        f"{format_cents(due)} still due."
    )


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
