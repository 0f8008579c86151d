"""Constants and fakes shared by the Linkly client tests."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import requests_mock

AUTH = "https://auth.linkly.test"
API = "https://rest.linkly.test"
PAIR_URL = f"{AUTH}/v1/pairing/cloudpos"
TOKEN_URL = f"{AUTH}/v1/tokens/cloudpos"
POS_VENDOR_ID = "7d2e3a44-1c6b-4f5e-9a0b-6c1d2e3f4a5b"
POS_ID = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
SECRET = "eyJ.pairing-secret.SIGNATURE-never-log-me"
USERNAME = "cloud-user@example.test"
PASSWORD = "Cloud-Password-Do-Not-Log"
PAIR_CODE = "PC-4711"
NOTIFY_AUTH = "Bearer notify-secret-0123456789"
NOTIFY_URI = "https://app.example.test/linkly/notify/{{sessionid}}/{{type}}"
SESSION_ID = "3f1d2c4b-5a6e-4f70-8a9b-0c1d2e3f4a5b"
TXN_REF = "ABCDEF0123456789"
DATA_DIR = Path(__file__).parent / "data"


def load_json(name: str) -> dict[str, Any]:
    """Load a JSON fixture from tests/unit/linkly/data."""
    return json.loads((DATA_DIR / f"{name}.json").read_text())


def txn_url(session_id: str = SESSION_ID) -> str:
    """URL of the transaction endpoint of a session."""
    return f"{API}/v1/sessions/{session_id}/transaction"


class TokenServer:
    """A fake token endpoint minting tok-1, tok-2, …; counts calls thread-safely."""

    def __init__(self, lifetime: int | None = 1800, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.delay:
            time.sleep(self.delay)
        context.status_code = 200
        body: dict[str, Any] = {"token": f"tok-{n}"}
        if self.lifetime is not None:
            body["expirySeconds"] = self.lifetime
        return body

    def register(self, mocker: requests_mock.Mocker) -> TokenServer:
        """Serve the token endpoint from this fake."""
        mocker.post(TOKEN_URL, json=self)
        return self
