"""Find the Vite-built assets of a front-end entry through Vite's manifest."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DIST = Path(__file__).resolve().parents[1] / "static" / "dist"
MANIFEST = DIST / ".vite" / "manifest.json"


class AssetsMissing(RuntimeError):
    """The front-end has not been built (run `make assets`)."""


@lru_cache(maxsize=4)
def _manifest(mtime: float) -> dict[str, dict[str, Any]]:
    manifest: dict[str, dict[str, Any]] = json.loads(MANIFEST.read_text())
    return manifest


def entry(name: str) -> tuple[list[str], list[str]]:
    """Return (scripts, stylesheets) URLs under /static/dist/ for the entry named `name`."""
    if not MANIFEST.exists():
        raise AssetsMissing("the front-end is not built: run `make assets`")
    manifest = _manifest(MANIFEST.stat().st_mtime)
    key = next((k for k, v in manifest.items() if v.get("isEntry") and Path(k).stem == name), None)
    if key is None:
        raise AssetsMissing(f"no front-end entry named {name!r} in the Vite manifest")
    css: list[str] = []
    seen: set[str] = set()

    def collect(name: str) -> None:  # an entry's CSS, then that of every chunk it imports
        if name in seen or name not in manifest:
            return
        seen.add(name)
        css.extend(manifest[name].get("css", []))
        for imported in manifest[name].get("imports", []):
            collect(imported)

    collect(key)
    scripts = [f"/static/dist/{manifest[key]['file']}"]
    return scripts, [f"/static/dist/{c}" for c in dict.fromkeys(css)]
