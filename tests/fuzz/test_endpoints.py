"""Bad input, thousands of ways: never a 5xx, a clear 4xx, no charge, no half-written record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bizproc_app.web.http import nul_at
from tests.fuzz.conftest import APP_TOKEN, NOTIFY_SECRET, OTHER_TOKEN, clear_4xx, counts

# The full campaign (`make fuzz`) runs thousands of cases per endpoint: no per-test timeout.
pytestmark = pytest.mark.timeout(3600)

text = st.text(max_size=40)
junk = st.one_of(
    text,
    st.integers(),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(text, max_size=3),
    st.dictionaries(text, text, max_size=3),
)
amounts = st.one_of(
    st.sampled_from(
        [
            "10.00",
            "0",
            "0.00",
            "-1",
            "1.234",
            "1e3",
            "NaN",
            "Infinity",
            "99999999999",
            "10,50",
            " 5 ",
            "",
            "abc",
            "0.001",
            "9999999.99",
            "10000000.00",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
FORM_KEYS = [
    "workflow_id",
    "code",
    "document_id[0]",
    "document_id[1]",
    "document_id[2]",
    "document_type[0]",
    "event_token",
    "properties[amount]",
    "properties[currency]",
    "properties[invoice_id]",
    "properties[user]",
    "properties[terminal]",
    "properties[payment_id]",
    "properties[order_payment_id]",
    "timeout_duration",
    "auth[member_id]",
    "auth[application_token]",
    "auth[domain]",
    "auth[access_token]",
    "a[",
    "[]",
    "auth]x[",
    "properties[x][y][z][w][v][u]",
]


@given(
    form=st.dictionaries(st.sampled_from(FORM_KEYS) | text, text, max_size=12),
    right_token=st.booleans(),
    code=st.sampled_from(["linkly_pos_payment", "linkly_pos_refund_bp", "other", ""]),
    amount=amounts,
)
def test_handler_form(fuzz_app, form, right_token, code, amount) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    form = {**form, "code": code, "properties[amount]": amount}
    if right_token:
        form.update({"auth[member_id]": fuzz["member"], "auth[application_token]": APP_TOKEN})
    before = counts(fuzz_app)
    resp = fuzz_app.test_client().post("/bitrix/handler", data=form)
    clear_4xx(resp)
    after = counts(fuzz_app)
    assert after["payments"] == before["payments"]  # the handler itself never charges
    if resp.status_code in (401,) or (
        resp.status_code == 400 and "properties" not in resp.get_json().get("errors", {})
    ):
        assert after["calls"] == before["calls"]


@given(body=st.dictionaries(text, junk, max_size=6), wrong_portal=st.booleans())
def test_handler_json_and_wrong_portal(fuzz_app, body, wrong_portal) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    token = OTHER_TOKEN if wrong_portal else "f" * 32
    body = {**body, "auth": {"member_id": fuzz["member"], "application_token": token}}
    before = counts(fuzz_app)
    resp = fuzz_app.test_client().post("/bitrix/handler", json=body)
    # A NUL byte anywhere is refused before the token is looked at (no database stores one).
    assert resp.status_code == (400 if nul_at(body) is not None else 401)
    clear_4xx(resp)
    assert counts(fuzz_app) == {**before, "journal": counts(fuzz_app)["journal"]}


@given(
    form=st.dictionaries(
        st.sampled_from(
            [
                "AUTH_ID",
                "REFRESH_ID",
                "member_id",
                "APPLICATION_TOKEN",
                "AUTH_EXPIRES",
                "event",
                "auth[access_token]",
                "auth[member_id]",
                "auth[application_token]",
                "status",
            ]
        )
        | text,
        text,
        max_size=8,
    ),
    path=st.sampled_from(["/bitrix/install", "/bitrix/events"]),
    event=st.sampled_from(["", "ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL", "OTHER"]),
)
def test_install_and_events(fuzz_app, form, path, event) -> None:
    if event:
        form = {**form, "event": event}
    before = counts(fuzz_app)
    resp = fuzz_app.test_client().post(path, data=form, query_string={"DOMAIN": "evil.example"})
    clear_4xx(resp)
    assert resp.status_code in (400, 401), resp.get_data(as_text=True)[:200]
    after = counts(fuzz_app)
    assert after["states"] == before["states"] and after["calls"] == before["calls"]


@given(
    body=st.one_of(
        st.dictionaries(text, junk, max_size=5),
        st.just(
            {
                "SessionId": "0" * 32,
                "ResponseType": "transaction",
                "Response": {"Success": True, "ResponseCode": "00", "TxnRef": "FUZZREF000000001"},
            }
        ),
    ),
    auth=st.sampled_from(
        ["", "Bearer ", "Bearer wrong", f"Bearer {NOTIFY_SECRET}x", NOTIFY_SECRET]
    ),
    kind=st.sampled_from(["transaction", "display", "receipt", "x"]),
)
def test_notification_with_wrong_authorization_changes_nothing(fuzz_app, body, auth, kind) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    before = counts(fuzz_app)
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{fuzz['payment_id']}/{'0' * 32}/{kind}",
        json=body,
        headers={"Authorization": auth},
    )
    assert resp.status_code == 401
    clear_4xx(resp)
    assert counts(fuzz_app)["states"] == before["states"] == ["in_progress"]


@given(
    body=st.one_of(st.dictionaries(text, junk, max_size=5), junk.map(lambda v: {"Response": v})),
    kind=st.sampled_from(["transaction", "display", "receipt"]),
)
def test_notification_with_right_authorization_and_junk_body(fuzz_app, body, kind) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    resp = fuzz_app.test_client().post(
        f"/linkly/notify/{fuzz['payment_id']}/{'0' * 32}/{kind}",
        json=body,
        headers={"Authorization": f"Bearer {NOTIFY_SECRET}"},
    )
    clear_4xx(resp)
    assert counts(fuzz_app)["payments"] == 1


@given(
    amount=amounts, title=text, token=st.sampled_from(["token_a", "token_b", "token_clerk", None])
)
def test_ui_add_invoice_and_payment_input(fuzz_app, amount, title, token) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    headers = {"Authorization": f"Bearer {fuzz[token]}" if token else "Bearer forged"}
    client = fuzz_app.test_client()
    before = counts(fuzz_app)
    resp = client.post(
        "/api/payments/" + fuzz["payment_id"] + "/refunds", json={"amount": amount}, headers=headers
    )
    clear_4xx(resp)
    assert resp.status_code in (400, 401, 403, 404, 409)
    resp = client.post(
        "/api/payments",
        json={"target": {"kind": "invoice", "id": amount}, "terminal_id": amount},
        headers=headers,
    )
    clear_4xx(resp)
    resp = client.put("/api/refund-users", json={"users": [amount]}, headers=headers)
    clear_4xx(resp)
    after = counts(fuzz_app)
    assert after["payments"] == before["payments"] and after["states"] == before["states"]


@given(
    path=st.sampled_from(
        [
            "/api/payments/{pid}",
            "/api/payments/{pid}/cancel",
            "/api/settings",
            "/api/terminals",
            "/api/payments/{pid}/keys",
        ]
    ),
    token=st.sampled_from(["token_b", "token_clerk", None]),
    body=st.dictionaries(text, junk, max_size=3),
)
def test_ui_other_portal_and_non_admin_see_nothing(fuzz_app, path, token, body) -> None:
    fuzz = fuzz_app.config["FUZZ"]
    headers = {"Authorization": f"Bearer {fuzz[token]}" if token else "Bearer x.y.z"}
    url = path.format(pid=fuzz["payment_id"])
    method = "get" if path.endswith(("{pid}", "settings", "terminals")) else "post"
    resp = getattr(fuzz_app.test_client(), method)(url, json=body, headers=headers)
    clear_4xx(resp)
    if token == "token_b" and "{pid}" in path:
        assert resp.status_code in (400, 404), resp.status_code  # portal B never sees A's payment
    if token is None:
        assert resp.status_code == 401
    if token == "token_clerk" and path == "/api/settings":
        assert resp.status_code == 403
