"""Two stand-in POSes for Linkly Cloud, for two kinds of test:

- `LinklyClientPos`: the app's own `LinklyClient` (with a Redis token store and an HTTP session
  that records every request), paired with a PIN pad: for tests of the app's Linkly client.
- `RawHttpPos`: pairs, fetches a token and calls the REST paths by hand with `requests`, so a
  test can send what the app never would: for tests of the Linkly simulator itself.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from bizproc_app.linkly import (
    DisplayEvent,
    LinklyClient,
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
from tests.helpers.receivers import JsonEventReceiver
from tests.helpers.waiting import wait_for

TIMEOUT = 10  # seconds, for each of RawHttpPos's requests
POLL_SECONDS = 0.05  # LinklyClientPos's recovery GETs
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


@dataclass
class Purchase:
    """One submitted transaction: its identifiers and the client's answer to the POST."""

    session_id: str
    txn_ref: str
    auth: str
    submit: SubmitResult | None = None


@dataclass
class LinklyClientPos:
    """A POS: the app's LinklyClient with a Redis token store, paired with a PIN pad."""

    client: LinklyClient
    http: RecordingSession
    store: RedisTokenStore
    creds: TerminalCredentials
    receiver: JsonEventReceiver
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
        return [e for e in list(self.receiver.received) if e["path"].startswith(prefix)]

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


class RawHttpPos:
    """A minimal POS by hand: pairs, gets a token, calls the REST paths with `requests`."""

    def __init__(
        self,
        base: str,
        pair_code: str,
        username: str = "user",
        password: str = "pass",  # noqa: S107
    ) -> None:
        """Pair and fetch a token."""
        self.base = base
        r = requests.post(
            f"{base}/v1/pairing/cloudpos",
            timeout=TIMEOUT,
            json={"username": username, "password": password, "pairCode": pair_code},
        )
        assert r.status_code == 200, r.text
        self.secret = r.json()["secret"]
        self.token = self.new_token()

    def new_token(self) -> str:
        """Fetch a bearer token."""
        r = requests.post(
            f"{self.base}/v1/tokens/cloudpos",
            timeout=TIMEOUT,
            json={
                "secret": self.secret,
                "posName": "tests",
                "posVersion": "1.0",
                "posId": str(uuid.uuid4()),
                "posVendorId": str(uuid.uuid4()),
            },
        )
        assert r.status_code == 200, r.text
        return r.json()["token"]

    @property
    def headers(self) -> dict[str, str]:
        """Bearer header."""
        return {"Authorization": f"Bearer {self.token}"}

    def post(
        self,
        op: str,
        body: Any,
        sid: str | None = None,
        async_: bool | None = None,
        timeout: float = TIMEOUT,
    ) -> tuple[str, requests.Response]:
        """POST an operation; return (sessionId, response)."""
        sid = sid or str(uuid.uuid4())
        query = "" if async_ is None else f"?async={'true' if async_ else 'false'}"
        r = requests.post(
            f"{self.base}/v1/sessions/{sid}/{op}{query}",
            json=body,
            headers=self.headers,
            timeout=timeout,
        )
        return sid, r

    def get(self, sid: str, op: str = "transaction") -> requests.Response:
        """Recovery GET."""
        return requests.get(
            f"{self.base}/v1/sessions/{sid}/{op}", headers=self.headers, timeout=TIMEOUT
        )

    def sendkey(self, sid: str, key: str, data: str = "") -> requests.Response:
        """POST sendkey."""
        return requests.post(
            f"{self.base}/v1/sessions/{sid}/sendkey",
            headers=self.headers,
            json={"Request": {"Key": key, "Data": data}},
            timeout=TIMEOUT,
        )

    def wait_result(self, sid: str, timeout: float = 5.0) -> dict[str, Any]:
        """Poll the recovery GET until 200; return the envelope."""

        def done() -> Any:
            r = self.get(sid)
            return r.json() if r.status_code == 200 else None

        return wait_for(done, timeout, f"the result of session {sid}", step=0.02)
