"""The Linkly Cloud client against the Linkly Cloud simulator, over real HTTP on loopback.

Everything Linkly goes through `LinklyClient` (pairing, tokens cached encrypted in a real Redis,
purchases, refunds, sendkey, recovery GETs); the simulator's control API (`/_sim/...`) is used
only to inject faults, drive the interactive PIN pad and read the ledger and sessions.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import requests
from cryptography.fernet import Fernet

from bizproc_app.linkly import (
    DisplayEvent,
    Key,
    LinklyClient,
    LinklySettings,
    Notification,
    Outcome,
    OutcomeUnknown,
    ReceiptEvent,
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
from bizproc_app.storage.secret_box import SecretBox
from simulators.linkly import LinklySimulator, SimulatorConfig
from tests.support import EventReceiver

USERNAME = "sim-user"
PASSWORD = "sim-pass"
PAIR_CODE = "123456"
POS_VENDOR_ID = "6f0d3a0e-5a4b-4c1e-9a57-3c1d1b9c2f10"
TOKEN_PREFIX = "linkly:token:"
TOKEN_PATH = "/v1/tokens/cloudpos"
POLL_SECONDS = 0.05
DEADLINE_SECONDS = 10.0


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


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


@dataclass
class Purchase:
    """One submitted transaction: its identifiers and the client's answer to the POST."""

    session_id: str
    txn_ref: str
    auth: str
    submit: SubmitResult | None = None


@dataclass
class Pos:
    """A POS: a real LinklyClient with a Redis token store, paired with PIN pad 1."""

    client: LinklyClient
    http: RecordingSession
    store: RedisTokenStore
    creds: TerminalCredentials
    receiver: EventReceiver
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
        return [e for e in list(self.receiver.events) if e["path"].startswith(prefix)]

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


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[LinklySimulator]:
    """A fresh simulator on a free loopback port: PIN pad 1, tiny delays, http webhooks."""
    config = SimulatorConfig(
        username=USERNAME,
        password=PASSWORD,
        cardholder_delay=0.05,
        allow_http=True,
        input_timeout=15.0,
        processing_delay=0.05,
        operation_delay=0.02,
        notify_timeout=2.0,
    )
    simulator = LinklySimulator(config, pair_code=PAIR_CODE)
    simulator.start(host="127.0.0.1", port=0)
    yield simulator
    simulator.stop()


@pytest.fixture
def control(sim: LinklySimulator) -> Iterator[SimControl]:
    ctl = SimControl(sim.base_url)
    yield ctl
    ctl.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[EventReceiver]:
    """One notification endpoint for the module; events are told apart by session id."""
    rec = EventReceiver()
    yield rec
    rec.close()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([Fernet.generate_key().decode()])


@pytest.fixture
def settings(sim: LinklySimulator) -> LinklySettings:
    return LinklySettings(
        auth_url=sim.base_url,
        api_url=sim.base_url,
        pos_vendor_id=POS_VENDOR_ID,
        pos_name="bizproc-tests",
        pos_version="1.0.0",
        read_timeout=10,
        transaction_read_timeout=10,
        require_https_notification=False,
    )


@pytest.fixture
def make_client(
    settings: LinklySettings, redis_url: str, box: SecretBox
) -> Iterator[Callable[[], tuple[LinklyClient, RecordingSession, RedisTokenStore]]]:
    """Build independent clients (own HTTP session, own Redis connection) on the same Redis."""
    opened: list[tuple[RecordingSession, redis.Redis]] = []

    def build() -> tuple[LinklyClient, RecordingSession, RedisTokenStore]:
        http = RecordingSession()
        conn = redis.Redis.from_url(redis_url)
        opened.append((http, conn))
        store = RedisTokenStore(conn, encrypt=box.encrypt, decrypt=box.decrypt)
        return LinklyClient(settings, session=http, token_store=store), http, store

    yield build
    for http, conn in opened:
        http.close()
        conn.close()


@pytest.fixture
def pos(make_client, receiver: EventReceiver) -> Pos:
    """A POS whose client paired PIN pad 1 (no token fetched yet)."""
    client, http, store = make_client()
    secret = client.pair(username=USERNAME, password=PASSWORD, pair_code=PAIR_CODE)
    assert secret
    creds = TerminalCredentials(secret=secret, pos_id=str(uuid.uuid4()))
    return Pos(client, http, store, creds, receiver)


