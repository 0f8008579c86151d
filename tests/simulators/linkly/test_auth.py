"""Pairing, tokens and bearer checks."""

from __future__ import annotations

import time
import uuid

import requests

from tests.helpers.pos import RawHttpPos
from tests.simulators.linkly.helpers import control, purchase

T = 10


def pair(base: str, **body: str) -> requests.Response:
    """POST a pairing request."""
    return requests.post(f"{base}/v1/pairing/cloudpos", json=body, timeout=T)


def token(base: str, **body: str) -> requests.Response:
    """POST a token request."""
    return requests.post(f"{base}/v1/tokens/cloudpos", json=body, timeout=T)


def good_token_body(secret: str) -> dict[str, str]:
    """A valid token request."""
    return {
        "secret": secret,
        "posName": "POS",
        "posVersion": "1",
        "posId": str(uuid.uuid4()),
        "posVendorId": str(uuid.uuid4()),
    }


def test_pairing_ok_case_insensitive_keys(sim):
    r = pair(sim.base_url, Username="user", PASSWORD="pass", PairCode="111111")
    assert r.status_code == 200
    secret = r.json()["secret"]
    assert secret.count(".") == 2 and len(secret) > 40


def test_pairing_wrong_password_is_401_empty(sim):
    r = pair(sim.base_url, username="user", password="nope", pairCode="111111")
    assert r.status_code == 401 and r.content == b""
    # the code was not consumed by the failed attempt
    assert pair(sim.base_url, username="user", password="pass", pairCode="111111").ok


def test_pair_code_single_use(sim):
    assert pair(sim.base_url, username="user", password="pass", pairCode="111111").ok
    r = pair(sim.base_url, username="user", password="pass", pairCode="111111")
    assert r.status_code == 401 and r.content == b""


def test_pair_code_expires(sim):
    r = control(sim.base_url, "POST", "/pinpads/1/pair-code", json={"ttl": 0.05})
    code = r.json()["pair_code"]
    time.sleep(0.1)
    r = pair(sim.base_url, username="user", password="pass", pairCode=code)
    assert r.status_code == 401 and r.content == b""


def test_unknown_pair_code_and_garbage_body(sim):
    assert (
        pair(sim.base_url, username="user", password="pass", pairCode="999999").status_code == 401
    )
    r = requests.post(f"{sim.base_url}/v1/pairing/cloudpos", data="x", timeout=T)
    assert r.status_code == 401 and r.content == b""


def test_token_ok_and_validation(sim):
    secret = pair(sim.base_url, username="user", password="pass", pairCode="111111").json()[
        "secret"
    ]
    r = token(sim.base_url, **good_token_body(secret))
    assert r.status_code == 200
    assert set(r.json()) == {"token", "expirySeconds"} and r.json()["expirySeconds"] == 1800
    for field, bad in (
        ("posId", "not-a-uuid"),
        ("posVendorId", ""),
        ("posName", ""),
        ("posVersion", "  "),
    ):
        r = token(sim.base_url, **{**good_token_body(secret), field: bad})
        assert r.status_code == 400, field
        assert field in r.json()["errors"]
    assert token(sim.base_url, **good_token_body("unknown-secret")).status_code == 401


def test_token_lifetime_is_honoured(sim):
    control(sim.base_url, "PATCH", "/config", json={"token_lifetime": 1})
    pos = RawHttpPos(sim.base_url, "111111")
    sid, r = pos.post("status", {"Request": {"Merchant": "00", "StatusType": "0"}})
    assert r.status_code == 200
    time.sleep(1.1)
    _, r = pos.post("status", {"Request": {"Merchant": "00", "StatusType": "0"}})
    assert r.status_code == 401 and r.content == b""
    pos.token = pos.new_token()
    assert pos.get(sid, "status").status_code == 200


def test_rest_requires_bearer(sim, pos):
    url = f"{sim.base_url}/v1/sessions/{uuid.uuid4()}/transaction"
    assert requests.post(url, json=purchase(), timeout=T).status_code == 401
    bad = {"Authorization": "Bearer nonsense"}
    assert requests.post(url, json=purchase(), headers=bad, timeout=T).status_code == 401
    assert requests.get(url, headers=bad, timeout=T).status_code == 401
    basic = {"Authorization": f"Basic {pos.token}"}
    assert requests.get(url, headers=basic, timeout=T).status_code == 401
