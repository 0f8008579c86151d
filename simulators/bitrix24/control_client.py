"""A client of the Bitrix24 simulator's control API (`/_sim/...`, see the control_*.py modules).

    with Bitrix24Control("http://127.0.0.1:8091") as portal:
        portal.install(mode="event")
        deal = portal.add_deal({"title": "Lunch", "opportunity": 25, "currencyId": "AUD"})
        portal.move_deal(deal["id"], "EXECUTING")

Only `requests`: usable from the tests, the demo and the benchmark alike.
"""

from __future__ import annotations

from typing import Any

from simulators.control_client import ControlClient, ControlError

__all__ = ["Bitrix24Control", "ControlError"]

DEAL, INVOICE = 2, 31  # CRM entity type ids: deals, smart invoices


class Bitrix24Control(ControlClient):
    """The simulated portal: the app's lifecycle, tokens and users, CRM documents, robots and
    workflows, failure switches, and what the portal recorded."""

    # The portal and the app

    def state(self) -> dict[str, Any]:
        """Portal and OAuth URLs, member id, the app's state, users, robots, placements."""
        return dict(self.call("GET", "state"))

    def config(self) -> dict[str, Any]:
        """The current options."""
        return dict(self.call("GET", "config")["config"])

    def configure(self, **options: Any) -> dict[str, Any]:
        """Change options at run time (`rate_limit=False`, ...)."""
        return dict(self.call("POST", "config", options)["config"])

    def token(self, user_id: int = 1, **extra: Any) -> dict[str, Any]:
        """A fresh access/refresh token pair for a user (`scope`, `ttl`), with the portal's
        member id, domain and endpoints."""
        return dict(self.call("POST", "token", {"user_id": user_id, **extra}))

    def set_admin(self, user_id: int, admin: bool = True) -> list[int]:
        """Make a user an administrator or not; return the administrators."""
        return list(self.call("PUT", f"users/{user_id}/admin", {"admin": admin})["admins"])

    def webhook(self, user_id: int = 1) -> str:
        """Create an incoming webhook for a user; return its base URL."""
        return str(self.call("POST", "webhook", {"user_id": user_id})["url"])

    def install(
        self, mode: str = "frame", user_id: int = 1, finish: bool = False
    ) -> dict[str, Any]:
        """Send the app its installation: the frame POST (`mode="frame"`, `finish` as
        BX24.installFinish() would) or the ONAPPINSTALL event; return what the app answered."""
        body = {"mode": mode, "user_id": user_id, "finish": finish}
        return dict(self.call("POST", "install", body))

    def finish_install(self) -> None:
        """Mark the app installed, as BX24.installFinish() does."""
        self.call("POST", "install/finish")

    def update_app(self, version: int | None = None, user_id: int = 1) -> dict[str, Any]:
        """A new version of the app: ONAPPUPDATE with that user's tokens."""
        body: dict[str, Any] = {"user_id": user_id}
        if version is not None:
            body["version"] = version
        return dict(self.call("POST", "app/update", body))

    def uninstall_app(self, clean: bool = True) -> dict[str, Any]:
        """ONAPPUNINSTALL, then the app is removed."""
        return dict(self.call("POST", "app/uninstall", {"clean": clean}))

    def revoke_app(self) -> None:
        """Revoke the app: every token refused, refresh fails."""
        self.call("POST", "app/revoke")

    def expire_tokens(self) -> int:
        """Expire every access token now; return how many."""
        return int(self.call("POST", "tokens/expire")["expired"])

    # CRM documents

    def add_deal(
        self, fields: dict[str, Any], rows: list[dict[str, Any]] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Create a deal (camelCase or UPPER fields; product rows; `user_id`, `run_robots`)."""
        return dict(self.call("POST", "deals", {"fields": fields, "rows": rows or [], **extra}))

    def add_invoice(
        self,
        fields: dict[str, Any],
        rows: list[dict[str, Any]] | None = None,
        deal_id: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Create a smart invoice, on a deal when given (`user_id`, `run_robots`)."""
        body = {"fields": fields, "rows": rows or [], "deal_id": deal_id, **extra}
        return dict(self.call("POST", "invoices", body))

    def move(self, type_id: int, item_id: int, stage_id: str, user_id: int = 1) -> dict[str, Any]:
        """Move a document to a stage (its robots run); return the document."""
        body = {"stage_id": stage_id, "user_id": user_id}
        return dict(self.call("POST", f"items/{type_id}/{item_id}/move", body))

    def move_deal(self, deal_id: int, stage_id: str, user_id: int = 1) -> dict[str, Any]:
        """Move a deal to a stage (its robots run); return the deal."""
        return self.move(DEAL, deal_id, stage_id, user_id)

    def delete_item(self, type_id: int, item_id: int) -> None:
        """Delete a document; its workflows end."""
        self.call("DELETE", f"items/{type_id}/{item_id}")

    def crm(self) -> dict[str, Any]:
        """Every deal, invoice, product row, payment and timeline comment."""
        return dict(self.call("GET", "crm"))

    # Robots and workflows

    def automation(self) -> list[dict[str, Any]]:
        """The robots placed on stages."""
        return list(self.call("GET", "automation"))

    def place_robot(self, stage_id: str, code: str, **spec: Any) -> dict[str, Any]:
        """Place a robot on a stage (`properties`, `entity_type_id`, `timeout_duration`,
        `auth_user_id`); a built-in one with `code=""` and `builtin=...`."""
        return dict(self.call("POST", "automation", {"stage_id": stage_id, "code": code, **spec}))

    def clear_automation(self) -> None:
        """Take every robot off the stages."""
        self.call("DELETE", "automation")

    def run_robot(
        self, item_id: int, code: str, properties: dict[str, Any] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """Run a registered robot on a document (a deal unless `entity_type_id` says otherwise;
        `timeout_duration`, `user_id`); return its workflow."""
        body = {"id": item_id, "code": code, "properties": properties or {}, **extra}
        return dict(self.call("POST", "robots/run", body))

    def workflows(self, type_id: int | None = None, item_id: int | None = None) -> list[Any]:
        """Workflows with their status, waiting step, log and return values."""
        params = {k: v for k, v in (("type", type_id), ("id", item_id)) if v is not None}
        return list(self.call("GET", "workflows", params=params))

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        """One workflow."""
        return dict(self.call("GET", f"workflows/{workflow_id}"))

    def terminate(self, workflow_id: str) -> dict[str, Any]:
        """Kill one workflow."""
        return dict(self.call("POST", f"workflows/{workflow_id}/terminate"))

    def end_workflows(self) -> int:
        """Terminate every running workflow; return how many."""
        return int(self.call("POST", "workflows/end")["terminated"])

    def open_placement(
        self, placement: str = "CRM_DEAL_DETAIL_TAB", item_id: int = 0, user_id: int = 1
    ) -> dict[str, Any]:
        """POST the frame form to a bound placement's handler, as the portal page would."""
        body = {"placement": placement, "id": item_id, "user_id": user_id}
        return dict(self.call("POST", "placements/open", body))

    # Failure switches and limits

    def faults(self) -> dict[str, Any]:
        """The failure switches."""
        return dict(self.call("GET", "faults"))

    def set_faults(self, **switches: Any) -> dict[str, Any]:
        """Set failure switches (`fail_next`, `delay`, `down_calls`, ...)."""
        return dict(self.call("POST", "faults", switches))

    def reset_faults(self) -> None:
        """Clear every failure switch."""
        self.call("POST", "faults/reset")

    def permissions(self) -> dict[str, Any]:
        """The per-user CRM rights that differ from everything."""
        return dict(self.call("GET", "permissions"))

    def set_permissions(self, user_id: int, entity_type_id: int, **rights: str) -> dict[str, Any]:
        """A user's rights on deals (2) or invoices (31): read/add/write/delete = all|own|none."""
        body = {"user_id": user_id, "entityTypeId": entity_type_id, **rights}
        return dict(self.call("PUT", "permissions", body))

    def reset_permissions(self) -> None:
        """Give everyone every right again."""
        self.call("DELETE", "permissions")

    def advance_clock(self, seconds: float) -> float:
        """Move the simulated clock (workflow timeouts fire); return its offset."""
        return float(self.call("POST", "clock/advance", {"seconds": seconds})["offset"])

    def reset_rate_limits(self) -> None:
        """Empty the leaky buckets and the operating-time counters."""
        self.call("POST", "ratelimit/reset")

    def add_operating_time(self, method: str, seconds: float) -> None:
        """Add fake execution time to a REST method (to force a 429)."""
        self.call("POST", "operating", {"method": method, "seconds": seconds})

    # What the portal recorded

    def request_counts(self) -> dict[str, Any]:
        """REST requests and batch commands per method, errors, and the total."""
        return dict(self.call("GET", "requests"))

    def reset_request_counts(self) -> None:
        """Start counting REST requests again."""
        self.call("DELETE", "requests")

    def outbound(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every POST the portal sent to the app (robot, event, placement, ...), of one kind
        when given."""
        params = {"kind": kind} if kind else None
        return list(self.call("GET", "outbound", params=params))

    def notifications(self) -> list[dict[str, Any]]:
        """The im.notify notifications."""
        return list(self.call("GET", "notifications"))
