"""The hub: accepts sessions, emits events through fault filters, finishes sessions."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any

from .auth import AuthStore
from .casing import render
from .config import SimulatorConfig
from .faults import FaultStore
from .ledger import Ledger
from .notifier import Delivery, Notifier
from .pinpad import PinPad, PinPadRegistry
from .scheduler import Scheduler
from .session import Session, SessionStore

_SID = re.compile(r"\{\{\s*sessionid\s*\}\}", re.IGNORECASE)
_TYPE = re.compile(r"\{\{\s*type\s*\}\}", re.IGNORECASE)


def uri_allowed(uri: str | None, allow_http: bool) -> bool:
    """True for an absolute https URI (or http when allowed)."""
    if not isinstance(uri, str):
        return False
    low = uri.lower()
    return low.startswith("https://") or (allow_http and low.startswith("http://"))


class Engine:
    """Shared state and the session life cycle."""

    def __init__(self, config: SimulatorConfig) -> None:
        """Create every store; threads start in start()."""
        self.config = config
        self.scheduler = Scheduler()
        self.notifier = Notifier(config, self.scheduler)
        self.ledger = Ledger()
        self.faults = FaultStore()
        self.pads = PinPadRegistry()
        self.auth = AuthStore()
        self.sessions = SessionStore()

    def start(self) -> None:
        """Start the scheduler and the notification pool."""
        self.scheduler.start()
        self.notifier.start()

    def stop(self) -> None:
        """Stop background threads and release waiting requests."""
        for s in self.sessions.all():
            s.cancel_timers()
            s.done.set()
        self.scheduler.stop()
        self.notifier.stop()

    def create_pinpad(self, pair_code: str | None = None, **settings: Any) -> PinPad:
        """Create a PIN pad with defaults from the config."""
        cfg = self.config
        settings.setdefault("mode", cfg.mode)
        settings.setdefault("cardholder_delay", cfg.cardholder_delay)
        settings.setdefault("account", cfg.account)
        settings["cardholder_delay"] = float(settings["cardholder_delay"])
        return self.pads.create(cfg.pair_code_ttl, pair_code, **settings)

    def accept(self, s: Session) -> None:
        """Start an accepted session: token faults, busy check, then its flow."""
        from .flows import CardFlow
        from .ops import OpFlow, failure

        if "token_expiry" in s.faults:
            self.auth.revoke_pinpad_tokens(s.pinpad.id)
        pad = s.pinpad
        with pad.lock:
            busy = pad.current is not None or "busy" in s.faults
            if not busy:
                pad.current = s
                s.flow = (CardFlow if s.op in ("transaction", "querycard") else OpFlow)(self, s)
        if busy:
            self.finish(s, failure(s, "BY"))
            return
        with pad.lock:
            s.flow.start()

    def show(self, s: Session, screen: dict[str, Any]) -> None:
        """Put a screen on the PIN pad and emit it as a display event."""
        s.pinpad.display = screen
        s.pinpad.display_at = time.monotonic()
        s.pinpad.keyed = ""
        self.emit(s, "display", screen)

    def emit(self, s: Session, type_: str, response: dict[str, Any]) -> None:
        """Record an event and send it to the POS if this session gets notifications."""
        s.events.append({"type": type_, "at": time.time(), "response": response})
        if not s.notify_uri or not uri_allowed(s.notify_uri, self.config.allow_http):
            return
        final = type_ == s.op
        if not s.is_async:
            policy = self.config.sync_notify
            if policy == "none" or (policy == "progress" and final):
                return
        self._dispatch(
            s, type_, {"SessionId": s.sid, "ResponseType": type_, "Response": response}, final
        )

    def _dispatch(self, s: Session, type_: str, envelope: dict[str, Any], final: bool) -> None:
        """Apply notification faults and queue the deliveries."""
        f = s.faults

        def hit(name: str) -> bool:
            types = f.get(name, {}).get("types")
            return name in f and (not types or type_ in types)

        uri = _TYPE.sub(type_, _SID.sub(s.sid, s.notify_uri or ""))
        body = json.dumps(render(envelope, self.config.casing)).encode()
        d = Delivery(s.key, s.sid, type_, uri, s.notify_auth, body, hit("notify_unreachable"))
        if hit("events_lost"):
            self.notifier.record(d, dropped=True, error="simulated: event lost")
            return
        times = int(f["events_duplicated"].get("times", 2)) if hit("events_duplicated") else 1
        batch = [d] + [dataclasses.replace(d) for _ in range(max(0, times - 1))]
        if "events_reordered" in f:
            if not final:
                s.held.extend(batch)
                return
            batch, s.held = batch + s.held, []
        delay = float(f["events_delayed"].get("seconds", 1.0)) if "events_delayed" in f else 0.0
        for item in batch:
            if delay > 0:
                self.scheduler.call_later(delay, lambda i=item: self.notifier.submit(i))
            else:
                self.notifier.submit(item)

    def finish(self, s: Session, response: dict[str, Any]) -> None:
        """Save the final envelope, free the PIN pad, emit the final event, wake sync waiters."""
        with s.pinpad.lock:
            if s.state == "done":
                return
            s.cancel_timers()
            s.waiting = None
            s.state = "done"
            s.finished = time.time()
            s.result = {"SessionId": s.sid, "ResponseType": s.op, "Response": response}
            if s.pinpad.current is s:
                s.pinpad.current = None
                s.pinpad.last_result = {
                    "sessionId": s.sid,
                    "op": s.op,
                    "success": response.get("Success"),
                    "responseCode": response.get("ResponseCode"),
                    "responseText": str(response.get("ResponseText", "")).strip(),
                }
            self.emit(s, s.op, response)
        s.done.set()

    def sendkey(self, s: Session, key: str, data: str) -> bool:
        """Pass a POS key press to the session's flow; False if ignored."""
        with s.pinpad.lock:
            if s.state != "running" or s.flow is None:
                return False
            return bool(s.flow.on_key(key, data))

    def press(self, pad: PinPad, button: str) -> bool:
        """Pass a button press on the virtual PIN pad to the in-flight flow."""
        with pad.lock:
            s = pad.current
            if s is None or s.flow is None:
                return False
            return bool(s.flow.on_press(button))

    def reset(self) -> None:
        """Forget sessions, ledger, faults and deliveries; keep PIN pads and tokens."""
        for s in self.sessions.clear():
            with s.pinpad.lock:
                s.cancel_timers()
                s.state = "done"
                if s.pinpad.current is s:
                    s.pinpad.current = None
            s.done.set()
        self.ledger.clear()
        self.faults.clear()
        self.notifier.clear()
        for pad in self.pads.all():
            pad.display, pad.last_receipt, pad.last_result = None, None, None
            pad.batch = {"count": 0, "net": 0}
