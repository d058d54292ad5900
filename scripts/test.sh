#!/usr/bin/env bash
# `npm test`: every test, doing its own set-up (dependencies, Chromium, build).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/node.sh
bash scripts/setup-test.sh

echo "› lint";       npx eslint .
# The module, the standalone app that extends it, and the fixture host app that extends it.
echo "› typecheck";  npx nuxt typecheck && npx nuxt typecheck playground && npx nuxt typecheck tests/fixtures/host
echo "› build";      npx nuxt build playground && npx nuxt build tests/fixtures/host
if [ "${OWLAT_SKIP_DOCKER:-}" != 1 ]; then
  echo "› Docker engine and registry (set OWLAT_SKIP_DOCKER=1 to skip the Docker suite)"
  bash scripts/setup-docker.sh
fi
echo "› unit, server, sidecar, CLI and Docker tests"; npx vitest run
echo "› end-to-end tests (Chromium): the standalone app"; npx playwright test
echo "› end-to-end tests (Chromium): a host app";       npx playwright test -c playwright.host.config.ts
