#!/usr/bin/env bash
# Make sure redis-server is installed: apt-get it as root, else say exactly what to install.
set -euo pipefail
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "redis-server is missing: installing it with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing. Install it, then run this again:" >&2
    echo "    sudo apt-get install -y redis-server" >&2
    exit 1
  fi
fi
