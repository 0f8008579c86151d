"""RQ jobs. Each takes ids, is idempotent, and lets errors escape to RQ's retry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial

from flask import current_app
from redis.exceptions import LockError
from redis.lock import Lock
from sqlalchemy.orm import Session

from bizproc_app.bitrix import BitrixError
from bizproc_app.extensions import app_config, db, redis_conn
from bizproc_app.models import HandlerCall, Payment, Portal
from bizproc_app.payments import robot_calls
from bizproc_app.payments.crm_context import StageCache, read_contexts
from bizproc_app.payments.queues import enqueue_calls, enqueue_reports, started
from bizproc_app.payments.report_drain import ReportDrain
from bizproc_app.wiring.services import bitrix_client_for, lifecycle, payments, refresh_idle_tokens

# A portal's drain holds its lock this long without renewing it (it renews after each batch),
# so a killed worker blocks the portal's drain for at most this long.
# Calls read in one batch request (50 commands at most): 4 commands each while the invoice
# stages are not cached, then 2 each and one shared invoice list.
CALLS_PER_BATCH = (12, 24)


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


def _exclusive(name: str, drain: Callable[[Callable[[], None]], bool]) -> str:
    """Run a portal's drain in one worker at a time, never missing work queued meanwhile.

    A run that finds the lock taken leaves a mark and tries once more; the holder looks for the
    mark after releasing and drains again. `drain(renew)` returns False when it stopped with work
    left (its time ran out): then a fresh job is queued so other jobs get their turn.
    """
    conn = redis_conn.client
    lock_seconds = app_config().timings.drain_lock
    again = f"{name}:again"
    while True:
        lock = conn.lock(f"{name}:lock", timeout=lock_seconds)
        if not lock.acquire(blocking=False):
            conn.set(again, 1, ex=lock_seconds)
            if not lock.acquire(blocking=False):
                return "busy"  # the holder sees the mark when it finishes
        try:
            conn.delete(again)  # the drain below sees everything committed before this point
            finished = drain(partial(_renew, lock))
        finally:
            with suppress(LockError):
                lock.release()
        if not finished:
            return "more"
        if not conn.exists(again):
            return "done"


def _renew(lock: Lock) -> None:
    with suppress(LockError):
        lock.reacquire()


def process_calls(portal_id: int) -> str:
    """Verify the portal's new robot calls and read their CRM documents in shared batches,
    then start their payments and send each to its PIN pad when the pad is free."""
    started(redis_conn.client, f"calls-{portal_id}")

    def drain(renew: Callable[[], None]) -> bool:
        with _session() as session:
            portal = _portal(session, portal_id)
            if portal is None:
                return True
            cfg = app_config()
            client = bitrix_client_for(portal)
            runner = payments().pipeline()
            stop_at = time.monotonic() + cfg.timings.calls_run
            stages = StageCache(redis_conn.client, portal_id)
            while batch := robot_calls.pending(
                session, portal_id, CALLS_PER_BATCH[bool(stages.known())]
            ):
                reads = {f"c{call.id}": robot_calls.context_read(call) for call in batch}
                found = read_contexts(client, reads, stages)
                transient: Exception | None = None
                terminals: list[int] = []
                for call in batch:
                    try:
                        payment = robot_calls.start(
                            session, cfg, call, client, found[f"c{call.id}"]
                        )
                    except BitrixError as exc:  # this call's proof failed for now: retry later
                        transient = exc
                        continue
                    if payment is not None and payment.terminal_id not in terminals:
                        terminals.append(payment.terminal_id)
                for terminal_id in terminals:  # no extra job: the pad starts at once
                    runner.send_next(terminal_id)
                renew()
                if transient is not None:
                    raise transient
                if time.monotonic() >= stop_at:
                    enqueue_calls(redis_conn.client, portal_id)
                    return False
            return True

    return _exclusive(f"calls:{portal_id}", drain)


def process_call(call_id: int) -> str:
    """Process one call (jobs queued before an upgrade): its portal's drain does it."""
    with _session() as session:
        call = session.get(HandlerCall, call_id)
        portal_id = call.portal_id if call is not None else None
    return process_calls(portal_id) if portal_id is not None else "missing"


def send_next(terminal_id: int) -> str | None:
    """Start the terminal's oldest queued payment if its PIN pad is free."""
    started(redis_conn.client, f"send-next-{terminal_id}")
    with _session():
        return payments().send_next(terminal_id)


def recover(payment_id: str) -> str:
    """Resume a send that died before the request left, or ask Linkly for the outcome."""
    started(redis_conn.client, f"recover-{payment_id}")
    with _session():
        return payments().recover(payment_id)


def report_portal(portal_id: int) -> str:
    """Write the portal's finished payments to Bitrix24, many to a batch request."""
    started(redis_conn.client, f"reports-{portal_id}")

    def drain(renew: Callable[[], None]) -> bool:
        with _session() as session:
            cfg = app_config()
            done = ReportDrain(cfg, session, bitrix_client_for).run(portal_id, renew)
        if done["more"]:
            enqueue_reports(redis_conn.client, portal_id)
            return False
        return True

    return _exclusive(f"reports:{portal_id}", drain)


def report_payment(payment_id: str) -> str:
    """Report one payment (jobs queued before an upgrade): its portal's drain does it."""
    with _session() as session:
        payment = session.get(Payment, payment_id)
        portal_id = payment.portal_id if payment is not None else None
    return report_portal(portal_id) if portal_id is not None else "missing"


def confirm_uninstall(member_id: str) -> str:
    """Purge a portal's secrets once Bitrix24 refuses our token; raise (and retry) until then."""
    started(redis_conn.client, f"uninstall-{member_id}")
    with _session():
        lifecycle().confirm_uninstall(member_id)
        return "uninstalled"


def sweep_once() -> dict[str, int]:
    """One pass of the sweep (the scheduler process runs it in a loop), and the hourly upkeep
    of the portals' tokens."""
    with _session():
        done = dict(payments().sweep())
        if redis_conn.client.set("upkeep:tokens", 1, nx=True, ex=app_config().timings.token_upkeep):
            done["tokens_refreshed"] = refresh_idle_tokens()
        return done
