"""Package-level rules: no web/ORM imports, secrets masked by the helpers."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import bizproc_app.bitrix as bitrix
from bizproc_app.bitrix import PortalTokens, mask, mask_query
from bizproc_app.bitrix.redact import install_urllib3_filter
from tests.unit.bitrix.helpers import CLIENT_ENDPOINT, MEMBER_ID, TOKEN_URL, token_json

PACKAGE = Path(bitrix.__file__).parent


def test_no_flask_or_sqlalchemy_imports() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0].lower() not in {"flask", "sqlalchemy"}, (path, name)


def test_public_names() -> None:
    for name in bitrix.__all__:
        assert hasattr(bitrix, name)


def test_mask() -> None:
    data = {
        "auth": "a",
        "AUTH_ID": "b",
        "x": [{"refresh_token": "c"}],
        "Client_Secret": "d",
        "id": 1,
    }
    assert mask(data) == {
        "auth": "***",
        "AUTH_ID": "***",
        "x": [{"refresh_token": "***"}],
        "Client_Secret": "***",
        "id": 1,
    }
    assert data["auth"] == "a"


def test_mask_query() -> None:
    url = "https://h/rest/app.info?auth=TOKEN&x=1&client_secret=S&access_token=A&refresh_token=R"
    assert (
        mask_query(url)
        == "https://h/rest/app.info?auth=***&x=1&client_secret=***&access_token=***&refresh_token=***"
    )
    assert mask_query("oauth=keep&author=keep") == "oauth=keep&author=keep"


def test_urllib3_filter_is_installed_once() -> None:
    install_urllib3_filter()
    install_urllib3_filter()
    logger = logging.getLogger("urllib3.connectionpool")
    assert sum(type(f).__name__ == "QuerySecretFilter" for f in logger.filters) == 1


def test_each_call_uses_the_stored_tokens(client, store, requests_mock) -> None:
    url = f"{CLIENT_ENDPOINT}user.current.json"
    requests_mock.post(url, json={"result": {}})
    client.call("user.current")
    store.save(MEMBER_ID, PortalTokens("refreshed-elsewhere", "r", 0.0))
    client.call("user.current")
    assert [r.json()["auth"] for r in requests_mock.request_history][-1] == "refreshed-elsewhere"


def test_expiry_after_refresh_elsewhere_skips_oauth(client, store, requests_mock) -> None:
    url = f"{CLIENT_ENDPOINT}user.current.json"

    def answer(request, context):
        if request.json()["auth"] != "fresh":
            # another worker refreshes while our request is in flight
            store.save(MEMBER_ID, PortalTokens("fresh", "fresh-r", 0.0))
            context.status_code = 401
            return {"error": "expired_token", "error_description": ""}
        return {"result": {"ID": "1"}}

    requests_mock.post(url, json=answer)
    token = requests_mock.get(TOKEN_URL, json=token_json(1))
    assert client.call("user.current").result == {"ID": "1"}
    assert token.call_count == 0