# --------------------------------------------------------------------------------------------
# 1 + 11. The happy path, in both casings
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("casing", ["camel", "pascal"])
def test_purchase_round_trip(
    casing: str, sim: LinklySimulator, control: SimControl, pos: Pos, redis_client: redis.Redis
) -> None:
    sim.config.casing = casing
    assert to_cents(Decimal("10.00")) == 1000

    token = pos.client.token(credentials=pos.creds)
    assert token
    key = TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    raw = redis_client.get(key)
    assert raw is not None and token.encode() not in raw  # cached, and encrypted at rest
    assert pos.cached_token() == token

    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None
    assert p.submit.accepted and p.submit.status_code == 202 and p.submit.result is None
    assert p.submit.session_id == p.session_id

    events = pos.wait_final_event(p.session_id)
    notes = check_envelopes(events, p)
    types = [n.type for n in notes]
    assert types == ["display"] * 5 + ["receipt", "receipt", "transaction"], types

    # Display events: the card script with the right key flags and graphics.
    displays = [n.response for n in notes if n.type == "display"]
    assert all(isinstance(d, DisplayEvent) for d in displays)
    shown = [(d.lines, d.cancel_key, d.graphic_code) for d in displays]
    assert shown == [
        (["PRESENT CARD", ""], True, "3"),
        (["SELECT ACCOUNT", "CHQ SAV CR"], True, "4"),
        (["ENTER PIN", ""], True, "5"),
        (["PROCESSING", "PLEASE WAIT"], False, "0"),
        (["APPROVED", ""], False, "6"),
    ]
    for d in displays:
        assert isinstance(d, DisplayEvent)
        assert (d.number_of_lines, d.line_length, d.input_type) == (2, 20, "0")
        assert not (d.ok_key or d.accept_yes_key or d.decline_no_key or d.authorise_key)
        assert not d.wants_input

    # Receipts: customer then merchant copy, showing our TxnRef, the amount and the approval.
    receipts = [n.response for n in notes if n.type == "receipt"]
    assert [r.type for r in receipts] == ["C", "M"]
    for r in receipts:
        assert isinstance(r, ReceiptEvent)
        assert not r.is_preprint
        text = "\n".join(r.lines)
        assert p.txn_ref in text and "$10.00" in text and "(00) APPROVED" in text
    assert "CUSTOMER COPY" in receipts[0].lines[1]
    assert "MERCHANT COPY" in receipts[1].lines[1]

    # The final event and the recovery GET agree on an approval with an RFN.
    notified = final_of(notes)
    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.APPROVED and result.success
    assert result.response_code == "00"
    assert result.txn_type == "P"
    assert result.txn_ref == p.txn_ref
    assert result.amount_cents == 1000 and result.cash_cents == 0
    assert result.rfn and result.purchase_analysis_data["AMT"] == "000001000"
    assert result.account in {"CHQ", "SAV", "CRD"}
    assert result.account == "CRD"  # the virtual cardholder's default account
    assert result.card_type == "VISA" and result.auth_code and result.rrn
    assert notified == result
    assert pos.wait_final(p.session_id) == result  # the recovery GET is repeatable
    assert pos.wait_final(p.session_id.replace("-", "")) == result  # either UUID form

    # The simulator answered in the requested casing, and the client read it either way.
    envelope_key, code_key = (
        ("sessionId", "responseCode") if casing == "camel" else ("SessionId", "ResponseCode")
    )
    assert envelope_key in events[-1]["body"]
    assert code_key in result.raw and code_key in notified.raw

    # Exactly one charge for our TxnRef.
    charges = control.ledger(p.txn_ref)
    assert len(charges) == 1
    charge = charges[0]
    assert (charge["txnType"], charge["amountCents"], charge["rfn"]) == ("P", 1000, result.rfn)
    assert charge["sessionId"] == p.session_id and charge["pinpad"] == "1"
    assert pos.http.made("POST", f"/v1/sessions/{p.session_id}/transaction") == [202]


# --------------------------------------------------------------------------------------------
# 2. Refunds
# --------------------------------------------------------------------------------------------


