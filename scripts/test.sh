#!/usr/bin/env bash
# `npm test`: every test, doing its own set-up (dependencies, Chromium, build).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-test.sh

echo "› lint";       npx eslint .
echo "› typecheck";  npx nuxt typecheck
echo "› build";      npx nuxt build
echo "› unit, server and sidecar tests"; npx vitest run
echo "› end-to-end tests (Chromium)";     npx playwright test
