"""Run an RQ worker with the scheduler enabled: python -m workers [--burst].

A SimpleWorker runs jobs in its own process instead of forking one per job: jobs are short
(no job waits for a cardholder), and a long-lived process keeps its database connections,
HTTP sessions and SQLAlchemy's compiled-statement cache. A job that kills its process is
recovered like any crash: RQ marks it failed or abandoned and the sweep re-enqueues the work.
"""

from __future__ import annotations

import argparse
import logging

from rq import SimpleWorker

from bizproc_app import create_app
from bizproc_app.extensions import redis_conn
from bizproc_app.payments.queues import QUEUE_NAMES, SERIALIZER, queue


def main(argv: list[str] | None = None) -> None:
    """Start a worker on every queue, inside an app context."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    with app.app_context():
        conn = redis_conn.client
        worker = SimpleWorker(
            [queue(n, conn) for n in QUEUE_NAMES], connection=conn, serializer=SERIALIZER
        )
        worker.work(with_scheduler=True, burst=args.burst)


if __name__ == "__main__":
    main()
