"""Every authenticated route refuses a wrong credential, says why, and changes nothing.

`api_world`'s portals, with A's Bitrix24 (`b24`) and Linkly (`pinpads`) simulators observed: a
refused call moves no row of any table, no simulator request counter, no CRM item, no job. Who
may call each route with a good credential is `test_who_may_call.py`'s table.
"""

from __future__ import annotations

import time

import pytest
from flask import current_app
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bizproc_app.config import Timings
from bizproc_app.extensions import redis_conn
from bizproc_app.web.frame_session import FrameUser, issue, read
from tests.bitrix_fixtures import CLIENT_SECRET
from tests.fuzz.conftest import APP_TOKEN
from tests.helpers.bitrix24 import b24_ctl
from tests.integration.api_world import (
    ENCRYPTION_KEY,
    NOT_INSTALLED,
    ROUTES,
    SECRET_KEY,
    SESSION,
    TERMINAL_SECRET,
    call,
    config,
    fuzz_app,
    observe,
    world,
)

__all__ = ["config", "fuzz_app", "observe", "world"]  # fixtures, reused as they are


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - Timings().frame_token - 60


def bad_credentials(portal_id: int, admin_token: str) -> dict[str, tuple[dict[str, str], str]]:
    """Name -> (headers, the app's message); every token names A's admin unless it says not."""
    key = current_app.config["SECRET_KEY"]
    claims = URLSafeTimedSerializer(key, salt="frame-token").loads(admin_token)
    other_key = URLSafeTimedSerializer("another-secret-key", salt="frame-token").dumps(claims)
    expired = URLSafeTimedSerializer(key, salt="frame-token", signer=_LongAgo).dumps(claims)
    # Only its age is wrong: without max_age our own key reads it.
    assert URLSafeTimedSerializer(key, salt="frame-token").loads(expired) == claims
    unknown_portal = issue(FrameUser(portal_id + 1000, 1, "Admin", True))
    ended = current_app.config["FUZZ"]["token_ended"]
    user = read(ended)
    assert user is not None  # a good token: only its session's Bitrix24 tokens are gone
    redis_conn.client.delete(f"frame:{user.session}:tokens")
    return {
        "no header": ({}, SESSION),
        "Bearer forged": ({"Authorization": "Bearer forged"}, SESSION),
        "another SECRET_KEY": ({"Authorization": f"Bearer {other_key}"}, SESSION),
        "expired 4 h ago": ({"Authorization": f"Bearer {expired}"}, SESSION),
        "no Bearer scheme": ({"Authorization": admin_token}, SESSION),
        "unknown portal id": ({"Authorization": f"Bearer {unknown_portal}"}, NOT_INSTALLED),
        "session ended": ({"Authorization": f"Bearer {ended}"}, SESSION),
    }


def test_the_table_lists_every_api_route(app) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    registered = {f"{m} {r.rule}" for r in rules for m in r.methods - {"HEAD", "OPTIONS"}}
    assert registered == set(ROUTES)  # a new /api/ route must be added to the table


@pytest.mark.parametrize("route", ROUTES)
def test_api_route_refuses_a_wrong_frame_token(fuzz_app, world, observe, route) -> None:
    with fuzz_app.app_context():
        cases = bad_credentials(world["portal"], fuzz_app.config["FUZZ"]["token_a"])
    before = observe()
    for name, (headers, message) in cases.items():
        resp = call(fuzz_app, route, world, headers)
        assert (resp.status_code, resp.get_json()) == (401, {"error": message}), name
        assert observe() == before, name


def frame_post(app, b24, **changes: str) -> dict[str, str]:
    """The form Bitrix24 POSTs when user 1 opens the app's own page on portal A."""
    auth = b24_ctl(b24, "POST", "token", {"user_id": 1})["access_token"]
    form = {"member_id": app.config["FUZZ"]["member"], "APPLICATION_TOKEN": APP_TOKEN}
    form |= {"AUTH_ID": auth, "PLACEMENT": "DEFAULT", **changes}
    return {k: v for k, v in form.items() if v}


@pytest.mark.parametrize("path", ["/bitrix/placement", "/"])
@pytest.mark.parametrize(
    ("changes", "message", "asks_portal"),
    [
        ({"APPLICATION_TOKEN": "c" * 32}, "unknown portal or wrong application token", False),
        ({"AUTH_ID": ""}, "the frame POST carries no AUTH_ID", False),
        ({"AUTH_ID": "x" * 32}, "Bitrix24 did not confirm who you are: reopen the tab.", True),
    ],
    ids=["wrong APPLICATION_TOKEN", "no AUTH_ID", "AUTH_ID the portal refuses"],
)
def test_frame_post_with_a_bad_credential_issues_no_frame_token(
    fuzz_app, b24, world, observe, path, changes, message, asks_portal
) -> None:
    form, before = frame_post(fuzz_app, b24, **changes), observe()
    resp = fuzz_app.test_client().post(path, data=form)
    assert (resp.status_code, resp.get_json()) == (401, {"error": message})
    assert "POS_BOOT" not in resp.get_data(as_text=True)
    after = observe()
    # Only a genuine application token gets the AUTH_ID checked by the portal (user.current).
    assert (after.pop("bitrix") != before.pop("bitrix")) is asks_portal
    assert after == before


@pytest.mark.parametrize("path", ["/bitrix/placement", "/"])
def test_frame_post_lets_only_the_portal_frame_its_answer(fuzz_app, b24, path) -> None:
    resp = fuzz_app.test_client().post(path, data=frame_post(fuzz_app, b24))
    assert resp.status_code == 200 and "POS_BOOT" in resp.get_data(as_text=True)
    policy = [d.split() for d in resp.headers["Content-Security-Policy"].split(";")]
    # BITRIX_ALLOW_HTTP is on in fuzz_app, so the portal's http origin is allowed too.
    domain = b24.portal.domain
    assert [d[1:] for d in policy if d[0] == "frame-ancestors"] == [
        [f"https://{domain}", f"http://{domain}"]
    ]


def test_home_page_shows_no_secret(fuzz_app) -> None:
    resp = fuzz_app.test_client().get("/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    # SECRET_KEY, ENCRYPTION_KEY, BITRIX_CLIENT_SECRET, the terminals' Linkly secret, A's token.
    for secret in (SECRET_KEY, ENCRYPTION_KEY, CLIENT_SECRET, TERMINAL_SECRET, APP_TOKEN):
        assert secret not in body


def test_the_install_page_is_framed_only_by_the_stored_portal(fuzz_app, b24) -> None:
    # A refused install naming another DOMAIN: the request's DOMAIN never reaches the CSP.
    form = frame_post(fuzz_app, b24, AUTH_ID="x" * 32)
    form |= {"REFRESH_ID": "r" * 32, "AUTH_EXPIRES": "3600", "status": "L"}
    client = fuzz_app.test_client()
    resp = client.post("/bitrix/install?DOMAIN=evil.example:8443", data=form)
    assert resp.status_code in (400, 401, 503), resp.status_code
    csp = resp.headers["Content-Security-Policy"]
    assert "evil.example" not in csp
    stored = b24.portal.domain  # A's portal is stored (member_id is A's): only it may frame
    assert f"https://{stored}" in csp
    unknown = client.post(
        "/bitrix/install?DOMAIN=evil.example", data={**form, "member_id": "z" * 32}
    )
    assert "frame-ancestors 'none'" in unknown.headers["Content-Security-Policy"]
