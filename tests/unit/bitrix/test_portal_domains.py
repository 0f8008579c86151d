"""Portal domains outside development: DNS host names that resolve to public addresses only
(issue 13, finding 5), so nobody can point our server at internal addresses."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from bizproc_app.bitrix import AppInfo, resolves_publicly, validate_client_endpoint
from bizproc_app.config import Config
from bizproc_app.portals.installation import Lifecycle, LifecycleRejected, PortalAuth


@pytest.mark.parametrize(
    "domain",
    ["127.0.0.1", "10.0.0.5", "[::1]", "portal.example.com:8443", "intranet", "169.254.169.254"],
)
def test_ip_literals_ports_and_bare_names_are_refused_in_production(domain: str) -> None:
    with pytest.raises(ValueError):
        validate_client_endpoint(f"https://{domain}/rest/", domain, allow_http=False)


def test_development_keeps_loopback_simulators() -> None:
    endpoint = "http://127.0.0.1:8802/rest/"
    assert validate_client_endpoint(endpoint, "127.0.0.1:8802", allow_http=True) == endpoint


def _resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    ("addresses", "public"),
    [
        (("93.184.216.34",), True),
        (("93.184.216.34", "10.1.2.3"), False),  # one internal address is enough to refuse
        (("127.0.0.1",), False),
        (("192.168.1.10",), False),
        (("169.254.169.254",), False),
        (("fe80::1%eth0",), False),
        ((), False),
    ],
)
def test_a_domain_must_resolve_to_public_addresses(
    addresses: tuple[str, ...], public: bool
) -> None:
    assert resolves_publicly("portal.example.com", _resolver(*addresses)) is public


def test_a_lookup_that_fails_is_not_public() -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise socket.gaierror("no such host")

    assert resolves_publicly("portal.example.com", fail) is False


class _OAuth:
    def app_info(self, *, access_token: str) -> AppInfo:
        return AppInfo("local.app", "m1", "portal.example.com", "https://portal.example.com/rest/",
                       True, "L", "crm", 1, "1")  # fmt: skip


def test_an_install_whose_domain_resolves_internally_is_refused_before_anything_is_stored() -> None:
    class Session:  # nothing may be added: the refusal comes first
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the session was used: {name}")

    cfg = Config(APP_ENV="testing", BITRIX_CLIENT_ID="local.app", BITRIX_ALLOW_HTTP=False)
    box = None  # never reached: nothing is decrypted or stored
    lifecycle = Lifecycle(
        cfg,
        Session(),
        box,
        _OAuth(),
        make_client=lambda _: None,
        presenter_is_admin=lambda *_: True,  # the domain is refused before this is asked
        public_host=lambda host: False,
    )
    auth = PortalAuth("m1", "portal.example.com", "access", "refresh", 3600, "app-token")
    with pytest.raises(LifecycleRejected, match="public addresses"):
        lifecycle.install(auth)
