"""Per-user CRM permissions: a role's read/add/write/delete levels per entity type.

Bitrix24 roles give each action a level (none, own items, department, all); the simulator keeps
"none", "own" (items the user is responsible for, `assignedById`) and "all". Users without a rule
have "all"; administrators always have "all". Lists leave out what the user may not read;
reading or changing one such item is refused with ACCESS_DENIED (crm.item.*, product rows) or
the numeric "Insufficient permissions" (crm.item.payment.*).
"""

from __future__ import annotations

from typing import Any

from .auth import Caller
from .util import ApiError

ACTIONS = ("read", "add", "write", "delete")
LEVELS = ("all", "own", "none")


class CrmPermissions:
    """Levels by user, entity type and action."""

    def __init__(self) -> None:
        self.rules: dict[int, dict[int, dict[str, str]]] = {}

    def set(self, user_id: int, type_id: int, levels: dict[str, Any]) -> dict[str, str]:
        """Set some actions' levels for a user on a type; returns the user's levels there."""
        bad = {k: v for k, v in levels.items() if k not in ACTIONS or v not in LEVELS}
        if bad:
            raise ValueError(f"unknown actions or levels: {bad} (actions {ACTIONS}, {LEVELS})")
        mine = self.rules.setdefault(user_id, {}).setdefault(type_id, {})
        mine.update(levels)
        return {a: mine.get(a, "all") for a in ACTIONS}

    def reset(self) -> None:
        """Everyone may do everything again."""
        self.rules.clear()

    def allows(self, caller: Caller, action: str, type_id: int, item: dict | None) -> bool:
        """Whether the caller may do `action` on the item (None: on a new one)."""
        if caller.is_admin:
            return True
        level = self.rules.get(caller.user_id, {}).get(type_id, {}).get(action, "all")
        if level == "all":
            return True
        if level == "none":
            return False
        return item is None or item.get("assignedById") == caller.user_id

    def check(self, caller: Caller, action: str, type_id: int, item: dict | None) -> None:
        """ACCESS_DENIED unless allowed."""
        if not self.allows(caller, action, type_id, item):
            raise ApiError("ACCESS_DENIED", "Access denied", 403)

    def check_payment(self, caller: Caller, action: str, type_id: int, item: dict | None) -> None:
        """crm.item.payment.* say it D7-style: numeric code 0, HTTP 400."""
        if not self.allows(caller, action, type_id, item):
            raise ApiError(0, "Insufficient permissions", 400)
