#!/usr/bin/env bash
# What the real-engine tests (tests/docker) need, idempotent, run as root by `npm test` and CI:
# Debian's Docker engine, docker-compose (v1), registry and a static busybox; debootstrap, which
# makes the local Node base image when no public image registry answers (scripts/images/base-image.sh);
# a daemon without the default bridge or iptables (containers get no network unless a compose
# project gives them one of its own, and nothing leaves the host); a registry on 127.0.0.1:5000
# that the test images are pushed to and pulled from; a single-node swarm (this engine its manager).
# Exits non-zero with one line on stderr when something cannot be set up.
set -uo pipefail

REGISTRY_ADDR=127.0.0.1:5000
STATE_DIR=${OWLAT_DOCKER_STATE_DIR:-/tmp/owlat-docker}
DOCKERD_LOG=$STATE_DIR/dockerd.log
REGISTRY_LOG=$STATE_DIR/registry.log
REGISTRY_CONFIG=$STATE_DIR/registry.yml
REGISTRY_STORAGE=$STATE_DIR/registry-data
# Seconds to wait for each daemon to answer.
WAIT_S=${OWLAT_DOCKER_WAIT_S:-60}

die() {
  echo "setup-docker: $*" >&2
  exit 1
}

mkdir -p "$STATE_DIR" || die "cannot create $STATE_DIR"

# Debian's dockerd lives in /usr/sbin, which a non-login root shell may not have on PATH.
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || missing+=(busybox-static)
# `file` checks busybox above; `curl` asks the registry below.
command -v file >/dev/null 2>&1 || missing+=(file)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: run 'sudo bash scripts/setup-docker.sh'"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$STATE_DIR/apt.log" 2>&1 || die "apt-get update failed (see $STATE_DIR/apt.log)"
  # policy-rc.d 101: the packages' init scripts must not start a registry or daemon configured differently.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE_DIR/apt.log" 2>&1
  status=$?
  rm -f /usr/sbin/policy-rc.d
  [ $status = 0 ] || die "apt-get install ${missing[*]} failed (see $STATE_DIR/apt.log)"
fi
if ! file -L /bin/busybox | grep -q 'statically linked'; then
  die "/bin/busybox is not the static build (install busybox-static)"
fi

wait_for() { # what, command...
  local what=$1
  shift
  for _ in $(seq "$WAIT_S"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  return 1
}

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "the Docker engine does not answer and only root can start it: run 'sudo bash scripts/setup-docker.sh'"
  # No bridge and no iptables: containers only get `network_mode: none`, the host's rules stay untouched.
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
  wait_for dockerd docker info || die "dockerd did not answer within ${WAIT_S} s (see $DOCKERD_LOG)"
fi

registry_up() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/")" = 200 ]
}

if ! registry_up; then
  mkdir -p "$REGISTRY_STORAGE"
  cat >"$REGISTRY_CONFIG" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  nohup docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
  wait_for registry registry_up || die "the registry did not answer on $REGISTRY_ADDR within ${WAIT_S} s (see $REGISTRY_LOG)"
fi

# A single-node swarm for the swarm driver's suite (tests/drivers/swarm.test.ts): this engine is its
# manager, on loopback. `docker swarm leave --force` removes it (.ci/run does, once the tests ran).
swarm_state() {
  docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null
}
if [ "$(swarm_state)" != active ]; then
  docker swarm init --advertise-addr 127.0.0.1 >>"$DOCKERD_LOG" 2>&1 || die "docker swarm init failed (see $DOCKERD_LOG)"
fi

echo "docker: engine $(docker version --format '{{.Server.Version}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'), registry on $REGISTRY_ADDR, swarm $(swarm_state)"
