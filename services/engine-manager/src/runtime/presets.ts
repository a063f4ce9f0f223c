/**
 * How each engine image takes its ports (see ../shared/acestream-engine-api.md). Switching from the simulator
 * to a real engine is one setting (ENGINE_PRESET); ports come from the manager's allocator, which gives each
 * engine two consecutive ports: HTTP, and HTTPS = HTTP + 1 for the images that open one.
 *
 * Every image is pinned to a tag other than `latest` (or to a digest), so a host never runs an engine nobody
 * chose: a pull of a moving tag would change the engine under a running fleet.
 */
export interface EnginePreset {
  /** Pinned image; undefined when the publisher only ships a moving tag (ENGINE_IMAGE must then name one). */
  image: string | undefined;
  /** Why this image and tag, for whoever bumps it. */
  imageNote: string;
  /** Port the engine's HTTP API listens on inside its network namespace. */
  httpPort: (allocated: number) => number;
  /** `bindAll`: listen on every interface (bridge network or VPN namespace), not only loopback. */
  cmd: (httpPort: number, p2pPort: number, bindAll: boolean) => string[];
  env: (httpPort: number, p2pPort: number, bindAll: boolean) => string[];
  /** Linux capabilities added back after dropping all; none of the known engines needs one. */
  capAdd: string[];
  /** `uid:gid` to run as; undefined keeps the image's own user (the engine writes where that user owns). */
  user: string | undefined;
  /** Root filesystem read-only (with a tmpfs /tmp): only for images that write nowhere else. */
  readonlyRootfs: boolean;
  /** Docker health check command (exec form); undefined keeps whatever the image declares. */
  healthcheck: ((httpPort: number) => string[]) | undefined;
  /**
   * Where the engine keeps its cache (a tmpfs of ENGINE_CACHE_MB is mounted there) and the variables that hold
   * it to that size: the engine's own cache flags, appended to the preset's flag list (ENGINE_ENV's come last).
   */
  cache: { dir: string; env: (cacheMb: number) => Record<string, string> };
}

/**
 * An image reference fixed to a digest, or to a tag other than `latest`. A bare name means `latest`, and a
 * registry port (`host:5000/name`) is not a tag.
 */
export const PINNED_IMAGE =
  '^(?:[^\\s@]+@sha256:[0-9a-f]{64}|[^\\s@]*[^/\\s@:]+:(?!latest$)\\w[\\w.-]{0,127})$';

/** Where real engines are told to keep their cache: the tmpfs the manager mounts (ENGINE_CACHE_MB). */
const CACHE_DIR = '/acestream-cache';

/**
 * The engine's cache flags (../shared/acestream-engine-api.md: engine 3.1/3.2 names), besides
 * `--live-cache-type memory` where the preset sets it: the cache in that directory, the VOD cache in memory,
 * each cache and the disk cache limited to the tmpfs size (in bytes).
 * A version that ignores one of them is still held by the tmpfs size, and by ENGINE_DISK_MAX_MB for what it
 * writes elsewhere.
 */
const cacheFlags = (cacheMb: number): string => {
  const bytes = cacheMb * 1024 * 1024;
  return [
    `--cache-dir ${CACHE_DIR}`,
    `--live-cache-size ${bytes}`,
    '--vod-cache-type memory',
    `--vod-cache-size ${bytes}`,
    `--disk-cache-limit ${bytes}`,
  ].join(' ');
};

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

/** Real engines run as their image's user (or root, in jopsis), write caches into it, need no capability. */
const realEngine: Pick<EnginePreset, 'capAdd' | 'user' | 'readonlyRootfs' | 'healthcheck'> = {
  capAdd: [],
  user: undefined,
  readonlyRootfs: false,
  // Which HTTP client (if any) each image holds is not pinned down; health-monitor probes them over HTTP.
  healthcheck: undefined,
};

