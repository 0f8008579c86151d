"""Simulator options: one dataclass; every field is a CLI flag and is shown by GET /_sim/config."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any


def opt(default: Any, help_text: str, **extra: Any) -> Any:
    """Declare a config field with its help text (used by --help and /_sim/config)."""
    meta = {"help": help_text, **extra}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SimConfig:
    """Options of one simulated portal + OAuth server ([?] marks an unconfirmed behaviour)."""

    app_url: str = opt("http://127.0.0.1:5000", "base URL of the app under test")
    install_path: str = opt("/bitrix/install", "install URL = app_url + this path")
    client_id: str = opt("local.66ba434d853c87.18550109", "the app's client_id")
    client_secret: str = opt("sim-client-secret", "the app's client_secret")
    app_name: str = opt("POS payments", "the app's name (prefix of SYSTEM notifications)")
    app_code: str = opt("local.pos", "app.info CODE")
    app_version: int = opt(1, "installed app version")
    app_status: str = opt("L", "app status: L local, F free, D demo, T trial, P paid")
    scopes: str = opt("crm,bizproc,placement,user_brief,im", "the app's scopes (comma list)")
    installed: bool = opt(False, "start with the app installed (INSTALLED=true)")
    member_id: str = opt("", "portal member_id (32 hex); empty = random")
    language: str = opt("en", "LANG / LANGUAGE_ID sent to the app")
    access_ttl: int = opt(3600, "access token lifetime, seconds")
    refresh_ttl: int = opt(180 * 86400, "refresh token lifetime, seconds")
    code_ttl: int = opt(30, "authorization code lifetime, seconds")
    oauth_port: int = opt(-1, "second port for the OAuth server (-1: path prefix /oauth-server)")
    rate_limit: bool = opt(True, "leaky-bucket rate limit on /rest/ (--no-rate-limit turns off)")
    rate_burst: float = opt(50.0, "bucket size X (Enterprise: 250)")
    rate_drain: float = opt(2.0, "drain Y per second (Enterprise: 5)")
    operating_limit: float = opt(480.0, "seconds of execution per method per 10 min before 429")
    page_size: int = opt(50, "items per page of list methods")
    batch_max: int = opt(50, "max commands in one batch")
    handler_timeout: float = opt(10.0, "HTTP timeout of handler/event POSTs, seconds [?]")
    handler_retries: int = opt(0, "retries of a failed handler POST (docs: none) [?]")
    use_subscription_default: str = opt(
        "Y",
        "USE_SUBSCRIPTION when registered empty: Y waits (docs) or N (server code) [?]",
        choices=["Y", "N"],
    )
    automation_timeout: int = opt(0, "timeout_duration sent for robots run by automation [?]")
    stage_change_terminates: bool = opt(
        True, "moving a document out of a stage terminates its waiting workflow [?]"
    )
    stage_robots: str = opt(
        "sequential",
        "robots of one stage: sequential (one workflow) or parallel [?]",
        choices=["sequential", "parallel"],
    )
    stale_token: str = opt(
        "ignore",
        "event.send with a stale token on a live workflow: ignore (true) or error [?]",
        choices=["ignore", "error"],
    )
    convert_returns: bool = opt(
        False,
        "bizproc.event.send converts return values to their declared types (bool -> Y/N, int, "
        "double); off: they are stored exactly as sent [?]",
    )
    ended_workflow: str = opt(
        "access_denied",
        "bizproc.event.send / activity.log on an ended workflow: access_denied (ACCESS_DENIED, "
        "as the method's page lists for a token that can no longer be used) or "
        "workflow_not_found (the runtime's WorkflowNotFound, below) [?]",
        choices=["access_denied", "workflow_not_found"],
    )
    wf_not_found_error: str = opt("0", "error value for an ended workflow (JSON int if digits) [?]")
    wf_not_found_status: int = opt(400, "HTTP status for an ended workflow [?]")
    garbage_token_error: str = opt(
        "invalid_token",
        "error for an unknown token [?]",
        choices=["invalid_token", "NO_AUTH_FOUND"],
    )
    garbage_token_status: int = opt(401, "HTTP status for an unknown token [?]")
    revoked_error: str = opt(
        "invalid_token",
        "error for tokens of a revoked app [?]",
        choices=["invalid_token", "ERROR_OAUTH", "APPLICATION_NOT_FOUND"],
    )
    oauth_error_status: int = opt(400, "HTTP status of OAuth-server errors (RFC 6749 §5.2) [?]")
    rotate_refresh: bool = opt(True, "refresh invalidates the old refresh token at once [?]")
    send_refresh_token: bool = opt(True, "handler calls carry auth[refresh_token] (newest server)")
    frame_default_options: str = opt(
        "absent",
        "PLACEMENT_OPTIONS for PLACEMENT=DEFAULT: absent (reference) or empty '{}' [?]",
        choices=["absent", "empty"],
    )
    event_auth_extra: bool = opt(
        False, "add auth[expires] and auth[user_id] to event POSTs (reference omits them) [?]"
    )
    event_handler_check: str = opt(
        "dotted",
        "event.bind handler check: dotted host, app_host, or off [?]",
        choices=["dotted", "app_host", "off"],
    )
    update_wipes_events: bool = opt(True, "ONAPPUPDATE removes event.bind bindings")
    uninstall_revokes_first: bool = opt(
        True, "ONAPPUNINSTALL is delivered after the app's tokens are revoked (queued event) [?]"
    )
    payment_sum: str = opt(
        "zero",
        "sum of a new crm.item.payment: zero (doc examples) or opportunity [?]",
        choices=["zero", "opportunity"],
    )
    invoice_category_id: int = opt(13, "smart-invoice category id (stages DT31_{id}:N/S/P/D) [?]")
    invoice_timeline_type: str = opt(
        "smart_invoice",
        "the one timeline ENTITY_TYPE a smart invoice takes (the other is refused), or both [?]",
        choices=["smart_invoice", "dynamic_31", "both"],
    )
    user_get_empty_total: bool = opt(False, "user.get with no match sends total: 0 [?]")
    im_unknown_user: str = opt(
        "false", "im.notify to an unknown user: false result or an id [?]", choices=["false", "id"]
    )
    placement_error_status: int = opt(400, "HTTP status of placement.bind argument errors [?]")
    date_property_format: str = opt(
        "passthrough",
        "date/datetime/user/file/select property formatting: passthrough [?]",
        choices=["passthrough"],
    )
    seed_deals: int = opt(0, "create this many demo deals at start")

    def scope_list(self) -> list[str]:
        """The app's scopes as a list."""
        return [s.strip() for s in self.scopes.split(",") if s.strip()]

    def to_dict(self) -> dict[str, Any]:
        """All options as JSON-able data."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> list[str]:
        """Apply option changes (with type coercion); return the names that are unknown."""
        known = {f.name: f for f in fields(self)}
        unknown = []
        for name, value in changes.items():
            f = known.get(name)
            if f is None:
                unknown.append(name)
                continue
            default = f.default if f.default is not MISSING else None
            setattr(self, name, coerce(value, default))
        return unknown


def coerce(value: Any, like: Any) -> Any:
    """Convert a string/JSON value to the type of `like`."""
    if isinstance(like, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "y", "yes", "true", "on")
        return bool(value)
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value if not isinstance(like, str) else str(value)


def describe() -> list[dict[str, Any]]:
    """Name, default and help of every option (for --help and the README)."""
    out = []
    for f in fields(SimConfig):
        default = f.default if f.default is not MISSING else f.default_factory()
        out.append({"name": f.name, "default": default, **f.metadata})
    return out
