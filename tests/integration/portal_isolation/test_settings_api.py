"""Portal isolation on the settings API: A's administrator cannot reach B's terminals or grants,
and a frame token cannot be replayed as B's."""

from __future__ import annotations

import pytest

from bizproc_app.web.frame_session import FrameUser, issue
from tests.integration.portal_isolation.helpers import b_untouched, bearer, refused, snapshot


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("put", "", {"users": [5, 6]}),
        ("put", "", {"shared": False}),
        ("post", "/test", None),
        ("delete", "", None),
    ],
)
def test_a_admin_cannot_assign_test_or_remove_b_terminal(
    fuzz_app, portals, b24_b, method, suffix, body
) -> None:
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = getattr(fuzz_app.test_client(), method)(
        f"/api/terminals/{b['terminal_id']}{suffix}", json=body, headers=bearer(fuzz_app)
    )
    refused(resp, 404, "no such terminal")
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


@pytest.mark.parametrize(
    "extra",
    [
        {"portal_id": "{portal}"},
        {"terminal_id": "{terminal}"},
        {"member_id": "{member}"},
    ],
)
def test_a_admin_cannot_aim_a_pairing_at_b(fuzz_app, portals, b24_b, extra) -> None:
    # Pairing takes no terminal id: it always creates a terminal in the caller's portal. A body
    # that names B's portal, terminal or member id is refused before Linkly is asked anything.
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    ((key, value),) = extra.items()
    value = value.format(portal=b["portal_id"], terminal=b["terminal_id"], member=b["member_id"])
    form = {
        "name": "Tb",
        "username": "shop",
        "password": "shop-pass",
        "pair_code": "111111",
        key: value,
    }
    resp = fuzz_app.test_client().post("/api/terminals/pair", json=form, headers=bearer(fuzz_app))
    body = refused(resp, 400, "correct the highlighted fields", "unknown field")
    assert set(body["errors"]) == {key}
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


def test_a_admin_replacing_refund_users_leaves_b_grants(fuzz_app, portals, b24_b) -> None:
    # A legitimate change of A's own list (200): it deletes and re-adds A's grants only.
    b = portals["b"]
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().put(
        "/api/refund-users", json={"users": [2]}, headers=bearer(fuzz_app)
    )
    assert resp.status_code == 200 and resp.get_json() == {"refund_users": [2]}
    after = snapshot(fuzz_app, b["portal_id"])
    assert after["b"] == before["b"]
    assert after["b"]["refund_grants"] == [{"portal_id": b["portal_id"], "user_id": 7}]
    assert {k: v for k, v in after["counts"].items() if k != "journal"} == {
        k: v for k, v in before["counts"].items() if k != "journal"
    }
    b_untouched(b24_b)


def test_a_frame_token_cannot_be_replayed_as_b(fuzz_app, portals, b24_b) -> None:
    # The portal comes from the signed token only; a token whose payload names B but was not
    # signed by us (here: A's token with its payload swapped) is refused.
    b = portals["b"]
    with fuzz_app.app_context():
        real_b = issue(FrameUser(b["portal_id"], 1, "Admin", True))
    a_token = fuzz_app.config["FUZZ"]["token_a"]
    forged = ".".join([real_b.split(".")[0], *a_token.split(".")[1:]])
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().get(
        f"/api/payments/{b['running']}", headers={"Authorization": f"Bearer {forged}"}
    )
    refused(resp, 401, "session has expired")
    assert snapshot(fuzz_app, b["portal_id"]) == before
