"""The control API, the PIN pad page and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from simulators.linkly.cli import build_parser
from simulators.linkly.config import SimulatorConfig, describe
from tests.helpers.pos import RawHttpPos
from tests.simulators.linkly.helpers import control, purchase

ROOT = Path(__file__).resolve().parents[3]


def test_index_lists_routes(sim):
    r = control(sim.base_url, "GET", "/")
    routes = r.json()["routes"]
    paths = {(x["method"], x["path"]) for x in routes}
    for expected in (
        ("POST", "/_sim/faults"),
        ("GET", "/_sim/ledger"),
        ("POST", "/_sim/reset"),
        ("GET", "/_sim/pinpad/<pad_id>"),
        ("PATCH", "/_sim/config"),
        ("POST", "/_sim/pinpads/<pad_id>/press"),
    ):
        assert expected in paths
    assert all(x["description"] for x in routes)


def test_pinpads_config_sessions_reset(sim, pos):
    r = control(sim.base_url, "POST", "/pinpads", json={"mode": "interactive", "account": "SAV"})
    assert r.status_code == 201 and r.json()["pair_code"]
    pads = control(sim.base_url, "GET", "/pinpads").json()["pinpads"]
    assert [p["id"] for p in pads] == ["1", r.json()["id"]]
    assert control(sim.base_url, "PATCH", "/pinpads/1", json={"mode": "x"}).status_code == 400
    assert control(sim.base_url, "PATCH", "/config", json={"casing": "snake"}).status_code == 400
    assert control(sim.base_url, "PATCH", "/config", json={"nope": 1}).status_code == 400
    cfg = control(sim.base_url, "GET", "/config").json()
    assert cfg["config"]["casing"] == "camel" and len(cfg["options"]) == len(describe())
    sid, _ = pos.post("transaction", purchase(1000, "INSPECT"), async_=False)
    info = control(sim.base_url, "GET", f"/sessions/{sid}").json()
    assert info["state"] == "done" and info["events"][0]["type"] == "display"
    assert control(sim.base_url, "GET", f"/sessions/{uuid.uuid4()}").status_code == 404
    assert control(sim.base_url, "POST", "/reset").json() == {"reset": True}
    assert control(sim.base_url, "GET", "/ledger").json()["entries"] == []
    assert pos.get(sid).status_code == 404
    _, r = pos.post("transaction", purchase(1000, "AFTERRESET"), async_=False)
    assert r.json()["response"]["success"] is True  # pads and tokens survive a reset


def test_pinpad_page_is_self_contained(sim):
    r = control(sim.base_url, "GET", "/pinpad/1")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    html = r.text
    assert "PRESENT CARD" not in html and "Present card" in html and "/_sim/pinpads/1" in html
    assert "src=" not in html and 'href="http' not in html and "@import" not in html
    assert control(sim.base_url, "GET", "/pinpad/99").status_code == 404
    st = control(sim.base_url, "GET", "/pinpads/1/state").json()
    assert st["busy"] is False and st["pairCode"] == "111111"


def test_press_validation(sim):
    assert (
        control(sim.base_url, "POST", "/pinpads/1/press", json={"button": "boom"}).status_code
        == 400
    )
    r = control(sim.base_url, "POST", "/pinpads/1/press", json={"button": "card"})
    assert r.json()["accepted"] is False  # idle


def test_help_documents_every_option():
    text = build_parser().format_help()
    for option in describe():
        flag = "--" + option["name"].replace("_", "-")
        if option["name"] not in ("mode",):
            assert flag in text, flag
    for flag in (
        "--host",
        "--port",
        "--username",
        "--password",
        "--pair-code",
        "--cardholder-delay",
        "--interactive",
        "--casing",
        "--allow-http",
    ):
        assert flag in text
    assert SimulatorConfig().casing == "camel"


def test_standalone_process():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.linkly",
            "--port",
            "0",
            "--username",
            "u",
            "--password",
            "p",
            "--pair-code",
            "424242",
            "--cardholder-delay",
            "0.05",
            "--casing",
            "pascal",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, line + proc.stderr.read()
        base = line.rsplit(" ", 1)[1].strip()
        pos = RawHttpPos(base, "424242", "u", "p")
        _, r = pos.post("transaction", purchase(1000, "CLI1"), async_=False)
        assert r.json()["Response"]["Success"] is True
        assert requests.get(f"{base}/_sim/", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0
