"""The payment report against the Bitrix24 simulator: one batch, resumed without duplicates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests
from flask import current_app
from sqlalchemy import select

from bizproc_app.bitrix import BitrixClient
from bizproc_app.extensions import db, redis_conn, secrets
from bizproc_app.models import Portal
from bizproc_app.payments.report import ReportIncomplete, ReportInput, report
from bizproc_app.wiring.clients import bitrix_client
from bizproc_app.wiring.services import bitrix_client_for
from tests.helpers.bitrix24 import handler_call, invoice_payments, workflow_returns
from tests.helpers.waiting import wait_for

PID = "0b6c1f7e-5d2a-4c1b-9e3f-000000000042"
COMMENT = f"POS purchase approved: 10.00 AUD, auth 123456, payment {PID}\nAPPROVED"
USERS = (1, 2)


@pytest.fixture
def client(served_app, ctl) -> Iterator[BitrixClient]:
    """Install the app; a REST client for the portal, inside the app context."""
    assert ctl("POST", "install", {"mode": "event"})["status"] == 200
    with served_app.app_context():
        yield bitrix_client_for(db.session.scalar(select(Portal)))


@pytest.fixture
def sale(client: BitrixClient, ctl) -> dict[str, Any]:
    """A deal, its invoice with a product row and a payment carrying it, and a robot waiting."""
    deal = ctl("POST", "deals", {"fields": {"title": "Lunch", "opportunity": 10}})
    invoice = _invoice_of(ctl, deal["id"])
    pay_id = client.call("crm.item.payment.add", {"entityTypeId": 31, "entityId": invoice["id"]})
    rows = client.call(
        "crm.item.productrow.list", {"filter": {"=ownerType": "SI", "=ownerId": invoice["id"]}}
    )
    [row] = rows.result["productRows"]
    carry = {"paymentId": pay_id.result, "rowId": row["id"], "quantity": 1}
    client.call("crm.item.payment.product.add", carry)
    wf_id, token = _run_robot(ctl, deal["id"], "linkly_pos_payment", {"amount": "10.00"})
    ctl("DELETE", "requests")
    return {
        "deal_id": deal["id"],
        "invoice_id": invoice["id"],
        "bitrix_payment_id": pay_id.result,
        "wf_id": wf_id,
        "input": ReportInput(
            payment_id=PID,
            kind="purchase",
            status="approved",
            resolved_late=False,
            amount_cents=1000,
            currency="AUD",
            deal_id=deal["id"],
            invoice_id=invoice["id"],
            order_payment_id=None,
            bitrix_payment_id=pay_id.result,
            success_stage="DT31_13:P",
            refund_stage=None,
            fully_refunded=False,
            event_token=token,
            return_values={
                "txn_ref": "T0001",
                "auth_code": "123456",
                "response_code": "00",
                "masked_pan": "4111........1111",
                "receipt": "APPROVED",
            },
            comment=COMMENT,
            notify_user_ids=USERS,
            notify_message="Card payment of 10.00 AUD approved (deal)",
        ),
    }


def _run_robot(ctl, deal_id: int, code: str, properties: dict[str, Any]) -> tuple[str, str]:
    """Start a robot on the deal; return the workflow id and the event_token our handler got."""
    wf = ctl("POST", "robots/run", {"id": deal_id, "code": code, "properties": properties})
    entry = handler_call(ctl, wf["id"])
    assert entry["status"] == 200, entry["response"]
    return wf["id"], dict(entry["fields"])["event_token"]


def _crm(ctl) -> dict[str, Any]:
    return ctl("GET", "crm")


def _comments(ctl, entity_type: str, entity_id: int) -> list[str]:
    return [
        c["COMMENT"]
        for c in _crm(ctl)["comments"]
        if c["ENTITY_TYPE"] == entity_type and c["ENTITY_ID"] == str(entity_id)
    ]


def _invoice(ctl, invoice_id: int) -> dict[str, Any]:
    return next(i for i in _crm(ctl)["invoices"] if i["id"] == invoice_id)


def _returns(ctl, wf_id: str) -> tuple[str, dict[str, Any]]:
    wf = ctl("GET", f"workflows/{wf_id}")
    return wf["status"], workflow_returns(wf)


def _invoice_of(ctl, deal_id: int, rows: bool = True) -> dict[str, Any]:
    """A smart invoice of 10.00 AUD on the deal, with one product row of that price."""
    fields = {"opportunity": 10, "currencyId": "AUD"}
    lunch = [{"productName": "Lunch", "price": 10, "quantity": 1}] if rows else []
    return ctl("POST", "invoices", {"fields": fields, "rows": lunch, "deal_id": deal_id})


def _one_comment_each(ctl, sale: dict[str, Any]) -> None:
    assert _comments(ctl, "deal", sale["deal_id"]) == [COMMENT]
    assert _comments(ctl, "smart_invoice", sale["invoice_id"]) == [COMMENT]


def test_an_approved_invoice_pays_its_own_payment_of_the_charged_sum(client, ctl, sale) -> None:
    done = report(client, sale["input"], {})

    pid = sale["bitrix_payment_id"]
    assert done == {
        "pay_known": [pid],
        "pay_plan": {"id": pid},
        "pay": True,
        "paid_payment": pid,
        "event": True,
        "stage": True,
        "comment_deal": done["comment_deal"],
        "comment_invoice": done["comment_invoice"],
        "invoice_timeline_type": "smart_invoice",
    }
    counts = ctl("GET", "requests")
    assert counts["requests"] == {"batch": 2}  # everything with the reads, then the payment
    assert counts["batch_commands"] == {
        "crm.item.productrow.list": 1,
        "crm.item.payment.list": 1,
        "crm.item.payment.pay": 1,
        "bizproc.event.send": 1,
        "crm.item.update": 1,
        "crm.timeline.comment.add": 2,
    }
    [payment] = invoice_payments(ctl, sale["invoice_id"])
    assert payment["id"] == pid and payment["paid"] == "Y" and payment["sum"] == 10
    assert _invoice(ctl, sale["invoice_id"])["stageId"] == "DT31_13:P"
    _one_comment_each(ctl, sale)
    status, values = _returns(ctl, sale["wf_id"])
    assert status == "completed"
    assert values["status"] == "approved" and values["approved"] == "Y"
    assert values["amount"] == "10.00" and values["payment_id"] == PID
    assert values["txn_ref"] == "T0001" and values["receipt"] == "APPROVED"
    assert ctl("GET", "notifications") == []


def test_a_method_the_portal_blocked_waits_while_the_rest_lands(client, ctl, sale) -> None:
    # The portal blocks comment.add for a while (429 OPERATION_TIME_LIMIT inside the batch).
    ctl("POST", "operating", {"method": "crm.timeline.comment.add", "seconds": 1000})
    done: dict[str, Any] = {}
    with pytest.raises(ReportIncomplete) as caught:
        report(client, sale["input"], done)
    assert set(caught.value.errors) == {"comment_deal", "comment_invoice"}
    assert caught.value.retryable and caught.value.done is done
    assert all(e.operating_reset_at > time.time() for e in caught.value.errors.values())
    pid = sale["bitrix_payment_id"]
    assert done == {
        "pay_known": [pid],
        "pay_plan": {"id": pid},
        "pay": True,  # the next round went on without the blocked method
        "paid_payment": pid,
        "event": True,
        "stage": True,
    }
    assert ctl("GET", "requests")["batch_commands"]["crm.timeline.comment.add"] == 2
    assert _returns(ctl, sale["wf_id"])[0] == "completed"

    # Asked again before the reset: refused here, the portal is not asked.
    ctl("POST", "ratelimit/reset")
    ctl("DELETE", "requests")
    with pytest.raises(ReportIncomplete):
        report(client, sale["input"], done)
    assert ctl("GET", "requests")["total"] == 0


class ShortReads(requests.Session):
    """A session that gives up reading after one second."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = (5.0, 1.0)
        return super().request(*args, **kwargs)


