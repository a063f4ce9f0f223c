/**
 * How each engine image takes its ports. Switching from the simulator to a real engine is one setting
 * (ENGINE_PRESET); ports come from the manager's allocator.
 */
export interface EnginePreset {
  image: string;
  /** Port the engine's HTTP API listens on inside its network namespace. */
  httpPort: (allocated: number) => number;
  /** `bindAll`: listen on every interface (engines on a bridge network), not only loopback. */
  cmd: (httpPort: number, p2pPort: number, bindAll: boolean) => string[];
  env: (httpPort: number, p2pPort: number) => string[];
}

const engineArgs = (http: number, p2p: number): string =>
  `--client-console --bind-all --live-cache-type memory --http-port ${http} --port ${p2p}`;

export const presets: Record<string, EnginePreset> = {
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
    env: (http, p2p) => ['ALLOW_REMOTE_ACCESS=yes', `EXTRA_FLAGS=--http-port ${http} --port ${p2p}`],
  },
  krinkuto11: {
    image: 'ghcr.io/krinkuto11/acestream-http-proxy',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http) => [`HTTP_PORT=${http}`, `HTTPS_PORT=${http + 1}`, 'BIND_ALL=true'],
  },
  jopsis: {
    image: 'jopsis/acestream:x64',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, p2p) => [`ACESTREAM_ARGS=${engineArgs(http, p2p)}`],
  },
};
