"""What the roundtrip tests share: the simulator's account, its control API, event checks."""

from __future__ import annotations

from typing import Any

import requests

from bizproc_app.linkly import Notification, TransactionResult, parse_notification
from tests.helpers.pos import Purchase

USERNAME = "sim-user"
PASSWORD = "sim-pass"
PAIR_CODE = "123456"
POS_VENDOR_ID = "6f0d3a0e-5a4b-4c1e-9a57-3c1d1b9c2f10"
TOKEN_PREFIX = "linkly:token:"
TOKEN_PATH = "/v1/tokens/cloudpos"


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
