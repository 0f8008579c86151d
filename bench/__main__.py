"""Benchmark the payment pipeline on the real stack: python -m bench [--quick] (see --help)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import report
from bench.metrics import load_average
from bench.runner import Params, Run, stamp


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small N, under 2 minutes (CI smoke)")
    ap.add_argument("--pinpads", type=int, help="simulated PIN pads (default 1000; quick 20)")
    ap.add_argument("--payments", type=int, help="purchases (default 1000; quick 40)")
    ap.add_argument("--workers", type=int, default=2, help="RQ worker processes (default 2)")
    ap.add_argument("--rate", type=float, help="entries per second (default 100; quick 20)")
    ap.add_argument("--delay", type=float, nargs=2, metavar=("LO", "HI"),
                    help="cardholder delay range, s (default 15 25; quick 2 4)")  # fmt: skip
    ap.add_argument("--soak", type=float, default=0.0, metavar="MINUTES", help="then soak")
    ap.add_argument("--no-baseline", action="store_true", help="skip the blocking baseline")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the default-limits phase")
    ap.add_argument("--database", help="a PostgreSQL URL (its public schema is dropped!)")
    ap.add_argument("--profile", metavar="DIR", help="run our processes under py-spy into DIR")
    ap.add_argument(
        "--trace-memory",
        metavar="DIR",
        help="tracemalloc snapshots of the web workers every minute (bench.memtrace)",
    )
    ap.add_argument("--output", type=Path, default=report.REPORT, help="the Markdown report")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    return ap.parse_args(argv)


def params(a: argparse.Namespace) -> Params:
    """Defaults by mode."""
    q = a.quick
    return Params(
        quick=q,
        pinpads=a.pinpads or (20 if q else 1000),
        payments=a.payments or (40 if q else 1000),
        workers=a.workers,
        rate=a.rate or (20.0 if q else 100.0),
        delays=tuple(a.delay) if a.delay else ((2.0, 4.0) if q else (15.0, 25.0)),
        database=a.database,
        baseline=not a.no_baseline,
        baseline_seconds=15.0 if q else 120.0,
        ceiling_seconds=0.0 if a.no_ceiling else (10.0 if q else 60.0),
        settle_seconds=40.0 if q else 240.0,
        soak_minutes=a.soak,
        profile=a.profile,
        trace_memory=a.trace_memory,
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write docs/performance.md."""
    args = parse(argv)
    p = params(args)
    started = time.monotonic()
    load_before = load_average()
    run = Run(p)
    result: dict = {"quick": p.quick, "params": asdict(p)}
    try:
        run.setup()
        ours = run.ours()
        result["ours"] = ours.values
        print(f"bench: ours done ({ours.values['completed']} completed)", file=sys.stderr)
        if p.baseline:
            base = run.baseline()
            result["baseline"] = base.values
            print(f"bench: baseline done ({base.values['completed']} completed)", file=sys.stderr)
        if p.ceiling_seconds:
            # The ceiling phase pays invoices (all approved) at the figure of report_default().
            result["ceiling"] = run.ceiling(report_default())
            result["ceiling"]["all_commands_per_payment"] = (
                ours.values.get("commands_per_payment") or 0
            )
            result["ceiling"]["requests_per_payment"] = ours.values.get("rest_per_payment") or 0
        if p.soak_minutes:
            result["soak"] = run.soak(p.soak_minutes)
    finally:
        run.close()
    result.update(
        command="python -m bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        when=stamp(),
        elapsed=time.monotonic() - started,
        load_before=load_before,
        load_after=load_average(),
        database="PostgreSQL" if p.database else "SQLite (temp dir)",
    )
    raw = json.dumps(result, indent=1, default=str, sort_keys=True)
    result["raw_json"] = raw
    section = report.render(result)
    report.write(section, args.output)
    if args.json:
        args.json.write_text(raw)
    print(report.table(result["ours"], result.get("baseline")))
    if "ceiling" in result:
        c = result["ceiling"]
        print(
            f"\nportal at default limits: {c['sustained']:.2f} payments/s sustained of a "
            f"{c['ceiling']:.1f}/s ceiling ({100 * c['share']:.0f}%), {c['limited_503']} x 503"
        )
    print(f"\nwritten to {args.output} in {result['elapsed']:.0f} s")
    return 0


def report_default() -> float:
    """Six report commands per approved invoice payment: the ceiling's figure from before
    issue 14 (now 7 to 10, see docs/architecture.md), kept so runs compare (docs/performance.md)."""
    from bench.runner import REPORT_COMMANDS

    return float(REPORT_COMMANDS)


if __name__ == "__main__":
    raise SystemExit(main())
