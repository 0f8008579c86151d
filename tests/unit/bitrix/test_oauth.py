"""The OAuth client, settings and client_endpoint validation."""

from __future__ import annotations

import logging

import pytest
import requests

from bizproc_app.bitrix import (
    AuthError,
    BitrixSettings,
    BitrixUnavailable,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    OAuthClient,
    OAuthError,
    validate_client_endpoint,
)
from tests.unit.bitrix.helpers import (
    CLIENT_SECRET,
    MEMBER_ID,
    OAUTH_URL,
    OLD_REFRESH,
    TOKEN_URL,
    query_of,
    token_json,
)


def test_refresh_sends_the_documented_query(oauth: OAuthClient, requests_mock) -> None:
    requests_mock.get(TOKEN_URL, json=token_json(7))
    grant = oauth.refresh(refresh_token=OLD_REFRESH)
    request = requests_mock.request_history[0]
    assert request.method == "GET"
    assert query_of(request.url) == {
        "grant_type": ["refresh_token"],
        "client_id": ["local.app.1"],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [OLD_REFRESH],
    }
    assert request.timeout == (5.0, 30.0)
    assert grant.access_token == "access-new-7"
    assert grant.refresh_token == "refresh-new-7"
    assert grant.expires_at == 1_000_000.0 + 3600
    assert (grant.member_id, grant.user_id, grant.scope) == (MEMBER_ID, 1, "crm,bizproc")
    assert "access-new-7" not in repr(grant) and "refresh-new-7" not in repr(grant)


def test_expiry_falls_back_to_expires(oauth: OAuthClient, requests_mock) -> None:
    body = token_json(1)
    del body["expires_in"]
    requests_mock.get(TOKEN_URL, json=body)
    assert oauth.refresh(refresh_token="r").expires_at == 1780319382


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"error": "invalid_grant", "error_description": "Invalid grant"}, InvalidGrant),
        (200, {"error": "invalid_grant"}, InvalidGrant),
        (401, {"error": "invalid_client", "error_description": "Invalid client"}, InvalidClient),
        (400, {"error": "PAYMENT_REQUIRED"}, OAuthError),
        (400, {"error": "invalid_request"}, OAuthError),
        (500, {"error": "server_error"}, BitrixUnavailable),
        (502, None, BitrixUnavailable),
        (200, None, BitrixUnavailable),
        (200, {"unexpected": True}, OAuthError),
    ],
)
def test_refresh_errors(oauth: OAuthClient, requests_mock, status, body, cls) -> None:
    if body is None:
        requests_mock.get(TOKEN_URL, status_code=status, text="<html>oops</html>")
    else:
        requests_mock.get(TOKEN_URL, status_code=status, json=body)
    with pytest.raises(cls) as info:
        oauth.refresh(refresh_token=OLD_REFRESH)
    assert type(info.value) is cls
    assert CLIENT_SECRET not in str(info.value) and OLD_REFRESH not in str(info.value)


def test_echoed_secrets_are_masked(oauth: OAuthClient, requests_mock) -> None:
    description = f"refresh token {OLD_REFRESH} is invalid for secret {CLIENT_SECRET}"
    requests_mock.get(
        TOKEN_URL,
        status_code=400,
        json={"error": "invalid_grant", "error_description": description},
    )
    with pytest.raises(InvalidGrant) as info:
        oauth.refresh(refresh_token=OLD_REFRESH)
    assert OLD_REFRESH not in str(info.value) and CLIENT_SECRET not in str(info.value)
    assert "***" in info.value.description


@pytest.mark.parametrize(
    "exc", [requests.ConnectTimeout, requests.ReadTimeout, requests.ConnectionError]
)
def test_transport_errors_hide_the_url(oauth: OAuthClient, requests_mock, exc) -> None:
    requests_mock.get(TOKEN_URL, exc=exc(f"failed {TOKEN_URL}?client_secret={CLIENT_SECRET}"))
    with pytest.raises(BitrixUnavailable) as info:
        oauth.refresh(refresh_token=OLD_REFRESH)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert CLIENT_SECRET not in str(info.value)


APP_INFO = {
    "result": {
        "client_id": "local.app.1",
        "scope": "crm,bizproc",
        "expires": "2025-01-01T10:00:00+00:00",
        "user_id": 5,
        "install": {
            "installed": True,
            "version": 2,
            "status": "L",
            "scope": "crm,bizproc,placement",
            "domain": "portal.example.test",
            "uri": "https://portal.example.test",
            "client_endpoint": "https://portal.example.test/rest/",
            "member_id": MEMBER_ID,
            "member_type": "PORTAL",
        },
    },
    "time": {},
}


def test_app_info(oauth: OAuthClient, requests_mock) -> None:
    requests_mock.get(f"{OAUTH_URL}/rest/app.info", json=APP_INFO)
    info = oauth.app_info(access_token="tok-1")
    assert query_of(requests_mock.request_history[0].url) == {"auth": ["tok-1"]}
    assert CLIENT_SECRET not in requests_mock.request_history[0].url
    assert info.client_id == "local.app.1"
    assert info.member_id == MEMBER_ID
    assert info.domain == "portal.example.test"
    assert info.client_endpoint == "https://portal.example.test/rest/"
    assert info.installed is True
    assert (info.status, info.scope, info.user_id, info.version) == (
        "L",
        "crm,bizproc,placement",
        5,
        "2",
    )


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"error": "expired_token"}, ExpiredToken),
        (401, {"error": "invalid_token"}, AuthError),
        (200, {"result": "nope"}, BitrixUnavailable),
    ],
)
def test_app_info_errors(oauth: OAuthClient, requests_mock, status, body, cls) -> None:
    requests_mock.get(f"{OAUTH_URL}/rest/app.info", status_code=status, json=body)
    with pytest.raises(cls):
        oauth.app_info(access_token="tok-1")


