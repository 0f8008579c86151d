"""Queue names and the serializer every producer and worker shares."""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

# Most urgent first: a worker drains payments before Bitrix24 reports before housekeeping.
QUEUE_NAMES = ("payments", "bitrix", "default")
SERIALIZER = JSONSerializer


def queue(name: str, connection: Redis) -> Queue:
    """Return the named queue with the shared serializer."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection, serializer=SERIALIZER)


# Retries need the worker's scheduler (python -m workers starts it).
BITRIX_RETRY = Retry(max=6, interval=[2, 5, 15, 60, 300, 900])


def enqueue_report(connection: Redis, call_id: int) -> None:
    """Queue the report of one handler call (callers enqueue each call once)."""
    queue("bitrix", connection).enqueue(
        "workers.jobs.report_call",
        call_id,
        job_id=f"report-call-{call_id}",
        retry=BITRIX_RETRY,
        job_timeout=120,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


# About two minutes of patience for a portal that is still removing the app.
UNINSTALL_RETRY = Retry(max=5, interval=[2, 5, 15, 30, 60])


def enqueue_uninstall_check(connection: Redis, member_id: str) -> None:
    """Queue a later check that the portal has revoked our token, then the purge."""
    queue("bitrix", connection).enqueue(
        "workers.jobs.confirm_uninstall",
        member_id,
        retry=UNINSTALL_RETRY,
        job_timeout=60,
        failure_ttl=30 * 24 * 3600,
    )