def _impatient_client() -> BitrixClient:
    return bitrix_client(
        current_app.config["APP_CONFIG"],
        db.session.scalar(select(Portal)),
        redis_client=redis_conn.client,
        box=secrets.box,
        session_factory=current_app.extensions["database"].session.session_factory,
        session=ShortReads(),
    )


@pytest.mark.parametrize(
    ("fault", "landed", "retry_batches"),
    [
        pytest.param({"delay": 2.5, "delay_method": "batch"}, True, 3, id="answer-lost"),
        pytest.param({"down_calls": 1}, False, 3, id="portal-down"),
    ],
)
def test_a_lost_answer_and_a_retry_leave_one_payment_and_one_comment_each(
    ctl, sale, fault: dict[str, Any], landed: bool, retry_batches: int
) -> None:
    # A second invoice of the deal, without a payment yet: this report adds one carrying its row.
    invoice = _invoice_of(ctl, sale["deal_id"])
    sale = {**sale, "invoice_id": invoice["id"]}
    inp = replace(sale["input"], invoice_id=invoice["id"], bitrix_payment_id=None)
    client = _impatient_client()
    ctl("POST", "faults", fault)

    done: dict[str, Any] = {}
    with pytest.raises(ReportIncomplete) as caught:
        report(client, inp, done)
    assert caught.value.retryable
    assert done == {"uncertain": ["comment_deal", "comment_invoice", "event"]}
    if landed:  # the portal ran the batch after we stopped listening
        wait_for(lambda: len(_crm(ctl)["comments"]) == 2, 10, "both comments to land")
    ctl("POST", "faults/reset")
    ctl("DELETE", "requests")

    report(client, inp, done)
    assert ctl("GET", "requests")["requests"] == {"batch": retry_batches}
    _one_comment_each(ctl, sale)
    [payment] = invoice_payments(ctl, invoice["id"])
    assert payment["paid"] == "Y" and done["payment_added"] == payment["id"]
    assert payment["sum"] == 10 and done["paid_payment"] == payment["id"]
    assert _invoice(ctl, invoice["id"])["stageId"] == "DT31_13:P"
    status, values = _returns(ctl, sale["wf_id"])
    assert status == "completed" and values["status"] == "approved"
    # Resent after the lost answer: the workflow had already completed, so "unconfirmed".
    assert done["event"] == ("unconfirmed" if landed else True)
    assert "uncertain" not in done and ctl("GET", "notifications") == []


