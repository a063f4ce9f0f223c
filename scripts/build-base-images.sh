#!/usr/bin/env bash
# The base images deploy/*.Dockerfile build FROM when no registry is reachable, made from this host's binaries
# with `docker import` (like scripts/build-engine-image.sh):
#   acefleet/node-base:local  node at /usr/local/bin/node, as in node:20-bookworm-slim
#   acefleet/nats-base:local  nats-server and wget (for the health check) in /usr/local/bin, as in
#                             nats:2.10-alpine
# Each is kept while its inputs are unchanged (content tag <image>:<inputs hash>).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/rootfs.sh
source "$repo/scripts/lib/rootfs.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# base IMAGE BINARY...: IMAGE:local holding the binaries and their libraries.
base() {
  local image="$1" hash
  shift
  hash="$(cat "$@" "$0" "$repo/scripts/lib/rootfs.sh" | sha256sum | cut -c1-16)"
  if rootfs_current "$image" "$hash"; then
    echo "build-base-images: $image:local is up to date ($hash)"
    return
  fi
  local rootfs="$work/$(basename "$image")"
  rootfs_new "$rootfs"
  for bin in "$@"; do rootfs_add_binary "$rootfs" "$bin"; done
  rootfs_import "$rootfs" "$image" "$hash" -c 'ENV PATH=/usr/local/bin' -c 'WORKDIR /'
  echo "build-base-images: built $image:local ($hash)"
}

base acefleet/node-base "$(readlink -f "$(command -v node)")"
base acefleet/nats-base "$(command -v nats-server)" "$(command -v wget)"
