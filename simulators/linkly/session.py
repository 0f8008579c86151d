"""Sessions: one per POSTed request, with its events, timers and saved final envelope."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .pinpad import PinPad
from .scheduler import Timer

_HYPHENATED = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_COMPACT = re.compile(r"[0-9a-fA-F]{32}")


def session_key(raw: str) -> str | None:
    """Return the canonical key (32 lower-case hex) of a hyphenated or compact UUID, else None."""
    if _HYPHENATED.fullmatch(raw) or _COMPACT.fullmatch(raw):
        return raw.replace("-", "").lower()
    return None


@dataclass(eq=False)
class Session:
    """One request to a PIN pad and everything that happened to it."""

    key: str
    sid: str
    op: str
    pinpad: PinPad
    request: dict[str, Any]
    is_async: bool
    notify_uri: str | None = None
    notify_auth: str | None = None
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: str = "running"
    result: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    waiting: str | None = None
    timers: list[Timer] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    flow: Any = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def cancel_timers(self) -> None:
        """Cancel every pending scheduler callback of this session."""
        for t in self.timers:
            t.cancel()
        self.timers.clear()

    def describe(self) -> dict[str, Any]:
        """Return a JSON-ready inspection view."""
        return {
            "sessionId": self.sid,
            "key": self.key,
            "op": self.op,
            "pinpad": self.pinpad.id,
            "async": self.is_async,
            "state": self.state,
            "waiting": self.waiting,
            "notificationUri": self.notify_uri,
            "faults": self.faults,
            "request": self.request,
            "inputs": self.inputs,
            "events": self.events,
            "result": self.result,
            "created": self.created,
            "finished": self.finished,
        }


class SessionStore:
    """All sessions ever received, by canonical key."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def add(self, session: Session) -> bool:
        """Store a new session; False if the key was already used."""
        with self._lock:
            if session.key in self._sessions:
                return False
            self._sessions[session.key] = session
            return True

    def get(self, key: str) -> Session | None:
        """Return a session by canonical key."""
        with self._lock:
            return self._sessions.get(key)

    def all(self) -> list[Session]:
        """Return every session."""
        with self._lock:
            return list(self._sessions.values())

    def clear(self) -> list[Session]:
        """Forget every session; return them (so callers can stop their timers)."""
        with self._lock:
            gone = list(self._sessions.values())
            self._sessions.clear()
            return gone
