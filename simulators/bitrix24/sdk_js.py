"""The JS SDK responder embedded in portal pages (postMessage protocol of BX24 / b24jssdk)."""
# ruff: noqa: E501

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .portal import Portal

# Frames send "command:paramsJSON:callbackKey:appSid" (params omitted when empty) or an object
# {method, params, callback, appSid}; the parent answers "callbackKey:resultJSON" to the frame's
# origin (protocol read from @bitrix24/b24jssdk 2.2.0, frame/message/controller.mjs). The SDK
# takes DOMAIN, PROTOCOL and APP_SID from window.name ("DOMAIN|PROTOCOL|APP_SID"), so
# pages.frame_html names the iframe that way; tests/browser runs this in headless Chromium.
SCRIPT = r"""
(function(){
  function frames(){return Array.prototype.slice.call(document.querySelectorAll('iframe[data-b24]'));}
  function origin(f){try{return new URL(f.src||f.getAttribute('data-action')).origin;}catch(e){return '*';}}
  function reply(src, org, key, result){ if(key){ src.postMessage(key+':'+JSON.stringify(result), org); } }
  window.addEventListener('message', function(ev){
    var frame = frames().filter(function(f){return f.contentWindow===ev.source;})[0];
    if(!frame){return;}
    var meta = JSON.parse(frame.getAttribute('data-b24'));
    var cmd, params = {}, key = '', data = ev.data;
    if(typeof data === 'object' && data){ cmd = data.method; params = data.params || {}; key = data.callback; }
    else if(typeof data === 'string'){
      var parts = data.split(':'); cmd = parts.shift();
      if(parts.length && parts[parts.length-1] === meta.sid){ parts.pop(); }
      key = parts.pop() || ''; var raw = parts.join(':');
      try { params = raw ? JSON.parse(raw) : {}; } catch(e) { params = raw; }
    } else { return; }
    var org = ev.origin && ev.origin !== 'null' ? ev.origin : '*';
    var log = window.__b24log = window.__b24log || []; log.push({cmd: cmd, params: params});
    if(cmd === 'getInitData'){
      reply(ev.source, org, key, {DOMAIN: location.host, PROTOCOL: location.protocol === 'https:' ? 1 : 0,
        LANG: meta.lang, PATH: '/rest', AUTH_ID: meta.auth.access_token,
        AUTH_EXPIRES: Number(meta.auth.expires_in), REFRESH_ID: meta.auth.refresh_token,
        MEMBER_ID: meta.auth.member_id, IS_ADMIN: meta.is_admin, INSTALL: !meta.installed,
        FIRST_RUN: false, PLACEMENT: meta.placement, PLACEMENT_OPTIONS: meta.options,
        USER_OPTIONS: {}, APP_OPTIONS: {}});
    } else if(cmd === 'setInstallFinish'){
      fetch('/_sim/install/finish', {method: 'POST'}).then(function(){ reply(ev.source, org, key, {}); });
    } else if(cmd === 'resizeWindow'){
      if(params && params.height){ frame.style.height = params.height + 'px'; }
      reply(ev.source, org, key, {});
    } else if(cmd === 'refreshAuth'){
      reply(ev.source, org, key, {AUTH_ID: meta.auth.access_token, REFRESH_ID: meta.auth.refresh_token,
        AUTH_EXPIRES: Number(meta.auth.expires_in)});
    } else if(cmd === 'selectUser'){
      // selectUsers() sends selectUser {mult: true} and gets a list; selectUser() gets one user.
      var me = {id: String(meta.user_id), name: meta.user_name};
      reply(ev.source, org, key, params && params.mult ? [me] : me);
    } else if(cmd === 'reloadWindow'){ frame.contentWindow.location.reload(); }
    else { reply(ev.source, org, key, {}); }
  });
})();
"""


def responder_script(portal: Portal) -> str:
    """Inline script answering the frame's postMessage calls (no external assets)."""
    return SCRIPT
