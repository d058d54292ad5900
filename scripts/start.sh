#!/usr/bin/env bash
# `npm start`: install if needed, build if the sources changed, then run the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "› installing dependencies…"
  npm install --no-audit --no-fund  # the locked versions; see .ci/run for why not `npm ci`
fi

stamp=.output/nitro.json
if [ ! -f "$stamp" ] || [ -n "$(find app components composables server shared nuxt.config.ts package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "› building the web app (nuxt build)…"
  npx nuxt build
fi

exec node --import tsx scripts/start.ts
