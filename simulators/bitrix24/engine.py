"""Business-process engine: workflows, robot/activity handler calls, event tokens, timeouts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from . import values
from .util import ApiError, activity_name, alnum, iso, uniqid

if TYPE_CHECKING:
    from .portal import Portal

DEFAULT_LOG = "Received response from the application"


@dataclass
class Step:
    """One robot/activity in a workflow (or the built-in change_stage robot)."""

    code: str
    properties: dict[str, Any] = field(default_factory=dict)
    timeout: int = 0
    auth_user_id: int | None = None
    builtin: str = ""
    stage_id: str = ""
    condition: dict[str, Any] = field(default_factory=dict)


@dataclass
class Workflow:
    """A running or finished workflow instance on one document."""

    id: str
    type_id: int
    item_id: int
    stage_id: str
    steps: list[Step]
    user_id: int
    started: str
    index: int = 0
    status: str = "running"
    waiting: dict[str, Any] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """JSON view for the control API."""
        return asdict(self)


class Engine:
    """Runs workflows; all calls happen under the portal lock."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.secret = secrets.token_bytes(32)
        self.workflows: dict[str, Workflow] = {}

    def sign(self, payload: str) -> str:
        """The Signer-like HMAC (salt 'bizproc')."""
        return hmac.new(self.secret, b"bizproc" + payload.encode(), hashlib.sha256).hexdigest()

    def parse_token(self, token: Any) -> tuple[str, str, str]:
        """Verify an event_token; return (workflow_id, activity_name, event_id) or 403."""
        text = str(token or "")
        payload, _, sig = text.rpartition(".")
        parts = payload.split("|")
        if len(parts) != 3 or not hmac.compare_digest(self.sign(payload), sig):
            raise ApiError("ACCESS_DENIED", "Access denied!", 403)
        return parts[0], parts[1], parts[2]

    def note(self, wf: Workflow, message: str, kind: str = "system", code: str = "") -> None:
        """Append a workflow log line."""
        act = wf.waiting["activity_name"] if wf.waiting else ""
        wf.log.append(
            {
                "time": iso(self.portal.clock.now()),
                "ts": self.portal.clock.now(),  # epoch seconds, for latency measurements
                "kind": kind,
                "code": code,
                "activity": act,
                "message": message,
            }
        )

    def start(
        self, type_id: int, item_id: int, steps: list[Step], user_id: int, stage_id: str = ""
    ) -> Workflow:
        """Create a workflow and run it until it waits or ends."""
        wf = Workflow(
            uniqid(self.portal.clock.now()),
            type_id,
            item_id,
            stage_id,
            steps,
            user_id,
            iso(self.portal.clock.now()) or "",
        )
        self.workflows[wf.id] = wf
        self.note(wf, f"Workflow started on {values.document_ids(type_id, item_id)[0][2]}")
        self.advance(wf)
        return wf

    def advance(self, wf: Workflow) -> None:
        """Run steps until one waits or the workflow completes."""
        while wf.status == "running" and wf.waiting is None:
            if wf.index >= len(wf.steps):
                wf.status = "completed"
                self.note(wf, "Workflow completed")
                return
            step = wf.steps[wf.index]
            if step.builtin == "change_stage":
                wf.index += 1
                if self._condition(wf, step.condition):
                    self.note(wf, f"Change stage to {step.stage_id}", code="change_stage")
                    self.portal.move_item(wf.type_id, wf.item_id, step.stage_id, wf.user_id)
                continue
            self._run_app_step(wf, step)

    def _condition(self, wf: Workflow, cond: dict[str, Any]) -> bool:
        """All {return key: expected} pairs hold in any earlier robot's return values."""
        merged: dict[str, Any] = {}
        for ret in wf.returns.values():
            merged.update({k.lower(): v for k, v in ret.items()})
        return all(str(merged.get(k.lower())) == str(v) for k, v in cond.items())

    def _run_app_step(self, wf: Workflow, step: Step) -> None:
        """POST the handler call of an app robot/activity; wait if subscribed."""
        robot = self.portal.activities.get(step.code)
        if robot is None:
            self.note(wf, f"Robot {step.code} is unavailable (not registered); skipped", "error")
            wf.index += 1
            return
        item = self.portal.crm.get(wf.type_id, wf.item_id)
        doc = values.document_fields(item) if item else {}
        act, event_id = activity_name(), alnum(32)
        payload = f"{wf.id}|{act}|{event_id}"
        token = f"{payload}.{self.sign(payload)}"
        wf.tokens.append(token)
        sub = str(robot.get("USE_SUBSCRIPTION") or self.portal.cfg.use_subscription_default)
        sub = "N" if sub.upper() == "N" else "Y"
        props: dict[str, Any] = {}
        for key, spec in (robot.get("PROPERTIES") or {}).items():
            raw = step.properties.get(key, (spec or {}).get("Default"))
            props[key] = values.external(values.evaluate(raw, doc), str((spec or {}).get("Type")))
        user = step.auth_user_id if step.auth_user_id is not None else robot.get("AUTH_USER_ID")
        user = int(user or 0) or wf.user_id
        doc_id, doc_type = values.document_ids(wf.type_id, wf.item_id)
        form: dict[str, Any] = {
            "workflow_id": wf.id,
            "code": step.code,
            "document_id": doc_id,
            "document_type": doc_type,
            "event_token": token,
        }
        if props:
            form["properties"] = props
        form.update(
            {
                "use_subscription": sub,
                "timeout_duration": str(step.timeout),
                "ts": str(int(self.portal.clock.now())),
                "auth": self.portal.handler_auth(user),
            }
        )
        wf.waiting = {
            "activity_name": act,
            "event_id": event_id,
            "code": step.code,
            "deadline": self.portal.clock.now() + step.timeout if step.timeout else None,
        }
        self.note(wf, f"Handler call sent to {robot['HANDLER']}", code=step.code)
        self.portal.outbound.send(robot["HANDLER"], form, "robot", wf.id, handler_call=True)
        if sub == "N":
            self._close(wf, {})

    def _close(self, wf: Workflow, returns: dict[str, Any], timeout: bool = False) -> None:
        """Finish the waiting step with its return values and move on."""
        assert wf.waiting is not None
        code = wf.waiting["code"]
        robot = self.portal.activities.get(code) or {}
        result: dict[str, Any] = {}
        for key, spec in (robot.get("RETURN_PROPERTIES") or {}).items():
            result[key] = (spec or {}).get("Default")
        result.update(returns)
        if str(robot.get("USE_SUBSCRIPTION") or "Y").upper() != "N":
            result["IsTimeout"] = 1 if timeout else 0
        wf.returns[code] = result
        wf.waiting = None
        wf.index += 1
        self.advance(wf)

    def event_send(self, token: Any, return_values: Any, message: str) -> None:
        """bizproc.event.send semantics."""
        wf_id, act, event_id = self.parse_token(token)
        wf = self.workflows.get(wf_id)
        if wf is None or wf.status != "running":
            raise self._ended()
        w = wf.waiting
        if w is None or w["event_id"] != event_id or w["activity_name"] != act:
            if self.portal.cfg.stale_token == "error":  # noqa: S105
                raise ApiError(
                    "ERROR_EVENT_NOT_FOUND", "Activity is not waiting for this event", 400
                )
            self.note(wf, "Stale event token ignored", "ignored")
            return
        robot = self.portal.activities.get(w["code"]) or {}
        declared = robot.get("RETURN_PROPERTIES") or {}
        matched = values.match_returns(declared, return_values, self.portal.cfg.convert_returns)
        self.note(wf, message or DEFAULT_LOG, "event", w["code"])
        self._close(wf, matched)

    def _ended(self) -> ApiError:
        """The answer for a token whose workflow has ended (see SimConfig.ended_workflow)."""
        cfg = self.portal.cfg
        if cfg.ended_workflow == "access_denied":
            return ApiError("ACCESS_DENIED", "Access denied!", 403)
        err = cfg.wf_not_found_error
        code = int(err) if err.lstrip("-").isdigit() else err
        return ApiError(code, "WorkflowNotFound", cfg.wf_not_found_status)

    def activity_log(self, token: Any, message: str) -> None:
        """bizproc.activity.log semantics."""
        wf_id, _, _ = self.parse_token(token)
        if not str(message or "").strip():
            raise ApiError("ERROR_EMPTY_LOG_MESSAGE", "Empty log message!", 400)
        wf = self.workflows.get(wf_id)
        if wf is None or wf.status != "running":
            raise self._ended()
        self.note(wf, str(message), "log")

    def tick(self) -> None:
        """Fire due timeouts."""
        now = self.portal.clock.now()
        for wf in list(self.workflows.values()):
            w = wf.waiting
            if wf.status == "running" and w and w["deadline"] is not None and w["deadline"] <= now:
                self.note(wf, "Timeout: no response from the application", "timeout", w["code"])
                self._close(wf, {}, timeout=True)

    def terminate(self, wf: Workflow, reason: str) -> None:
        """Kill a workflow."""
        if wf.status == "running":
            self.note(wf, f"Workflow terminated: {reason}")
            wf.status = "terminated"
            wf.waiting = None

    def on_stage_left(self, type_id: int, item_id: int, old_stage: str) -> None:
        """Terminate the old stage's workflows (option stage_change_terminates)."""
        if not self.portal.cfg.stage_change_terminates:
            return
        for wf in self.workflows.values():
            if (wf.type_id, wf.item_id, wf.stage_id) == (type_id, item_id, old_stage) and old_stage:
                self.terminate(wf, "document left the stage")

    def on_deleted(self, type_id: int, item_id: int) -> None:
        """Terminate every workflow of a deleted document."""
        for wf in self.workflows.values():
            if (wf.type_id, wf.item_id) == (type_id, item_id):
                self.terminate(wf, "document deleted")
