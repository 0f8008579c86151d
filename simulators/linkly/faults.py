"""Fault injection: faults switched on per run or for the next N matching requests."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

FAULTS: dict[str, str] = {
    "drop_response": "process (charge) the request, then close the socket without an HTTP answer",
    "http_error": "answer {status} (401|404|408|500|502|503|504) on 'post' or 'get'; "
    "post+processed=true still runs the transaction",
    "notify_unreachable": "notification POSTs of {types} fail as if the endpoint were down",
    "events_lost": "notifications of {types} are silently not sent",
    "events_delayed": "every notification is sent {seconds} later",
    "events_duplicated": "notifications of {types} are sent {times} times",
    "events_reordered": "the final event is delivered before the display/receipt events",
    "token_expiry": "all tokens of the PIN pad are revoked right after the request is accepted",
    "pinpad_offline": "the transaction ends at once with the offline code (PF)",
    "walk_away": "the virtual cardholder never acts; input timeout after {seconds} (default "
    "input_timeout)",
    "no_response": "the host never answers: final result with the no-response code (X0)",
    "busy": "the PIN pad answers busy (BY)",
}
# 401 and 404 stand for a gateway or proxy in front of Linkly answering instead of it (with
# processed=true the transaction still ran): the cases where a POS must not trust the status.
HTTP_ERROR_STATUSES = (401, 404, 408, 500, 502, 503, 504)


@dataclass
class Fault:
    """One armed fault."""

    id: int
    fault: str
    scope: str = "next"
    pinpad: str | None = None
    sessionId: str | None = None
    ops: list[str] | None = None
    count: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    created: float = field(default_factory=time.time)

    def on_get(self) -> bool:
        """True when this fault applies to recovery GETs rather than POSTs."""
        return self.fault == "http_error" and self.params.get("on", "post") == "get"


def _validate(spec: dict[str, Any]) -> dict[str, Any]:
    """Check a fault spec; return normalised constructor arguments."""
    name = spec.get("fault")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")
    scope = spec.get("scope", "next")
    if scope not in ("next", "run"):
        raise ValueError("scope must be 'next' or 'run'")
    params = dict(spec.get("params") or {})
    if name == "http_error":
        params.setdefault("status", 500)
        params.setdefault("on", "post")
        params.setdefault("processed", True)
        if int(params["status"]) not in HTTP_ERROR_STATUSES or params["on"] not in ("post", "get"):
            raise ValueError(f"http_error needs status in {HTTP_ERROR_STATUSES}, on post|get")
        params["status"] = int(params["status"])
    count = int(spec.get("count", 1))
    if count < 1:
        raise ValueError("count must be >= 1")
    pinpad = spec.get("pinpad")
    ops = spec.get("ops")
    if isinstance(ops, str):
        ops = [ops]
    if ops is not None and not (isinstance(ops, list) and all(isinstance(o, str) for o in ops)):
        raise ValueError("ops must be a list of operation names")
    return {
        "fault": name,
        "scope": scope,
        "pinpad": None if pinpad is None else str(pinpad),
        "sessionId": spec.get("sessionId"),
        "ops": ops,
        "count": count,
        "params": params,
    }


class FaultStore:
    """Armed faults and their consumption."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        """Arm a fault from a JSON spec (ValueError if invalid)."""
        fault = Fault(id=next(self._ids), **_validate(spec))
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, pinpad: str, sid: str, op: str, get: bool = False) -> list[Fault]:
        """Return (and consume) the faults that apply to this POST (or GET)."""
        taken: dict[str, Fault] = {}
        with self._lock:
            for f in list(self._faults):
                if f.on_get() != get or f.fault in taken:
                    continue
                if f.pinpad is not None and f.pinpad != pinpad:
                    continue
                if f.sessionId is not None and f.sessionId.replace("-", "").lower() != sid:
                    continue
                if f.ops and op not in f.ops:
                    continue
                taken[f.fault] = f
                f.hits += 1
                if f.scope == "next" and f.hits >= f.count:
                    self._faults.remove(f)
        return list(taken.values())

    def list(self) -> list[dict[str, Any]]:
        """Return armed faults."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def delete(self, fault_id: int) -> bool:
        """Disarm one fault; False if unknown."""
        with self._lock:
            for f in self._faults:
                if f.id == fault_id:
                    self._faults.remove(f)
                    return True
        return False

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
