#!/usr/bin/env bash
# Stops and removes what deploy/up.sh started: the containers of project `tabmesh`, its network and
# its volumes (the NATS stores). Images stay (rebuilding the base is slow); remove them with
# `docker rmi tabmesh/services:local tabmesh/nats:local tabmesh/base:local`. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_DIR"
quiet compose down --volumes --remove-orphans --timeout 30
rm -f "$PASSTHROUGH_FILE"
