"""Purchases, declines, async events, busy, cancel, recovery, casing."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers.pos import RawHttpPos
from tests.helpers.waiting import wait_for
from tests.simulators.linkly.helpers import control, purchase


def test_sync_purchase_approved(pos):
    sid, r = pos.post("transaction", purchase(1000, "SYNC1"), async_=False)
    assert r.status_code == 200
    env = r.json()
    assert env["sessionId"] == sid and env["responseType"] == "transaction"
    resp = env["response"]
    assert resp["success"] is True and resp["responseCode"] == "00"
    assert resp["responseText"] == "APPROVED".ljust(20)
    assert resp["cardType"] == "VISA".ljust(20) and resp["accountType"] == "2"
    assert resp["txnRef"] == "SYNC1" and resp["amtPurchase"] == 1000
    assert isinstance(resp["authCode"], int) and isinstance(resp["stan"], int)
    assert len(resp["rrn"]) == 12 and "......" in resp["pan"]
    assert resp["purchaseAnalysisData"]["AMT"] == "000001000"
    assert resp["purchaseAnalysisData"]["RFN"]
    assert resp["txnFlags"]["cardEntry"] == "C"
    assert resp["catid"] and resp["caid"] and resp["date"] and resp["dateSettlement"]


def test_async_omitted_means_sync_and_pascal_input(pos):
    pad = {"OPR": "7|Anna", "AMT": "0000500", "PCM": "0000"}
    body = {"Request": {"TxnType": "P", "AmtPurchase": 500, "TxnRef": "PASCAL1",
                        "PurchaseAnalysisData": pad}}  # fmt: skip
    _, r = pos.post("transaction", body)
    assert r.status_code == 200 and r.json()["response"]["success"] is True


def test_async_purchase_events(sim, pos, receiver, note):
    sid, r = pos.post(
        "transaction", {**purchase(1000, "ASYNC1"), "notification": note}, async_=True
    )
    assert r.status_code == 202 and r.json() == {}
    events = receiver.wait_final(sid)
    kinds = [e["path"].rsplit("/", 1)[1] for e in events]
    assert kinds[-1] == "transaction"
    assert kinds[:4] == ["display"] * 4 and kinds[-3:-1] == ["receipt", "receipt"]
    assert all(e["path"] == f"/notify/{sid}/{k}" for e, k in zip(events, kinds, strict=True))
    assert all(e["authorization"] == "Bearer hook-secret" for e in events)
    texts = [
        e["body"]["response"]["displayText"][0].strip() for e in events if "display" in e["path"]
    ]
    assert texts == ["PRESENT CARD", "SELECT ACCOUNT", "ENTER PIN", "PROCESSING", "APPROVED"]
    first = events[0]["body"]
    assert first["sessionId"] == sid and first["responseType"] == "display"
    d = first["response"]
    assert d["numberOfLines"] == 2 and d["lineLength"] == 20
    assert all(len(line) == 20 for line in d["displayText"])
    assert d["cancelKeyFlag"] is True and d["graphicCode"] == "3" and d["okKeyFlag"] is False
    processing = events[3]["body"]["response"]
    assert processing["cancelKeyFlag"] is False and processing["graphicCode"] == "0"
    receipts = [e["body"]["response"] for e in events if "receipt" in e["path"]]
    assert [x["type"] for x in receipts] == ["C", "M"]
    text = "\n".join(receipts[0]["receiptText"])
    assert "ASYNC1" in text and "$10.00" in text and "APPROVED" in text and "VISA" in text
    final = events[-1]["body"]["response"]
    assert final["success"] is True
    assert f"{final['authCode']:06d}" in text
    assert pos.get(sid).json() == events[-1]["body"]
    log = control(sim.base_url, "GET", f"/notifications?sessionId={sid}").json()["deliveries"]
    assert len(log) == len(events) and all(d["ok"] and d["status"] == 200 for d in log)


def test_receipt_auto_print_modes(pos, receiver, note):
    sid9, _ = pos.post(
        "transaction",
        {**purchase(100, "R9", receiptAutoPrint="9"), "notification": note},
        async_=True,
    )
    assert not [e for e in receiver.wait_final(sid9) if "receipt" in e["path"]]
    sid7, _ = pos.post(
        "transaction",
        {**purchase(100, "R7", receiptAutoPrint="7"), "notification": note},
        async_=True,
    )
    rec7 = [e for e in receiver.wait_final(sid7) if "receipt" in e["path"]]
    assert [e["body"]["response"]["type"] for e in rec7] == ["C"]


def test_decline_by_cents(pos):
    _, r = pos.post("transaction", purchase(1051, "DECL51"), async_=False)
    resp = r.json()["response"]
    assert resp["success"] is False and resp["responseCode"] == "51"
    assert resp["responseText"].strip() == "INSUFFICIENT FUNDS"
    assert "RFN" not in resp["purchaseAnalysisData"] and resp["authCode"] == 0
    _, r = pos.post("transaction", purchase(1037, "DECL37"), async_=False)
    assert r.json()["response"]["responseText"].strip() == "DECLINED"


def test_compact_session_id_and_recovery(sim, pos, note):
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid = uuid.uuid4()
    _, r = pos.post(
        "transaction", {**purchase(1000, "REC1"), "notification": note}, sid=sid.hex, async_=True
    )
    assert r.status_code == 202
    r = pos.get(str(sid))
    assert r.status_code == 202 and r.json() == {}
    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert control(sim.base_url, "POST", "/pinpads/1/press", json={"button": button}).json()[
            "accepted"
        ], button
    env = pos.wait_result(sid.hex)
    assert env["response"]["success"] is True and env["sessionId"] == sid.hex
    assert pos.get(str(sid)).json() == env  # repeatable, either UUID form
    assert pos.get(str(uuid.uuid4())).status_code == 404


def test_busy_pinpad(sim, pos, receiver, note):
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    first, r = pos.post(
        "transaction", {**purchase(100, "BUSY1"), "notification": note}, async_=True
    )
    assert r.status_code == 202
    _, r = pos.post("transaction", purchase(100, "BUSY2"), async_=False)
    assert r.status_code == 200
    resp = r.json()["response"]
    assert resp["responseCode"] == "BY" and resp["success"] is False
    second, r = pos.post(
        "transaction", {**purchase(100, "BUSY3"), "notification": note}, async_=True
    )
    assert r.status_code == 202
    events = receiver.wait_final(second)
    assert [e["path"].rsplit("/", 1)[1] for e in events] == ["transaction"]
    assert events[0]["body"]["response"]["responseCode"] == "BY"
    assert pos.get(first).status_code == 202  # the first is unaffected


def test_cancel_via_sendkey(sim, pos, receiver, note):
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid, _ = pos.post("transaction", {**purchase(100, "CAN1"), "notification": note}, async_=True)
    wait_for(lambda: receiver.for_session(sid), 5, step=0.01)
    assert pos.sendkey(sid, "0").status_code == 200
    final = receiver.wait_final(sid)[-1]["body"]["response"]
    assert final["success"] is False and final["responseCode"] == "TM"
    assert final["responseText"].strip() == "OPERATOR CANCELLED"
    displays = [
        e["body"]["response"]["displayText"][0].strip()
        for e in receiver.for_session(sid)
        if "display" in e["path"]
    ]
    assert displays[-1] == "TXN CANCELLED"
    assert sim.ledger.entries() == []


def test_keys_not_enabled_are_ignored(sim, pos, note):
    control(sim.base_url, "PATCH", "/config", json={"processing_delay": 0.4})
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid, _ = pos.post("transaction", {**purchase(100, "IGN1"), "notification": note}, async_=True)
    wait_for(lambda: sim.pinpad("1").display, 5, step=0.01)
    for key in ("1", "2", "3"):
        assert pos.sendkey(sid, key).status_code == 200
    assert pos.get(sid).status_code == 202
    for button in ("card", "sav", "ok"):
        control(sim.base_url, "POST", "/pinpads/1/press", json={"button": button})
    wait_for(
        lambda: sim.pinpad("1").display["DisplayText"][0].strip() == "PROCESSING", 5, step=0.01
    )
    assert pos.sendkey(sid, "0").status_code == 200  # cancel not enabled: approval wins
    resp = pos.wait_result(sid)["response"]
    assert resp["success"] is True and resp["accountType"] == "3"
    assert resp["cardType"].strip() == "DEBIT"


def test_sendkey_unknown_session_and_bad_key(pos):
    assert pos.sendkey(str(uuid.uuid4()), "0").status_code == 404
    assert pos.sendkey("not-a-uuid", "0").status_code == 400
    sid, _ = pos.post("transaction", purchase(100, "SK1"), async_=False)
    assert pos.sendkey(sid, "9").status_code == 400
    assert pos.sendkey(sid, "0").status_code == 200  # finished: ignored


def test_pascal_casing(sim, pos):
    control(sim.base_url, "PATCH", "/config", json={"casing": "pascal"})
    sid, r = pos.post("transaction", purchase(1000, "PASC1"), async_=False)
    env = r.json()
    assert env["SessionId"] == sid and env["ResponseType"] == "transaction"
    assert env["Response"]["Success"] is True and env["Response"]["TxnFlags"]["CardEntry"]
    assert "RFN" in env["Response"]["PurchaseAnalysisData"]
    assert "Response" in pos.get(sid).json()


def test_interactive_press_flow_and_state(sim, pos, note):
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid, _ = pos.post("transaction", {**purchase(2500, "INT1"), "notification": note}, async_=True)
    state = wait_for(
        lambda: control(sim.base_url, "GET", "/pinpads/1/state").json()["waiting"], 5, step=0.01
    )
    assert state == "card"
    st = control(sim.base_url, "GET", "/pinpads/1/state").json()
    assert st["busy"] and st["sessionId"] == sid and st["keys"]["cancel"] is True
    assert st["lines"][0].strip() == "PRESENT CARD"

    def press(button: str) -> dict:
        return control(sim.base_url, "POST", "/pinpads/1/press", json={"button": button}).json()

    assert press("ok")["accepted"] is False
    press("card")
    assert press("chq")["state"]["waiting"] == "pin"
    press("1")
    assert press("2")["state"]["lines"][1].strip() == "**"
    press("ok")
    resp = pos.wait_result(sid)["response"]
    assert resp["success"] is True and resp["accountType"] == "1"
    st = control(sim.base_url, "GET", "/pinpads/1/state").json()
    assert st["busy"] is False and st["lastResult"]["responseCode"] == "00"


def test_interactive_cancel_button_and_walk_away_timeout(sim, pos, note):
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid, _ = pos.post("transaction", {**purchase(100, "PCAN"), "notification": note}, async_=True)
    wait_for(lambda: sim.pinpad("1").display, 5, step=0.01)
    control(sim.base_url, "POST", "/pinpads/1/press", json={"button": "cancel"})
    assert pos.wait_result(sid)["response"]["responseCode"] == "TM"
    control(sim.base_url, "PATCH", "/config", json={"input_timeout": 0.2})
    sid, _ = pos.post(
        "transaction", {**purchase(100, "TIMEOUT"), "notification": note}, async_=True
    )
    resp = pos.wait_result(sid)["response"]
    assert resp["responseCode"] == "TI" and resp["success"] is False


def test_sync_server_timeout_returns_202(sim, pos):
    control(sim.base_url, "PATCH", "/config", json={"sync_timeout": 0.2})
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    sid, r = pos.post("transaction", purchase(100, "SLOW"), async_=False)
    assert r.status_code == 202
    assert pos.get(sid).status_code == 202


def test_two_pinpads_are_independent(sim, note):
    pad2 = control(sim.base_url, "POST", "/pinpads", json={"cardholder_delay": 0.01}).json()
    control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "interactive"})
    pos1 = RawHttpPos(sim.base_url, "111111")
    pos2 = RawHttpPos(sim.base_url, pad2["pair_code"])
    sid1, _ = pos1.post("transaction", {**purchase(100, "PAD1"), "notification": note}, async_=True)
    _, r = pos2.post("transaction", purchase(100, "PAD2"), async_=False)
    assert r.json()["response"]["success"] is True
    assert pos2.get(sid1).status_code == 404  # sessions are scoped to their PIN pad
    assert [e["pinpad"] for e in sim.ledger.entries()] == [pad2["id"]]


@pytest.mark.parametrize(
    ("pad", "fields"),
    [
        ({}, {"OPR", "AMT", "PCM"}),
        ({"OPR": "Anna", "AMT": "0000500", "PCM": "0000"}, {"OPR"}),
        ({"OPR": "7|Anna", "AMT": "500", "PCM": "0000"}, {"AMT"}),
        ({"OPR": "7|Anna", "AMT": "0000600", "PCM": "0000"}, {"AMT"}),
        ({"OPR": "7|Anna", "AMT": "0000500", "PCM": "0"}, {"PCM"}),
    ],
)
def test_a_sale_without_the_core_pad_tags_is_refused(sim, pos, pad, fields) -> None:
    body = {"Request": {"TxnType": "P", "AmtPurchase": 500, "TxnRef": "NOPAD1",
                        "PurchaseAnalysisData": pad}}  # fmt: skip
    _, r = pos.post("transaction", body)
    assert r.status_code == 400
    named = {k.rsplit(".", 1)[1] for k in r.json()["errors"] if "PurchaseAnalysisData" in k}
    assert named == fields, r.json()
    control(sim.base_url, "PATCH", "/config", json={"require_core_pad": False})
    _, r = pos.post("transaction", {"Request": {**body["Request"], "TxnRef": "NOPAD2"}})
    assert r.status_code == 200, r.text  # the switch for the reading that they are optional


def test_a_host_reference_comes_back_with_an_approval(pos) -> None:
    _, r = pos.post("transaction", purchase(1000, "WITHREF1"), async_=False)
    pad = r.json()["response"]["purchaseAnalysisData"]
    assert pad["REF"].isdigit() and len(pad["REF"]) == 12
