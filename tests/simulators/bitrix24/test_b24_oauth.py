"""OAuth server: refresh rotation, invalid_grant, expiry, app.info on both hosts, revoke."""

from __future__ import annotations

import requests

from .conftest import Client


def refresh(b24: Client, refresh_token: str, secret: str | None = None) -> requests.Response:
    """GET the OAuth server's token endpoint exactly as the app does."""
    cfg = b24.sim.config
    params = {
        "grant_type": "refresh_token",
        "client_id": cfg.client_id,
        "client_secret": secret or cfg.client_secret,
        "refresh_token": refresh_token,
    }
    return requests.get(b24.urls["oauth"] + "/oauth/token/", params=params, timeout=5)


def test_refresh_rotates_and_old_refresh_token_is_dead(b24: Client) -> None:
    pair = b24.issue(2)
    r = refresh(b24, pair["refresh_token"])
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "access_token",
        "client_endpoint",
        "domain",
        "expires",
        "expires_in",
        "member_id",
        "refresh_token",
        "scope",
        "server_endpoint",
        "status",
        "user_id",
    }
    assert body["refresh_token"] != pair["refresh_token"]
    assert body["user_id"] == 2 and body["expires_in"] == 3600
    assert body["client_endpoint"] == b24.urls["rest"]
    assert body["server_endpoint"] == b24.urls["oauth"] + "/rest/"
    assert b24.ok("user.current", token=body["access_token"])["ID"] == "2"
    again = refresh(b24, pair["refresh_token"])
    assert again.json() == {"error": "invalid_grant", "error_description": "Invalid grant"}
    assert again.status_code == 400
    assert refresh(b24, body["refresh_token"]).status_code == 200


def test_refresh_with_wrong_secret_is_invalid_client(b24: Client) -> None:
    r = refresh(b24, b24.issue(1)["refresh_token"], secret="nope")
    assert r.json()["error"] == "invalid_client"


def test_expired_token_401(make_sim) -> None:
    b24 = make_sim(access_ttl=3600)
    short = b24.issue(1, ttl=0)["access_token"]
    b24.ctl("POST", "clock/advance", {"seconds": 1})
    r = b24.call("user.current", token=short)
    assert r.status_code == 401
    assert r.json() == {
        "error": "expired_token",
        "error_description": "The access token provided has expired.",
    }
    assert b24.call("user.current").status_code == 200
    b24.ctl("POST", "tokens/expire")
    assert b24.call("user.current").json()["error"] == "expired_token"


def test_app_info_on_both_hosts(b24: Client) -> None:
    portal = b24.ok("app.info")
    assert set(portal) >= {
        "ID",
        "CODE",
        "VERSION",
        "STATUS",
        "INSTALLED",
        "PAYMENT_EXPIRED",
        "DAYS",
        "LANGUAGE_ID",
        "LICENSE",
        "LICENSE_TYPE",
        "LICENSE_FAMILY",
    }
    r = requests.get(b24.urls["oauth"] + "/rest/app.info", params={"auth": b24.token}, timeout=5)
    oauth = r.json()["result"]
    assert oauth["client_id"] == b24.sim.config.client_id
    assert oauth["install"]["member_id"] == b24.sim.portal.member_id
    assert oauth["install"]["client_endpoint"] == b24.urls["rest"]
    assert set(oauth) == {"client_id", "scope", "expires", "user_id", "install"}
    assert "time" in r.json()
    bad = requests.get(b24.urls["oauth"] + "/rest/app.info", params={"auth": "x"}, timeout=5)
    assert bad.status_code == 401


def test_second_oauth_port(make_sim) -> None:
    b24 = make_sim(oauth_port=0)
    assert "/oauth-server" not in b24.urls["oauth"]
    pair = b24.issue(1)
    assert refresh(b24, pair["refresh_token"]).status_code == 200


def test_revoke_refuses_tokens_and_refresh(b24: Client) -> None:
    pair = b24.issue(1)
    b24.ctl("POST", "app/revoke")
    r = b24.call("user.current", token=pair["access_token"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert refresh(b24, pair["refresh_token"]).json()["error"] == "invalid_client"


def test_authorization_code_flow(b24: Client) -> None:
    cfg = b24.sim.config
    r = requests.get(
        b24.urls["portal"] + "/oauth/authorize/",
        params={"client_id": cfg.client_id, "state": "s1", "user": 3},
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 302
    from urllib.parse import parse_qs, urlsplit

    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert q["state"] == "s1" and q["member_id"] == b24.sim.portal.member_id
    params = {
        "grant_type": "authorization_code",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "code": q["code"],
    }
    tok = requests.get(b24.urls["oauth"] + "/oauth/token/", params=params, timeout=5).json()
    assert tok["user_id"] == 3
    reuse = requests.get(b24.urls["oauth"] + "/oauth/token/", params=params, timeout=5)
    assert reuse.json()["error"] == "invalid_grant"