def test_partial_refund_then_refund_beyond_the_remainder_is_declined(
    control: SimControl, pos: Pos
) -> None:
    purchase = pos.purchase(Decimal("10.00"))
    original = pos.wait_final(purchase.session_id)
    assert original.outcome is Outcome.APPROVED and original.rfn

    first = pos.refund(Decimal("4.00"), original.rfn)
    assert first.submit is not None and first.submit.accepted
    refunded = pos.wait_final(first.session_id)
    assert refunded.outcome is Outcome.APPROVED
    assert (refunded.txn_type, refunded.txn_ref, refunded.amount_cents) == ("R", first.txn_ref, 400)
    assert refunded.rfn and refunded.rfn != original.rfn
    notes = check_envelopes(pos.wait_final_event(first.session_id), first)
    assert final_of(notes) == refunded
    entries = control.ledger(first.txn_ref)
    assert len(entries) == 1
    assert entries[0]["txnType"] == "R" and entries[0]["amountCents"] == 400
    assert entries[0]["originalRfn"] == original.rfn

    # 4.00 + 7.00 > 10.00: declined, nothing moves.
    over = pos.refund(Decimal("7.00"), original.rfn)
    declined = pos.wait_final(over.session_id)
    assert declined.outcome is Outcome.DECLINED and not declined.success
    assert declined.response_code == "13" and declined.txn_ref == over.txn_ref
    assert declined.rfn is None
    assert control.ledger(over.txn_ref) == []

    # The exact remainder is still refundable.
    rest = pos.refund(Decimal("6.00"), original.rfn)
    assert pos.wait_final(rest.session_id).outcome is Outcome.APPROVED
    kinds = [(e["txnType"], e["amountCents"]) for e in control.ledger()]
    assert kinds == [("P", 1000), ("R", 400), ("R", 600)]


# --------------------------------------------------------------------------------------------
# 3. Decline
# --------------------------------------------------------------------------------------------


def test_bank_decline(control: SimControl, pos: Pos) -> None:
    p = pos.purchase(Decimal("10.51"))
    assert p.submit is not None and p.submit.accepted
    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.DECLINED and not result.success
    assert result.response_code == "51"
    assert result.response_text == "INSUFFICIENT FUNDS"
    assert result.txn_ref == p.txn_ref and result.amount_cents == 1051
    assert result.rfn is None
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result
    receipts = [n.response for n in notes if n.type == "receipt"]
    assert receipts and all("(51) DECLINED" in "\n".join(r.lines) for r in receipts)
    assert control.ledger(p.txn_ref) == [] and control.ledger() == []


# --------------------------------------------------------------------------------------------
# 4. Cancel from the POS while the PIN pad allows it
# --------------------------------------------------------------------------------------------


def test_cancel_with_sendkey_while_cancel_is_enabled(control: SimControl, pos: Pos) -> None:
    control.patch_pad(mode="interactive")
    p = pos.purchase(Decimal("25.00"))
    assert p.submit is not None and p.submit.accepted

    assert pos.wait_display(p.session_id, "PRESENT CARD").cancel_key
    assert control.press("card")
    assert control.press("sav")
    pin = pos.wait_display(p.session_id, "ENTER PIN")
    assert pin.cancel_key

    pos.client.send_key(credentials=pos.creds, session_id=p.session_id, key=Key.CANCEL_OR_OK)

    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.CANCELLED and not result.success
    assert result.response_code == "TM"
    assert result.txn_ref == p.txn_ref and result.rfn is None
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result
    assert "receipt" not in [n.type for n in notes]
    last_display = [n.response for n in notes if n.type == "display"][-1]
    assert isinstance(last_display, DisplayEvent) and last_display.lines[0] == "TXN CANCELLED"
    assert control.session(p.session_id)["inputs"] == [
        {"sendkey": "0", "data": "", "accepted": True}
    ]
    assert control.ledger() == []


# --------------------------------------------------------------------------------------------
# 5. Busy PIN pad
# --------------------------------------------------------------------------------------------


