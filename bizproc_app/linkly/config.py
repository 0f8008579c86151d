"""Settings of the Linkly client and the credentials of one paired PIN pad."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bizproc_app.linkly.models import DEFAULT_CANCEL_CODES

SANDBOX_AUTH_URL = "https://auth.sandbox.cloud.pceftpos.com"
SANDBOX_API_URL = "https://rest.pos.sandbox.cloud.pceftpos.com"
PRODUCTION_AUTH_URL = "https://auth.cloud.pceftpos.com"
PRODUCTION_API_URL = "https://rest.pos.cloud.pceftpos.com"


def _require_uuid(value: str, name: str) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a UUID") from None


@dataclass(frozen=True)
class LinklySettings:
    """Hosts, POS identity and timeouts (seconds) shared by every PIN pad of this app.

    `require_https_notification` refuses a plain-http Notification.Uri (Linkly requires https
    and the AuthorizationHeader would travel in clear); turn it off only for a local simulator.
    """

    auth_url: str
    api_url: str
    pos_vendor_id: str
    pos_name: str
    pos_version: str
    connect_timeout: float = 5
    read_timeout: float = 30
    transaction_read_timeout: float = 30
    renew_margin_seconds: float = 300
    require_https_notification: bool = True
    cancel_codes: frozenset[str] = DEFAULT_CANCEL_CODES

    def __post_init__(self) -> None:
        for name in ("auth_url", "api_url", "pos_name", "pos_version"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"{name} must not be empty")
        _require_uuid(self.pos_vendor_id, "pos_vendor_id")
        for name in ("connect_timeout", "read_timeout", "transaction_read_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.renew_margin_seconds < 0:
            raise ValueError("renew_margin_seconds must not be negative")
        object.__setattr__(self, "auth_url", self.auth_url.rstrip("/"))
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))


@dataclass(frozen=True)
class TerminalCredentials:
    """One PIN pad's pairing secret and this POS instance's persistent posId (UUID)."""

    secret: str = field(repr=False)
    pos_id: str

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("secret must not be empty")
        _require_uuid(self.pos_id, "pos_id")
