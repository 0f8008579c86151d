"""Queue names, retry policies and every enqueue the app makes, declared once."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

# Most urgent first: a worker drains payments before Bitrix24 reports before housekeeping.
QUEUE_NAMES = ("payments", "bitrix", "default")
SERIALIZER = JSONSerializer

# Retries need the worker's scheduler (python -m workers starts it).
BITRIX_RETRY = Retry(max=8, interval=[2, 5, 15, 60, 300, 900, 1800, 3600])
PAYMENT_RETRY = Retry(max=5, interval=[1, 3, 10, 30, 60])
# About two minutes of patience for a portal that is still removing the app.
UNINSTALL_RETRY = Retry(max=5, interval=[2, 5, 15, 30, 60])
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def queue(name: str, connection: Redis) -> Queue:
    """Return the named queue with the shared serializer."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection, serializer=SERIALIZER)


def _once(connection: Redis, name: str, func: str, *args: Any, job_id: str, **options: Any) -> None:
    """Enqueue unless the same job is already waiting (jobs are idempotent either way)."""
    try:
        job = Job.fetch(job_id, connection=connection, serializer=SERIALIZER)
        if job.get_status(refresh=False) in _WAITING:
            return
        job.delete()
    except NoSuchJobError:
        pass
    queue(name, connection).enqueue(func, *args, job_id=job_id, **options)


def enqueue_call(connection: Redis, call_id: int) -> None:
    """Process one robot/activity call: verify it, read the CRM, start its payment."""
    _once(
        connection,
        "payments",
        "workers.jobs.process_call",
        call_id,
        job_id=f"call-{call_id}",
        retry=BITRIX_RETRY,
        job_timeout=120,
        failure_ttl=30 * 24 * 3600,
    )


def enqueue_send_next(connection: Redis, terminal_id: int) -> None:
    """Start the terminal's next queued payment if the PIN pad is free."""
    _once(
        connection,
        "payments",
        "workers.jobs.send_next",
        terminal_id,
        job_id=f"send-next-{terminal_id}",
        retry=PAYMENT_RETRY,
        job_timeout=120,
    )


def enqueue_recover(connection: Redis, payment_id: str) -> None:
    """Ask Linkly for a payment's outcome (the recovery GET)."""
    _once(
        connection,
        "payments",
        "workers.jobs.recover",
        payment_id,
        job_id=f"recover-{payment_id}",
        job_timeout=120,
    )


def enqueue_report(connection: Redis, payment_id: str) -> None:
    """Write a payment's outcome to Bitrix24 until it lands."""
    _once(
        connection,
        "bitrix",
        "workers.jobs.report_payment",
        payment_id,
        job_id=f"report-{payment_id}",
        retry=BITRIX_RETRY,
        job_timeout=120,
        failure_ttl=30 * 24 * 3600,
    )


def enqueue_uninstall_check(connection: Redis, member_id: str) -> None:
    """Queue a later check that the portal has revoked our token, then the purge."""
    _once(
        connection,
        "bitrix",
        "workers.jobs.confirm_uninstall",
        member_id,
        job_id=f"uninstall-{member_id}",
        retry=UNINSTALL_RETRY,
        job_timeout=60,
        failure_ttl=30 * 24 * 3600,
    )
