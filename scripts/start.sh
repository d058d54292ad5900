#!/usr/bin/env bash
# `npm start`: Node 22, the locked dependencies, a build when the sources changed, then the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/install.sh

stamp=.output/nitro.json
if [ ! -f "$stamp" ] || [ -n "$(find app components composables server shared nuxt.config.ts package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "› building the web app (nuxt build)…"
  npx nuxt build
fi

exec node --import tsx scripts/start.ts
