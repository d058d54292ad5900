#!/usr/bin/env bash
# Installs the Owlat production stack on a host that has Docker (nothing else: Compose and the CLI
# run from the updater image). Safe to run again: it changes nothing that is already in place.
#
#   sudo OWLAT_RELEASE_PUBLIC_KEY="$(cat release-signing.pub.pem)" bash deploy/install.sh
#
# In order:
#   1. creates OWLAT_DIR (default /opt/owlat);
#   2. writes OWLAT_DIR/.env with generated secrets, mode 0600 (an existing .env is never touched);
#   3. lays out OWLAT_DIR/docker-compose.yml (from OWLAT_COMPOSE_FILE, default the docker-compose.yml
#      beside this script; an existing one is the updater's and is kept);
#   4. starts the stack: the Convex backend first, its admin key into .env, the functions deployed,
#      then every service, waiting until each is healthy;
#   5. installs OWLAT_BIN_DIR/owlat (default /usr/local/bin), which runs the `owlat` CLI inside the
#      updater container, so it works while the web is down.
#
# Settings (environment): OWLAT_DIR, OWLAT_BIN_DIR, OWLAT_COMPOSE_FILE, OWLAT_UPDATER_IMAGE (the
# image whose Compose runs the steps; default the updater image the compose file pins),
# OWLAT_INSTALL_TIMEOUT_S (how long the stack may take to become healthy, default 300), and for a
# new .env OWLAT_RELEASE_PUBLIC_KEY (required: PEM or its base64) plus any variable of
# deploy/.env.example to use instead of its default (OWLAT_HTTP_PORT, OWLAT_ADMIN_EMAIL, …).
set -euo pipefail

OWLAT_DIR=${OWLAT_DIR:-/opt/owlat}
OWLAT_BIN_DIR=${OWLAT_BIN_DIR:-/usr/local/bin}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPOSE_SOURCE=${OWLAT_COMPOSE_FILE:-$here/docker-compose.yml}
# How long `up --wait` may take for the whole stack to become healthy.
WAIT_TIMEOUT_S=${OWLAT_INSTALL_TIMEOUT_S:-300}

die() {
  echo "install: $*" >&2
  exit 1
}
say() { echo "› $*"; }

command -v docker >/dev/null 2>&1 || die "docker is not installed"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is it running, and may this user use it?)"
case "$OWLAT_DIR" in /*) ;; *) die "OWLAT_DIR must be an absolute path, not $OWLAT_DIR" ;; esac

# --- 1. the project folder --------------------------------------------------------------------------
mkdir -p "$OWLAT_DIR"
OWLAT_DIR=$(cd "$OWLAT_DIR" && pwd -P)
env_file=$OWLAT_DIR/.env
compose_file=$OWLAT_DIR/docker-compose.yml
# Compose's own rule for the project name (the folder's name), passed explicitly like the updater does.
project=$(basename "$OWLAT_DIR" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9_-' | sed 's/^[_-]*//')
[ -n "$project" ] || die "cannot derive a compose project name from $OWLAT_DIR"

# --- 2. .env ----------------------------------------------------------------------------------------
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# A value from the environment, else the default.
setting() { local value=${!1:-}; echo "$1=${value:-$2}"; }

