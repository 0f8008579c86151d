"""Who may call each /api/ route, user by user of one portal: the table, enforced and documented.

The table is copied into docs/security.md; a test keeps that copy equal to TABLE.

Each kind of user opens a real frame session (their own simulator tokens kept with it) and sends
the route's realistic request from `api_world`. A refusal must say why and change nothing (rows,
CRM, Linkly, jobs); getting through must reach a row or a simulator. A new route fails
`test_the_table_covers_every_route` until someone decides who may call it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bizproc_app.extensions import redis_conn
from bizproc_app.web.frame_session import read
from tests.bitrix_fixtures import frame_token
from tests.helpers.bitrix24 import b24_ctl
from tests.integration.api_world import (
    ADMIN,
    ADMINS_ONLY,
    ROUTES,
    SCREEN,
    call,
    config,
    fuzz_app,
    observe,
    world,
)

__all__ = ["config", "fuzz_app", "observe", "world"]  # fixtures, reused as they are

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
REFUND_RIGHTS = "Refunds need refund rights: ask an administrator."
NOT_ALLOWED = "Bitrix24 does not let you see or change this deal or invoice."
OTHER_CARD = "This screen belongs to another deal or invoice: open the payment screen on that card."
NO_PAYMENT = "No such payment."

# Who calls (the column heads in docs/security.md): each opens a real frame session; see as_kind().
KINDS: dict[str, str] = {
    "admin": "admin",
    "clerk": "clerk",
    "no_crm": "clerk without CRM rights",
    "other_card": "admin, other card",
    "no_card": "admin, settings frame",
    "demoted": "demoted admin",
}
YES = (0, "")
ADM, REF, DENY = (403, ADMINS_ONLY), (403, REFUND_RIGHTS), (403, NOT_ALLOWED)
CARD, NONE = (403, OTHER_CARD), (404, NO_PAYMENT)
CRM_READ_OR_WRITE = (YES, YES, DENY, CARD, CARD, YES)
PAYMENT = (YES, YES, YES, NONE, NONE, YES)  # cancel and keys: users of its (shared) terminal
TABLE: dict[str, tuple[tuple[int, str], ...]] = {
    "GET /api/deals/<int:deal_id>": CRM_READ_OR_WRITE,
    "GET /api/invoices/<int:invoice_id>": CRM_READ_OR_WRITE,
    "POST /api/deals/<int:deal_id>/invoices": CRM_READ_OR_WRITE,
    "POST /api/payments": CRM_READ_OR_WRITE,
    "GET /api/terminals": (YES,) * 6,
    "GET /api/payments/<payment_id>": PAYMENT,
    "POST /api/payments/<payment_id>/cancel": PAYMENT,
    "POST /api/payments/<payment_id>/keys": PAYMENT,
    "POST /api/payments/<payment_id>/refunds": (YES, REF, REF, NONE, NONE, REF),
    **{route: (YES, ADM, ADM, YES, YES, ADM) for route in ADMIN},
}
CASES = [(route, kind) for route in TABLE for kind in KINDS]


def as_kind(app, b24, world: dict[str, Any], route: str, kind: str) -> dict[str, str]:
    """The Authorization header of that kind of user, with a frame opened as they would."""
    on_invoice = "<int:invoice_id>" in route
    card = ("invoice", world["invoice_id"]) if on_invoice else ("deal", world["deal_id"])
    control, portal = b24.urls["control"], world["portal"]
    if kind == "no_crm":
        for type_id in (2, 31):
            rights = {"read": "none", "add": "none", "write": "none"}
            b24_ctl(b24, "PUT", "permissions", {"user_id": 3, "entityTypeId": type_id, **rights})
    user, admin, entity = {
        "admin": (1, True, card),
        "clerk": (2, False, card),
        "no_crm": (3, False, card),
        "other_card": (1, True, ("deal", world["other_deal_id"])),
        "no_card": (1, True, None),
        "demoted": (2, True, card),  # Bitrix24 says user 2 is no admin (any more)
    }[kind]
    token = frame_token(app, control, portal, user, admin=admin, entity=entity)
    if kind == "demoted":  # the last check of the right is older than ADMIN_RECHECK_SECONDS
        with app.app_context():
            session = read(token).session
            assert redis_conn.client.delete(f"frame:{session}:admin-checked") == 1
    b24_ctl(b24, "DELETE", "requests")
    return {"Authorization": f"Bearer {token}"}


def test_the_table_covers_every_route() -> None:
    assert set(TABLE) == set(ROUTES) == {*SCREEN, *ADMIN}
    assert all(len(answers) == len(KINDS) for answers in TABLE.values())


@pytest.mark.parametrize(("route", "kind"), CASES)
def test_who_may_call_each_route(fuzz_app, b24, world, observe, route, kind) -> None:
    headers = as_kind(fuzz_app, b24, world, route, kind)
    status, message = TABLE[route][list(KINDS).index(kind)]
    before = observe()
    resp = call(fuzz_app, route, world, headers)
    after = observe()
    if status:
        assert (resp.status_code, resp.get_json()) == (status, {"error": message})
        # Asking Bitrix24 (the user's rights, the card as they may see it) is all that happened.
        assert {**after, "bitrix": None} == {**before, "bitrix": None}
        return
    # Through the checks: what follows (a Linkly 502 for fuzz_app's unpaired secret) is not ours.
    assert resp.status_code not in (401, 403, 404), resp.get_data(as_text=True)[:300]
    # Reads of our own rows touch nothing; every other route reaches a simulator or a row.
    reads = ("GET /api/terminals", "GET /api/payments/", "GET /api/attention")
    assert after != before or route.startswith(reads)


def readme_table() -> str:
    """The copy of TABLE in docs/security.md."""
    short = {ADMINS_ONLY: "admins only", REFUND_RIGHTS: "refund rights", NOT_ALLOWED: "CRM says no",
             OTHER_CARD: "other card", NO_PAYMENT: "no such payment"}  # fmt: skip

    def cell(answer: tuple[int, str]) -> str:
        return "yes" if answer == YES else f"{answer[0]} {short[answer[1]]}"

    head = ["| route | " + " | ".join(KINDS.values()) + " |", "|---" * (len(KINDS) + 1) + "|"]
    rows = [f"| `{route}` | " + " | ".join(map(cell, TABLE[route])) + " |" for route in TABLE]
    return "\n".join(head + rows)


def test_the_security_doc_states_who_may_call_each_route() -> None:
    assert readme_table() in DOC.read_text(), "paste readme_table() into docs/security.md"
