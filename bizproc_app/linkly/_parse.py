"""Case-insensitive, padding-tolerant readers for Linkly JSON (camelCase or PascalCase)."""

from __future__ import annotations

from typing import Any

from bizproc_app.linkly.errors import ProtocolError


def lower_keys(value: Any) -> Any:
    """Return value with every dict key lower-cased, recursively, for case-insensitive lookup."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def as_dict(value: Any, what: str) -> dict[str, Any]:
    """Return value lower-cased if it is a JSON object, else raise ProtocolError."""
    if not isinstance(value, dict):
        raise ProtocolError(f"Linkly {what} is not a JSON object")
    lowered: dict[str, Any] = lower_keys(value)
    return lowered


def text(value: Any) -> str:
    """Return value as a trimmed string ('' for None); ints keep their digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def opt_text(value: Any) -> str | None:
    """Return the trimmed string, or None when it is missing or blank."""
    return text(value) or None


def flag(value: Any) -> bool:
    """Return True only for JSON true or the strings 'true'/'1' (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return False


def opt_int(value: Any) -> int | None:
    """Return an int from a JSON number or digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def text_lines(value: Any, *, keep_left: bool = False) -> list[str]:
    """Return a list of text lines; trailing padding is always removed, leading unless keep_left."""
    if not isinstance(value, list):
        return []
    raw = ["" if v is None else str(v) for v in value]
    return [v.rstrip() if keep_left else v.strip() for v in raw]


def str_map(value: Any, *, upper: bool = False) -> dict[str, Any]:
    """Return a shallow copy of a JSON object (keys upper-cased if asked), {} otherwise."""
    if not isinstance(value, dict):
        return {}
    return {(str(k).upper() if upper else str(k)): v for k, v in value.items()}


def ci_get(mapping: Any, name: str) -> Any:
    """Return mapping's value for name matched case-insensitively (original casing kept)."""
    if not isinstance(mapping, dict):
        return None
    wanted = name.lower()
    return next((v for k, v in mapping.items() if str(k).lower() == wanted), None)


def reply_head(d: dict[str, Any]) -> dict[str, Any]:
    """The fields every Linkly response object opens with: success, responseCode, responseText."""
    return {
        "success": flag(d.get("success")),
        "response_code": text(d.get("responsecode")),
        "response_text": text(d.get("responsetext")),
    }
