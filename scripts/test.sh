#!/usr/bin/env bash
# `npm test`: every test, doing its own set-up (dependencies, Chromium, build).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/node.sh
bash scripts/setup-test.sh

echo "› lint";       npx eslint .
echo "› typecheck";  npx nuxt typecheck
echo "› build";      npx nuxt build
if [ "${OWLAT_SKIP_DOCKER:-}" != 1 ]; then
  echo "› Docker engine and registry (set OWLAT_SKIP_DOCKER=1 to skip the Docker suite)"
  bash scripts/setup-docker.sh
fi
echo "› unit, server, sidecar, CLI and Docker tests"; npx vitest run
echo "› end-to-end tests (Chromium)";     npx playwright test
if [ "${OWLAT_SKIP_DOCKER:-}" != 1 ]; then
  echo "› end-to-end test against the production stack (Chromium, this repository's images)"
  npx playwright test -c playwright.stack.config.ts
fi
