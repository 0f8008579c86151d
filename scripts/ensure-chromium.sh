#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests: apt-get it as root, else say
# exactly what to install (Playwright drives /usr/bin/chromium; it never downloads a browser).
set -euo pipefail
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "chromium is missing: installing it with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing (the browser tests need it). Install it, then run this again:" >&2
    echo "    sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
