"""Build `batch` requests (50 commands each) and read their answers."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest, BitrixError, BitrixUnavailable, error_from_response
from .forms import http_build_query

BATCH_LIMIT = 50
_METHOD = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_REFERENCE = re.compile(r"\$result\[([^\]]*)\]")

Command = tuple[str, Mapping[str, Any] | None]


def check_method(method: str) -> str:
    """Return method if it is a plain dotted REST method name, else raise ValueError."""
    if not _METHOD.fullmatch(method):
        raise ValueError(f"not a REST method name: {method!r}")
    return method


@dataclass
class BatchResult:
    """The merged answers of every chunk, keyed by command name."""

    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, BitrixError] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    nexts: dict[str, int] = field(default_factory=dict)
    resets: dict[str, float] = field(default_factory=dict)  # result_time's operating_reset_at

    def part(self, prefix: str) -> BatchResult:
        """The answers of the commands named with `prefix` (see `prefixed`), prefix removed."""

        def strip(members: Mapping[str, Any]) -> dict[str, Any]:
            return {k[len(prefix) :]: v for k, v in members.items() if k.startswith(prefix)}

        return BatchResult(
            strip(self.results), strip(self.errors), strip(self.totals), strip(self.nexts)
        )

    def merge(self, other: BatchResult) -> None:
        """Add another chunk's answers."""
        self.results.update(other.results)
        self.errors.update(other.errors)
        self.totals.update(other.totals)
        self.nexts.update(other.nexts)
        self.resets.update(other.resets)


def encode_chunks(commands: Mapping[str, Command]) -> list[dict[str, str]]:
    """Encode commands as `method?query` strings in chunks of 50, in the mapping's order.

    `$result[name]` may only point to an earlier command of the same chunk: Bitrix24 resolves
    references inside one batch request, so references across chunks raise ValueError.
    """
    names = list(commands)
    chunks: list[dict[str, str]] = []
    for start in range(0, len(names), BATCH_LIMIT):
        chunk: dict[str, str] = {}
        for name in names[start : start + BATCH_LIMIT]:
            if not name or "[" in name or "]" in name:
                raise ValueError(f"bad batch command name: {name!r}")
            method, params = commands[name]
            params = params or {}
            for ref in references(params):
                if ref not in chunk:
                    raise ValueError(
                        f"command {name!r} refers to $result[{ref}], which is not an earlier "
                        f"command of the same chunk of {BATCH_LIMIT}"
                    )
            query = http_build_query(params)
            chunk[name] = f"{check_method(method)}?{query}" if query else check_method(method)
        chunks.append(chunk)
    return chunks


def prefixed(prefix: str, commands: Mapping[str, Command]) -> dict[str, Command]:
    """The commands renamed `prefix + name`, their `$result[name]` references too.

    Lets the commands of several payments share one batch request without name clashes.
    """
    names = set(commands)

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return _REFERENCE.sub(
                lambda m: f"$result[{prefix}{m.group(1)}]" if m.group(1) in names else m.group(0),
                value,
            )
        if isinstance(value, Mapping):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [rename(v) for v in value]
        return value

    return {prefix + name: (method, rename(params)) for name, (method, params) in commands.items()}


def references(value: Any) -> Iterator[str]:
    """Yield the command names a parameter tree refers to with `$result[...]`."""
    if isinstance(value, str):
        yield from _REFERENCE.findall(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)


def parse_batch(result: Any, methods: Mapping[str, str]) -> BatchResult:
    """Read one batch answer; per-command errors become typed errors."""
    if not isinstance(result, Mapping):
        raise BitrixUnavailable("INVALID_RESPONSE", "batch result is not an object", None, "batch")
    errors: dict[str, BitrixError] = {}
    for name, raw in _members(result.get("result_error")).items():
        method = methods.get(name, "batch")
        error = error_from_response(None, raw, method=method) if isinstance(raw, Mapping) else None
        errors[name] = error or BadRequest(
            raw if not isinstance(raw, Mapping) else "", "", None, method
        )
    return BatchResult(
        results=_members(result.get("result")),
        errors=errors,
        totals={k: int(v) for k, v in _members(result.get("result_total")).items()},
        nexts={k: int(v) for k, v in _members(result.get("result_next")).items()},
        resets={
            k: float(v["operating_reset_at"])
            for k, v in _members(result.get("result_time")).items()
            if isinstance(v, Mapping) and isinstance(v.get("operating_reset_at"), int | float)
        },
    )


def _members(value: Any) -> dict[str, Any]:
    """Read a per-command member: PHP sends an empty one as [] and numeric names as a list."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}
