"""Auth host endpoints: pairing and tokens (reference §2, §3)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response

from . import validation
from .web import body_lower, engine, json_response, problem

bp = Blueprint("linkly_auth", __name__)


def _empty_401() -> Response:
    """Pairing/token failure: 401 with an empty body."""
    return Response(b"", status=401)


@bp.post("/v1/pairing/cloudpos")
def pair() -> Response:
    """Exchange username/password/pairCode for a non-expiring secret."""
    eng = engine()
    body = body_lower()
    if not isinstance(body, dict):
        return _empty_401()
    user, pwd, code = (body.get(k) for k in ("username", "password", "paircode"))
    if not all(isinstance(v, str) for v in (user, pwd, code)):
        return _empty_401()
    cfg = eng.config
    ok_user = hmac.compare_digest(user.encode(), cfg.username.encode())
    ok_pwd = hmac.compare_digest(pwd.encode(), cfg.password.encode())
    if not (ok_user and ok_pwd):
        return _empty_401()
    pad = eng.pads.redeem(code.strip())
    if pad is None:
        return _empty_401()
    return json_response({"secret": eng.auth.issue_secret(pad.id)})


@bp.post("/v1/tokens/cloudpos")
def token() -> Response:
    """Exchange a secret plus POS identity for a bearer token."""
    eng = engine()
    body = body_lower()
    errors = validation.token_request(body)
    secret = body.get("secret") if isinstance(body, dict) else None
    if errors:
        if list(errors) == ["secret"]:
            return _empty_401()
        return problem(400, errors)
    pinpad = eng.auth.pinpad_of_secret(secret)
    if pinpad is None:
        return _empty_401()
    lifetime = int(eng.config.token_lifetime)
    tok = eng.auth.issue_token(pinpad, body["posid"], lifetime)
    return json_response({"token": tok, "expirySeconds": lifetime})
