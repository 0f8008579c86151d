"""PHP-style form encoding: `a[b][0]=x` bracket keys to nested data and back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

_KEY = re.compile(r"^([^\[\]]*)((?:\[[^\[\]]*\])*)(.*)$")


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are exactly 0..n-1 into lists (PHP packed arrays), recursively."""
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            keys = sorted(int(k) for k in node)
            if keys == list(range(len(keys))):
                return [node[str(i)] for i in keys]
        return node
    return node


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Build nested data from (key, value) pairs with PHP bracket keys."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        m = _KEY.match(raw_key)
        if not m or not m.group(1):
            continue
        parts = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    nxt = {}
                    node[part] = nxt
                node = nxt
    return _listify(root)


def parse_query(query: str) -> dict[str, Any]:
    """Parse a query string with bracket keys."""
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def scalar(value: Any) -> str:
    """Render one value the way PHP's http_build_query would."""
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    return str(value)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten nested data into bracket-key pairs (lists use [0], [1], ...)."""
    out: list[tuple[str, str]] = []
    if isinstance(data, dict):
        items: Iterable[tuple[Any, Any]] = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        return [(prefix, scalar(data))]
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, dict | list | tuple):
            if not value:
                continue
            out.extend(flatten(value, name))
        else:
            out.append((name, scalar(value)))
    return out


def encode(data: dict[str, Any]) -> str:
    """Encode nested data as an x-www-form-urlencoded body with bracket keys."""
    return urlencode(flatten(data))
