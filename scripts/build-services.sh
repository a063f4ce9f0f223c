#!/usr/bin/env bash
# Bundles each service into one ESM file under .run/dist with esbuild: plain
# `node file.mjs` starts faster and uses about half the memory of running the TypeScript through tsx.
# Native modules stay external and load from node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.run/dist
mkdir -p "$out"
esbuild=node_modules/.bin/esbuild
banner="import { createRequire as __acefleetRequire } from 'node:module'; const require = __acefleetRequire(import.meta.url);"
for entry in services/*/src/main.ts; do
  name=$(basename "$(dirname "$(dirname "$entry")")")
  "$esbuild" "$entry" --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --external:better-sqlite3 --external:ssh2 --external:cpu-features \
    --banner:js="$banner" --outfile="$out/$name.mjs"
done
