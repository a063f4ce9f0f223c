# The simulated engine for a Docker host with a registry (locally, scripts/build-engine-image.sh builds the
# same thing without one). NODE_IMAGE: a Debian-based node image.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE} AS media
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY tools/ace-sim tools/ace-sim
RUN bash tools/ace-sim/scripts/make-media.sh

FROM ${NODE_IMAGE} AS bundle
WORKDIR /src
COPY libs/mpegts libs/mpegts
COPY tools/ace-sim tools/ace-sim
# No workspace node_modules here: the one library the simulator uses is resolved by path.
RUN npx --yes esbuild@0.25 tools/ace-sim/src/main.ts --bundle --platform=node --format=esm --target=node20 \
      --alias:@acefleet/mpegts=./libs/mpegts/src/index.ts --outfile=/out/ace-sim.mjs

FROM ${NODE_IMAGE}
COPY --from=bundle /out/ace-sim.mjs /app/ace-sim.mjs
COPY --from=media /src/tools/ace-sim/media/testsrc-320x240-12s.mpegts /app/media/testsrc-320x240-12s.mpegts
ENV ACE_SIM_MEDIA=/app/media/testsrc-320x240-12s.mpegts
USER node
EXPOSE 6878
ENTRYPOINT ["node", "/app/ace-sim.mjs"]
