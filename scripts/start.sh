#!/usr/bin/env bash
# `npm start`: Node 22, the locked dependencies, a build when the sources changed, then the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/install.sh

# The standalone app (playground/, which extends the module) builds into the repository's .output/.
stamp=.output/nitro.json
if [ ! -f "$stamp" ] || [ -n "$(find app modules server shared playground nuxt.config.ts package-lock.json \
    \( -path playground/.nuxt -o -path playground/node_modules \) -prune -o -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "› building the web app (nuxt build playground)…"
  npx nuxt build playground
fi

# The updater, the CLI and this launcher run compiled (dist/, esbuild), not through tsx.
tools=dist/start.mjs
if [ ! -f "$tools" ] || [ -n "$(find sidecar cli shared server/utils scripts/start.ts scripts/bootstrap.ts scripts/images/prepare.ts package-lock.json \
    -newer "$tools" -print -quit 2>/dev/null)" ]; then
  node --import tsx scripts/build-tools.ts
fi

exec node "$tools"
