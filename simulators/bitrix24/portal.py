"""The simulated portal: all state, auth blocks for outbound calls, stage automation, events."""

from __future__ import annotations

import json
import threading
from typing import Any

from .auth import AppState, TokenStore
from .config import SimConfig
from .crm import DEAL, Crm
from .engine import Engine, Step
from .limits import Faults, LeakyBucket, OperatingTime
from .outbound import Outbound
from .perms import CrmPermissions
from .util import ApiError, Clock, hex_id


class Portal:
    """One portal with one installed app, plus its OAuth server state."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.clock = Clock()
        self.lock = threading.RLock()
        self.member_id = cfg.member_id or hex_id(32)
        self.portal_url = "http://127.0.0.1"
        self.oauth_url = "http://127.0.0.1/oauth-server"
        self.tokens = TokenStore(cfg, self.clock)
        self.app = AppState(cfg.installed, cfg.app_version)
        self.crm = Crm(self.clock, cfg.invoice_category_id)
        self.perms = CrmPermissions()
        self.activities: dict[str, dict[str, Any]] = {}
        self.placements: list[dict[str, Any]] = []
        self.bindings: list[dict[str, Any]] = []
        self.automation: list[dict[str, Any]] = []
        self.rows: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.payments: dict[int, dict[str, Any]] = {}
        self.orders: dict[tuple[int, int], int] = {}
        self.comments: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.seq: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.batch_commands: dict[str, int] = {}
        self.errors: dict[str, int] = {}  # REST error answers by "status CODE"
        self.faults = Faults()
        self.bucket = LeakyBucket(cfg, self.clock)
        self.operating = OperatingTime(cfg, self.clock)
        self.engine = Engine(self)
        self.outbound = Outbound(self)

    def next_id(self, name: str, start: int = 1) -> int:
        """A sequence for ids of one kind."""
        self.seq[name] = self.seq.get(name, start - 1) + 1
        return self.seq[name]

    @property
    def domain(self) -> str:
        """Portal domain (host:port)."""
        return self.portal_url.split("://", 1)[1]

    @property
    def client_endpoint(self) -> str:
        """Portal REST base."""
        return f"{self.portal_url}/rest/"

    @property
    def server_endpoint(self) -> str:
        """OAuth server REST base."""
        return f"{self.oauth_url}/rest/"

    def install_url(self) -> str:
        """The app's install URL."""
        return self.cfg.app_url.rstrip("/") + self.cfg.install_path

    def handler_auth(self, user_id: int) -> dict[str, Any]:
        """auth[...] of a robot/activity handler call, with a fresh token for the user."""
        t = self.tokens.issue(user_id)
        out: dict[str, Any] = {
            "access_token": t["access_token"],
            "expires": str(t["expires"]),
            "expires_in": str(t["expires_in"]),
            "scope": t["scope"],
            "domain": self.domain,
            "server_endpoint": self.server_endpoint,
            "status": self.cfg.app_status,
            "client_endpoint": self.client_endpoint,
            "member_id": self.member_id,
            "user_id": str(user_id),
            "refresh_token": t["refresh_token"],
            "application_token": self.app.application_token,
        }
        if not self.cfg.send_refresh_token:
            out.pop("refresh_token")
        return out

    def event_auth(self, user_id: int | None) -> dict[str, Any]:
        """auth[...] of an event POST; user_id None means no tokens (automation/uninstall)."""
        if user_id is None:
            return {
                "domain": self.domain,
                "server_endpoint": self.server_endpoint,
                "client_endpoint": self.client_endpoint,
                "member_id": self.member_id,
                "application_token": self.app.application_token,
            }
        t = self.tokens.issue(user_id)
        out: dict[str, Any] = {
            "domain": self.domain,
            "scope": t["scope"],
            "access_token": t["access_token"],
            "refresh_token": t["refresh_token"],
            "expires_in": str(t["expires_in"]),
            "server_endpoint": self.server_endpoint,
            "status": self.cfg.app_status,
            "client_endpoint": self.client_endpoint,
            "member_id": self.member_id,
            "application_token": self.app.application_token,
        }
        if self.cfg.event_auth_extra:
            out.update({"expires": str(t["expires"]), "user_id": str(user_id)})
        return out

    def frame(
        self,
        user_id: int,
        placement: str,
        options: dict[str, Any] | None,
        app_sid: str | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(query, form) of the frame POST a portal page sends into an app iframe."""
        t = self.tokens.issue(user_id)
        query = {
            "DOMAIN": self.domain,
            "PROTOCOL": "0",
            "LANG": self.cfg.language,
            "APP_SID": app_sid or hex_id(32),
        }
        form = {
            "AUTH_ID": t["access_token"],
            "AUTH_EXPIRES": str(t["expires_in"]),
            "REFRESH_ID": t["refresh_token"],
            "SERVER_ENDPOINT": self.server_endpoint,
            "APPLICATION_TOKEN": self.app.application_token,
            "APPLICATION_SCOPE": t["scope"],
            "member_id": self.member_id,
            "status": self.cfg.app_status,
            "PLACEMENT": placement,
        }
        if options is not None:
            form["PLACEMENT_OPTIONS"] = json.dumps(options, separators=(",", ":"))
        elif self.cfg.frame_default_options == "empty":
            form["PLACEMENT_OPTIONS"] = "{}"
        return query, form

    def move_item(
        self, type_id: int, item_id: int, stage_id: str, user_id: int, by_robot: bool = True
    ) -> None:
        """Change a document's stage: terminate old-stage workflows, run the new stage's robots."""
        item = self.crm.get(type_id, item_id)
        if item is None:
            raise ApiError("NOT_FOUND", "Element not found", 400)
        if not self.crm.stage_ok(type_id, item["categoryId"], stage_id):
            raise ApiError("CRM_FIELD_ERROR_VALUE_NOT_VALID", f"Unknown stage {stage_id}", 400)
        old = item["stageId"]
        if old == stage_id:
            return
        self.crm.set_fields(item, {"stageId": stage_id, "movedBy": user_id})
        item["movedTime"] = item["updatedTime"]
        self.engine.on_stage_left(type_id, item_id, old)
        self.run_stage(type_id, item_id, stage_id, user_id)
        self.item_event(type_id, item_id, "UPDATE", None if by_robot else user_id)

    def run_stage(self, type_id: int, item_id: int, stage_id: str, user_id: int) -> None:
        """Start the robots placed on a stage."""
        steps = [
            self.step_of(a)
            for a in self.automation
            if a["entityTypeId"] == type_id and a["stageId"] == stage_id
        ]
        if not steps:
            return
        groups = [steps] if self.cfg.stage_robots == "sequential" else [[s] for s in steps]
        for group in groups:
            self.engine.start(type_id, item_id, group, user_id, stage_id)

    def step_of(self, a: dict[str, Any]) -> Step:
        """A workflow step from an automation entry."""
        return Step(
            code=a.get("code", ""),
            properties=dict(a.get("properties") or {}),
            timeout=int(a.get("timeout_duration", self.cfg.automation_timeout) or 0),
            auth_user_id=a.get("auth_user_id"),
            builtin=a.get("builtin", ""),
            stage_id=a.get("stage_id", ""),
            condition=dict(a.get("condition") or {}),
        )

    def item_event(self, type_id: int, item_id: int, action: str, user_id: int | None) -> None:
        """Fire ONCRMDEAL* / ONCRMDYNAMICITEM* to bound handlers."""
        if type_id == DEAL:
            self.fire_event(f"ONCRMDEAL{action}", {"FIELDS": {"ID": item_id}}, user_id)
        else:
            self.fire_event(
                f"ONCRMDYNAMICITEM{action}",
                {"FIELDS": {"ID": item_id, "ENTITY_TYPE_ID": type_id}},
                user_id,
            )

    def fire_event(
        self,
        name: str,
        data: dict[str, Any],
        user_id: int | None,
        bindings: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """POST an event to every online binding (only when installed, not revoked)."""
        if not (self.app.installed and not self.app.revoked) and bindings is None:
            return []
        sent = []
        for b in bindings if bindings is not None else self.bindings:
            if b["event"] != name or b["offline"]:
                continue
            uid = user_id
            if uid is not None and int(b["auth_type"]):
                uid = int(b["auth_type"])
            form = {
                "event": name,
                "event_handler_id": str(b["id"]),
                "data": data,
                "ts": str(int(self.clock.now())),
                "auth": self.event_auth(uid),
            }
            sent.append(self.outbound.send(b["handler"], form, "event", name))
        return sent

    def wipe_registrations(self, events: bool) -> None:
        """Remove robots/activities, their settings placements and (optionally) event bindings."""
        self.activities.clear()
        self.placements = [
            p for p in self.placements if p["placement"] != "BIZPROC_ACTIVITY_PROPERTIES_DIALOG"
        ]
        if events:
            self.bindings.clear()
