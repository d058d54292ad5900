#!/usr/bin/env bash
# `npm run owlat -- ARGS`: the owlat CLI for the standalone app, on Node 22 and its data dir
# (.data unless OWLAT_DATA_DIR says otherwise), e.g. `npm run owlat -- admin reset-password EMAIL`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
# The standalone app keeps no compose project; an empty OWLAT_DIR keeps the CLI from reading /opt/owlat/.env.
export OWLAT_DIR="${OWLAT_DIR:-$PWD/.data/project}"
exec node cli/bin.mjs "$@"
