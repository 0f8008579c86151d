"""The roundtrip tests' POS, its recorded HTTP, the control API and the checks of an event."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from bizproc_app.linkly import (
    DisplayEvent,
    LinklyClient,
    Notification,
    RecoveryState,
    RedisTokenStore,
    SubmitResult,
    TerminalCredentials,
    TransactionResult,
    new_session_id,
    new_txn_ref,
    parse_notification,
    to_cents,
    token_cache_key,
)
from tests.support import EventReceiver

USERNAME = "sim-user"
PASSWORD = "sim-pass"
PAIR_CODE = "123456"
POS_VENDOR_ID = "6f0d3a0e-5a4b-4c1e-9a57-3c1d1b9c2f10"
TOKEN_PREFIX = "linkly:token:"
TOKEN_PATH = "/v1/tokens/cloudpos"
POLL_SECONDS = 0.05
DEADLINE_SECONDS = 10.0


class RecordingSession(requests.Session):
    """A requests.Session that records every request the client makes: (method, path, status).

    The status is None when no HTTP answer came back (dropped connection, timeout).
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, int | None]] = []
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        status: int | None = None
        try:
            response = super().request(method, url, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            with self._lock:
                self.calls.append((method.upper(), urlsplit(url).path, status))

    def made(self, method: str, path: str) -> list[int | None]:
        """Statuses of the requests made with this method to this exact path, in order."""
        with self._lock:
            return [s for m, p, s in self.calls if m == method and p == path]

    def count_suffix(self, method: str, suffix: str) -> int:
        """How many requests with this method went to a path ending with suffix."""
        with self._lock:
            return sum(1 for m, p, _ in self.calls if m == method and p.endswith(suffix))


class SimControl:
    """The simulator's control API (`/_sim/...`) over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/_sim"
        self.http = requests.Session()

    def _ok(self, response: requests.Response) -> Any:
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()

    def arm(self, fault: str, **spec: Any) -> dict[str, Any]:
        """Arm a fault on PIN pad 1 for its next transaction (unless spec says otherwise)."""
        body = {"fault": fault, "pinpad": "1", "ops": ["transaction"], **spec}
        return self._ok(self.http.post(f"{self.base}/faults", json=body, timeout=5))

    def faults(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get(f"{self.base}/faults", timeout=5))["faults"]

    def ledger(self, txn_ref: str | None = None) -> list[dict[str, Any]]:
        params = {"txnRef": txn_ref} if txn_ref else {}
        return self._ok(self.http.get(f"{self.base}/ledger", params=params, timeout=5))["entries"]

    def sessions(self, pinpad: str = "1") -> list[dict[str, Any]]:
        params = {"pinpad": pinpad}
        return self._ok(self.http.get(f"{self.base}/sessions", params=params, timeout=5))[
            "sessions"
        ]

    def session(self, sid: str) -> dict[str, Any]:
        return self._ok(self.http.get(f"{self.base}/sessions/{sid}", timeout=5))

    def session_status(self, sid: str) -> int:
        return self.http.get(f"{self.base}/sessions/{sid}", timeout=5).status_code

    def stats(self) -> dict[str, Any]:
        return self._ok(self.http.get(f"{self.base}/stats", timeout=5))

    def patch_pad(self, pad_id: str = "1", **changes: Any) -> dict[str, Any]:
        return self._ok(self.http.patch(f"{self.base}/pinpads/{pad_id}", json=changes, timeout=5))

    def press(self, button: str, pad_id: str = "1") -> bool:
        body = {"button": button}
        answer = self.http.post(f"{self.base}/pinpads/{pad_id}/press", json=body, timeout=5)
        return bool(self._ok(answer)["accepted"])

    def close(self) -> None:
        self.http.close()


@dataclass
class Purchase:
    """One submitted transaction: its identifiers and the client's answer to the POST."""

    session_id: str
    txn_ref: str
    auth: str
    submit: SubmitResult | None = None


@dataclass
class Pos:
    """A POS: a real LinklyClient with a Redis token store, paired with PIN pad 1."""

    client: LinklyClient
    http: RecordingSession
    store: RedisTokenStore
    creds: TerminalCredentials
    receiver: EventReceiver
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def notify_uri(self) -> str:
        return self.receiver.base_url + "/linkly/{{sessionid}}/{{type}}"

    def purchase(self, amount: Decimal, **kwargs: Any) -> Purchase:
        p = Purchase(new_session_id(), new_txn_ref(), f"Bearer {secrets.token_urlsafe(24)}")
        p.submit = self.client.purchase(
            credentials=self.creds,
            session_id=p.session_id,
            txn_ref=p.txn_ref,
            amount_cents=to_cents(amount),
            notification_uri=self.notify_uri,
            notification_authorization=p.auth,
            operator_id=7,
            operator_name="Test clerk",
            **kwargs,
        )
        return p

    def refund(self, amount: Decimal, rfn: str) -> Purchase:
        p = Purchase(new_session_id(), new_txn_ref(), f"Bearer {secrets.token_urlsafe(24)}")
        p.submit = self.client.refund(
            credentials=self.creds,
            session_id=p.session_id,
            txn_ref=p.txn_ref,
            amount_cents=to_cents(amount),
            rfn=rfn,
            notification_uri=self.notify_uri,
            notification_authorization=p.auth,
            operator_id=7,
            operator_name="Test clerk",
        )
        return p

    def wait_final(self, session_id: str, timeout: float = DEADLINE_SECONDS) -> TransactionResult:
        """Poll the recovery GET until it answers FINAL (IN_PROGRESS is the only other answer)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.client.transaction_status(credentials=self.creds, session_id=session_id)
            assert answer.session_id == session_id
            if answer.state is RecoveryState.FINAL:
                assert answer.result is not None
                return answer.result
            assert answer.state is RecoveryState.IN_PROGRESS, answer
            assert answer.result is None
            if time.monotonic() > deadline:
                raise AssertionError(f"session {session_id} still in progress after {timeout}s")
            time.sleep(POLL_SECONDS)

    def events(self, session_id: str) -> list[dict[str, Any]]:
        prefix = f"/linkly/{session_id}/"
        return [e for e in list(self.receiver.events) if e["path"].startswith(prefix)]

    def wait_events(
        self, session_id: str, predicate: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        """Wait until the events of this session satisfy predicate; return them."""
        self.receiver.wait_for(lambda _all: predicate(self.events(session_id)), timeout=10)
        return self.events(session_id)

    def wait_final_event(self, session_id: str) -> list[dict[str, Any]]:
        final = f"/linkly/{session_id}/transaction"
        return self.wait_events(session_id, lambda evs: any(e["path"] == final for e in evs))

    def wait_display(self, session_id: str, first_line: str) -> DisplayEvent:
        """Wait for a display event whose first line is first_line; return it parsed."""

        def found(evs: list[dict[str, Any]]) -> DisplayEvent | None:
            for event in evs:
                if event["path"].endswith("/display"):
                    shown = parse_notification(event["body"]).response
                    assert isinstance(shown, DisplayEvent)
                    if shown.lines and shown.lines[0] == first_line:
                        return shown
            return None

        evs = self.wait_events(session_id, lambda evs: found(evs) is not None)
        result = found(evs)
        assert result is not None
        return result

    def cached_token(self) -> str | None:
        cached = self.store.get(token_cache_key(self.creds.secret, self.creds.pos_id))
        return None if cached is None else cached.token


def parsed(events: list[dict[str, Any]]) -> list[Notification]:
    return [parse_notification(e["body"]) for e in events]


def check_envelopes(events: list[dict[str, Any]], p: Purchase) -> list[Notification]:
    """Every event carries our Authorization header, our session id (in the URI and body)."""
    assert events, "no notification received"
    notes = parsed(events)
    for event, note in zip(events, notes, strict=True):
        assert event["authorization"] == p.auth
        assert event["path"] == f"/linkly/{p.session_id}/{note.type}"
        assert note.session_id == p.session_id
    return notes


def final_of(notes: list[Notification]) -> TransactionResult:
    finals = [n for n in notes if n.is_final]
    assert len(finals) == 1, [n.type for n in notes]
    assert notes[-1] is finals[0], "the final event must come last"
    result = finals[0].response
    assert isinstance(result, TransactionResult)
    return result
