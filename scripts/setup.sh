#!/usr/bin/env bash
# Installs whatever is missing for `npm start` and `npm test` on a fresh Debian machine with Node 20, and is
# quick when everything is already there: Debian packages, npm dependencies, a running Docker engine, the
# simulated engine's media and image. Where no Docker engine can run it says so; the stack then runs its
# engines as local processes (.run/engine-runtime tells the start script which).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run

say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# 1. Debian packages: nats-server, ffmpeg (test pattern, and ffprobe as a player), Docker, compose.
missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ "${ACEFLEET_SETUP_TEST:-0}" = 1 ] || [ "${ACEFLEET_SETUP_PLAYERS:-0}" = 1 ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v iperf3 >/dev/null || missing+=(iperf3) # the benchmark's ceiling
  # VLC without its GUI (cvlc), a player of the short players matrix in npm test; mpv and VLC also play
  # /playlist.m3u in tests/e2e/players.
  command -v cvlc >/dev/null || missing+=(vlc-bin vlc-plugin-base)
  command -v mpv >/dev/null || missing+=(mpv)
fi
if [ "${ACEFLEET_SETUP_KODI:-0}" = 1 ]; then
  # One real media centre (npm run players:kodi): Kodi with IPTV Simple and the inputstreams it requires, Xvfb.
  command -v kodi >/dev/null || missing+=(kodi)
  command -v Xvfb >/dev/null || missing+=(xvfb)
  for p in kodi-pvr-iptvsimple kodi-inputstream-adaptive kodi-inputstream-ffmpegdirect kodi-inputstream-rtmp; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
fi
if [ "${ACEFLEET_SETUP_PLAYERS:-0}" = 1 ]; then
  # The rest of the players matrix (npm run players): mpv and GStreamer with its TS demuxer and decoders.
  command -v mpv >/dev/null || missing+=(mpv)
  command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
  for p in gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm dependencies, reinstalled when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say 'installing npm dependencies'
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. A Docker engine: use the running one, or start dockerd in the background.
runtime=process
if docker info >/dev/null 2>&1; then
  runtime=docker
elif command -v dockerd >/dev/null && [ "$(id -u)" = 0 ]; then
  say 'starting dockerd'
  setsid nohup dockerd >.run/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then runtime=docker; break; fi
    sleep 0.5
  done
fi

# 4. The simulated engine: its test-pattern media, and (with Docker) its image.
bash tools/ace-sim/scripts/make-media.sh >/dev/null
if [ "$runtime" = docker ]; then
  if ! bash scripts/build-engine-image.sh >.run/build-engine-image.log 2>&1; then
    say 'could not build the engine image (see .run/build-engine-image.log): using local engine processes'
    runtime=process
  fi
else
  say 'no Docker engine can run here: engines will run as local processes'
fi
echo "$runtime" >.run/engine-runtime
say "ready (engines: $runtime)"
