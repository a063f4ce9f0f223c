import os from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { AnnounceConfig, CommonConfig, ConfigError, OutboxConfig } from '@acefleet/platform';
import {
  FLAG_LIST_VARIABLES,
  PINNED_IMAGE,
  presetNames,
  presets,
  presetVariables,
  type EngineEnv,
} from './runtime/presets.ts';

const Ms = (def: number, minimum = 0, description?: string) =>
  Type.Integer({ default: def, minimum, ...(description ? { description } : {}) });

export const ManagerConfig = Type.Object({
  ...CommonConfig,
  ...AnnounceConfig,
  ...OutboxConfig,
  httpPort: Type.Integer({
    default: 8083,
    minimum: 0,
    maximum: 65535,
    description: 'HTTP port (`0`: any free port)',
  }),
  hostId: Type.String({
    default: os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'),
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'the Docker host this manager owns; its containers carry it as a label',
    'x-default-doc': 'the host name, characters outside `A-Za-z0-9_-` as `-`',
  }),
  engineRuntime: Type.Union([Type.Literal('docker'), Type.Literal('process')], {
    default: 'docker',
    description: '`docker`, or `process` (engines as local child processes)',
  }),
  enginePreset: Type.Union(
    presetNames.map((p) => Type.Literal(p)),
    {
      default: 'ace-sim',
      description: 'engine image preset (services/engine-manager/src/runtime/presets.ts)',
    },
  ),
  fleetId: Type.String({
    default: '',
    pattern: '^[A-Za-z0-9_.-]*$',
    description: 'the stack this manager belongs to (label io.acefleet.fleet); empty: derived from STATE_DIR',
  }),
  stateDir: Type.String({
    default: '.run',
    description: "the stack's state directory; names the default fleet",
  }),
  engineImage: Type.String({
    default: '',
    pattern: `^$|${PINNED_IMAGE}`,
    description: 'overrides the preset image; a tag other than latest, or a digest',
  }),
  engineMemoryMb: Type.Integer({
    default: 1024,
    minimum: 0,
    description: 'memory limit per engine; 0: none',
  }),
  engineCacheMb: Type.Integer({
    default: 256,
    minimum: 16,
    maximum: 64 * 1024,
    description:
      "the engine's cache: a tmpfs of this size at the preset's cache directory (it counts toward ENGINE_MEMORY_MB), and the preset's cache flags hold the engine to it",
  }),
  engineMaxAgeMs: Type.Integer({
    default: 24 * 3600_000,
    minimum: 10_000,
    maximum: 365 * 24 * 3600_000,
    description:
      'an engine older than this is replaced: at once when idle, when busy once a ready engine can take its streams (a drain move)',
  }),
  engineRecycleMemoryMb: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 1024 * 1024,
    description:
      'an engine whose memory stays over this (three checks in a row) is replaced like an old one; 0: never (ENGINE_MEMORY_MB still limits it)',
  }),
  engineDiskMaxMb: Type.Integer({
    default: 1024,
    minimum: 0,
    maximum: 1024 * 1024,
    description:
      "an engine that wrote more than this outside its cache tmpfs (Docker's `SizeRw`: a cache the engine keeps elsewhere) is replaced; 0: never",
  }),
  engineUsageCheckMs: Type.Integer({
    default: 60_000,
    minimum: 100,
    maximum: 24 * 3600_000,
    description:
      'how often engines are checked against ENGINE_MAX_AGE_MS, ENGINE_RECYCLE_MEMORY_MB and ENGINE_DISK_MAX_MB',
  }),
  engineCpus: Type.Number({ default: 1.5, minimum: 0, description: 'CPU limit per engine; 0: none' }),
  enginePidsLimit: Type.Integer({ default: 512, minimum: 0, description: 'processes+threads; 0: none' }),
  engineLogMaxSize: Type.String({
    default: '10m',
    pattern: '^[1-9][0-9]*[kmg]?$',
    description: 'size of one engine log file before Docker rotates it (json-file `max-size`, e.g. `10m`)',
  }),
  engineLogMaxFiles: Type.Integer({
    default: 3,
    minimum: 1,
    description: 'rotated log files Docker keeps per engine (json-file `max-file`)',
  }),
  engineEnv: Type.String({
    default: '',
    description:
      'KEY=VALUE,... for every engine started (container Env, or the child process), e.g. `ACE_SIM_PROFILE=field`. ' +
      "EXTRA_FLAGS and ACESTREAM_ARGS are appended to the preset's flags; other keys the preset sets are " +
      'refused. Values cannot hold commas; only ACE_SIM_* values are logged',
  }),
  engineProcessCommand: Type.String({
    default: 'node --import tsx tools/ace-sim/src/main.ts',
    description:
      "for the process runtime: the command that starts one engine; the preset's flags are appended.",
  }),
  networkMode: Type.String({
    default: 'acefleet-engines',
    description:
      "<bridge network name> (made when missing, engines on it cannot reach each other, the host's loopback services or NATS) | host (engines share the host's network: they reach every service on it) | container:<name> (a VPN container's namespace)",
  }),
  engineHttpBind: Type.String({
    default: '127.0.0.1',
    description:
      "bridge networks: the Docker host address each engine's HTTP port is published on, reached at ENGINE_HOST; `none`: not published, engines are reached by container name (services on the same network, as in compose)",
  }),
  engineHost: Type.String({
    default: '127.0.0.1',
    description:
      'address engines are reached at in host and container:<vpn> modes, and on a bridge network whose HTTP ports are published.',
  }),
  httpPortRangeStart: Type.Integer({
    default: 19000,
    minimum: 1024,
    maximum: 65535,
    description: 'first engine HTTP port; each engine takes two (HTTP, and HTTPS = HTTP + 1)',
  }),
  httpPortRangeEnd: Type.Integer({
    default: 19499,
    minimum: 1024,
    maximum: 65535,
    description: 'last engine HTTP port',
  }),
  p2pPortRangeStart: Type.Integer({
    default: 19500,
    minimum: 1024,
    maximum: 65535,
    description: 'first engine P2P port (one per engine)',
  }),
  minReplicas: Type.Integer({ default: 1, minimum: 0, description: 'usable engines kept running' }),
  minFreeReplicas: Type.Integer({
    default: 1,
    minimum: 0,
    description:
      'warm spares with no stream: a new channel beyond the busy engines starts at once instead of waiting for an engine to boot',
  }),
  maxReplicas: Type.Integer({
    default: 4,
    minimum: 1,
    description: 'containers on this host, enforced on every creation path',
  }),
  fleetMaxReplicas: Type.Integer({
    default: 0,
    minimum: 0,
    description: 'engines of all hosts together (the engines bucket); 0: no fleet-wide limit',
  }),
  maxStreamsPerEngine: Type.Integer({ default: 2, minimum: 1, description: 'claims (streams) per engine' }),
  maxClaimsPerProxy: Type.Integer({
    default: 200,
    minimum: 1,
    description:
      'claims one proxy instance may hold on the whole fleet, acquired or adopted; more are refused (logged)',
  }),
  engineReadyTimeoutMs: Ms(30_000, 100, 'a new engine must answer `get_status` within this'),
  idleGraceMs: Ms(120_000, 0, 'an idle engine above the minimums is drained after this'),
  claimTtlMs: Ms(90_000, 500, 'a claim not renewed for this long expires'),
  leaderLeaseTtlMs: Ms(
    10_000,
    300,
    'managers sharing a HOST_ID: the longest a host goes without a leader once its leader died',
  ),
  maintenanceIntervalMs: Ms(1000, 50, 'claim expiry sweep, drains and autoscaling run this often'),
  resyncIntervalMs: Ms(30_000, 100, 'full comparison of records with Docker'),
  drainTimeoutMs: Ms(60_000, 0, 'a draining engine is removed at the latest after this'),
  provisionConcurrency: Type.Integer({ default: 2, minimum: 1, description: 'engine starts at once' }),
  provisionRatePerMinute: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'average engine starts per minute',
  }),
  provisionBurst: Type.Integer({ default: 5, minimum: 1, description: 'engine starts allowed back to back' }),
  breakerFailureThreshold: Type.Integer({
    default: 3,
    minimum: 1,
    description: 'consecutive Docker failures that open the circuit breaker',
  }),
  breakerRecoveryMs: Ms(30_000, 10, 'time the breaker stays open before a trial call'),
  unhealthyReplaceCooldownMs: Ms(30_000, 0, 'pause between replacements of unhealthy engines'),
  gluetunControlUrl: Type.String({
    default: '',
    description: 'gluetun control server (e.g. http://gluetun:8000); set for VPN mode.',
  }),
  gluetunApiKey: Type.String({
    default: '',
    description:
      'gluetun control-server API key (role with auth = "apikey"), sent as X-API-Key; never logged.',
  }),
  gluetunPollIntervalMs: Ms(5000, 50, 'how often the VPN is checked'),
  removeEnginesOnExit: Type.Boolean({
    default: false,
    description:
      "remove this host's engines when the manager stops (npm start); off so restarts keep streams playing.",
  }),
  dockerSocket: Type.String({ default: '/var/run/docker.sock', description: 'docker API socket' }),
});
export type ManagerConfig = Static<typeof ManagerConfig>;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * ENGINE_ENV as variables, checked once at start-up: each entry `KEY=VALUE`, each key a variable name given
 * once and not one the preset sets itself (ports, binding), bar the flag lists. A bad entry is named by its
 * place and key, never by its value (values may be secrets).
 */
export function engineEnvOf(config: Pick<ManagerConfig, 'engineEnv' | 'enginePreset'>): EngineEnv {
  const env: Record<string, string> = {};
  const owned = presetVariables(presets[config.enginePreset]);
  const entries = config.engineEnv.split(',').filter((entry) => entry.trim() !== '');
  for (const [i, entry] of entries.entries()) {
    const where = `ENGINE_ENV entry ${i + 1}`;
    const eq = entry.indexOf('=');
    if (eq < 0) throw new ConfigError(`${where}: KEY=VALUE expected (no "=" in it)`);
    const key = entry.slice(0, eq).trim();
    if (!VARIABLE.test(key)) throw new ConfigError(`${where}: "${key}" is not a variable name`);
    if (Object.hasOwn(env, key)) throw new ConfigError(`${where}: ${key} is given twice`);
    if (owned.includes(key) && !FLAG_LIST_VARIABLES.includes(key)) {
      throw new ConfigError(
        `${where}: ${key} is set by the ${config.enginePreset} preset from the manager's ports and network mode`,
      );
    }
    env[key] = entry.slice(eq + 1);
  }
  return Object.freeze(env);
}
