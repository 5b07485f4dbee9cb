#!/usr/bin/env bash
# Prepares a fresh Debian machine with Node 20 and npm: nats-server, the pnpm workspace, the
# sandbox-agent mock agent and, when asked (--browser) or in CI, Debian's chromium for browser tests;
# with --deploy or in CI, Docker for the deploy tests (scripts/setup-docker.sh); with --bench, Redis
# for the lifecycle bench's BullMQ baseline (bench/src/reference).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=0
deploy=0
bench=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --deploy) deploy=1 ;;
    --bench) bench=1 ;;
    *) echo "usage: bash scripts/setup.sh [--browser] [--deploy] [--bench]" >&2; exit 2 ;;
  esac
done
if [ "${CI:-}" = "true" ]; then browser=1; deploy=1; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "tabmesh needs Node 20 or newer (found $(node -v))" >&2; exit 1; fi

if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  echo "setup: installing nats-server (apt)"
  apt_install nats-server
fi

if [ "$bench" = 1 ] && [ ! -x /usr/bin/redis-server ]; then
  echo "setup: installing redis-server (apt) for the bench's BullMQ baseline"
  apt_install redis-server
fi

if [ "$browser" = 1 ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing chromium (apt) for browser tests"
    apt_install chromium
  fi
fi

if [ "$deploy" = 1 ]; then bash scripts/setup-docker.sh; fi

echo "setup: installing workspace dependencies"
npx -y pnpm@10 install --frozen-lockfile --reporter=append-only | tail -n 3

echo "setup: installing the sandbox-agent mock agent (offline, idempotent)"
npx -y pnpm@10 --filter @tabmesh/providers run setup:agent
echo "setup: done"
