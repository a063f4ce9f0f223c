import os from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';
import { PINNED_IMAGE, presetNames } from './presets.ts';

const Ms = (def: number, minimum = 0, description?: string) =>
  Type.Integer({ default: def, minimum, ...(description ? { description } : {}) });

export const ManagerConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8083, minimum: 0, maximum: 65535 }),
  hostId: Type.String({
    default: os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'),
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'the Docker host this manager owns; its containers carry it as a label',
  }),
  engineRuntime: Type.Union([Type.Literal('docker'), Type.Literal('process')], { default: 'docker' }),
  enginePreset: Type.Union(
    presetNames.map((p) => Type.Literal(p)),
    { default: 'ace-sim' },
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
  engineCpus: Type.Number({ default: 1.5, minimum: 0, description: 'CPU limit per engine; 0: none' }),
  enginePidsLimit: Type.Integer({ default: 512, minimum: 0, description: 'processes+threads; 0: none' }),
  engineLogMaxSize: Type.String({ default: '10m', pattern: '^[1-9][0-9]*[kmg]?$' }),
  engineLogMaxFiles: Type.Integer({ default: 3, minimum: 1 }),
  /** For the process runtime: the command that starts one engine; the preset's flags are appended. */
  engineProcessCommand: Type.String({ default: 'node --import tsx tools/ace-sim/src/main.ts' }),
  networkMode: Type.String({
    default: 'host',
    description: 'host | <bridge network name> | container:<name>',
  }),
  /** Address engines are reached at in host and container:<vpn> modes. */
  engineHost: Type.String({ default: '127.0.0.1' }),
  httpPortRangeStart: Type.Integer({ default: 19000, minimum: 1024, maximum: 65535 }),
  httpPortRangeEnd: Type.Integer({ default: 19499, minimum: 1024, maximum: 65535 }),
  p2pPortRangeStart: Type.Integer({ default: 19500, minimum: 1024, maximum: 65535 }),
  minReplicas: Type.Integer({ default: 1, minimum: 0 }),
  minFreeReplicas: Type.Integer({ default: 0, minimum: 0, description: 'warm spares with no stream' }),
  maxReplicas: Type.Integer({ default: 4, minimum: 1 }),
  maxStreamsPerEngine: Type.Integer({ default: 2, minimum: 1 }),
  engineReadyTimeoutMs: Ms(30_000, 100),
  idleGraceMs: Ms(120_000, 0, 'an idle engine above the minimums is drained after this'),
  claimTtlMs: Ms(90_000, 500, 'a claim not renewed for this long expires'),
  maintenanceIntervalMs: Ms(1000, 50, 'lease sweep, drains and autoscaling run this often'),
  resyncIntervalMs: Ms(30_000, 100, 'full comparison of records with Docker'),
  drainTimeoutMs: Ms(60_000, 0, 'a draining engine is removed at the latest after this'),
  provisionConcurrency: Type.Integer({ default: 2, minimum: 1 }),
  provisionRatePerMinute: Type.Integer({ default: 30, minimum: 1 }),
  provisionBurst: Type.Integer({ default: 5, minimum: 1 }),
  breakerFailureThreshold: Type.Integer({ default: 3, minimum: 1 }),
  breakerRecoveryMs: Ms(30_000, 10),
  unhealthyReplaceCooldownMs: Ms(30_000, 0, 'pause between replacements of unhealthy engines'),
  /** Gluetun control server (e.g. http://gluetun:8000); set for VPN mode. */
  gluetunControlUrl: Type.String({ default: '' }),
  /** Gluetun control-server API key (role with auth = "apikey"), sent as X-API-Key; never logged. */
  gluetunApiKey: Type.String({ default: '' }),
  gluetunPollIntervalMs: Ms(5000, 50),
  /** Remove this host's engines when the manager stops (npm start); off so restarts keep streams playing. */
  removeEnginesOnExit: Type.Boolean({ default: false }),
  dockerSocket: Type.String({ default: '/var/run/docker.sock' }),
});
export type ManagerConfig = Static<typeof ManagerConfig>;
