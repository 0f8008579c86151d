"""The `batch` method: query-string commands, $result[...] substitution, halt, result_* maps."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from . import registry
from .auth import Caller
from .phpform import parse_query
from .util import ApiError, Paged, time_block, truthy

if TYPE_CHECKING:
    from .portal import Portal

REF = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")


def _resolve(results: dict[str, Any], name: str, path: str) -> tuple[bool, Any]:
    """Look up $result[name][a][b]..."""
    if name not in results:
        return False, None
    node = results[name]
    for key in re.findall(r"\[([^\]]*)\]", path):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False, None
    return True, node


def substitute(value: Any, results: dict[str, Any]) -> Any:
    """Replace $result[...] references in every string of the parsed parameters."""
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if not isinstance(value, str) or "$result" not in value:
        return value
    whole = REF.fullmatch(value)
    if whole:
        ok, found = _resolve(results, whole.group(1), whole.group(2))
        return found if ok else value

    def repl(m: re.Match[str]) -> str:
        """Inline replacement."""
        ok, found = _resolve(results, m.group(1), m.group(2))
        return str(found) if ok and not isinstance(found, dict | list) else m.group(0)

    return REF.sub(repl, value)


@registry.method("batch")
def _batch_placeholder(portal: Portal, caller: Caller, params: dict[str, Any]) -> Any:
    """Registered so `batch` is a known method; the HTTP layer calls run_batch."""
    return run_batch(portal, caller, params)


def run_batch(portal: Portal, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    """Execute up to batch_max commands as one request."""
    cmd = params.get("cmd") or {}
    if isinstance(cmd, list):
        cmd = {str(i): c for i, c in enumerate(cmd)}
    if not isinstance(cmd, dict):
        raise ApiError("ERROR_BATCH_METHOD_NOT_ALLOWED", "Wrong cmd parameter", 400)
    if len(cmd) > portal.cfg.batch_max:
        raise ApiError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400)
    halt = truthy(params.get("halt", 0))
    out: dict[str, dict[str, Any]] = {
        k: {} for k in ("result", "result_error", "result_total", "result_next", "result_time")
    }
    for key, command in cmd.items():
        started = time.time()
        method_name, _, query = str(command).partition("?")
        name = registry.normalise(method_name)
        portal.batch_commands[name] = portal.batch_commands.get(name, 0) + 1
        try:
            sub = substitute(parse_query(query), out["result"])
            sub.pop("auth", None)
            if name == "batch":
                raise ApiError(
                    "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405
                )
            m = registry.lookup(name)
            portal.operating.check(name)
            t0 = time.monotonic()
            res = registry.call(portal, m, caller, sub)
            portal.operating.add(name, time.monotonic() - t0)
        except ApiError as err:
            out["result_error"][key] = {"error": err.error, "error_description": err.description}
            if halt:
                break
            continue
        if isinstance(res, Paged):
            out["result"][key] = res.items
            if res.total is not None:
                out["result_total"][key] = res.total
            if res.next is not None:
                out["result_next"][key] = res.next
        else:
            out["result"][key] = res
        used, reset_at = portal.operating.used(name)
        out["result_time"][key] = time_block(started, time.time(), used, reset_at)
    return {k: (v if v else []) for k, v in out.items()}
