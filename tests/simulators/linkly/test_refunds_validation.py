"""Refunds against RFNs, request validation and reused session ids."""

from __future__ import annotations

import uuid

import pytest

from tests.simulators.linkly.helpers import control, core_pad, purchase


def refund(amount: int, ref: str, rfn: str | None) -> dict:
    """A refund body, optionally matched to an RFN."""
    pad = {**core_pad(amount), **({"RFN": rfn} if rfn else {})}
    return {
        "Request": {
            "TxnType": "R",
            "AmtPurchase": amount,
            "TxnRef": ref,
            "PurchaseAnalysisData": pad,
        }
    }


def test_matched_refunds(sim, pos):
    _, r = pos.post("transaction", purchase(1000, "ORIG1"), async_=False)
    rfn = r.json()["response"]["purchaseAnalysisData"]["RFN"]
    _, r = pos.post("transaction", refund(600, "REF1", rfn), async_=False)
    resp = r.json()["response"]
    assert resp["success"] is True and resp["txnType"] == "R"
    _, r = pos.post("transaction", refund(500, "REF2", rfn), async_=False)
    resp = r.json()["response"]
    assert resp["success"] is False and resp["responseCode"] == "13"  # over the original
    _, r = pos.post("transaction", refund(400, "REF3", rfn), async_=False)
    assert r.json()["response"]["success"] is True  # exactly the rest
    _, r = pos.post("transaction", refund(100, "REF4", "NOSUCHRFN"), async_=False)
    assert r.json()["response"]["responseCode"] == "12"
    _, r = pos.post("transaction", refund(100, "REF5", None), async_=False)
    assert r.json()["response"]["success"] is False
    ledger = control(sim.base_url, "GET", "/ledger").json()["entries"]
    assert [(e["txnType"], e["amountCents"]) for e in ledger] == [
        ("P", 1000),
        ("R", 600),
        ("R", 400),
    ]
    assert ledger[1]["originalRfn"] == rfn


def test_refund_without_rfn_can_be_allowed(sim, pos):
    control(sim.base_url, "PATCH", "/config", json={"refund_without_rfn": "allow"})
    _, r = pos.post("transaction", refund(100, "UNMATCHED", None), async_=False)
    assert r.json()["response"]["success"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amtPurchase": 10.5}, "Request.AmtPurchase"),
        ({"amtPurchase": 1000.0}, "Request.AmtPurchase"),
        ({"amtPurchase": "1000"}, "Request.AmtPurchase"),
        ({"amtPurchase": True}, "Request.AmtPurchase"),
        ({"amtPurchase": 0}, "Request.AmtPurchase"),
        ({"amtPurchase": 1_000_000_000}, "Request.AmtPurchase"),
        ({"txnRef": "X" * 17}, "Request.TxnRef"),
        ({"txnRef": ""}, "Request.TxnRef"),
        ({"txnType": "Z"}, "Request.TxnType"),
        ({"txnType": ""}, "Request.TxnType"),
        ({"merchant": "000"}, "Request.Merchant"),
        ({"currencyCode": "AU"}, "Request.CurrencyCode"),
    ],
)
def test_validation_400(sim, pos, change, field):
    body = purchase()
    body["request"].update(change)
    sid, r = pos.post("transaction", body, async_=False)
    assert r.status_code == 400
    assert field in r.json()["errors"]
    assert pos.get(sid).status_code == 404  # not performed
    assert sim.ledger.entries() == []


def test_validation_envelope_and_session_id(pos, receiver):
    _, r = pos.post("transaction", {"notRequest": {}})
    assert r.status_code == 400
    _, r = pos.post("transaction", purchase(), sid="not-a-uuid")
    assert r.status_code == 400
    _, r = pos.post("transaction", purchase(), async_=True)  # async needs a Notification
    assert "Notification.Uri" in r.json()["errors"]
    _, r = pos.post("transaction", purchase(), sid=str(uuid.uuid4()) + "0")
    assert r.status_code == 400


def test_https_notification_required_unless_allowed(sim, pos, receiver):
    control(sim.base_url, "PATCH", "/config", json={"allow_http": False})
    body = {**purchase(), "notification": {"uri": receiver.base_url + "/{{sessionid}}/{{type}}"}}
    _, r = pos.post("transaction", body, async_=True)
    assert r.status_code == 400 and "Notification.Uri" in r.json()["errors"]
    body["notification"]["uri"] = "https://pos.example.invalid/{{sessionid}}/{{type}}"
    control(sim.base_url, "POST", "/faults", json={"fault": "events_lost", "scope": "run"})
    _, r = pos.post("transaction", body, async_=True)
    assert r.status_code == 202


def test_reused_session_id(sim, pos):
    sid, r = pos.post("transaction", purchase(100, "ONCE"), async_=False)
    assert r.status_code == 200
    _, r = pos.post("transaction", purchase(100, "TWICE"), sid=sid, async_=False)
    assert r.status_code == 400 and "sessionId" in r.json()["errors"]
    _, r = pos.post("transaction", purchase(100, "THRICE"), sid=sid.replace("-", ""))
    assert r.status_code == 400
    control(sim.base_url, "PATCH", "/config", json={"reused_session_status": 200})
    _, r = pos.post("transaction", purchase(100, "FOUR"), sid=sid)
    assert r.status_code == 200 and r.json()["response"]["txnRef"] == "ONCE"
    assert len(sim.ledger.entries()) == 1


def test_txn_ref_32_and_cash_out(sim, pos):
    control(sim.base_url, "PATCH", "/config", json={"txn_ref_max": 32})
    _, r = pos.post("transaction", purchase(100, "X" * 32), async_=False)
    assert r.status_code == 200
    body = {"Request": {"TxnType": "C", "AmtCash": 2000, "TxnRef": "CASH1"}}
    _, r = pos.post("transaction", body, async_=False)
    resp = r.json()["response"]
    assert resp["success"] is True and resp["amtCash"] == 2000
    assert sim.ledger.entries(txn_ref="CASH1")[0]["amountCents"] == 2000
