"""JSON key casing: tolerant (case-insensitive) input, camelCase or PascalCase output."""

from __future__ import annotations

from typing import Any

# Dictionaries whose keys are data (PAD tags), not property names: never re-cased.
VERBATIM_KEYS = {"purchaseanalysisdata"}


def camel(name: str) -> str:
    """Convert a PascalCase name the way .NET's JsonNamingPolicy.CamelCase does."""
    if not name or not name[0].isupper():
        return name
    chars = list(name)
    for i in range(len(chars)):
        if i == 1 and not chars[i].isupper():
            break
        has_next = i + 1 < len(chars)
        if i > 0 and has_next and not chars[i + 1].isupper():
            if chars[i + 1] == " ":
                chars[i] = chars[i].lower()
            break
        chars[i] = chars[i].lower()
    return "".join(chars)


def render(obj: Any, casing: str) -> Any:
    """Return a copy of obj (built with PascalCase keys) in the requested casing."""
    if casing == "pascal":
        return obj
    return _recase(obj)


def _recase(obj: Any) -> Any:
    """Recursively camelCase dict keys, leaving PAD dictionaries verbatim."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key.lower() in VERBATIM_KEYS and isinstance(value, dict):
                out[camel(key)] = dict(value)
            else:
                out[camel(key)] = _recase(value)
        return out
    if isinstance(obj, list):
        return [_recase(v) for v in obj]
    return obj


def lower_keys(obj: Any) -> Any:
    """Recursively lower-case dict keys so lookups are case-insensitive."""
    if isinstance(obj, dict):
        return {str(k).lower(): lower_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [lower_keys(v) for v in obj]
    return obj
