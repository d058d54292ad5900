#!/usr/bin/env bash
# `npm test`: every test, doing its own set-up (Node 22, dependencies, Chromium, Docker, build).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/node.sh
bash scripts/setup-test.sh

base_pid=''
if [ "${OWLAT_SKIP_DOCKER:-}" != 1 ]; then
  echo "› Docker engine and registry (set OWLAT_SKIP_DOCKER=1 to skip the Docker suite)"
  bash scripts/setup-docker.sh
  # The images' base (debootstrap where no public registry answers: mostly downloads) is made
  # while lint, typecheck and build keep the CPUs busy.
  base_log=${TMPDIR:-/tmp}/owlat-test-base-image.log
  bash scripts/images.sh --print-base >"$base_log" 2>&1 &
  base_pid=$!
fi

echo "› lint";       npx eslint .
# The module, the standalone app that extends it, and the fixture host app that extends it.
# One command a line: under `set -e` a failure before the last `&&` of a list does not stop the script.
echo "› typecheck"
npx nuxt typecheck
npx nuxt typecheck playground
npx nuxt typecheck tests/fixtures/host
echo "› build"
npx nuxt build playground
npx nuxt build tests/fixtures/host
if [ -n "$base_pid" ] && ! wait "$base_pid"; then
  cat "$base_log" >&2
  echo "test: could not make the images' base image (see above)" >&2
  exit 1
fi
echo "› unit, server, sidecar, CLI and Docker tests"; npx vitest run
echo "› end-to-end tests (Chromium): the standalone app"; npx playwright test
echo "› end-to-end tests (Chromium): a host app";       npx playwright test -c playwright.host.config.ts
if [ "${OWLAT_SKIP_DOCKER:-}" != 1 ]; then
  echo "› end-to-end test against the production stack (Chromium, this repository's images)"
  npx playwright test -c playwright.stack.config.ts
fi
