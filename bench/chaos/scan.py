"""After a campaign: no secret in clear in the logs, the database, Redis or the pages served."""

from __future__ import annotations

import re
from typing import Any

import requests
from sqlalchemy import MetaData, select

from bench.stack import CLIENT_SECRET, LINKLY_PASS, Stack


def known_secrets(app: Any) -> dict[str, str]:
    """Every secret the run used, decrypted from our database: {label: plaintext}."""
    from bizproc_app.extensions import db, redis_conn, secrets
    from bizproc_app.models import Portal, Terminal
    from bizproc_app.web.frame_tokens import FrameTokens

    found = {"Bitrix24 client secret": CLIENT_SECRET, "Linkly password": LINKLY_PASS,
             "SECRET_KEY": app.config["APP_CONFIG"].SECRET_KEY}  # fmt: skip
    for i, key in enumerate(app.config["APP_CONFIG"].ENCRYPTION_KEY):
        found[f"ENCRYPTION_KEY {i}"] = key
    with app.app_context():
        for p in db.session.scalars(select(Portal)):
            for name in ("access_token_enc", "refresh_token_enc", "application_token_enc"):
                if getattr(p, name):
                    found[f"portal {p.id} {name[:-4]}"] = secrets.box.decrypt(getattr(p, name))
        for t in db.session.scalars(select(Terminal)):
            if t.secret_enc:
                found[f"terminal {t.id} Linkly secret"] = t.secret(secrets.box)
        # The users' own Bitrix24 tokens, kept (encrypted) with their frame sessions.
        redis = redis_conn.client
        for n, key in enumerate(redis.scan_iter("frame:*:tokens")):
            try:
                tokens = FrameTokens(redis, secrets.box, key.decode().split(":")[1]).load("")
            except KeyError:  # ended meanwhile
                continue
            found[f"frame session {n} user access token"] = tokens.access_token
            found[f"frame session {n} user refresh token"] = tokens.refresh_token
    return found


def _database_text(app: Any) -> str:
    from bizproc_app.extensions import db

    with app.app_context():
        meta = MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            rows = [repr(tuple(r)) for t in meta.sorted_tables for r in conn.execute(select(t))]
    return "\n".join(rows)


def _redis_text(url: str) -> str:
    from redis import Redis

    r = Redis.from_url(url)
    out = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key)
        if kind == b"string":
            out.append(repr(r.get(key)))
        elif kind == b"hash":
            out.append(repr(r.hgetall(key)))
        elif kind == b"list":
            out.append(repr(r.lrange(key, 0, -1)))
    return "\n".join(out)


def _pages(stack: Stack, sim: Any) -> dict[str, str]:
    """The HTML we serve: home, and the frames the portal opens (the deal's tab, settings)."""
    pages = {"page /": requests.get(f"{stack.urls['web']}/", timeout=30).text}
    for placement in ("CRM_DEAL_DETAIL_TAB", "DEFAULT"):
        try:
            opened = sim.b24("POST", "placements/open", {"placement": placement, "id": 1})
        except requests.RequestException:
            continue
        # The portal's log keeps 2,000 characters of our answer: post the same form again.
        page = requests.post(opened["url"], data=opened["fields"], timeout=30)
        pages[f"page {placement}"] = page.text
    return pages


def scan(stack: Stack, app: Any, sim: Any) -> dict[str, Any]:
    """Where each known secret appears in clear; an empty `found` is the pass."""
    secrets = {k: v for k, v in known_secrets(app).items() if v and len(v) >= 8}
    ours = {r.name for r in stack.roles if r.ours}
    places = {
        f"log {name}": (stack.tmp / f"{name}.log").read_text(errors="replace") for name in ours
    }
    places["database"] = _database_text(app)
    places["redis"] = _redis_text(stack.urls["redis"])
    places.update(_pages(stack, sim))
    found = [
        f"{label} in {place}"
        for place, text in places.items()
        for label, value in secrets.items()
        if re.search(re.escape(value), text)
    ]
    return {"secrets": len(secrets), "places": sorted(places),
            "bytes": sum(len(t) for t in places.values()), "found": found}  # fmt: skip
