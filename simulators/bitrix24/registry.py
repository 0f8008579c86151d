"""REST method registry and the per-call checks (scope, app context, admin)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .auth import Caller
from .util import ApiError

if TYPE_CHECKING:
    from .portal import Portal

Handler = Callable[["Portal", Caller, dict[str, Any]], Any]


@dataclass
class Method:
    """One REST method and its access rules."""

    name: str
    fn: Handler
    scopes: tuple[str, ...]
    app_only: str
    admin: bool


METHODS: dict[str, Method] = {}
APP_CONTEXT = "ACCESS_DENIED"
WRONG_AUTH = "WRONG_AUTH_TYPE"


def method(
    name: str, scope: str | tuple[str, ...] = (), app_only: str = "", admin: bool = False
) -> Callable[[Handler], Handler]:
    """Register a REST method (scope: one name or alternatives; app_only: the error to raise)."""
    scopes = (scope,) if isinstance(scope, str) else scope

    def deco(fn: Handler) -> Handler:
        """Store the handler."""
        METHODS[name.lower()] = Method(name, fn, scopes, app_only, admin)
        return fn

    return deco


def normalise(name: str) -> str:
    """Lower-case the method name and drop a .json suffix."""
    name = name.strip().strip("/").lower()
    return name[:-5] if name.endswith(".json") else name


def lookup(name: str) -> Method:
    """Find a method or raise ERROR_METHOD_NOT_FOUND."""
    m = METHODS.get(normalise(name))
    if m is None:
        raise ApiError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
    return m


def check_access(m: Method, caller: Caller) -> None:
    """Scope, app-context and admin checks in the reference's order."""
    if m.scopes and not any(s in caller.scope for s in m.scopes):
        raise ApiError(
            "insufficient_scope",
            "The request requires higher privileges than provided by the access token",
            403,
        )
    if m.app_only and not caller.is_app:
        if m.app_only == WRONG_AUTH:
            raise ApiError(WRONG_AUTH, "Current authorization type is denied for this method", 403)
        raise ApiError("ACCESS_DENIED", "Application context required", 403)
    if m.admin and not caller.is_admin:
        raise ApiError("ACCESS_DENIED", "Access denied!", 403)


def call(portal: Portal, m: Method, caller: Caller, params: dict[str, Any]) -> Any:
    """Run a method after the access checks."""
    check_access(m, caller)
    return m.fn(portal, caller, params)
