#!/usr/bin/env bash
# Generates the clip the simulator turns into an endless live channel: 12 s of testsrc, 320x240 at 25 fps
# (H.264, a key frame every 25 frames = 1 s) with an MP2 tone at 48 kHz, muxed as constant-bitrate MPEG-TS.
# 12 s is where the two tile: 300 video frames of 40 ms and 500 audio frames of 1152 samples (24 ms), so the
# loop has no gap and no overlap in either. 1 504 000 bit/s is 1000 TS packets a second (90 PCR ticks each).
# Idempotent: does nothing when the clip already exists. The name says the shape, so a machine that still has
# an older clip gets this one made rather than using that.
set -euo pipefail

media_dir="$(cd "$(dirname "$0")/.." && pwd)/media"
out="$media_dir/testsrc-320x240-12s.mpegts"

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
# A fixed GOP (no scene-cut key frames), so HLS segments of whole GOPs all last the same.
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i testsrc=size=320x240:rate=25:duration=12 \
  -f lavfi -i sine=frequency=440:sample_rate=48000:duration=12 \
  "${video_codec[@]}" -g 25 -keyint_min 25 -sc_threshold 0 -c:a mp2 -b:a 64k \
  -f mpegts -muxrate 1504000 "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "make-media: wrote $out"