if [ ! -f "$env_file" ]; then
  [ -n "${OWLAT_RELEASE_PUBLIC_KEY:-}" ] || die "set OWLAT_RELEASE_PUBLIC_KEY to the release signing key (PEM, or its base64) for the new .env"
  key=$OWLAT_RELEASE_PUBLIC_KEY
  # One line in .env: the PEM as base64, which every Owlat process accepts.
  case "$key" in *BEGIN*) key=$(printf '%s' "$key" | base64 | tr -d '\n') ;; esac
  admin_password=${OWLAT_ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=' | cut -c1-20)}
  tmp=$(mktemp "$OWLAT_DIR/.env.XXXXXX")
  chmod 0600 "$tmp"
  {
    echo "# Written by deploy/install.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); every variable: deploy/.env.example"
    echo "OWLAT_DIR=$OWLAT_DIR"
    setting OWLAT_HTTP_PORT 3000
    echo "OWLAT_INSTANCE_SECRET=${OWLAT_INSTANCE_SECRET:-$(secret)}"
    echo "NUXT_SESSION_PASSWORD=${NUXT_SESSION_PASSWORD:-$(secret)}"
    echo "CONVEX_INSTANCE_SECRET=${CONVEX_INSTANCE_SECRET:-$(secret)}"
    echo "OWLAT_RELEASE_PUBLIC_KEY=$key"
    setting OWLAT_GITHUB_REPO owlat/owlat
    setting OWLAT_ADMIN_EMAIL admin@owlat.local
    echo "OWLAT_ADMIN_PASSWORD=$admin_password"
    setting CONVEX_INSTANCE_NAME owlat
    setting CONVEX_ADMIN_KEY ''
    setting OWLAT_CONVEX_PORT 3210
    setting OWLAT_CONVEX_SITE_PORT 3211
    setting CONVEX_CLOUD_ORIGIN http://127.0.0.1:3210
    setting CONVEX_SITE_ORIGIN http://127.0.0.1:3211
    setting NUXT_PUBLIC_CONVEX_URL http://localhost:3210
    setting NUXT_PUBLIC_CONVEX_SITE_URL http://localhost:3211
    setting NUXT_PUBLIC_SITE_URL "http://localhost:${OWLAT_HTTP_PORT:-3000}"
    setting OWLAT_BACKUP_KEEP 5
    setting OWLAT_MIN_FREE_DISK_MB 2048
    setting OWLAT_VERIFY_TIMEOUT_MS 60000
    setting OWLAT_WATCH_MS 60000
    setting OWLAT_ALLOWED_IMAGE_PREFIXES ''
  } >"$tmp"
  mv "$tmp" "$env_file"
  say "wrote $env_file (mode 0600) with new secrets; first admin ${OWLAT_ADMIN_EMAIL:-admin@owlat.local} / $admin_password"
else
  say "keeping $env_file"
fi

env_value() { sed -n "s/^$1=//p" "$env_file" | tail -n 1; }

# --- 3. the compose file ----------------------------------------------------------------------------
if [ ! -f "$compose_file" ]; then
  [ -f "$COMPOSE_SOURCE" ] || die "no compose file at $COMPOSE_SOURCE (set OWLAT_COMPOSE_FILE)"
  install -m 0644 "$COMPOSE_SOURCE" "$compose_file"
  say "laid out $compose_file"
else
  say "keeping $compose_file (the updater's from now on)"
fi

# The updater's image: it carries the Compose CLI every step below uses, the same one the updater
# drives, so the host needs no compose of its own and both agree on what is up to date.
updater_image=${OWLAT_UPDATER_IMAGE:-$(awk '
  /^services:/ { in_services = 1; next }
  in_services && /^  updater:/ { in_updater = 1; next }
  in_updater && /^  [^ #]/ { exit }
  in_updater && /^    image:/ { print $2; exit }' "$compose_file")}
[ -n "$updater_image" ] || die "cannot find the updater service's image in $compose_file (set OWLAT_UPDATER_IMAGE)"

compose() {
  local files=(-f "$compose_file")
  [ -f "$OWLAT_DIR/docker-compose.override.yml" ] && files+=(-f "$OWLAT_DIR/docker-compose.override.yml")
  docker run --rm --network none -v /var/run/docker.sock:/var/run/docker.sock -v "$OWLAT_DIR:$OWLAT_DIR" -w "$OWLAT_DIR" \
    --entrypoint docker-compose "$updater_image" -p "$project" --project-directory "$OWLAT_DIR" "${files[@]}" "$@"
}

# --- 4. the stack -----------------------------------------------------------------------------------
say "starting the Convex backend (project $project)…"
compose up -d --wait --wait-timeout "$WAIT_TIMEOUT_S" convex
if [ -z "$(env_value CONVEX_ADMIN_KEY)" ]; then
  admin_key=$(compose exec -T convex ./generate_admin_key.sh | tr -d '\r' | awk 'NF { line = $0 } END { print line }')
  [ -n "$admin_key" ] || die "the Convex backend printed no admin key"
  tmp=$(mktemp "$OWLAT_DIR/.env.XXXXXX")
  chmod 0600 "$tmp"
  awk -v key="$admin_key" '/^CONVEX_ADMIN_KEY=/ { print "CONVEX_ADMIN_KEY=" key; next } { print }' "$env_file" >"$tmp"
  mv "$tmp" "$env_file"
  say "stored the Convex admin key in $env_file"
fi
# The functions of the installed version, once: afterwards every update deploys its own.
if [ ! -f "$OWLAT_DIR/.functions-deployed" ]; then
  say "deploying the Convex functions…"
  compose --profile deploy run --rm -T convex-deploy
  touch "$OWLAT_DIR/.functions-deployed"
fi
say "starting every service…"
compose up -d --wait --wait-timeout "$WAIT_TIMEOUT_S"

# --- 5. the CLI wrapper -----------------------------------------------------------------------------
mkdir -p "$OWLAT_BIN_DIR"
wrapper=$OWLAT_BIN_DIR/owlat
tmp=$(mktemp "$OWLAT_BIN_DIR/.owlat.XXXXXX")
cat >"$tmp" <<EOF
#!/bin/sh
# The owlat CLI of the stack in $OWLAT_DIR, run inside its updater container (deploy/install.sh).
# Paths given to it are read inside that container, where only $OWLAT_DIR is mounted.
id=\$(docker ps -q --filter label=com.docker.compose.project=$project --filter label=com.docker.compose.service=updater --filter label=com.docker.compose.oneoff=False | head -n 1)
if [ -z "\$id" ]; then
  echo "owlat: the updater of $OWLAT_DIR is not running: start it with 'cd $OWLAT_DIR && docker compose up -d updater'" >&2
  exit 1
fi
if [ -t 0 ] && [ -t 1 ]; then exec docker exec -it -w "$OWLAT_DIR" "\$id" owlat "\$@"; fi
exec docker exec -i -w "$OWLAT_DIR" "\$id" owlat "\$@"
EOF
chmod 0755 "$tmp"
if cmp -s "$tmp" "$wrapper"; then
  rm -f "$tmp"
  say "keeping $wrapper"
else
  mv "$tmp" "$wrapper"
  say "installed $wrapper"
fi

say "Owlat is running: http://localhost:$(env_value OWLAT_HTTP_PORT)/settings/system (sign in as $(env_value OWLAT_ADMIN_EMAIL); the password is OWLAT_ADMIN_PASSWORD in $env_file)"
