#!/usr/bin/env bash
# What the deploy suite (pnpm test:deploy) needs on a fresh Debian machine: Docker (Debian's
# docker.io), a compose (docker-compose 1.29 when the v2 plugin is absent), debootstrap for the
# local base image, and a running dockerd. Each piece only when missing; dockerd is started in the
# background when `docker info` cannot reach one, and this waits until it answers. Needs root (or sudo).
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then missing+=(docker-compose); fi
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt) for the deploy tests"
  apt_install $(printf '%s\n' "${missing[@]}" | sort -u)
fi

if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd (log: /var/log/tabmesh-dockerd.log)"
  as_root sh -c 'nohup dockerd >/var/log/tabmesh-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup: dockerd did not come up in 60 s" >&2
    tail -20 /var/log/tabmesh-dockerd.log >&2 || true
    exit 1
  fi
fi
echo "setup: docker $(docker version --format '{{.Server.Version}}') running"
