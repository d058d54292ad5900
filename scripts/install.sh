#!/usr/bin/env bash
# The locked dependencies (`npm ci`), installed when node_modules is missing or older than the
# lockfile. Run with Node 22 on PATH (scripts/node.sh), so native modules match the Node that runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "› installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund
fi
