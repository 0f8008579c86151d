"""List filters with Bitrix key prefixes (>=, <, @, !@, %, =%, !=, ...), order and select."""

from __future__ import annotations

import re
from typing import Any

from .util import ApiError

PREFIXES = ["!=%", "!%=", "!@", "!%", "!=", ">=", "<=", "=%", "%=", ">", "<", "@", "%", "=", "!"]


def split_key(key: str) -> tuple[str, str]:
    """Split a filter key into (operator, field)."""
    for p in PREFIXES:
        if key.startswith(p):
            return p, key[len(p) :]
    return "=", key


def _num(v: Any) -> Any:
    """Compare numerically when both sides look numeric."""
    if isinstance(v, bool):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v) if v is not None else ""


def _like(value: Any, pattern: Any, mode: str) -> bool:
    """Substring / prefix / suffix match, case-insensitive."""
    v, p = str(value or "").lower(), str(pattern).lower().replace("%", "")
    if mode == "=%":
        return v.startswith(p)
    if mode == "%=":
        return v.endswith(p)
    return p in v


def _eq(value: Any, want: Any) -> bool:
    """Equality with list-valued filters meaning IN."""
    if isinstance(want, list):
        return any(_eq(value, w) for w in want)
    if isinstance(value, list):
        return any(_eq(v, want) for v in value)
    if isinstance(value, bool) or isinstance(want, bool):
        return str(value).upper() in ("TRUE", "Y", "1") == (str(want).upper() in ("TRUE", "Y", "1"))
    if value is None:
        return want in (None, "", 0, "0")
    return _num(value) == _num(want)


def test(item: dict[str, Any], op: str, field: str, want: Any, getter: Any = None) -> bool:
    """Apply one filter condition."""
    value = getter(item, field) if getter else item.get(field)
    if op in ("=", "@"):
        return _eq(value, want)
    if op in ("!=", "!", "!@"):
        return not _eq(value, want)
    if op in ("%", "=%", "%="):
        return _like(value, want, op)
    if op in ("!%", "!=%", "!%="):
        return not _like(value, want, op[1:] or "%")
    a, b = _num(value), _num(want)
    try:
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]
    except TypeError:
        return False


def apply_filter(
    items: list[dict[str, Any]], flt: Any, getter: Any = None, known: set[str] | None = None
) -> list[dict[str, Any]]:
    """Filter items; `logic: OR` combines the conditions with OR."""
    if not flt:
        return list(items)
    if not isinstance(flt, dict):
        raise ApiError("INVALID_ARG_VALUE", "Invalid filter", 400)
    logic_or = str(flt.get("logic", "")).upper() == "OR"
    conds = []
    for key, want in flt.items():
        if key == "logic":
            continue
        if isinstance(want, dict) and not re.match(r"^[!<>=@%]", key) and key.isdigit():
            conds.append(("sub", "", want))
            continue
        op, field = split_key(key)
        if known is not None and field not in known:
            raise ApiError(
                "INVALID_ARG_VALUE", f"Invalid filter: field '{field}' is not allowed", 400
            )
        conds.append((op, field, want))

    def ok(item: dict[str, Any]) -> bool:
        """Whether one item passes."""
        results = [
            bool(apply_filter([item], c[2], getter)) if c[0] == "sub" else test(item, *c, getter)
            for c in conds
        ]
        return any(results) if logic_or else all(results)

    return [i for i in items if ok(i)]


def apply_order(items: list[dict[str, Any]], order: Any, default: str = "id") -> list[dict]:
    """Sort by {field: ASC|DESC} (stable, last key applied first)."""
    out = sorted(items, key=lambda i: _num(i.get(default)))
    if isinstance(order, dict) and order:
        for field, direction in reversed(list(order.items())):
            out.sort(
                key=lambda i, f=field: _num(i.get(f)), reverse=str(direction).upper() == "DESC"
            )
    return out


def apply_select(item: dict[str, Any], select: Any, always: tuple[str, ...] = ()) -> dict:
    """Keep the selected fields ('*' or empty = all)."""
    if isinstance(select, dict):
        select = list(select.values())
    if not select or "*" in select:
        return item
    keep = set(select) | set(always)
    return {k: v for k, v in item.items() if k in keep or ("UF_*" in keep and k.startswith("UF_"))}
