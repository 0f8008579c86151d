"""The blocking baseline: what most integrations do, for comparison (never part of the app).

A web handler takes the same robot calls and queues a job; an RQ worker then holds a synchronous
Linkly POST (`async=false`) and polls the recovery GET until the cardholder finishes, then makes
one Bitrix24 request per read and write (no `batch`), retrying a 503 after a second. Its worker
count bounds how many payments it has in flight.

    gunicorn "bench.baseline:create_app()"          # web
    rq worker -u REDIS_URL --serializer rq.serializers.JSONSerializer baseline   # workers
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import requests

QUEUE = "baseline"
POS_VENDOR_ID = "5f0c3a7e-5d2b-4c8e-9a43-1b6f0e2d7c91"
_tokens: dict[str, str] = {}  # per worker process: terminal name -> Linkly bearer token
_http = requests.Session()


def create_app():
    """The baseline's web app: take the robot call, queue it, answer 200."""
    from flask import Flask, jsonify, request
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    app = Flask("bench.baseline")
    queue = Queue(
        QUEUE,
        connection=Redis.from_url(os.environ["BASELINE_REDIS_URL"]),
        serializer=JSONSerializer,
    )

    @app.post("/handler")
    def handler():
        form = request.form
        call = {
            "event_token": form.get("event_token", ""),
            "terminal": form.get("properties[terminal]", ""),
            "invoice_id": int(form.get("properties[invoice_id]") or 0),
            "endpoint": form.get("auth[client_endpoint]", ""),
            "access_token": form.get("auth[access_token]", ""),
        }
        queue.enqueue("bench.baseline.run_payment", call, job_timeout=900)
        return jsonify({"status": "queued"})

    return app


def _rest(call: dict[str, Any], method: str, params: dict[str, Any]) -> Any:
    """One Bitrix24 REST request; a 503 (rate limit) is retried after a second, 60 times at most."""
    for _ in range(60):
        resp = _http.post(
            f"{call['endpoint']}{method}",
            json={**params, "auth": call["access_token"]},
            timeout=30,
        )
        if resp.status_code == 503:
            time.sleep(1.0)
            continue
        body = resp.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body}")
        return body.get("result")
    raise RuntimeError(f"{method}: still rate-limited")


def _token(terminal: str) -> str:
    if terminal not in _tokens:
        secrets = json.loads(Path(os.environ["BASELINE_SECRETS_FILE"]).read_text())
        resp = _http.post(
            f"{os.environ['BASELINE_LINKLY_URL']}/v1/tokens/cloudpos",
            json={
                "secret": secrets[terminal],
                "posName": "Baseline",
                "posVersion": "1.0",
                "posId": str(uuid.uuid5(uuid.NAMESPACE_URL, terminal)),
                "posVendorId": POS_VENDOR_ID,
            },
            timeout=10,
        )
        resp.raise_for_status()
        _tokens[terminal] = resp.json()["token"]
    return _tokens[terminal]


def _charge(terminal: str, cents: int) -> dict[str, Any]:
    """A synchronous purchase: the worker waits for the cardholder, then polls if told 202."""
    base = os.environ["BASELINE_LINKLY_URL"]
    sid = uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {_token(terminal)}"}
    body = {
        "Request": {
            "Merchant": "00",
            "TxnType": "P",
            "AmtPurchase": cents,
            "TxnRef": sid[:16],
            "CurrencyCode": "AUD",
            "CutReceipt": "0",
            "ReceiptAutoPrint": "0",
            "Application": "00",
            "PurchaseAnalysisData": {"OPR": "0|Baseline", "AMT": f"{cents:07d}", "PCM": "0000"},
        }
    }
    resp = _http.post(
        f"{base}/v1/sessions/{sid}/transaction?async=false", json=body, headers=headers, timeout=300
    )
    deadline = time.monotonic() + 600
    while resp.status_code == 202 and time.monotonic() < deadline:
        time.sleep(1.0)
        resp = _http.get(f"{base}/v1/sessions/{sid}/transaction", headers=headers, timeout=30)
    resp.raise_for_status()
    return dict(resp.json()["response"])


def run_payment(call: dict[str, Any]) -> str:
    """Read the invoice, charge the card (blocking), then write each result with its own request."""
    invoice_id = call["invoice_id"]
    item = _rest(call, "crm.item.get", {"entityTypeId": 31, "id": invoice_id})["item"]
    payments = _rest(call, "crm.item.payment.list", {"entityTypeId": 31, "entityId": invoice_id})
    cents = round(float(item["opportunity"]) * 100)
    result = _charge(call["terminal"], cents)
    approved = bool(result.get("success"))
    status = "approved" if approved else "declined"
    if approved:
        pay_id = payments[0]["id"] if payments else None
        if pay_id is None:
            pay_id = _rest(
                call, "crm.item.payment.add", {"entityTypeId": 31, "entityId": invoice_id}
            )
        _rest(call, "crm.item.payment.pay", {"id": pay_id})
        _rest(
            call,
            "crm.item.update",
            {"entityTypeId": 31, "id": invoice_id, "fields": {"stageId": "DT31_13:P"}},
        )
    text = f"Card payment {status}: {cents / 100:.2f} AUD ({result.get('txnRef')})"
    for entity_id, entity_type in ((item.get("parentId2"), "deal"), (invoice_id, "smart_invoice")):
        if entity_id:
            _rest(
                call,
                "crm.timeline.comment.add",
                {"fields": {"ENTITY_ID": entity_id, "ENTITY_TYPE": entity_type, "COMMENT": text}},
            )
    _rest(
        call,
        "bizproc.event.send",
        {
            "EVENT_TOKEN": call["event_token"],
            "RETURN_VALUES": {
                "status": status,
                "approved": approved,
                "txn_ref": result.get("txnRef"),
            },
        },
    )
    return status
