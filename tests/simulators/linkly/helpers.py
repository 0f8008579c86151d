"""HTTP helpers for the Linkly simulator tests: a tiny POS client and a webhook receiver."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TIMEOUT = 10


def wait_until(pred: Callable[[], Any], timeout: float = 5.0, step: float = 0.01) -> Any:
    """Poll pred until it returns something truthy; fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


class Receiver:
    """A webhook endpoint on 127.0.0.1:0 that records every POSTed event."""

    def __init__(self, status: int = 200) -> None:
        """Start the server thread."""
        self.status = status
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def _app(self, environ: dict, start_response: Callable) -> Any:
        """Record the event."""
        req = Request(environ)
        with self._lock:
            self.events.append(
                {
                    "path": req.path,
                    "authorization": req.headers.get("Authorization"),
                    "body": req.get_json(silent=True),
                }
            )
        return Response("", status=self.status)(environ, start_response)

    def for_session(self, sid: str) -> list[dict[str, Any]]:
        """Events whose path contains sid."""
        with self._lock:
            return [e for e in self.events if sid in e["path"]]

    def wait_final(self, sid: str, kind: str = "transaction", timeout: float = 5.0) -> list[dict]:
        """Wait until the final event of a session arrived; return the session's events."""
        wait_until(
            lambda: any(e["path"].endswith("/" + kind) for e in self.for_session(sid)), timeout
        )
        return self.for_session(sid)

    def stop(self) -> None:
        """Stop the server."""
        self._server.shutdown()
        self._server.server_close()


def core_pad(amount: Any) -> dict[str, str]:
    """The PAD tags every Linkly sample sends with a sale (the simulator requires them)."""
    cents = amount if isinstance(amount, int) and not isinstance(amount, bool) else 0
    return {"OPR": "1|Test clerk", "AMT": f"{max(cents, 0):07d}", "PCM": "0000"}


def purchase(amount: int = 1000, ref: str = "REF0001", **extra: Any) -> dict[str, Any]:
    """A camelCase purchase request body (Linkly's JS samples style)."""
    pad = {**core_pad(amount), **extra.pop("purchaseAnalysisData", {})}
    return {
        "request": {
            "txnType": "P",
            "amtPurchase": amount,
            "txnRef": ref,
            "merchant": "00",
            "application": "00",
            "currencyCode": "AUD",
            "purchaseAnalysisData": pad,
            **extra,
        }
    }


class Pos:
    """A minimal POS: pairs, gets a token, calls the REST paths."""

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

        return wait_until(done, timeout, step=0.02)


def control(base: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    """Call the /_sim/ control API."""
    return requests.request(method, f"{base}/_sim{path}", timeout=TIMEOUT, **kwargs)
