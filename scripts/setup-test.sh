#!/usr/bin/env bash
# What the tests need on a fresh machine: npm dependencies from the lockfile and Debian's Chromium
# (Playwright cannot download its own browser here). Expects Node 22 on PATH (scripts/node.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install chromium' (Debian's package, used by the end-to-end tests)" >&2
    exit 1
  fi
fi
