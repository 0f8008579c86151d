"""CLI: python -m simulators.bitrix24 --port 8024 --app-url http://127.0.0.1:5000 ..."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from dataclasses import MISSING, fields
from typing import Any

from .config import SimConfig
from .limits import Faults
from .server import Bitrix24Simulator


def build_parser() -> argparse.ArgumentParser:
    """Every SimConfig field and every failure switch as a flag ([?] = unconfirmed behaviour)."""
    p = argparse.ArgumentParser(
        prog="python -m simulators.bitrix24",
        description="Bitrix24 simulator: OAuth server + one portal's REST API + business "
        "processes. Control API at /_sim/ (GET /_sim/ lists routes).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="listen address (loopback only)")
    p.add_argument("--port", type=int, default=8024, help="portal port (0 = any free port)")
    for f in fields(SimConfig):
        default = f.default if f.default is not MISSING else None
        flag = "--" + f.name.replace("_", "-")
        helptext = f.metadata.get("help", "")
        if isinstance(default, bool):
            p.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=default, help=helptext
            )
        else:
            p.add_argument(
                flag,
                type=type(default),
                default=default,
                help=helptext,
                choices=f.metadata.get("choices"),
            )
    g = p.add_argument_group("failure switches (also POST /_sim/faults)")
    for name, value in Faults().to_dict().items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            g.add_argument(flag, action="store_true", help=f"fault {name}")
        else:
            g.add_argument(flag, type=type(value), default=value, help=f"fault {name}")
    g.add_argument("--down-seconds", type=float, default=0.0, help="portal down for N seconds")
    return p


def main(argv: list[str] | None = None) -> None:
    """Parse flags, start the simulator, serve until interrupted."""
    args = vars(build_parser().parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    cfg = SimConfig()
    names = {f.name for f in fields(SimConfig)}
    cfg.update({k: v for k, v in args.items() if k in names})
    sim = Bitrix24Simulator(cfg, quiet=False)
    faults: dict[str, Any] = {k: v for k, v in args.items() if k not in names and v}
    urls = sim.start(host, port)
    sim.portal.faults.update(faults, sim.portal.clock.now())
    print(json.dumps(urls, indent=2), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
