"""Summarise py-spy speedscope profiles: where the busy (non-waiting) samples go.

python -m bench.profile_summary DIR/worker-1.speedscope.json [--top 25] [--match TEXT]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

WAITING = ("select", "poll", "epoll", "sleep", "recv", "accept", "wait", "read (", "readinto",
           "_wait_for_tstate_lock", "brpop", "blpop", "dequeue_any", "acquire")  # fmt: skip


def summarise(path: Path, top: int, match: str) -> str:
    """Inclusive and self share of busy samples per function."""
    data = json.loads(path.read_text())
    frames = data["shared"]["frames"]
    names = [f"{f['name']} ({Path(f.get('file', '')).name}:{f.get('line', '')})" for f in frames]
    incl: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = busy = 0
    for prof in data["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            total += weight
            if not stack:
                continue
            leaf = frames[stack[-1]]["name"]
            if any(w in leaf for w in WAITING):
                continue
            busy += weight
            own[names[stack[-1]]] += weight
            for name in {names[i] for i in stack}:
                incl[name] += weight
    lines = [f"{path.name}: {busy}/{total} samples busy ({100 * busy / max(total, 1):.0f}%)"]
    lines.append("  inclusive (share of busy samples):")
    for name, w in incl.most_common(400):
        if match in name:
            lines.append(f"    {100 * w / max(busy, 1):5.1f}%  {name}")
            if len(lines) > top + 2:
                break
    lines.append("  self:")
    for name, w in own.most_common(12):
        lines.append(f"    {100 * w / max(busy, 1):5.1f}%  {name}")
    return "\n".join(lines)


def main() -> None:
    """Print the summary of each profile given."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("profiles", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--match", default="")
    args = ap.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top, args.match))


if __name__ == "__main__":
    main()
