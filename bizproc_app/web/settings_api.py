"""The settings page's JSON API (admins only): terminals, refund rights, registration repair."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import delete, select

from bizproc_app.bitrix import OVERLOAD_ADVICE, BitrixError, OperatingLimits
from bizproc_app.extensions import app_config, db, redis_conn, secrets
from bizproc_app.linkly import LinklyError, format_cents, to_cents
from bizproc_app.models import MAX_ID, RefundGrant, Terminal
from bizproc_app.payments.robot_properties import Amount
from bizproc_app.portals import registration
from bizproc_app.portals.access import journal
from bizproc_app.terminals import management
from bizproc_app.web.frame_session import frame_api
from bizproc_app.web.http import bitrix_down, error, invalid_fields, json_body
from bizproc_app.wiring.services import bitrix_client_for, linkly

bp = Blueprint("settings", __name__, url_prefix="/api")

_user = fields.Integer(strict=False, validate=validate.Range(min=1, max=MAX_ID))
_users = fields.List(_user, load_default=list)
_currency = fields.String(
    load_default="AUD",
    validate=validate.Regexp(r"^[A-Z]{3}$", error="Use a currency code like AUD."),
)
_name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class PairForm(Schema):
    """Pair a PIN pad: the password is used once and never stored."""

    name = _name
    username = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    pair_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    users = _users
    shared = fields.Boolean(load_default=False)
    currency = _currency


class SecretForm(Schema):
    """Register a PIN pad by an existing secret."""

    name = _name
    secret = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    users = _users
    shared = fields.Boolean(load_default=False)
    currency = _currency


class TerminalChange(Schema):
    """Assign users or mark shared."""

    users = fields.List(_user)
    shared = fields.Boolean()


class UsersForm(Schema):
    """Who has refund rights."""

    users = _users


class WorkflowRefundsForm(Schema):
    """Refund via POS from workflows: allowed or not, and an optional limit per refund."""

    allowed = fields.Boolean(required=True)
    limit = Amount(load_default=None, allow_none=True)


bp.register_error_handler(ValidationError, invalid_fields)


bp.register_error_handler(BitrixError, bitrix_down)


@bp.errorhandler(management.TerminalError)
def _refused(exc: management.TerminalError) -> ResponseReturnValue:
    return error(400, str(exc), {"_": [str(exc)]})


def _view(t: Terminal) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "currency": t.currency,
        "shared": t.shared,
        "active": t.active,
        "users": t.user_ids,
        "last_status": t.last_status,
        "last_seen_at": t.last_seen_at.isoformat() if t.last_seen_at else None,
    }


def _terminal(terminal_id: int) -> Terminal | None:
    t = db.session.get(Terminal, terminal_id)
    return t if t is not None and t.portal_id == g.portal.id and t.active else None


def _refund_users() -> list[int]:
    return sorted(
        db.session.scalars(select(RefundGrant.user_id).where(RefundGrant.portal_id == g.portal.id))
    )


def _workflow_refunds() -> dict[str, Any]:
    limit = g.portal.workflow_refund_limit_cents
    return {
        "allowed": g.portal.workflow_refunds,
        "limit": format_cents(limit) if limit is not None else None,
    }


def _registration() -> dict[str, Any]:
    urls = registration.AppUrls(app_config().APP_BASE_URL)
    return registration.status(bitrix_client_for(g.portal), urls, g.portal.auth_user_id)


@bp.get("/settings")
@frame_api(admin=True)
def settings() -> ResponseReturnValue:
    """Terminals, refund rights and the app's registration status."""
    try:
        reg = _registration()
    except BitrixError as exc:
        reg = {"ok": False, "missing": [], "error": f"Bitrix24 did not answer ({exc.code})"}
    active = [t for t in management.list_terminals(db.session, g.portal) if t.active]
    return jsonify(
        {
            "terminals": [_view(t) for t in active],
            "refund_users": _refund_users(),
            "workflow_refunds": _workflow_refunds(),
            "registration": reg,
            "bitrix_overload": _overload(),
        }
    )


def _overload() -> dict[str, Any] | None:
    """Support's manual block of the app, if the portal's last answer was one."""
    found = OperatingLimits(redis_conn.client).overload(g.portal.member_id)
    if found is None:
        return None
    since = datetime.fromtimestamp(found["since"], UTC).isoformat()
    return {"since": since, "method": found["method"], "advice": OVERLOAD_ADVICE}


