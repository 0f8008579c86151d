"""The seeded fault campaign: python -m bench.chaos [--short] [--seed N] [--database URL] ...

Exits 0 only when the campaign settled, no invariant was violated and no secret was found in
clear; writes its figures to docs/reliability.md (between the chaos markers).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.chaos.campaign import Campaign, Plan

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = ROOT / "docs" / "reliability.md"
MARKERS = {
    False: ("<!-- chaos:begin -->", "<!-- chaos:end -->"),
    True: ("<!-- chaos-multi:begin -->", "<!-- chaos-multi:end -->"),  # several web processes
}
DEFAULT_SEED = 20261127


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--short", action="store_true", help="CI size: 40 purchases, a 15 s outage")
    ap.add_argument("--purchases", type=int, help="default 480 (short: 40)")
    ap.add_argument("--web-processes", type=int, default=1, help="gunicorn instances")
    ap.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    ap.add_argument("--database", help="a PostgreSQL URL (its public schema is dropped!)")
    ap.add_argument("--output", type=Path, default=RELIABILITY)
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    ap.add_argument(
        "--race", action="store_true",
        help="race mode: few PIN pads, a 10 s busy wait and 14 s deadline, Cancel during sends",
    )  # fmt: skip
    return ap.parse_args(argv)


def render(result: dict[str, Any], command: str) -> str:
    """The Markdown section for docs/reliability.md."""
    plan = result["plan"]
    begin, end = MARKERS[plan["web_processes"] > 1]
    violations = result["violations"]
    scan = result["secret_scan"]
    lines = [
        begin,
        f"## Latest campaign, {'several processes' if plan['web_processes'] > 1 else 'one machine'}"
        f" ({'short' if plan['purchases'] < 200 else 'full'})",
        "",
        f"- Command: `{command}`",
        f"- When: {datetime.now().astimezone().isoformat(timespec='seconds')}; "
        f"phases (s): {result['phases']}",
        f"- Machine: {report.machine()}",
        f"- Seed: {plan['seed']} (the plan, the mix and the fault sequence; timings still vary)",
        f"- Stack: {plan['web_processes']} web process(es), {plan['workers']} RQ workers, "
        f"scheduler, Redis (no persistence), "
        f"{'PostgreSQL' if plan['database'] else 'SQLite'}; both simulators over HTTP",
        f"- Clocks: {result['settings']}",
        f"- Race mode: {'on' if plan['race'] else 'off'}",
        f"- Entered: {result['entries']}",
        f"- Settled: **{result['settled']}**",
        "",
        "| counted | value |",
        "|---|---:|",
        *[f"| {k} | {v} |" for k, v in result["counts"].items()],
        "",
        f"Faults injected: **{sum(result['faults'].values())}**",
        "",
        "| fault | times |",
        "|---|---:|",
        *[f"| {k} | {v} |" for k, v in sorted(result["faults"].items())],
        "",
        *(
            [
                "",
                "Races and limits (a lost race changes nothing; limits end only unsent payments):",
                "",
                "| race | times |",
                "|---|---:|",
                *[f"| {k} | {v} |" for k, v in result["races"].items()],
            ]
            if "races" in result
            else []
        ),
        "",
        f"Invariant violations: **{sum(len(x) for x in violations.values())}**"
        + ("".join(f"\n- {k}: {x[:20]}" for k, x in violations.items()) or ""),
        "",
        f"Secret scan: {scan['secrets']} secrets looked for in {len(scan['places'])} places "
        f"({scan['bytes']:,} bytes: our logs, every database row, every Redis value, the pages "
        f"served); found in clear: **{len(scan['found'])}** {scan['found'] or ''}",
        "",
        "<details><summary>Fault log (seconds from the first fault)</summary>",
        "",
        "```json",
        json.dumps(result["fault_log"], indent=None)[:20000],
        "```",
        "</details>",
        end,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one campaign; 0 when every promise held."""
    a = parse(argv)
    purchases = a.purchases or (40 if a.short else 480)
    plan = Plan(
        seed=a.seed, purchases=purchases, web_processes=a.web_processes, workers=a.workers,
        database=a.database, bitrix_down_seconds=15.0 if a.short else 60.0,
        pinpads=20 if a.short else 40, fault_every=(0.5, 2.0) if a.short else (1.5, 4.0),
        robots_wait=30.0 if a.short else 120.0, race=a.race,
    )  # fmt: skip
    if a.race:  # payments queue behind busy PIN pads; more clerks press Cancel
        plan.pinpads, plan.ui_share = (5 if a.short else 16), 0.3
    campaign = Campaign(plan)
    try:
        result = campaign.run()
    finally:
        campaign.close()
    command = "python -m bench.chaos " + " ".join(shlex.quote(x) for x in (argv or sys.argv[1:]))
    report.write(render(result, command), a.output, MARKERS[a.web_processes > 1])
    if a.json:
        a.json.write_text(json.dumps(result, indent=1, default=str))
    ok = result["settled"] and not result["violations"] and not result["secret_scan"]["found"]
    print(render(result, command).split("<details>")[0])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