export const presets: Record<PresetName, EnginePreset> = {
  'ace-sim': {
    image: 'acefleet/ace-sim:local',
    imageNote:
      'built on this host by scripts/build-engine-image.sh, never pulled; `local` is retagged to the newest ' +
      'build, whose content tag (acefleet/ace-sim:<inputs hash>) changes with the node binary',
    httpPort: (p) => p,
    cmd: (http, p2p, bindAll) => [
      '--http-port',
      String(http),
      '--port',
      String(p2p),
      ...(bindAll ? ['--bind-all'] : []),
    ],
    env: () => [],
    capAdd: [],
    // nobody (the image's own USER too): its files are world-readable and the simulator writes no file.
    user: '65534:65534',
    readonlyRootfs: true,
    // It keeps no cache (media comes from its clips): the tmpfs is there all the same, and stays empty.
    cache: { dir: '/cache', env: () => ({}) },
    // The image has node (at the same path in the local and the official-node builds), nothing else.
    healthcheck: (http) => [
      'CMD',
      '/usr/local/bin/node',
      '-e',
      `fetch('http://127.0.0.1:${http}/webui/api/service?method=get_version')` +
        '.then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))',
    ],
  },
  'acestream-http-proxy': {
    image: 'ghcr.io/martinbjeldbak/acestream-http-proxy:3.0.0',
    imageNote:
      'a release tag (the image is tagged per GitHub release); runs as its own appuser (uid 1000) under catatonit',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, p2p, bindAll) => [
      `ALLOW_REMOTE_ACCESS=${bindAll ? 'yes' : 'no'}`,
      `EXTRA_FLAGS=--http-port ${http} --https-port ${http + 1} --port ${p2p}`,
    ],
    cache: { dir: CACHE_DIR, env: (mb) => ({ EXTRA_FLAGS: `--live-cache-type memory ${cacheFlags(mb)}` }) },
    ...realEngine,
  },
  krinkuto11: {
    image: undefined,
    imageNote:
      'ghcr.io/krinkuto11/acestream-http-proxy is only published as `latest`: set ENGINE_IMAGE to a digest ' +
      '(ghcr.io/krinkuto11/acestream-http-proxy@sha256:<digest of the build you tested>)',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, _p2p, bindAll) => [
      `HTTP_PORT=${http}`,
      `HTTPS_PORT=${http + 1}`,
      `BIND_ALL=${bindAll ? 'true' : 'false'}`,
    ],
    // Its entry script takes ports and binding only, no flag list: the cache is held by the tmpfs (mounted
    // where the engine user's ~/.ACEStream cache lives) and ENGINE_DISK_MAX_MB.
    cache: { dir: '/root/.ACEStream', env: () => ({}) },
    ...realEngine,
  },
  jopsis: {
    image: 'jopsis/acestream:x64',
    imageNote:
      'the only amd64 tag jopsis publishes (engine 3.2.11); CI re-pushes it from main, so pin a digest with ' +
      'ENGINE_IMAGE where reproducibility matters. Runs as root: it writes its cache under root-owned /acestream',
    httpPort: (p) => p,
    cmd: () => [],
    env: (http, p2p, bindAll) => [`ACESTREAM_ARGS=${engineFlags(http, p2p, bindAll)}`],
    cache: { dir: CACHE_DIR, env: (mb) => ({ ACESTREAM_ARGS: cacheFlags(mb) }) },
    ...realEngine,
  },
};

/** ENGINE_ENV, parsed: variables for every engine started, on top of its preset's. */
export type EngineEnv = Readonly<Record<string, string>>;

/** Variables that hold an engine's own flags: ENGINE_ENV adds its flags after the preset's, not instead. */
export const FLAG_LIST_VARIABLES: readonly string[] = ['EXTRA_FLAGS', 'ACESTREAM_ARGS'];

/** The variables a preset sets itself (ports, binding); ENGINE_ENV may not change them. */
export function presetVariables(preset: EnginePreset): string[] {
  return preset.env(0, 0, false).map((entry) => entry.slice(0, entry.indexOf('=')));
}

/**
 * The environment of one engine (`KEY=VALUE` entries): its preset's, then ENGINE_ENV's. A flag list the
 * preset sets gets ENGINE_ENV's flags appended (`--http-port N ... --live-cache-size 1`); any other key is
 * added (config validation refused the others the preset sets).
 */
export function engineEnvironment(presetEnv: string[], extra: EngineEnv, cache: EngineEnv = {}): string[] {
  if (Object.keys(cache).length > 0) return engineEnvironment(engineEnvironment(presetEnv, cache), extra);
  const out = new Map(presetEnv.map((entry) => [entry.slice(0, entry.indexOf('=')), entry]));
  for (const [key, value] of Object.entries(extra)) {
    const own = out.get(key);
    out.set(
      key,
      own !== undefined && FLAG_LIST_VARIABLES.includes(key) ? `${own} ${value}` : `${key}=${value}`,
    );
  }
  return [...out.values()];
}

/** ENGINE_ENV for a log line: the simulator's settings (ACE_SIM_*) with their values, anything else as set. */
export function loggableEngineEnv(extra: EngineEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(extra).map(([key, value]) => [key, key.startsWith('ACE_SIM_') ? value : '(set)']),
  );
}
