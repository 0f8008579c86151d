"""Portal isolation for Bitrix24's own POSTs: the placement frame POST issues no frame token and
the ONAPP* lifecycle events do nothing when their tokens are the other portal's."""

from __future__ import annotations

import pytest

from tests.fuzz.conftest import APP_TOKEN, OTHER_TOKEN
from tests.helpers.bitrix24 import b24_ctl
from tests.helpers.jobs import queued_jobs
from tests.integration.portal_isolation.helpers import (
    b_untouched,
    lifecycle_form,
    refused,
    snapshot,
)

# The frame POST that issues frame tokens.


@pytest.mark.parametrize("direction", ["a_token_b_member", "b_token_a_member"])
def test_placement_with_the_other_portal_token_issues_no_frame_token(
    fuzz_app, portals, b24_b, direction
) -> None:
    a, b = portals["a"], portals["b"]
    member, token = (
        (b["member_id"], APP_TOKEN)
        if direction == "a_token_b_member"
        else (a["member_id"], OTHER_TOKEN)
    )
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        "/bitrix/placement",
        data={
            "member_id": member,
            "APPLICATION_TOKEN": token,
            "AUTH_ID": "x" * 32,
            "PLACEMENT": "CRM_DEAL_DETAIL_TAB",
            "PLACEMENT_OPTIONS": '{"ID": "1"}',
        },
    )
    refused(resp, 401, "unknown portal or wrong application token")
    assert "POS_BOOT" not in resp.get_data(as_text=True)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    b_untouched(b24_b)


# Lifecycle events name a portal by member_id: A's credentials never act on B.


@pytest.mark.parametrize(
    ("path", "event", "problem"),
    [
        ("/bitrix/install", "ONAPPINSTALL", "belongs to another app or portal"),
        ("/bitrix/events", "ONAPPUPDATE", "belongs to another app or portal"),
        ("/bitrix/events", "ONAPPUNINSTALL", "application token does not match"),
    ],
)
def test_a_lifecycle_event_aimed_at_b_is_refused(
    fuzz_app, portals, b24, b24_b, redis_client, path, event, problem
) -> None:
    # A's genuine access token (app.info vouches for A) and A's application token, B's member id:
    # were it accepted, B's tokens, endpoint and application token would become A's.
    b = portals["b"]
    issued_a = b24_ctl(b24, "POST", "token", {"user_id": 1})
    before = snapshot(fuzz_app, b["portal_id"])
    resp = fuzz_app.test_client().post(
        path, data=lifecycle_form(event, b["member_id"], APP_TOKEN, issued_a)
    )
    refused(resp, 401, problem)
    assert snapshot(fuzz_app, b["portal_id"]) == before
    assert queued_jobs(redis_client) == 0
    b_untouched(b24_b)
