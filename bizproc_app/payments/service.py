"""The payments service: the one door for views, the CLI, jobs and the sweep.

Built once in `create_app`; it queues its own follow-up work (send the PIN pad's next payment,
report, recover) through one `Jobs` port, so no caller ever queues payment work itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from bizproc_app.config import Config
from bizproc_app.linkly import Key, LinklyClient, Notification, TransactionResult
from bizproc_app.models import Payment, PaymentState, Terminal
from bizproc_app.payments import attention, linkly_events, starting
from bizproc_app.payments.jobs import Jobs
from bizproc_app.payments.pipeline import Pipeline, after_final
from bizproc_app.payments.starting import PaymentRequest
from bizproc_app.payments.sweep import Sweep
from bizproc_app.storage.secret_box import SecretBox


@dataclass
class PaymentService:
    """Start, cancel, press, take Linkly's events, send, recover, sweep and settle payments."""

    cfg: Config
    box: SecretBox
    jobs: Jobs
    sessions: Callable[[], Session]  # the current context's database session
    linkly: Callable[[], LinklyClient]

    def pipeline(self) -> Pipeline:
        """The pipeline on the current session (one per job or request)."""
        return Pipeline(self.cfg, self.sessions(), self.linkly(), self.box, self.jobs)

    def start(self, request: PaymentRequest) -> Payment:
        """Validate and queue a purchase or refund, then kick its PIN pad; PaymentRefused."""
        payment = starting.start(self.sessions(), self.cfg, request)
        self.jobs.send_next(payment.terminal_id)
        return payment

    def cancel(self, payment: Payment) -> bool:
        """Drop a queued payment, or press Cancel when the PIN pad allows it."""
        return self.pipeline().cancel(payment)

    def press(self, payment: Payment, key: Key, data: str = "") -> None:
        """Answer the PIN pad's prompt."""
        self.pipeline().press(payment, key, data)

    def apply_event(self, row: Row[Any], note: Notification) -> None:
        """Apply one authenticated Linkly event, then start what a final result allows."""
        session = self.sessions()
        if linkly_events.apply(session, row, note):
            after_final(self.jobs, row.terminal_id, row.portal_id)
        elif isinstance(note.response, TransactionResult):
            payment = session.get(Payment, row.id)
            if payment is not None and payment.is_final and payment.report_state == "pending":
                self.jobs.reports(row.portal_id)  # a conflict to tell people about

    def send_next(self, terminal_id: int) -> str | None:
        """Start the terminal's oldest queued payment if its PIN pad is free."""
        return self.pipeline().send_next(terminal_id)

    def recover(self, payment_id: str) -> str:
        """Resume a send that died before the request left, or ask Linkly for the outcome."""
        payment = self.sessions().get(Payment, payment_id)
        if payment is None or payment.is_final:
            return "final"
        runner = self.pipeline()
        if payment.state == PaymentState.SENDING and payment.sent_at is None:
            runner.send(payment)
        else:
            runner.recover(payment)
        return payment.state

    def sweep(self) -> Counter[str]:
        """One pass of the sweep."""
        return Sweep(self.cfg, self.sessions(), self.jobs).run()

    def resolve(self, payment: Payment, *, decision: str, reason: str, by: str) -> Payment:
        """An admin's decision on a given-up payment; ResolveRefused."""
        return attention.resolve(
            self.sessions(), self.jobs, payment, decision=decision, reason=reason, by=by
        )

    def release(self, payment: Payment, *, by: str) -> Terminal:
        """Free the PIN pad a given-up payment holds; ResolveRefused."""
        return attention.release_terminal(self.sessions(), self.jobs, payment, by=by)
