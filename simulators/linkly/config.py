"""Simulator options: one dataclass, every field documented and exposed as a CLI flag."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any


def opt(default: Any, help_text: str, **extra: Any) -> Any:
    """Declare a config field with its help text (used by --help and GET /_sim/config)."""
    meta = {"help": help_text, **extra}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: json.loads(json.dumps(default)), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SimulatorConfig:
    """Global options of one simulator instance (changeable at runtime via PATCH /_sim/config)."""

    username: str = opt("linkly", "Cloud username accepted by pairing")
    password: str = opt("linkly", "Cloud password accepted by pairing")
    pair_code_ttl: float = opt(180.0, "seconds a pair code stays valid [?]")
    token_lifetime: int = opt(1800, "auth token lifetime in seconds (expirySeconds) [?]")
    casing: str = opt("camel", "output JSON key casing", choices=["camel", "pascal"])
    allow_http: bool = opt(False, "accept http:// Notification.Uri in async requests")
    txn_ref_max: int = opt(16, "maximum TxnRef length (16 v1 sample, 32 v2 SDK)")
    txn_types: str = opt("PRC", "supported TxnType letters (others: 400)")
    reused_session_status: int = opt(
        400, "HTTP status for a reused sessionId; 200 replays the saved result [?]"
    )
    sync_timeout: float = opt(180.0, "seconds a sync request is held before 202 [?]")
    sync_notify: str = opt(
        "none",
        "events POSTed to Notification.Uri in sync mode [?]",
        choices=["none", "progress", "all"],
    )
    ack_body: str = opt(
        "json", "body of 202/sendkey answers: json={} or empty [?]", choices=["json", "empty"]
    )
    error_body: str = opt(
        "json", "body of 400/404 answers: json problem or empty [?]", choices=["json", "empty"]
    )
    session_scope: str = opt(
        "pinpad",
        "who may GET/sendkey a session: pinpad=tokens of its PIN pad, any=any token",
        choices=["pinpad", "any"],
    )
    approval_codes: list[str] = opt(  # noqa: RUF009 - opt() builds a field(default_factory)
        ["00"], "response codes that mean Success true"
    )
    sandbox_behaviours: bool = opt(False, "enable per-amount behaviours (amount_behaviours) [?]")
    amount_behaviours: dict[str, str] = opt(  # noqa: RUF009
        {"08": "signature", "09": "input"},
        "cents -> behaviour (signature|input), used when sandbox_behaviours is on [?]",
    )
    signature_declined_code: str = opt("05", "ResponseCode when the signature is declined [?]")
    cancel_code: str = opt("TM", "ResponseCode of an operator/cardholder cancel [?]")
    cancel_text: str = opt("OPERATOR CANCELLED", "ResponseText of a cancel [?]")
    timeout_code: str = opt("TI", "ResponseCode when the cardholder walks away [?]")
    input_timeout: float = opt(60.0, "seconds the PIN pad waits for cardholder/operator input")
    offline_code: str = opt("PF", "ResponseCode of the pinpad_offline fault [?]")
    no_response_code: str = opt("X0", "ResponseCode of the no_response fault [?]")
    require_core_pad: bool = opt(
        True,
        "purchases and refunds need the PAD tags every Linkly sample sends: OPR "
        "(operatorId|name), AMT (the sale total in cents, 7+ digits, equal to AmtPurchase) and "
        "PCM (4 digits); off: any PAD is taken [?]",
    )
    refund_unknown_rfn_code: str = opt("12", "ResponseCode for a refund with an unknown RFN [?]")
    refund_over_code: str = opt("13", "ResponseCode for refunds above the original amount [?]")
    refund_without_rfn: str = opt(
        "decline", "refund without PAD RFN [?]", choices=["decline", "allow"]
    )
    refund_without_rfn_code: str = opt("12", "ResponseCode when a refund without RFN is declined")
    refund_cents_rule: bool = opt(True, "apply cents=ResponseCode to refunds too")
    notify_retries: int = opt(0, "extra delivery attempts for a failed notification [?]")
    notify_retry_delay: float = opt(1.0, "seconds between notification retries")
    notify_timeout: float = opt(5.0, "timeout (s) of every notification POST")
    notify_workers: int = opt(8, "notification delivery threads")
    processing_delay: float = opt(1.0, "seconds of PROCESSING in interactive mode")
    operation_delay: float = opt(0.5, "seconds logon/settlement/reprint take")
    mode: str = opt("auto", "default mode of new PIN pads", choices=["auto", "interactive"])
    cardholder_delay: float = opt(2.0, "default seconds the virtual cardholder takes (auto mode)")
    account: str = opt(
        "CRD", "default account the virtual cardholder picks", choices=["CHQ", "SAV", "CRD"]
    )
    log_requests: bool = opt(False, "log every HTTP request to stderr")

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-ready dict."""
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply validated changes; raise ValueError naming the bad option."""
        known = {f.name: f for f in fields(self)}
        staged: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown option {name!r}")
            staged[name] = coerce(name, getattr(self, name), value, known[name].metadata)
        for name, value in staged.items():
            setattr(self, name, value)


def coerce(name: str, current: Any, value: Any, meta: Any) -> Any:
    """Coerce a JSON/CLI value to the type of the option's current value."""
    try:
        if isinstance(current, bool):
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            result: Any = bool(value)
        elif isinstance(current, int):
            result = int(value)
        elif isinstance(current, float):
            result = float(value)
        elif isinstance(current, list):
            result = [s.strip() for s in value.split(",")] if isinstance(value, str) else value
            result = [str(v) for v in result]
        elif isinstance(current, dict):
            result = json.loads(value) if isinstance(value, str) else dict(value)
        else:
            result = str(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad value for {name}: {value!r}") from exc
    choices = meta.get("choices")
    if choices and result not in choices:
        raise ValueError(f"{name} must be one of {choices}")
    return result


def describe() -> list[dict[str, Any]]:
    """Return name, default and help of every option."""
    out = []
    for f in fields(SimulatorConfig):
        default = f.default if f.default is not MISSING else f.default_factory()
        out.append({"name": f.name, "default": default, "help": f.metadata["help"]})
    return out