def test_second_purchase_on_a_busy_pinpad_fails_with_by(
    sim: LinklySimulator, control: SimControl, pos: Pos
) -> None:
    control.patch_pad(mode="interactive")  # the first purchase waits for the cardholder
    first = pos.purchase(Decimal("12.00"))
    pos.wait_display(first.session_id, "PRESENT CARD")

    second = pos.purchase(Decimal("13.00"))
    assert second.submit is not None and second.submit.accepted
    busy = pos.wait_final(second.session_id)
    assert busy.outcome is Outcome.FAILED and not busy.success
    assert busy.response_code == "BY" and busy.txn_ref == second.txn_ref
    notes = check_envelopes(pos.wait_final_event(second.session_id), second)
    assert [n.type for n in notes] == ["transaction"]

    # The first purchase is unaffected: the cardholder finishes it on the PIN pad.
    for button in ("card", "crd", "1", "2", "3", "4", "ok"):
        assert control.press(button), button
    approved = pos.wait_final(first.session_id)
    assert approved.outcome is Outcome.APPROVED and approved.txn_ref == first.txn_ref

    entries = control.ledger()
    assert [(e["txnRef"], e["amountCents"]) for e in entries] == [(first.txn_ref, 1200)]
    assert sim.pinpad("1").current is None


# --------------------------------------------------------------------------------------------
# 6. Dropped response: charged, but the client never hears it
# --------------------------------------------------------------------------------------------


def test_dropped_response_is_outcome_unknown_and_recovered_without_a_second_post(
    control: SimControl, pos: Pos
) -> None:
    control.arm("drop_response")
    session_id, txn_ref = new_session_id(), new_txn_ref()
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.purchase(
            credentials=pos.creds,
            session_id=session_id,
            txn_ref=txn_ref,
            amount_cents=to_cents(Decimal("10.00")),
            notification_uri=pos.notify_uri,
            notification_authorization="Bearer dropped",
            operator_id=7,
            operator_name="Test clerk",
        )
    assert caught.value.session_id == session_id
    assert caught.value.status is None  # no HTTP answer at all

    result = pos.wait_final(session_id)
    assert result.outcome is Outcome.APPROVED and result.txn_ref == txn_ref and result.rfn

    # One POST, never repeated: neither by the client nor as a new session on the simulator.
    assert pos.http.made("POST", f"/v1/sessions/{session_id}/transaction") == [None]
    assert pos.http.count_suffix("POST", "/transaction") == 1
    assert [s["sessionId"] for s in control.sessions()] == [session_id]
    charges = control.ledger(txn_ref)
    assert len(charges) == 1 and charges[0]["rfn"] == result.rfn
    assert len(control.ledger()) == 1


# --------------------------------------------------------------------------------------------
# 7. HTTP errors on the POST, processed or not
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("processed", [True, False], ids=["processed", "not-processed"])
@pytest.mark.parametrize("status", [408, 500, 502, 503])
def test_http_error_on_the_post_is_outcome_unknown_until_recovery(
    status: int, processed: bool, control: SimControl, pos: Pos
) -> None:
    control.arm("http_error", params={"status": status, "on": "post", "processed": processed})
    session_id, txn_ref = new_session_id(), new_txn_ref()
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.purchase(
            credentials=pos.creds,
            session_id=session_id,
            txn_ref=txn_ref,
            amount_cents=1000,
            notification_uri=pos.notify_uri,
            notification_authorization="Bearer http-error",
            operator_id=7,
            operator_name="Test clerk",
        )
    assert caught.value.status == status
    assert caught.value.reason == f"http_{status}"
    assert caught.value.session_id == session_id
    assert pos.http.made("POST", f"/v1/sessions/{session_id}/transaction") == [status]

    if processed:
        result = pos.wait_final(session_id)
        assert result.outcome is Outcome.APPROVED and result.txn_ref == txn_ref
        assert len(control.ledger(txn_ref)) == 1
    else:
        answer = pos.client.transaction_status(credentials=pos.creds, session_id=session_id)
        assert answer.state is RecoveryState.NOT_FOUND and answer.result is None
        assert control.ledger() == []
        assert control.sessions() == []
    assert pos.http.count_suffix("POST", "/transaction") == 1


@pytest.mark.parametrize("status", [408, 503])
def test_http_error_on_the_recovery_get_is_outcome_unknown_then_resolves(
    status: int, control: SimControl, pos: Pos
) -> None:
    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None and p.submit.accepted
    control.arm("http_error", params={"status": status, "on": "get"})
    with pytest.raises(OutcomeUnknown) as caught:
        pos.client.transaction_status(credentials=pos.creds, session_id=p.session_id)
    assert caught.value.status == status and caught.value.reason == f"http_{status}"
    result = pos.wait_final(p.session_id)  # the next polls get through
    assert result.outcome is Outcome.APPROVED and result.txn_ref == p.txn_ref
    assert len(control.ledger(p.txn_ref)) == 1
    assert pos.http.count_suffix("POST", "/transaction") == 1


