#!/usr/bin/env bash
# Builds acefleet/ace-sim:local, the simulated AceStream engine, without any registry: the simulator bundled
# into one ESM file, the host's node binary and the libraries it links, in a rootfs fed to `docker import`.
# Skips the import when an image built from the same inputs exists (tag acefleet/ace-sim:<inputs hash>).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
sim="$repo/tools/ace-sim"
image=acefleet/ace-sim
media_name=testsrc-320x240.mpegts

bash "$sim/scripts/make-media.sh"

esbuild="$repo/node_modules/.bin/esbuild"
[[ -x "$esbuild" ]] || esbuild="$repo/node_modules/esbuild/bin/esbuild"
node_bin="$(readlink -f "$(command -v node)")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$esbuild" "$sim/src/main.ts" --bundle --platform=node --format=esm --target=node20 \
  --log-level=warning --outfile="$work/ace-sim.mjs"

hash="$(cat "$work/ace-sim.mjs" "$sim/media/$media_name" "$node_bin" "$0" | sha256sum | cut -c1-16)"
if docker image inspect "$image:$hash" >/dev/null 2>&1; then
  docker tag "$image:$hash" "$image:local"
  echo "build-engine-image: $image:local is up to date ($hash)"
  exit 0
fi

rootfs="$work/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/app/media" "$rootfs/etc" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$node_bin" "$rootfs/usr/local/bin/node"
# Every library node links, and the dynamic loader, at the paths the binary expects.
ldd "$node_bin" | grep -oE '/[^ ]+' | while read -r lib; do
  cp -L --parents "$lib" "$rootfs/"
done
cp "$work/ace-sim.mjs" "$rootfs/app/ace-sim.mjs"
cp "$sim/media/$media_name" "$rootfs/app/media/$media_name"
chmod -R a+rX "$rootfs/app"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

tar -C "$rootfs" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c . |
  docker import \
    -c 'ENTRYPOINT ["/usr/local/bin/node","/app/ace-sim.mjs"]' \
    -c "ENV ACE_SIM_MEDIA=/app/media/$media_name" \
    -c 'EXPOSE 6878' \
    -c 'USER 65534:65534' \
    -c 'WORKDIR /tmp' \
    -c "LABEL org.acefleet.ace-sim.inputs=$hash" \
    -m "ace-sim $hash" - "$image:$hash" >/dev/null
docker tag "$image:$hash" "$image:local"
echo "build-engine-image: built $image:local ($hash)"
