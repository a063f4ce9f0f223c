import os from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const ManagerConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8083, minimum: 0, maximum: 65535 }),
  hostId: Type.String({
    default: os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'),
    pattern: '^[A-Za-z0-9_-]+$',
  }),
  engineRuntime: Type.Union([Type.Literal('docker'), Type.Literal('process')], { default: 'docker' }),
  enginePreset: Type.Union(
    ['ace-sim', 'acestream-http-proxy', 'krinkuto11', 'jopsis'].map((p) => Type.Literal(p)),
    { default: 'ace-sim' },
  ),
  engineImage: Type.String({ default: '', description: 'overrides the preset image' }),
  /** For the process runtime: the command that starts one engine; the preset's flags are appended. */
  engineProcessCommand: Type.String({ default: 'node --import tsx tools/ace-sim/src/main.ts' }),
  networkMode: Type.String({
    default: 'host',
    description: 'host | <bridge network name> | container:<name>',
  }),
  /** Address engines are reached at in host mode (their HTTP binds here). */
  engineHost: Type.String({ default: '127.0.0.1' }),
  httpPortRangeStart: Type.Integer({ default: 19000, minimum: 1024, maximum: 65535 }),
  httpPortRangeEnd: Type.Integer({ default: 19499, minimum: 1024, maximum: 65535 }),
  p2pPortRangeStart: Type.Integer({ default: 19500, minimum: 1024, maximum: 65535 }),
  minReplicas: Type.Integer({ default: 1, minimum: 0 }),
  maxReplicas: Type.Integer({ default: 4, minimum: 1 }),
  maxStreamsPerEngine: Type.Integer({ default: 2, minimum: 1 }),
  engineReadyTimeoutMs: Type.Integer({ default: 30_000, minimum: 100 }),
  /** Remove this host's engines when the manager stops (npm start); off so restarts keep streams playing. */
  removeEnginesOnExit: Type.Boolean({ default: false }),
  dockerSocket: Type.String({ default: '/var/run/docker.sock' }),
});
export type ManagerConfig = Static<typeof ManagerConfig>;
