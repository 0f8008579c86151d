"""Queue names, retry policies and every enqueue the app makes, declared once."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

# Most urgent first: payments and their reports (a workflow waits), then other Bitrix24 work
# (uninstall checks), then housekeeping.
QUEUE_NAMES = ("payments", "bitrix", "default")
SERIALIZER = JSONSerializer

# Retries need the worker's scheduler (python -m workers starts it).
# Bitrix24 work backs off the same way in RQ and in the report drain's own schedule.
BITRIX_BACKOFF = (2, 5, 15, 60, 300, 900, 1800, 3600)
BITRIX_RETRY = Retry(max=len(BITRIX_BACKOFF), interval=list(BITRIX_BACKOFF))
PAYMENT_RETRY = Retry(max=5, interval=[1, 3, 10, 30, 60])
# About two minutes of patience for a portal that is still removing the app.
UNINSTALL_RETRY = Retry(max=5, interval=[2, 5, 15, 30, 60])
# A job marked pending is not enqueued again until it starts; then a new trigger queues one more
# run (work committed meanwhile is never missed). The mark expires in case Redis lost the job.
KICK_TTL_SECONDS = 60


def queue(name: str, connection: Redis) -> Queue:
    """Return the named queue with the shared serializer."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection, serializer=SERIALIZER)


def _kick(connection: Redis, name: str, func: str, key: str, *args: Any, **options: Any) -> None:
    """Enqueue the job unless a run of it is already waiting to start (one Redis call then)."""
    if connection.set(f"kick:{key}", 1, nx=True, ex=KICK_TTL_SECONDS):
        queue(name, connection).enqueue(func, *args, **options)


def started(connection: Redis, key: str) -> None:
    """Called first by a kicked job: from now on a new trigger queues another run."""
    connection.delete(f"kick:{key}")


def enqueue_calls(connection: Redis, portal_id: int) -> None:
    """Process the portal's new robot/activity calls: verify, read the CRM, start payments."""
    _kick(
        connection,
        "payments",
        "workers.jobs.process_calls",
        f"calls-{portal_id}",
        portal_id,
        retry=BITRIX_RETRY,
        job_timeout=300,
        failure_ttl=7 * 24 * 3600,
    )


def enqueue_send_next(connection: Redis, terminal_id: int) -> None:
    """Start the terminal's next queued payment if the PIN pad is free."""
    _kick(
        connection,
        "payments",
        "workers.jobs.send_next",
        f"send-next-{terminal_id}",
        terminal_id,
        retry=PAYMENT_RETRY,
        job_timeout=120,
    )


def enqueue_recover(connection: Redis, payment_id: str) -> None:
    """Ask Linkly for a payment's outcome (the recovery GET)."""
    _kick(
        connection,
        "payments",
        "workers.jobs.recover",
        f"recover-{payment_id}",
        payment_id,
        job_timeout=120,
    )


def enqueue_reports(connection: Redis, portal_id: int) -> None:
    """Write the portal's finished payments to Bitrix24, many to a batch, until they land."""
    _kick(
        connection,
        "payments",
        "workers.jobs.report_portal",
        f"reports-{portal_id}",
        portal_id,
        at_front=True,  # a workflow waits for it; at most one per portal waits (the kick)
        retry=BITRIX_RETRY,
        job_timeout=300,
        failure_ttl=7 * 24 * 3600,
    )


def enqueue_uninstall_check(connection: Redis, member_id: str) -> None:
    """Queue a later check that the portal has revoked our token, then the purge."""
    _kick(
        connection,
        "bitrix",
        "workers.jobs.confirm_uninstall",
        f"uninstall-{member_id}",
        member_id,
        retry=UNINSTALL_RETRY,
        job_timeout=60,
        failure_ttl=30 * 24 * 3600,
    )


class RqJobs:
    """The payments service's `Jobs` port, as RQ jobs on one Redis (the only implementation)."""

    def __init__(self, connection: Redis) -> None:
        self._redis = connection

    def send_next(self, terminal_id: int) -> None:
        """Queue send_next for a terminal."""
        enqueue_send_next(self._redis, terminal_id)

    def recover(self, payment_id: str) -> None:
        """Queue a recovery check."""
        enqueue_recover(self._redis, payment_id)

    def reports(self, portal_id: int) -> None:
        """Queue the portal's reports."""
        enqueue_reports(self._redis, portal_id)

    def calls(self, portal_id: int) -> None:
        """Queue the portal's robot calls."""
        enqueue_calls(self._redis, portal_id)
