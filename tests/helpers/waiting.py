"""Waiting for something to become true: a condition polled, or a port that listens."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = "", step: float = 0.1
) -> Any:
    """Poll predicate() every `step` seconds until it is truthy; return its value.

    Raises TimeoutError naming `what` (or the predicate) once `timeout` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on host:port right now."""
    with closing(socket.socket()) as s:
        return s.connect_ex((host, port)) == 0


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    wait_for(lambda: port_open(port), timeout, f"something to listen on 127.0.0.1:{port}", 0.05)