def test_app_info_not_installed(oauth: OAuthClient, requests_mock) -> None:
    body = {"result": {"client_id": "x", "install": {"installed": False, "member_id": "m"}}}
    requests_mock.get(f"{OAUTH_URL}/rest/app.info", json=body)
    assert oauth.app_info(access_token="t").installed is False


def test_settings_hide_the_secret_and_validate_the_host() -> None:
    s = BitrixSettings(
        oauth_url="https://oauth.bitrix.info/", client_id="c", client_secret="SECRET"
    )
    assert s.oauth_url == "https://oauth.bitrix.info"
    assert "SECRET" not in repr(s)
    for bad in [
        "http://oauth.bitrix.info",
        "ftp://h",
        "https://h?x=1",
    ]:
        with pytest.raises(ValueError):
            BitrixSettings(oauth_url=bad, client_id="c", client_secret="s")
    local = BitrixSettings(
        oauth_url="http://127.0.0.1:8900", client_id="c", client_secret="s", allow_http=True
    )
    assert local.oauth_url == "http://127.0.0.1:8900"
    prefixed = BitrixSettings(
        oauth_url="http://127.0.0.1:8900/oauth-server/",
        client_id="c",
        client_secret="s",
        allow_http=True,
    )
    assert prefixed.oauth_url == "http://127.0.0.1:8900/oauth-server"


@pytest.mark.parametrize(
    ("endpoint", "domain", "allow_http", "expected"),
    [
        (
            "https://portal.bitrix24.com/rest/",
            "portal.bitrix24.com",
            False,
            "https://portal.bitrix24.com/rest/",
        ),
        (
            "https://PORTAL.bitrix24.com/rest/",
            "portal.bitrix24.com",
            False,
            "https://portal.bitrix24.com/rest/",
        ),
        (
            "https://portal.bitrix24.com/rest/",
            "Portal.Bitrix24.com",
            False,
            "https://portal.bitrix24.com/rest/",
        ),
        ("http://127.0.0.1:8900/rest/", "127.0.0.1:8900", True, "http://127.0.0.1:8900/rest/"),
        ("https://127.0.0.1:8900/rest/", "127.0.0.1:8900", True, "https://127.0.0.1:8900/rest/"),
    ],
)
def test_client_endpoint_accepted(endpoint, domain, allow_http, expected) -> None:
    assert validate_client_endpoint(endpoint, domain, allow_http) == expected


@pytest.mark.parametrize(
    ("endpoint", "domain", "allow_http"),
    [
        ("http://portal.bitrix24.com/rest/", "portal.bitrix24.com", False),
        ("https://evil.com/rest/", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com.evil.com/rest/", "portal.bitrix24.com", False),
        ("https://evil.com@portal.bitrix24.com/rest/", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com@evil.com/rest/", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com/rest", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com/rest/x/", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com/", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com/rest/?a=1", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com/rest/#x", "portal.bitrix24.com", False),
        ("https://portal.bitrix24.com:8443/rest/", "portal.bitrix24.com", False),
        ("//portal.bitrix24.com/rest/", "portal.bitrix24.com", False),
        ("ftp://portal.bitrix24.com/rest/", "portal.bitrix24.com", True),
        ("https://portal.bitrix24.com/rest/", "", False),
        ("https://a/b/rest/", "a/b", False),
        ("https://x@y/rest/", "x@y", False),
        ("javascript:alert(1)//portal.bitrix24.com/rest/", "portal.bitrix24.com", True),
    ],
)
def test_client_endpoint_rejected(endpoint, domain, allow_http) -> None:
    with pytest.raises(ValueError):
        validate_client_endpoint(endpoint, domain, allow_http)


def test_urllib3_debug_lines_are_masked(oauth: OAuthClient, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    path = (
        "/oauth/token/?grant_type=refresh_token"
        f"&client_secret={CLIENT_SECRET}&refresh_token={OLD_REFRESH}"
    )
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "https",
        "oauth.example.test",
        443,
        "GET",
        path,
        "HTTP/1.1",
        200,
        10,
    )
    assert "client_secret=***" in caplog.text and "refresh_token=***" in caplog.text
    assert CLIENT_SECRET not in caplog.text and OLD_REFRESH not in caplog.text


def test_real_urllib3_log_lines_are_masked(caplog) -> None:
    from tests.helpers.receivers import JsonEventReceiver

    receiver = JsonEventReceiver()
    try:
        settings = BitrixSettings(
            oauth_url=receiver.base_url, client_id="c", client_secret=CLIENT_SECRET, allow_http=True
        )
        caplog.set_level(logging.DEBUG)
        with requests.Session() as session, pytest.raises(BitrixUnavailable):
            OAuthClient(settings, session=session).refresh(refresh_token=OLD_REFRESH)
    finally:
        receiver.close()
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("urllib3", "bizproc_app"))
    )  # not werkzeug's: that is the (stand-in) server's own access log
    assert "/oauth/token/?grant_type=refresh_token" in ours  # urllib3 did log the line
    assert CLIENT_SECRET not in ours and OLD_REFRESH not in ours


@pytest.mark.parametrize(
    "change", [{"rate": 0}, {"burst": 0}, {"max_retries": -1}, {"read_timeout": 0}]
)
def test_settings_reject_bad_numbers(change) -> None:
    with pytest.raises(ValueError):
        BitrixSettings(oauth_url=OAUTH_URL, client_id="c", client_secret="s", **change)
