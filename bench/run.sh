#!/usr/bin/env bash
# `npm run bench`: Node 22, the build and the compiled tools as `npm start` has them, then every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
bash scripts/install.sh
[ -f .output/server/index.mjs ] || npx nuxt build playground
node --import tsx scripts/build-tools.ts
exec node --import tsx bench/run.ts "$@"
