"""Outbound POSTs to the app (handler calls, events, install): a queue thread plus a log."""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import requests

from .phpform import flatten
from .util import iso

if TYPE_CHECKING:
    from .portal import Portal

USER_AGENT = "Bitrix24 Webhook Engine"


class Outbound:
    """Sends form POSTs like Bitrix24's queue servers and records each one."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.log: list[dict[str, Any]] = []
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.idle = threading.Condition()
        self.pending = 0

    def start(self) -> None:
        """Start the delivery thread."""
        self.thread = threading.Thread(target=self._run, name="b24-outbound", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the delivery thread."""
        self.queue.put(None)
        if self.thread:
            self.thread.join(timeout=5)

    def send(
        self,
        url: str,
        form: dict[str, Any],
        kind: str,
        ref: str = "",
        handler_call: bool = False,
        query: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Queue a POST (called under the portal lock); return its log entry."""
        entry = {
            "id": len(self.log) + 1,
            "kind": kind,
            "ref": ref,
            "url": url,
            "query": query or {},
            "form": form,
            "fields": flatten(form),
            "queued_at": iso(self.portal.clock.now()),
            "status": None,
            "error": None,
            "duration": None,
            "response": None,
            "dropped": False,
        }
        self.log.append(entry)
        faults = self.portal.faults
        if handler_call and faults.drop_handler_calls > 0:
            faults.drop_handler_calls -= 1
            entry["dropped"] = True
            return entry
        with self.idle:
            self.pending += 1
        self.queue.put(entry)
        return entry

    def send_now(
        self, url: str, form: dict[str, Any], kind: str, query: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST synchronously (must be called WITHOUT the portal lock)."""
        with self.portal.lock:
            entry = {
                "id": len(self.log) + 1,
                "kind": kind,
                "ref": "",
                "url": url,
                "query": query or {},
                "form": form,
                "fields": flatten(form),
                "queued_at": iso(self.portal.clock.now()),
                "status": None,
                "error": None,
                "duration": None,
                "response": None,
                "dropped": False,
            }
            self.log.append(entry)
        self._post(entry)
        return entry

    def _post(self, entry: dict[str, Any]) -> None:
        """Do the HTTP POST (form-encoded, bracket keys); no retries unless configured."""
        tries = 1 + max(0, self.portal.cfg.handler_retries)
        for _ in range(tries):
            t0 = time.monotonic()
            try:
                resp = requests.post(
                    entry["url"],
                    data=entry["fields"],
                    params=entry["query"] or None,
                    headers={"User-Agent": USER_AGENT},
                    timeout=self.portal.cfg.handler_timeout,
                    allow_redirects=False,
                )
                entry["status"] = resp.status_code
                entry["response"] = resp.text[:2000]
                entry["error"] = None
            except requests.RequestException as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["duration"] = round(time.monotonic() - t0, 4)
            if entry["error"] is None and (entry["status"] or 500) < 500:
                return

    def _run(self) -> None:
        """Delivery loop."""
        while True:
            entry = self.queue.get()
            if entry is None:
                return
            try:
                self._post(entry)
            finally:
                with self.idle:
                    self.pending -= 1
                    self.idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued POST has been attempted."""
        with self.idle:
            return self.idle.wait_for(lambda: self.pending == 0, timeout=timeout)
