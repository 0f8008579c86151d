"""Property values: document expressions, handler formatting, return-value type conversion."""

from __future__ import annotations

import re
from typing import Any

from .crm import DEAL

EXPR = re.compile(r"\{=Document:([A-Za-z0-9_]+)\}")
SMART_INVOICE_CLASS = "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice"


def document_ids(type_id: int, item_id: int) -> tuple[list[str], list[str]]:
    """(document_id, document_type) triples of a deal or smart invoice."""
    if type_id == DEAL:
        return ["crm", "CCrmDocumentDeal", f"DEAL_{item_id}"], ["crm", "CCrmDocumentDeal", "DEAL"]
    return (
        ["crm", SMART_INVOICE_CLASS, f"SMART_INVOICE_{item_id}"],
        ["crm", SMART_INVOICE_CLASS, "SMART_INVOICE"],
    )


def upper_snake(name: str) -> str:
    """camelCase → UPPER_SNAKE."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def document_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A document's fields by UPPER_SNAKE name (as {=Document:X} sees them)."""
    out = {upper_snake(k): v for k, v in item.items()}
    out["ID"] = item["id"]
    return out


def evaluate(value: Any, doc: dict[str, Any]) -> Any:
    """Replace {=Document:FIELD} expressions."""
    if isinstance(value, list):
        return [evaluate(v, doc) for v in value]
    if not isinstance(value, str):
        return value
    whole = EXPR.fullmatch(value.strip())
    if whole:
        return doc.get(whole.group(1).upper(), "")
    return EXPR.sub(lambda m: str(doc.get(m.group(1).upper(), "")), value)


def external(value: Any, ptype: str) -> Any:
    """Format a property value for the handler POST (numbers/bools as strings, null → '')."""
    if isinstance(value, list):
        return [external(v, ptype) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if ptype == "user" and (isinstance(value, int) or str(value).isdigit()):
        return f"user_{value}"
    if isinstance(value, float) and value.is_integer() and ptype == "int":
        return str(int(value))
    return str(value)


def _to_float(v: Any) -> float:
    """PHP-like float cast."""
    try:
        return float(str(v).replace(",", ".").strip())
    except ValueError:
        return 0.0


def convert(value: Any, ptype: str) -> Any:
    """Convert one returned value to a RETURN_PROPERTIES type."""
    t = (ptype or "string").lower()
    if value is None:
        return None
    if t == "bool":
        if isinstance(value, str):
            return "Y" if value.strip().upper() in ("Y", "1", "TRUE", "YES") else "N"
        return "Y" if value else "N"
    if t == "int":
        return int(_to_float(value))
    if t == "double":
        return _to_float(value)
    if t == "user":
        s = str(value)
        return f"user_{s}" if s.isdigit() else s
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value) if not isinstance(value, dict | list) else value


def convert_return(prop: dict[str, Any], value: Any) -> Any:
    """Convert respecting Multiple=Y."""
    ptype = str(prop.get("Type", "string"))
    if str(prop.get("Multiple", "N")).upper() == "Y":
        vals = (
            value
            if isinstance(value, list)
            else list(value.values())
            if isinstance(value, dict)
            else [value]
        )
        return [convert(v, ptype) for v in vals]
    if isinstance(value, list):
        value = value[0] if value else None
    return convert(value, ptype)


def match_returns(props: dict[str, Any], values: Any, convert: bool = False) -> dict[str, Any]:
    """Keep keys matching RETURN_PROPERTIES case-insensitively (canonical key names); their
    values as sent, or converted to the declared types."""
    if not isinstance(values, dict):
        return {}
    by_lower = {k.lower(): k for k in props}
    out = {}
    for key, value in values.items():
        canon = by_lower.get(str(key).lower())
        if canon is not None:
            out[canon] = convert_return(props[canon] or {}, value) if convert else value
    return out