@pytest.mark.parametrize("answer", ["access_denied", "workflow_not_found"])
def test_a_gone_workflow_is_recorded_not_retried_and_people_are_told(
    client, ctl, sale, answer
) -> None:
    ctl("POST", "config", {"ended_workflow": answer})  # both readings of the sources
    assert ctl("POST", "workflows/end")["terminated"] == 1
    done = report(client, sale["input"], {})

    assert done["event"] == "workflow_gone"
    assert done["notify"] == {"approved": list(USERS)}
    assert ctl("GET", "requests")["requests"] == {"batch": 2}  # the CRM writes, then the notices
    _one_comment_each(ctl, sale)
    notes = ctl("GET", "notifications")
    assert sorted(n["user_id"] for n in notes) == list(USERS)
    assert {n["tag"] for n in notes} == {f"pos-{PID}-1", f"pos-{PID}-2"}

    ctl("DELETE", "requests")
    assert report(client, sale["input"], done) is done
    assert ctl("GET", "requests")["total"] == 0


def test_unknown_then_a_late_result_updates_crm_and_replaces_the_notice(client, ctl, sale) -> None:
    unknown = replace(
        sale["input"],
        status="unknown",
        return_values={},
        notify_message=f"Card payment {PID}: result unknown, check the terminal",
    )
    done = report(client, unknown, {})
    assert done == {"event": True, "notify": {"unknown": list(USERS)}}
    counts = ctl("GET", "requests")
    assert counts["requests"] == {"batch": 1}
    assert counts["batch_commands"] == {"bizproc.event.send": 1, "im.notify": 2}
    status, values = _returns(ctl, sale["wf_id"])
    assert status == "completed" and values["status"] == "unknown" and values["approved"] == "N"
    assert invoice_payments(ctl, sale["invoice_id"])[0]["paid"] == "N"
    assert _crm(ctl)["comments"] == []
    assert all("unknown" in n["message"] for n in ctl("GET", "notifications"))

    ctl("DELETE", "requests")
    late = replace(sale["input"], resolved_late=True)
    report(client, late, done)
    counts = ctl("GET", "requests")
    assert counts["requests"] == {"batch": 2}  # with the reads, then the payment
    assert "bizproc.event.send" not in counts["batch_commands"]
    assert invoice_payments(ctl, sale["invoice_id"])[0]["paid"] == "Y"
    assert _invoice(ctl, sale["invoice_id"])["stageId"] == "DT31_13:P"
    _one_comment_each(ctl, sale)
    assert _returns(ctl, sale["wf_id"])[1]["status"] == "unknown"  # its one outcome stands
    notes = ctl("GET", "notifications")
    assert sorted(n["user_id"] for n in notes) == list(USERS)  # replaced, not added
    assert all(n["message"].endswith(late.notify_message) for n in notes)


def test_a_full_refund_unpays_the_invoice_payment(client, ctl, sale) -> None:
    report(client, sale["input"], {})
    wf_id, token = _run_robot(
        ctl, sale["deal_id"], "linkly_pos_refund", {"payment_id": PID, "amount": "10.00"}
    )
    refund_id = "0b6c1f7e-5d2a-4c1b-9e3f-000000000043"
    refund = replace(
        sale["input"],
        payment_id=refund_id,
        kind="refund",
        refund_stage="DT31_13:D",
        fully_refunded=True,
        event_token=token,
        comment=f"POS refund approved: 10.00 AUD, payment {refund_id}",
    )
    ctl("DELETE", "requests")
    done = report(client, refund, {})

    assert done["unpay"] is True and done["stage"] is True
    counts = ctl("GET", "requests")
    assert counts["requests"] == {"batch": 1}
    assert counts["batch_commands"] == {
        "crm.item.payment.unpay": 1,
        "bizproc.event.send": 1,
        "crm.item.update": 1,
        "crm.timeline.comment.add": 2,
    }
    assert invoice_payments(ctl, sale["invoice_id"])[0]["paid"] == "N"
    assert _invoice(ctl, sale["invoice_id"])["stageId"] == "DT31_13:D"
    assert _comments(ctl, "deal", sale["deal_id"]) == [COMMENT, refund.comment]
    status, values = _returns(ctl, wf_id)
    assert status == "completed" and values["payment_id"] == refund_id