@bp.post("/terminals/pair")
@frame_api(admin=True)
def pair() -> ResponseReturnValue:
    """Pair terminal."""
    form = json_body(PairForm())
    made = management.pair_terminal(db.session, linkly(), secrets.box, portal=g.portal, **form)
    return jsonify({"terminal": _view(made)}), 201


@bp.post("/terminals")
@frame_api(admin=True)
def add() -> ResponseReturnValue:
    """Add a terminal by its secret."""
    form = json_body(SecretForm())
    made = management.add_terminal(db.session, secrets.box, portal=g.portal, **form)
    return jsonify({"terminal": _view(made)}), 201


@bp.put("/terminals/<int:terminal_id>")
@frame_api(admin=True)
def change(terminal_id: int) -> ResponseReturnValue:
    """Assign users and/or mark shared."""
    form = json_body(TerminalChange())
    terminal = _terminal(terminal_id)
    if terminal is None:
        return error(404, "No such terminal.")
    if "users" in form:
        management.assign_users(db.session, terminal, form["users"])
    if "shared" in form:
        terminal.shared = form["shared"]
        journal(
            db.session,
            "terminal.shared",
            portal=g.portal,
            subject=str(terminal.id),
            shared=terminal.shared,
        )
        db.session.commit()
    return jsonify({"terminal": _view(terminal)})


@bp.post("/terminals/<int:terminal_id>/test")
@frame_api(admin=True)
def test(terminal_id: int) -> ResponseReturnValue:
    """Test connection: the PIN pad's status through Linkly."""
    terminal = _terminal(terminal_id)
    if terminal is None:
        return error(404, "No such terminal.")
    try:
        management.check_terminal(db.session, linkly(), secrets.box, terminal)
    except (management.TerminalError, LinklyError) as exc:
        return error(400, str(exc), {"terminal": [str(exc)]})
    return jsonify({"terminal": _view(terminal)})


@bp.delete("/terminals/<int:terminal_id>")
@frame_api(admin=True)
def remove(terminal_id: int) -> ResponseReturnValue:
    """Remove a terminal (refused while a payment runs on it)."""
    terminal = _terminal(terminal_id)
    if terminal is None:
        return error(404, "No such terminal.")
    try:
        management.remove_terminal(db.session, terminal)
    except management.TerminalError as exc:
        return error(409, str(exc))
    return "", 204


@bp.put("/refund-users")
@frame_api(admin=True)
def refund_users() -> ResponseReturnValue:
    """Replace the list of users with refund rights."""
    users = sorted(set(json_body(UsersForm())["users"]))
    db.session.execute(delete(RefundGrant).where(RefundGrant.portal_id == g.portal.id))
    db.session.add_all(RefundGrant(portal_id=g.portal.id, user_id=u) for u in users)
    journal(db.session, "settings.refund_users", portal=g.portal, users=users, by=g.user.user_id)
    db.session.commit()
    return jsonify({"refund_users": _refund_users()})


@bp.put("/workflow-refunds")
@frame_api(admin=True)
def workflow_refunds() -> ResponseReturnValue:
    """Whether workflows may refund, and at most how much per refund."""
    form = json_body(WorkflowRefundsForm())
    limit = to_cents(form["limit"]) if form["limit"] is not None else None
    g.portal.workflow_refunds, g.portal.workflow_refund_limit_cents = form["allowed"], limit
    journal(
        db.session,
        "settings.workflow_refunds",
        portal=g.portal,
        allowed=form["allowed"],
        limit_cents=limit,
        by=g.user.user_id,
    )
    db.session.commit()
    return jsonify({"workflow_refunds": _workflow_refunds()})


@bp.post("/repair")
@frame_api(admin=True)
def repair() -> ResponseReturnValue:
    """Register again whatever is missing or differs."""
    urls = registration.AppUrls(app_config().APP_BASE_URL)
    client = bitrix_client_for(g.portal)
    registration.register(client, urls, g.portal.auth_user_id)
    journal(db.session, "bitrix.repaired", portal=g.portal, by=g.user.user_id)
    db.session.commit()
    return jsonify({"registration": _registration()})


@bp.get("/users")
@frame_api(admin=True)
def users() -> ResponseReturnValue:
    """The portal's active users (the fallback of the SDK's user picker)."""
    found = bitrix_client_for(g.portal).call("user.get", {"FILTER": {"ACTIVE": True}})
    rows = found.result if isinstance(found.result, list) else []
    return jsonify(
        {
            "users": [
                {
                    "id": int(u["ID"]),
                    "name": " ".join(str(u.get(k) or "") for k in ("NAME", "LAST_NAME")).strip(),
                }
                for u in rows
                if isinstance(u, dict) and u.get("ID")
            ]
        }
    )
