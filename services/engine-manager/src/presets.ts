/**
 * How each engine image takes its ports (see ../shared/acestream-engine-api.md). Switching from the simulator
 * to a real engine is one setting (ENGINE_PRESET); ports come from the manager's allocator, which gives each
 * engine two consecutive ports: HTTP, and HTTPS = HTTP + 1 for the images that open one.
 */
export interface EnginePreset {
  image: string;
  /** Port the engine's HTTP API listens on inside its network namespace. */
  httpPort: (allocated: number) => number;
  /** `bindAll`: listen on every interface (bridge network or VPN namespace), not only loopback. */
  cmd: (httpPort: number, p2pPort: number, bindAll: boolean) => string[];
  env: (httpPort: number, p2pPort: number, bindAll: boolean) => string[];
}

/** The engine's own flags, as jopsis' ACESTREAM_ARGS and martinbjeldbak's EXTRA_FLAGS take them. */
const engineFlags = (http: number, p2p: number, bindAll: boolean): string =>
  [
    '--client-console',
    ...(bindAll ? ['--bind-all'] : []),
    '--live-cache-type memory',
    `--http-port ${http}`,
    `--https-port ${http + 1}`,
    `--port ${p2p}`,
  ].join(' ');

export const presetNames = ['ace-sim', 'acestream-http-proxy', 'krinkuto11', 'jopsis'] as const;
export type PresetName = (typeof presetNames)[number];

export const presets: Record<PresetName, EnginePreset> = {
  'ace-sim': {
    image: 'acefleet/ace-sim:local',
    httpPort: (p) => p,
    cmd: (http, p2p, bindAll) => [
      '--http-port',
      String(http),
      '--port',
      String(p2p),
      ...(bindAll ? ['--bind-all'] : []),
    ],
    env: () => [],
  },
  'acestream-http-proxy': {
    image: 'ghcr.io/martinbjeldbak/acestream-http-proxy',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, p2p, bindAll) => [
      `ALLOW_REMOTE_ACCESS=${bindAll ? 'yes' : 'no'}`,
      `EXTRA_FLAGS=--http-port ${http} --https-port ${http + 1} --port ${p2p}`,
    ],
  },
  krinkuto11: {
    image: 'ghcr.io/krinkuto11/acestream-http-proxy',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, _p2p, bindAll) => [
      `HTTP_PORT=${http}`,
      `HTTPS_PORT=${http + 1}`,
      `BIND_ALL=${bindAll ? 'true' : 'false'}`,
    ],
  },
  jopsis: {
    image: 'jopsis/acestream:x64',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, p2p, bindAll) => [`ACESTREAM_ARGS=${engineFlags(http, p2p, bindAll)}`],
  },
};
