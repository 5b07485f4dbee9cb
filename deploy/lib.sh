# Shared by up.sh, down.sh and the deploy tests: where things are and how compose is called.
# Sourced, not run.
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$DEPLOY_DIR")"
# A fixed project name: containers, network (tabmesh_default) and volumes are found by it.
export COMPOSE_PROJECT_NAME=tabmesh
export TABMESH_BASE_IMAGE="${TABMESH_BASE_IMAGE:-tabmesh/base:local}"
export TABMESH_NATS_BASE_IMAGE="${TABMESH_NATS_BASE_IMAGE:-$TABMESH_BASE_IMAGE}"
export TABMESH_SERVICES_IMAGE="${TABMESH_SERVICES_IMAGE:-tabmesh/services:local}"
export TABMESH_NATS_IMAGE="${TABMESH_NATS_IMAGE:-tabmesh/nats:local}"
# The JWT secret up.sh makes when the caller gives none (mode 600; git and Docker ignore the dir).
SECRETS_DIR="$DEPLOY_DIR/.secrets"
JWT_SECRET_FILE="$SECRETS_DIR/jwt-secret"
# Written by up.sh; compose falls back to the committed empty file when it is absent.
PASSTHROUGH_FILE="$DEPLOY_DIR/.passthrough.env"
if [ -f "$PASSTHROUGH_FILE" ]; then export TABMESH_PASSTHROUGH_ENV="$PASSTHROUGH_FILE"; else unset TABMESH_PASSTHROUGH_ENV; fi

# The bus users' passwords (deploy/nats/accounts.conf reads them): random ones made once, kept in
# deploy/.nats-users.env (0600, not committed); any already set in the environment win.
# shellcheck source=bus-password.sh
source "$DEPLOY_DIR/bus-password.sh"
NATS_USERS_FILE="$DEPLOY_DIR/.nats-users.env"
if [ ! -f "$NATS_USERS_FILE" ]; then
  (umask 077; for u in GATEWAY TAB_REGISTRY PROVISIONER SESSION_CREATOR SETUP; do
    echo "NATS_${u}_PASSWORD=$(new_bus_password)"
  done >"$NATS_USERS_FILE")
fi
while IFS='=' read -r name value; do
  [ -n "$name" ] && [ -z "${!name:-}" ] && export "$name=$value"
done <"$NATS_USERS_FILE"

# `docker compose` (v2) when the plugin is there, else Debian's docker-compose 1.29.
compose() {
  if docker compose version >/dev/null 2>&1; then
    docker compose -p "$COMPOSE_PROJECT_NAME" -f "$DEPLOY_DIR/compose.yaml" "$@"
  else
    docker-compose -p "$COMPOSE_PROJECT_NAME" -f "$DEPLOY_DIR/compose.yaml" "$@"
  fi
}

# Runs a command with its output kept in a log that is shown only when it fails (scripts stay quiet).
quiet() {
  local log
  log=$(mktemp /tmp/tabmesh-deploy.XXXXXX)
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
  else
    local rc=$?
    echo "failed ($rc): $*" >&2
    tail -40 "$log" >&2
    rm -f "$log"
    return "$rc"
  fi
}
