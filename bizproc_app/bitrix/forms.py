"""PHP-style bracket forms: encode batch commands, decode Bitrix24's form-encoded POSTs.

Encoding follows PHP's http_build_query (which Bitrix's own PHP SDK uses for batch commands, and
which the server undoes with parse_str): nested keys as `a[b][0]`, True -> "1", False -> "0",
None and empty lists/dicts are left out. Pass "Y"/"N" yourself where a field wants them.

Decoding builds nested dicts; a container whose keys are exactly "0".."n-1" becomes a list
(`document_id[0..2]` -> a list of three; `properties[x][0]`, `[1]` -> a list). `a[]` appends
like PHP. Unlike PHP, malformed keys are refused (ValueError) instead of being mangled, and
dots/spaces in names are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

MAX_DEPTH = 5
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INDEX = re.compile(r"0|[1-9][0-9]*")


def http_build_query(params: Mapping[str, Any]) -> str:
    """Encode a mapping as a PHP-style query string: `filter[ENTITY_ID]=DEAL_STAGE&a[0]=x`."""
    pairs: list[str] = []
    for key, value in params.items():
        _encode(_key_text(key), value, pairs)
    return "&".join(pairs)


def _key_text(key: object) -> str:
    """Return a key as text, refusing brackets, which no PHP parser could read back."""
    text = str(key)
    if "[" in text or "]" in text:
        raise ValueError(f"a key may not contain brackets: {text!r}")
    return text


def _encode(prefix: str, value: Any, pairs: list[str]) -> None:
    """Append `prefix=value` pairs for a scalar, or recurse into a container."""
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _encode(f"{prefix}[{_key_text(key)}]", item, pairs)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _encode(f"{prefix}[{index}]", item, pairs)
    else:
        pairs.append(f"{quote(prefix, safe='[]')}={quote(_scalar(value), safe='')}")


def _scalar(value: object) -> str:
    """Format a scalar the way PHP would."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a query string")


def parse_bracket_form(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode `auth[domain]=x`, `document_id[0]=crm` pairs into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in items:
        match = _KEY.fullmatch(key)
        if match is None:
            raise ValueError(f"malformed form key: {key!r}")
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        if len(path) - 1 > MAX_DEPTH:
            raise ValueError(f"form key nested deeper than {MAX_DEPTH}: {key!r}")
        _assign(root, path, value, key)
    return {k: _listify(v) if isinstance(v, dict) else v for k, v in root.items()}


def _assign(node: dict[str, Any], path: list[str], value: str, key: str) -> None:
    """Store value at path inside node, creating containers; `[]` appends."""
    for depth, part in enumerate(path):
        name = _next_index(node) if part == "" else part
        if depth == len(path) - 1:
            if isinstance(node.get(name), dict):
                raise ValueError(f"form key {key!r} overwrites a nested value")
            node[name] = value  # a repeated scalar: the last one wins, as in PHP
            return
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise ValueError(f"form key {key!r} nests under a plain value")
        node = child


def _next_index(node: dict[str, Any]) -> str:
    """Return PHP's next append index: one past the largest integer key."""
    indexes = [int(k) for k in node if _INDEX.fullmatch(k)]
    return str(max(indexes) + 1) if indexes else "0"


def _listify(node: dict[str, Any]) -> Any:
    """Turn containers keyed exactly "0".."n-1" into lists, recursively."""
    converted = {k: _listify(v) if isinstance(v, dict) else v for k, v in node.items()}
    if converted and set(converted) == {str(i) for i in range(len(converted))}:
        return [converted[str(i)] for i in range(len(converted))]
    return converted
