"""Command line: every SimulatorConfig option is a flag; the flags create PIN pad "1"."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import MISSING, fields

from .config import SimulatorConfig, coerce
from .server import LinklySimulator

# Options set by the dedicated PIN pad flags below rather than generic ones.
_SPECIAL = {"mode", "cardholder_delay"}


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser; --help documents every flag with its default."""
    p = argparse.ArgumentParser(
        prog="python -m simulators.linkly",
        description="Local Linkly Cloud REST API (v1) simulator: auth, REST and /_sim/ control "
        "routes on one port. [?] marks behaviour the reference could not confirm.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (0 = any free)")
    p.add_argument(
        "--pair-code", default=None, help="pair code of PIN pad 1 (None = a random 6-digit code)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--cardholder-delay",
        type=float,
        default=2.0,
        help="auto mode: seconds the virtual cardholder takes per transaction",
    )
    group.add_argument(
        "--interactive",
        action="store_true",
        help="PIN pad 1 waits for the virtual PIN pad page (/_sim/pinpad/1)",
    )
    for f in fields(SimulatorConfig):
        if f.name in _SPECIAL:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        flag = "--" + f.name.replace("_", "-")
        kwargs: dict = {"dest": f.name, "help": f.metadata["help"]}
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, **kwargs)
            continue
        if isinstance(default, list):
            kwargs["help"] += " (comma-separated)"
            default = ",".join(default)
        elif isinstance(default, dict):
            kwargs["help"] += " (JSON object)"
            default = json.dumps(default)
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        p.add_argument(flag, default=default, **kwargs)
    return p


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Build a SimulatorConfig from parsed flags."""
    cfg = SimulatorConfig()
    for f in fields(SimulatorConfig):
        if f.name in _SPECIAL:
            continue
        setattr(
            cfg, f.name, coerce(f.name, getattr(cfg, f.name), getattr(args, f.name), f.metadata)
        )
    cfg.mode = "interactive" if args.interactive else "auto"
    cfg.cardholder_delay = args.cardholder_delay
    return cfg


def main(argv: list[str] | None = None) -> int:
    """Run the simulator in the foreground until SIGINT/SIGTERM."""
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sim = LinklySimulator(cfg, pair_code=args.pair_code)
    url = sim.start(host=args.host, port=args.port)
    pad = sim.pinpad("1")
    print(f"Linkly simulator listening on {url}", flush=True)
    print(
        f"PIN pad 1: mode={pad.mode} pair code={pad.pair_code} "
        f"(valid {cfg.pair_code_ttl:.0f}s) page={url}/_sim/pinpad/1 control={url}/_sim/",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0
