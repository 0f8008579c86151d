# ruff: noqa: E501 - the report's labels and sentences read better unwrapped
"""Turn a run's figures into the table printed and written to docs/performance.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# (key, label, unit, format, better): better is "low" or "high" for the ratio's reading.
ROWS = [
    ("handler_rate", "Handler calls per second offered", "calls/s", "{:.1f}", ""),
    ("handler_p50", "Handler latency p50 (Bitrix24 call -> our 200)", "ms", "{:.1f}", "low"),
    ("handler_p99", "Handler latency p99", "ms", "{:.1f}", "low"),
    ("overhead_p50", "Pipeline overhead p50 (final transaction -> bizproc.event.send)", "ms", "{:.0f}", "low"),
    ("overhead_p99", "Pipeline overhead p99", "ms", "{:.0f}", "low"),
    ("in_flight", "Payments in flight at once (peak)", "payments", "{:.0f}", "high"),
    ("pinpads_busy", "PIN pads busy at once (peak)", "pads", "{:.0f}", "high"),
    ("throughput", "Completed payments per second", "payments/s", "{:.2f}", "high"),
    ("completed", "Completed payments", "payments", "{:.0f}", "high"),
    ("correct", "Completed correctly", "payments", "{:.0f}", "high"),
    ("cpu_ms_per_payment", "CPU per completed payment (our processes)", "ms", "{:.1f}", "low"),
    ("rest_per_payment", "Bitrix24 REST requests per completed payment", "requests", "{:.2f}", "low"),
    ("commands_per_payment", "Bitrix24 batch commands per completed payment", "commands", "{:.2f}", "low"),
    ("linkly_per_payment", "Linkly requests per completed payment", "requests", "{:.2f}", "low"),
    ("limited_503", "503 QUERY_LIMIT_EXCEEDED seen", "answers", "{:.0f}", "low"),
]  # fmt: skip
ROW_KEYS = [r[0] for r in ROWS]


def fmt(value: Any, pattern: str) -> str:
    """A figure, or n/a."""
    if value is None:
        return "n/a"
    try:
        return pattern.format(value)
    except (TypeError, ValueError):
        return str(value)


def ratio(ours: Any, base: Any) -> str:
    """ours / baseline, when both are numbers and the baseline is not zero."""
    if isinstance(ours, int | float) and isinstance(base, int | float) and base:
        return f"{ours / base:.2f}x"
    return "n/a"


def table(ours: dict[str, Any], base: dict[str, Any] | None) -> str:
    """The figures side by side, as a Markdown table."""
    lines = ["| figure | unit | ours | baseline | ours / baseline |", "|---|---|---:|---:|---:|"]
    for key, label, unit, pattern, _ in ROWS:
        b = base.get(key) if base else None
        lines.append(
            f"| {label} | {unit} | {fmt(ours.get(key), pattern)} | "
            f"{fmt(b, pattern) if base else 'not run'} | {ratio(ours.get(key), b) if base else 'n/a'} |"
        )
    return "\n".join(lines)


def rss_table(ours: dict[str, Any], base: dict[str, Any] | None) -> str:
    """Peak RSS per process (main process and its largest child: gunicorn worker, RQ work-horse)."""
    lines = [
        "| process | peak RSS, main (MiB) | peak RSS, largest child (MiB) |",
        "|---|---:|---:|",
    ]
    for side in (ours, base or {}):
        for name, rss in (side.get("rss") or {}).items():
            main = rss.get("main", 0) / 2**20
            child = rss.get("child", 0) / 2**20
            lines.append(
                f"| {name} | {main:.0f} | {child:.0f} |"
                if child
                else f"| {name} | {main:.0f} | - |"
            )
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, memory, Python and kernel."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )  # fmt: skip
    except (OSError, StopIteration):
        mem = 0
    return (
        f"{model}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB RAM, "
        f"Python {platform.python_version()}, Linux {platform.release()}"
    )


def render(run: dict[str, Any]) -> str:
    """The whole generated section."""
    ours, base, ceil = run["ours"], run.get("baseline"), run.get("ceiling")
    mode = (
        "QUICK MODE (small N: a smoke check, not the figures of record)"
        if run["quick"]
        else "full run"
    )
    out = [
        BEGIN,
        f"## Latest run ({mode})",
        "",
        f"- Command: `{run['command']}`",
        f"- When: {run['when']}; wall time {run['elapsed']:.0f} s",
        f"- Machine: {machine()}",
        f"- Load average before / after (other work on the machine): {run['load_before']} / {run['load_after']}",
        f"- Stack: gunicorn 2 web workers, {run['params']['workers']} RQ worker processes, "
        f"scheduler, Redis, {run['database']}; both simulators as separate processes",
        f"- Load: {run['params']['payments']} purchases (+ refunds) on {run['params']['pinpads']} PIN pads, "
        f"cardholder delay {run['params']['delays'][0]}-{run['params']['delays'][1]} s (triangular), "
        f"entries at {run['params']['rate']}/s; Bitrix24 rate limit off for these figures (both sides)",
        f"- Outcomes (ours): {ours.get('outcomes')}; baseline: {base.get('outcomes') if base else 'not run'}",
        "",
        table(ours, base),
        "",
        rss_table(ours, base),
        "",
    ]
    if ceil:
        out += [
            "One portal at Bitrix24's default limits (2 requests/s, burst 50), ours:",
            "",
            f"- ceiling = 100 commands/s ÷ {ceil['commands_per_report']:.1f} report commands per payment "
            f"= **{ceil['ceiling']:.1f} payments/s**; offered {ceil['offered']:.1f}/s for {ceil['window']:.0f} s "
            f"({ceil['issued']} payments)",
            f"- sustained (completions in the second half of the window and after): "
            f"**{ceil['sustained']:.2f} payments/s = {100 * ceil['share']:.0f}% of the ceiling**; "
            f"{ceil['completed']} completed; {ceil['requests']} REST requests accepted; "
            f"**{ceil['limited_503']} x 503 QUERY_LIMIT_EXCEEDED**",
            "",
        ]
    if run.get("soak"):
        out += _soak(run["soak"])
    out += [
        "<details><summary>Raw figures (JSON)</summary>",
        "",
        "```json",
        run["raw_json"],
        "```",
        "</details>",
        END,
    ]
    return "\n".join(out)


def write(section: str, path: Path = REPORT, markers: tuple[str, str] = (BEGIN, END)) -> None:
    """Replace the generated section of a doc (between markers), keeping the hand-written text."""
    begin, end = markers
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def _soak(rows: list[dict[str, Any]]) -> list[str]:
    """RSS of each process (main / largest child) at the first wave, every ~5 minutes, the last."""
    marks, next_minute = [], 0.0
    for row in rows:
        if row["minute"] >= next_minute or row is rows[-1]:
            marks.append(row)
            next_minute = 5.0 * (int(row["minute"] // 5) + 1)
    roles = list(rows[0]["rss"])
    head = "| wave (minute) | " + " | ".join(f"{r} main / child" for r in roles) + " |"
    out = [f"Soak: {len(rows)} waves; RSS after a wave, MiB (main process / largest child):", ""]
    out += [head, "|---|" + "---:|" * len(roles)]
    for row in marks:
        cells = []
        for role in roles:
            rss = row["rss"][role]
            rss = rss if isinstance(rss, dict) else {"main": rss, "child": 0}
            cells.append(f"{rss['main'] / 2**20:.1f} / {rss['child'] / 2**20:.1f}")
        out.append(f"| {row['wave']} ({row['minute']}) | " + " | ".join(cells) + " |")
    return [*out, ""]
