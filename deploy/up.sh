#!/usr/bin/env bash
# Starts tabmesh with docker compose: nats-1..nats-3 (one cluster, R3 streams and buckets), gateway
# (127.0.0.1:8080 HTTP, 127.0.0.1:8081 WS), tab-registry, provisioner, session-creator. Builds what
# is missing first: the local base image (no registry needed), the service bundle and both images.
# Every TABMESH_* and GATEWAY_* variable of the caller's environment reaches the services
# (TABMESH_JWT_SECRET included; made once and kept in deploy/.secrets/jwt-secret when unset).
# Extra arguments go to `compose up`, e.g. --scale provisioner=3.
# Waits until the gateway's /readyz answers 200. Idempotent: running it again updates in place.
#
#   bash deploy/up.sh [--scale provisioner=3]
#   TABMESH_SKIP_BUILD=1   use the images as they are (build only what does not exist)
#   TABMESH_UP_TIMEOUT_S   how long to wait for /readyz (default 180)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_DIR"

if ! docker info >/dev/null 2>&1; then
  echo "docker is not running (start dockerd first)" >&2
  exit 1
fi

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The local base only when it is the one asked for; any other base comes from a registry.
if [ "$TABMESH_BASE_IMAGE" = tabmesh/base:local ] && ! image_exists tabmesh/base:local; then
  quiet bash "$DEPLOY_DIR/images/build-base.sh"
fi

build_images() {
  # Compiled on the host (PREBUILT=1): builds here cannot reach a package registry.
  quiet npx tsx scripts/build-services.ts
  quiet docker build -f deploy/Dockerfile --build-arg BASE_IMAGE="$TABMESH_BASE_IMAGE" --build-arg PREBUILT=1 -t "$TABMESH_SERVICES_IMAGE" .
  quiet docker build -f deploy/nats/Dockerfile --build-arg BASE_IMAGE="$TABMESH_NATS_BASE_IMAGE" -t "$TABMESH_NATS_IMAGE" .
  # The legacy builder keeps each build stage as an untagged image, and a rebuild leaves the
  # previous image untagged; only tabmesh's own are removed.
  docker image prune -f --filter label=org.tabmesh.stage=build >/dev/null
  docker image prune -f --filter label=org.tabmesh.image >/dev/null
}
if [ "${TABMESH_SKIP_BUILD:-}" != 1 ] || ! image_exists "$TABMESH_SERVICES_IMAGE" || ! image_exists "$TABMESH_NATS_IMAGE"; then
  build_images
fi

# The gateway refuses to start without a way to verify tokens. Unless the caller gives one
# (TABMESH_JWT_SECRET or TABMESH_JWKS_URL), a secret is made once and kept in deploy/.secrets
# (mode 600, ignored by git and by the Docker build context), so tokens minted for it stay valid
# across restarts: `TABMESH_JWT_SECRET=$(cat deploy/.secrets/jwt-secret) pnpm token --all`.
umask 077
if [ -z "${TABMESH_JWT_SECRET:-}" ] && [ -z "${TABMESH_JWKS_URL:-}" ]; then
  mkdir -p "$SECRETS_DIR"
  if [ ! -s "$JWT_SECRET_FILE" ]; then
    head -c 32 /dev/urandom | base64 | tr -d '=\n' | tr '+/' '-_' >"$JWT_SECRET_FILE.tmp"
    mv "$JWT_SECRET_FILE.tmp" "$JWT_SECRET_FILE"
  fi
  chmod 600 "$JWT_SECRET_FILE"
  TABMESH_JWT_SECRET="$(cat "$JWT_SECRET_FILE")"
  export TABMESH_JWT_SECRET
  secret_from="$JWT_SECRET_FILE"
fi

# The pass-through: the caller's TABMESH_* and GATEWAY_* settings, one KEY=value a line.
env | grep -E '^(TABMESH|GATEWAY)_[A-Z0-9_]*=' | grep -vE '^TABMESH_(BASE_IMAGE|NATS_BASE_IMAGE|SERVICES_IMAGE|NATS_IMAGE|PASSTHROUGH_ENV|SKIP_BUILD|UP_TIMEOUT_S)=' \
  >"$PASSTHROUGH_FILE" || true
export TABMESH_PASSTHROUGH_ENV="$PASSTHROUGH_FILE"

quiet compose up -d --no-build --remove-orphans "$@"

port="${GATEWAY_HTTP_PORT:-8080}"
deadline=$(( $(date +%s) + ${TABMESH_UP_TIMEOUT_S:-180} ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "gateway not ready on 127.0.0.1:$port after ${TABMESH_UP_TIMEOUT_S:-180} s" >&2
    compose ps >&2 || true
    compose logs --tail 20 >&2 || true
    exit 1
  fi
  sleep 1
done
echo "tabmesh is up: http://127.0.0.1:$port (ws ${GATEWAY_WS_PORT:-8081})"
if [ -n "${secret_from:-}" ]; then
  echo "token: TABMESH_JWT_SECRET=\$(cat ${secret_from#"$REPO_DIR"/}) npx -y pnpm@10 -s token --all --ttl 1h"
else
  echo "token: npx -y pnpm@10 -s token --all --ttl 1h   (signed with the TABMESH_JWT_SECRET of this shell)"
fi
