#!/usr/bin/env bash
# Generates the looped test clip the simulator plays: 10 s of testsrc, 320x240 at 25 fps with a sine tone,
# muxed as constant-bitrate MPEG-TS. Idempotent: does nothing when the clip already exists.
set -euo pipefail

media_dir="$(cd "$(dirname "$0")/.." && pwd)/media"
out="$media_dir/testsrc-320x240.mpegts"

if [[ -s "$out" ]]; then
  exit 0
fi
command -v ffmpeg >/dev/null || { echo "make-media: ffmpeg is required" >&2; exit 1; }

video_codec=(-c:v mpeg2video -b:v 1200k -minrate 1200k -maxrate 1200k -bufsize 600k)
encoders="$(ffmpeg -hide_banner -encoders 2>/dev/null || true)"
if grep -q ' libx264 ' <<<"$encoders"; then
  video_codec=(-c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 1200k -maxrate 1200k -bufsize 600k)
fi

mkdir -p "$media_dir"
tmp="$(mktemp "$media_dir/.make-media.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc=size=320x240:rate=25:duration=10 \
  -f lavfi -i sine=frequency=440:sample_rate=48000:duration=10 \
  "${video_codec[@]}" -g 25 -c:a mp2 -b:a 64k \
  -f mpegts -muxrate 1500k "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "make-media: wrote $out"
