#!/usr/bin/env bash
# `npm run images -- VERSION [options]`: builds the release's three images from deploy/Dockerfile,
#   <prefix>web:VERSION  <prefix>updater:VERSION  <prefix>convex-deploy:VERSION   (prefix `owlat/`)
#
# Options:
#   --prefix P         repository prefix of the tags, e.g. ghcr.io/owlat/ (default owlat/)
#   --base IMAGE       the Node 22 base image (env OWLAT_BASE_IMAGE; default node:22-slim)
#   --compose IMAGE    the image holding /docker-compose (env OWLAT_COMPOSE_IMAGE; default docker/compose-bin:v2.26.1)
#   --docker-cli IMAGE the image holding /usr/local/bin/docker (env OWLAT_DOCKER_CLI_IMAGE; default docker:26.1-cli)
#   --print-base       only resolve (and if need be make) the base images and print BASE_IMAGE=… COMPOSE_IMAGE=… DOCKER_CLI_IMAGE=…
#
# When the default images are neither present nor pullable (no public registry reachable, as in CI),
# scripts/images/base-image.sh makes local stand-ins for them (debootstrap, cached). Only the last
# layer of each image depends on VERSION, so a second version takes seconds. Prints each image with
# its size and the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh

usage='usage: npm run images -- VERSION [--prefix P] [--base IMAGE] [--compose IMAGE] [--docker-cli IMAGE] | --print-base'
die() {
  echo "images: $*" >&2
  exit 1
}

version=''
prefix=owlat/
base=${OWLAT_BASE_IMAGE:-}
compose=${OWLAT_COMPOSE_IMAGE:-}
docker_cli=${OWLAT_DOCKER_CLI_IMAGE:-}
print_base=''
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --base) base=${2:?--base needs an image}; shift 2 ;;
    --compose) compose=${2:?--compose needs an image}; shift 2 ;;
    --docker-cli) docker_cli=${2:?--docker-cli needs an image}; shift 2 ;;
    --print-base) print_base=1; shift ;;
    -h | --help) echo "$usage"; exit 0 ;;
    -*) die "unknown option $1; $usage" ;;
    *) [ -z "$version" ] || die "one VERSION expected; $usage"; version=$1; shift ;;
  esac
done
if [ -z "$print_base" ]; then
  [ -n "$version" ] || die "$usage"
  # The same rule the updater applies to a web image's tag.
  node --import tsx -e 'import { isVersion } from "./shared/version.ts"; process.exit(isVersion(process.argv[1]) ? 0 : 1)' "$version" \
    || die "VERSION \"$version\" is not a semver version (like 1.4.0 or 1.4.0-beta.1)"
fi
case "$prefix" in */) ;; *) prefix="$prefix/" ;; esac

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (sudo bash scripts/setup-docker.sh)"

have_image() { docker image inspect "$1" >/dev/null 2>&1 || docker pull -q "$1" >/dev/null 2>&1; }

if [ -z "$base" ] && have_image node:22-slim; then base=node:22-slim; fi
if [ -z "$compose" ] && have_image docker/compose-bin:v2.26.1; then compose=docker/compose-bin:v2.26.1; fi
if [ -z "$docker_cli" ] && have_image docker:26.1-cli; then docker_cli=docker:26.1-cli; fi
if [ -z "$base" ] || [ -z "$compose" ] || [ -z "$docker_cli" ]; then
  echo "› no public registry answers: using local base images (scripts/images/base-image.sh)" >&2
  made=$(bash scripts/images/base-image.sh)
  [ -n "$base" ] || base=$(sed -n 's/^BASE_IMAGE=//p' <<<"$made")
  [ -n "$compose" ] || compose=$(sed -n 's/^COMPOSE_IMAGE=//p' <<<"$made")
  [ -n "$docker_cli" ] || docker_cli=$(sed -n 's/^DOCKER_CLI_IMAGE=//p' <<<"$made")
fi
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base is not available"
docker image inspect "$compose" >/dev/null 2>&1 || die "compose image $compose is not available"
docker image inspect "$docker_cli" >/dev/null 2>&1 || die "docker CLI image $docker_cli is not available"
if [ -n "$print_base" ]; then
  echo "BASE_IMAGE=$base"
  echo "COMPOSE_IMAGE=$compose"
  echo "DOCKER_CLI_IMAGE=$docker_cli"
  exit 0
fi
# The build stages copy the locked node_modules instead of fetching anything.
bash scripts/install.sh

# What the version-independent images are built from; unchanged inputs reuse them as they are.
inputs_hash() {
  {
    docker image inspect --format '{{.Id}}' "$base" "$compose" "$docker_cli"
    sha256sum deploy/Dockerfile .dockerignore package.json package-lock.json node_modules/.package-lock.json nuxt.config.ts tsconfig.json tsconfig.tools.json convex.json
    find app modules server shared sidecar cli convex playground scripts/images -type f \
      -not -path '*/.nuxt/*' -not -path '*/.output/*' -not -path '*/node_modules/*' -print0 \
      | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

started=$SECONDS
hash=$(inputs_hash)
for target in web updater convex-deploy; do
  build_ref="owlat-build/$target:$hash"
  ref="${prefix}${target}:${version}"
  t0=$SECONDS
  log="${TMPDIR:-/tmp}/owlat-images-$target.log"
  stamp_log="${TMPDIR:-/tmp}/owlat-images-$target-version.log"
  if ! docker image inspect "$build_ref" >/dev/null 2>&1; then
    echo "› building $target from the sources (base $base)…"
    # The classic builder: it works with every Docker client and engine (BuildKit needs buildx here).
    DOCKER_BUILDKIT=0 docker build -f deploy/Dockerfile --target "$target" \
      --build-arg "BASE_IMAGE=$base" --build-arg "COMPOSE_IMAGE=$compose" --build-arg "DOCKER_CLI_IMAGE=$docker_cli" \
      -t "$build_ref" . >"$log" 2>&1 \
      || { tail -n 40 "$log" >&2; die "building $target failed (full log: $log)"; }
    # Builds of earlier sources are only kept while a versioned image uses their layers.
    docker images --format '{{.Repository}}:{{.Tag}}' "owlat-build/$target" | grep -vx "$build_ref" | xargs -r docker rmi >/dev/null 2>&1 || true
  fi
  DOCKER_BUILDKIT=0 docker build --build-arg "IMAGE=$build_ref" --build-arg "OWLAT_VERSION=$version" \
    -t "$ref" - <deploy/version.Dockerfile >"$stamp_log" 2>&1 \
    || { tail -n 20 "$stamp_log" >&2; die "stamping $ref failed (full log: $stamp_log)"; }
  size=$(docker image inspect --format '{{.Size}}' "$ref")
  echo "  $ref  $(docker image inspect --format '{{.Id}}' "$ref" | cut -c8-19)  $((size / 1000000)) MB  $((SECONDS - t0)) s"
done
echo "› built ${prefix}{web,updater,convex-deploy}:$version in $((SECONDS - started)) s"
