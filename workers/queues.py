"""Queue names and the serializer every producer and worker shares."""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

# Most urgent first: a worker drains payments before Bitrix24 reports before housekeeping.
QUEUE_NAMES = ("payments", "bitrix", "default")
SERIALIZER = JSONSerializer


def queue(name: str, connection: Redis) -> Queue:
    """Return the named queue with the shared serializer."""
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection, serializer=SERIALIZER)
