"""logon, status, settlement, reprintreceipt, querycard and the sandbox prompts."""

from __future__ import annotations

from tests.helpers.waiting import wait_for
from tests.simulators.linkly.helpers import control, purchase


def test_logon_sync_and_async(pos, receiver, note):
    body = {
        "Request": {
            "Merchant": "00",
            "LogonType": " ",
            "Application": "00",
            "ReceiptAutoPrint": "0",
            "CutReceipt": "0",
        }
    }
    _, r = pos.post("logon", body, async_=False)
    env = r.json()
    assert r.status_code == 200 and env["responseType"] == "logon"
    resp = env["response"]
    assert resp["success"] is True and resp["responseCode"] == "00"
    for key in (
        "pinPadVersion",
        "responseText",
        "date",
        "catid",
        "caid",
        "stan",
        "purchaseAnalysisData",
    ):
        assert key in resp
    sid, r = pos.post("logon", {**body, "Notification": note}, async_=True)
    assert r.status_code == 202
    kinds = [e["path"].rsplit("/", 1)[1] for e in receiver.wait_final(sid, "logon")]
    assert kinds[0] == "display" and "receipt" in kinds and kinds[-1] == "logon"
    receipt = next(e for e in receiver.for_session(sid) if "receipt" in e["path"])
    assert receipt["body"]["response"]["type"] == "L"


def test_status_shape(pos):
    _, r = pos.post(
        "status",
        {"Request": {"Merchant": "00", "StatusType": "0", "Application": "00"}},
        async_=False,
    )
    env = r.json()
    assert env["responseType"] == "status"
    resp = env["response"]
    assert resp["success"] is True and resp["loggedOn"] is True
    assert resp["eftTerminalType"] == "PCEFTPOSVirtualPinpad"
    for key in (
        "catid",
        "caid",
        "pinPadSerialNumber",
        "pinPadVersion",
        "bankDescription",
        "bankCode",
        "retailerName",
        "safCount",
        "cashoutLimit",
        "refundLimit",
    ):
        assert key in resp, key
    assert resp["optionsFlags"]["refund"] is True and "efb" in resp["optionsFlags"]


def test_logoff_then_transaction_needs_logon(pos):
    pos.post("logon", {"Request": {"LogonType": "8"}}, async_=False)
    _, r = pos.post("status", {"Request": {"StatusType": "0"}})
    assert r.json()["response"]["loggedOn"] is False
    _, r = pos.post("transaction", purchase(1000, "NOLOGON"), async_=False)
    assert r.json()["response"]["responseCode"] == "TF"
    pos.post("logon", {"Request": {"LogonType": " "}}, async_=False)
    _, r = pos.post("transaction", purchase(1000, "LOGGEDON"), async_=False)
    assert r.json()["response"]["success"] is True


def test_reprint_last_receipt(pos):
    _, r = pos.post("reprintreceipt", {"Request": {"ReprintType": "2"}}, async_=False)
    assert r.json()["response"]["success"] is False  # nothing printed yet
    pos.post("transaction", purchase(1234, "REPRINT1", receiptAutoPrint="9"), async_=False)
    _, r = pos.post(
        "reprintreceipt",
        {"Request": {"Merchant": "00", "ReceiptAutoPrint": "0", "ReprintType": "2"}},
        async_=False,
    )
    env = r.json()
    assert env["responseType"] == "reprintreceipt"
    resp = env["response"]
    assert resp["success"] is True and resp["merchant"] == "00"
    text = "\n".join(resp["receiptText"])
    assert "REPRINT1" in text and "$12.34" in text


def test_settlement(pos):
    pos.post("transaction", purchase(1000, "SET1"), async_=False)
    _, r = pos.post(
        "settlement", {"Request": {"Merchant": "00", "SettlementType": "S"}}, async_=False
    )
    env = r.json()
    assert env["responseType"] == "settlement" and env["response"]["success"] is True
    assert "settlementData" in env["response"]
    _, r = pos.post("settlement", {"Request": {"SettlementType": "?"}})
    assert r.status_code == 400


def test_querycard(pos):
    _, r = pos.post("querycard", {"Request": {"QueryCardType": "1"}}, async_=False)
    env = r.json()
    assert env["responseType"] == "querycard"
    resp = env["response"]
    assert resp["success"] is True and resp["accountType"] == "2"
    assert resp["isTrack2Available"] is True and "track1" in resp


def test_signature_prompt(sim, pos, receiver, note):
    control(sim.base_url, "PATCH", "/config", json={"sandbox_behaviours": True})
    for key, success in (("1", True), ("2", False)):
        sid, _ = pos.post(
            "transaction", {**purchase(1008, f"SIG{key}"), "notification": note}, async_=True
        )

        def prompt(sid=sid):
            return [
                e
                for e in receiver.for_session(sid)
                if e["body"]["response"].get("acceptYesKeyFlag")
            ]

        shown = wait_for(prompt, 5, step=0.01)[0]["body"]["response"]
        assert (
            shown["declineNoKeyFlag"] is True and shown["displayText"][0].strip() == "SIGNATURE OK?"
        )
        assert pos.sendkey(sid, key).status_code == 200
        assert receiver.wait_final(sid)[-1]["body"]["response"]["success"] is success


def test_input_prompt_takes_sendkey_data(sim, pos, note):
    control(sim.base_url, "PATCH", "/config", json={"sandbox_behaviours": True})
    sid, _ = pos.post(
        "transaction", {**purchase(1009, "INPUT1"), "notification": note}, async_=True
    )
    wait_for(lambda: (sim.pinpad("1").display or {}).get("InputType") == "1", 5, step=0.01)
    assert pos.sendkey(sid, "0", "ORDER-42").status_code == 200
    assert pos.wait_result(sid)["response"]["success"] is True
    inputs = control(sim.base_url, "GET", f"/sessions/{sid}").json()["inputs"]
    assert {"prompt": "ENTER REFERENCE", "data": "ORDER-42"} in inputs
