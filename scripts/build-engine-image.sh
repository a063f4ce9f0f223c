#!/usr/bin/env bash
# Builds acefleet/ace-sim:local, the simulated AceStream engine, without any registry: the simulator bundled
# into one ESM file, the host's node binary and the libraries it links, in a rootfs fed to `docker import`.
# Skips the import when an image built from the same inputs exists (tag acefleet/ace-sim:<inputs hash>).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/rootfs.sh
source "$repo/scripts/lib/rootfs.sh"
sim="$repo/tools/ace-sim"
image=acefleet/ace-sim
media_name=testsrc-320x240-12s.mpegts

bash "$sim/scripts/make-media.sh"

esbuild="$repo/node_modules/.bin/esbuild"
[[ -x "$esbuild" ]] || esbuild="$repo/node_modules/esbuild/bin/esbuild"
node_bin="$(readlink -f "$(command -v node)")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$esbuild" "$sim/src/main.ts" --bundle --platform=node --format=esm --target=node20 \
  --log-level=warning --outfile="$work/ace-sim.mjs"

hash="$(cat "$work/ace-sim.mjs" "$sim/media/$media_name" "$node_bin" "$0" "$repo/scripts/lib/rootfs.sh" |
  sha256sum | cut -c1-16)"
if rootfs_current "$image" "$hash"; then
  echo "build-engine-image: $image:local is up to date ($hash)"
  exit 0
fi

rootfs="$work/rootfs"
rootfs_new "$rootfs"
rootfs_add_binary "$rootfs" "$node_bin"
mkdir -p "$rootfs/app/media"
cp "$work/ace-sim.mjs" "$rootfs/app/ace-sim.mjs"
cp "$sim/media/$media_name" "$rootfs/app/media/$media_name"
chmod -R a+rX "$rootfs/app"
rootfs_import "$rootfs" "$image" "$hash" \
  -c 'ENTRYPOINT ["/usr/local/bin/node","/app/ace-sim.mjs"]' \
  -c "ENV ACE_SIM_MEDIA=/app/media/$media_name" \
  -c 'EXPOSE 6878' \
  -c 'USER 65534:65534' \
  -c 'WORKDIR /tmp'
echo "build-engine-image: built $image:local ($hash)"
