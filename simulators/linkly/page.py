"""The virtual PIN pad page (self-contained HTML) and the state JSON it polls."""

from __future__ import annotations

import html
import time
from typing import Any

from .display import WIDTH
from .pinpad import PinPad

IDLE_AFTER = 3.0


def state(pad: PinPad) -> dict[str, Any]:
    """Return what the page shows: display lines, enabled keys, prompt, pair code."""
    with pad.lock:
        s = pad.current
        screen = pad.display or {}
        idle = s is None and (not screen or time.monotonic() - pad.display_at > IDLE_AFTER)
        lines = (
            list(screen.get("DisplayText", ["", ""]))
            if not idle
            else [
                "READY".center(WIDTH),
                (f"PAIR {pad.pair_code}" if pad.pair_code else "").center(WIDTH),
            ]
        )
        waiting = s.waiting if s is not None else None
        if waiting == "pin":
            lines[1] = ("*" * len(pad.keyed)).center(WIDTH)
        elif waiting == "input":
            lines[1] = pad.keyed[-WIDTH:].center(WIDTH)
        flags = {
            k: bool(screen.get(f)) and s is not None
            for k, f in (
                ("cancel", "CancelKeyFlag"),
                ("yes", "AcceptYesKeyFlag"),
                ("no", "DeclineNoKeyFlag"),
                ("auth", "AuthoriseKeyFlag"),
                ("ok", "OKKeyFlag"),
            )
        }
        return {
            "id": pad.id,
            "mode": pad.mode,
            "cardholderDelay": pad.cardholder_delay,
            "account": pad.account,
            "pairCode": pad.pair_code,
            "pairCodeExpiresIn": max(0, round(pad.pair_code_expires - time.monotonic())),
            "busy": s is not None,
            "sessionId": s.sid if s is not None else None,
            "op": s.op if s is not None else None,
            "waiting": waiting,
            "lines": lines,
            "keys": flags,
            "inputType": screen.get("InputType", "0") if s else "0",
            "graphicCode": screen.get("GraphicCode", " ") if s else " ",
            "loggedOn": pad.logged_on,
            "lastResult": pad.last_result,
        }


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Virtual PIN pad __ID__</title>
<style>
body{font-family:sans-serif;background:#2b2b2b;color:#eee;display:flex;justify-content:center}
.pad{background:#111;border-radius:18px;padding:18px;margin-top:20px;width:330px}
.lcd{background:#b9d3a0;color:#111;font:20px/1.3 monospace;padding:10px;border-radius:6px;
white-space:pre}
.info{font-size:13px;margin:8px 0;color:#bbb}
button{font-size:17px;margin:3px;padding:10px 0;border-radius:8px;border:0;width:96px}
button:disabled{opacity:.35}
.row{display:flex;justify-content:center}
.cancel{background:#d33;color:#fff}.ok{background:#3a3;color:#fff}.clear{background:#dc3}
.wide{width:300px}
</style></head><body><div class="pad">
<div class="lcd" id="lcd">&nbsp;</div>
<div class="info">Pad <b>__ID__</b> &middot; mode <span id="mode"></span> &middot;
pair code <b id="pair"></b> <a href="#" id="newcode" style="color:#9cf">new</a><br>
<span id="session"></span><br><span id="last"></span></div>
<div class="row"><button class="wide" data-b="card">Present card</button></div>
<div class="row"><button data-b="chq">CHQ</button><button data-b="sav">SAV</button>
<button data-b="crd">CRD</button></div>
<div class="row"><button data-b="1">1</button><button data-b="2">2</button>
<button data-b="3">3</button></div>
<div class="row"><button data-b="4">4</button><button data-b="5">5</button>
<button data-b="6">6</button></div>
<div class="row"><button data-b="7">7</button><button data-b="8">8</button>
<button data-b="9">9</button></div>
<div class="row"><button class="clear" data-b="clear">Clear</button>
<button data-b="0">0</button><button class="ok" data-b="ok">OK</button></div>
<div class="row"><button class="cancel" data-b="cancel">Cancel</button>
<button class="ok" data-b="yes" id="yes">Yes</button>
<button class="cancel" data-b="no" id="no">No</button></div>
</div>
<script>
const base = "/_sim/pinpads/__ID__";
function post(url, body) {
  return fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(body || {})});
}
function render(st) {
  document.getElementById("lcd").textContent = st.lines.join("\\n");
  document.getElementById("mode").textContent = st.mode;
  document.getElementById("pair").textContent = st.pairCode || "(none)";
  document.getElementById("session").textContent =
    st.busy ? ("busy: " + st.op + " " + st.sessionId + (st.waiting ? " waiting " + st.waiting : ""))
            : "idle";
  const l = st.lastResult;
  document.getElementById("last").textContent =
    l ? ("last: " + l.responseCode + " " + l.responseText) : "";
  document.getElementById("yes").disabled = !st.keys.yes;
  document.getElementById("no").disabled = !st.keys.no;
  document.querySelector("[data-b=cancel]").disabled = !st.keys.cancel;
}
async function poll() {
  try { const r = await fetch(base + "/state"); if (r.ok) render(await r.json()); }
  catch (e) { document.getElementById("session").textContent = "simulator unreachable"; }
}
document.querySelectorAll("button[data-b]").forEach(b => b.addEventListener("click", async () => {
  const r = await post(base + "/press", {button: b.dataset.b});
  if (r.ok) render((await r.json()).state);
}));
document.getElementById("newcode").addEventListener("click", async e => {
  e.preventDefault(); await post(base + "/pair-code"); poll();
});
poll(); setInterval(poll, 500);
</script></body></html>
"""


def page_html(pad_id: str) -> str:
    """Return the page for one PIN pad."""
    return _PAGE.replace("__ID__", html.escape(pad_id))
