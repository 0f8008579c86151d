"""The app's RQ queues as the tests see them."""

from __future__ import annotations

import redis

from bizproc_app.payments.queues import QUEUE_NAMES, queue


def queued_jobs(conn: redis.Redis) -> int:
    """Jobs waiting on every queue of the app."""
    return sum(queue(name, conn).count for name in QUEUE_NAMES)
