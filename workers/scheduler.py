"""The scheduler process: sweeps the database every few seconds and re-enqueues what is due.

It keeps no schedule in Redis, so a Redis restart loses nothing: each pass rebuilds the work
from the database. Several copies may run; a Redis lock lets one sweep at a time.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time

from bizproc_app import create_app
from bizproc_app.extensions import redis_conn
from workers.jobs import sweep_once

log = logging.getLogger("workers.scheduler")


def main(argv: list[str] | None = None) -> None:
    """Sweep until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes")
    parser.add_argument("--once", action="store_true", help="run one pass and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app = create_app()
    while not stopping:
        with app.app_context():
            try:
                lock = redis_conn.client.lock("sweep:lock", timeout=60, blocking=False)
                if lock.acquire():
                    try:
                        done = sweep_once()
                    finally:
                        lock.release()
                    if any(done.values()):
                        log.info("sweep: %s", done)
            except Exception:  # keep sweeping: a database or Redis outage is temporary
                log.exception("sweep failed; trying again")
        if args.once:
            return
        time.sleep(args.interval)


if __name__ == "__main__":
    main()