# --------------------------------------------------------------------------------------------
# 8. Recovery of a session that never reached Linkly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["hyphenated", "compact"])
def test_recovery_of_an_unknown_session_is_not_found(
    form: str, control: SimControl, pos: Pos
) -> None:
    sid = str(uuid.uuid4()) if form == "hyphenated" else uuid.uuid4().hex
    answer = pos.client.transaction_status(credentials=pos.creds, session_id=sid)
    assert answer.session_id == sid
    assert answer.state is RecoveryState.NOT_FOUND and answer.result is None
    assert pos.http.made("GET", f"/v1/sessions/{sid}/transaction") == [404]
    assert control.ledger() == [] and control.sessions() == []


# --------------------------------------------------------------------------------------------
# 9. The token is revoked mid-transaction
# --------------------------------------------------------------------------------------------


def test_token_revoked_mid_transaction_is_renewed_once_by_the_recovery_get(
    control: SimControl, pos: Pos, redis_client: redis.Redis
) -> None:
    first_token = pos.client.token(credentials=pos.creds)
    key = TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    first_raw = redis_client.get(key)
    assert first_raw is not None and control.stats()["tokens"] == 1

    control.arm("token_expiry")
    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None and p.submit.accepted and p.submit.status_code == 202
    assert control.stats()["tokens"] == 0  # every token of the PIN pad was revoked

    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.APPROVED and result.txn_ref == p.txn_ref

    # The first GET met a 401; the client dropped the token, fetched a new one, retried once.
    gets = pos.http.made("GET", f"/v1/sessions/{p.session_id}/transaction")
    assert gets[0] == 401 and 401 not in gets[1:] and gets[-1] == 200
    assert pos.http.made("POST", TOKEN_PATH) == [200, 200]
    second_token = pos.cached_token()
    assert second_token and second_token != first_token
    second_raw = redis_client.get(key)
    assert second_raw is not None and second_raw != first_raw
    assert control.stats()["tokens"] == 1

    # No second POST, one charge, and the notifications kept flowing meanwhile.
    assert pos.http.count_suffix("POST", "/transaction") == 1
    assert len(control.ledger(p.txn_ref)) == 1 and len(control.ledger()) == 1
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result


# --------------------------------------------------------------------------------------------
# 10. The token cache is shared through Redis
# --------------------------------------------------------------------------------------------


def test_token_cache_is_shared_by_clients_on_the_same_redis(
    make_client,
    control: SimControl,
    pos: Pos,
    redis_client: redis.Redis,
    box: SecretBox,
) -> None:
    other_client, other_http, other_store = make_client()
    other = Pos(other_client, other_http, other_store, pos.creds, pos.receiver)
    start = threading.Barrier(2)

    def fetch(who: Pos) -> str:
        start.wait(timeout=5)
        return who.client.token(credentials=who.creds)

    with ThreadPoolExecutor(max_workers=2) as pool:
        tokens = list(pool.map(fetch, [pos, other]))

    assert tokens[0] == tokens[1]
    requests_made = pos.http.made("POST", TOKEN_PATH) + other.http.made("POST", TOKEN_PATH)
    assert requests_made == [200]
    assert control.stats()["tokens"] == 1
    keys = redis_client.keys(TOKEN_PREFIX + "*")
    assert [k.decode() for k in keys] == [
        TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    ]
    stored = json.loads(box.decrypt(redis_client.get(keys[0]).decode()))
    assert stored["token"] == tokens[0]

    # Both clients keep using the one cached token for real work.
    p = other.purchase(Decimal("10.00"))
    assert other.wait_final(p.session_id).outcome is Outcome.APPROVED
    q = pos.purchase(Decimal("11.00"))
    assert pos.wait_final(q.session_id).outcome is Outcome.APPROVED
    assert pos.http.made("POST", TOKEN_PATH) + other.http.made("POST", TOKEN_PATH) == [200]
    assert len(control.ledger()) == 2
