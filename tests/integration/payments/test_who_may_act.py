"""Cancel and keys: who started the payment, the users of its terminal, admins (issue 13, 3)."""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.extensions import db
from bizproc_app.models import Payment
from tests.bitrix_fixtures import frame_token
from tests.integration.payments.races import queued_purchase

REFUSED = "Only who started this payment, the users of its terminal and admins may do this."


def _as(app: Any, shop: dict[str, Any], user_id: int, admin: bool = False) -> dict[str, str]:
    control = shop["control"]
    card = ("deal", shop["deal_id"])
    token = frame_token(app, control, shop["portal_id"], user_id, admin=admin, entity=card)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("path", "body"), [("cancel", None), ("keys", {"key": "yes"})])
def test_a_user_of_another_terminal_may_not_cancel_or_press(shop, served_app, path, body) -> None:
    with served_app.app_context():
        payment_id = queued_purchase(served_app, shop)  # user 1, on "Front" (user 1 only)
        client = served_app.test_client()
        url = f"/api/payments/{payment_id}/{path}"
        resp = client.post(url, json=body, headers=_as(served_app, shop, 3))
        assert (resp.status_code, resp.get_json()) == (403, {"error": REFUSED})
        db.session.expire_all()
        assert db.session.get(Payment, payment_id).state == "queued"


def test_who_started_it_and_admins_may_cancel(shop, served_app) -> None:
    with served_app.app_context():
        client = served_app.test_client()
        for user_id, admin in ((1, False), (9, True)):
            payment_id = queued_purchase(served_app, shop)
            url = f"/api/payments/{payment_id}/cancel"
            resp = client.post(url, headers=_as(served_app, shop, user_id, admin))
            assert resp.status_code == 200, resp.get_json()
            db.session.expire_all()
            assert db.session.get(Payment, payment_id).state == "cancelled"
