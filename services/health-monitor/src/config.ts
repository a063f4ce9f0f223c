import { Type, type Static } from '@sinclair/typebox';
import { AnnounceConfig, CommonConfig, EngineAddressConfig, OutboxConfig } from '@acefleet/platform';

export const MonitorConfig = Type.Object({
  ...CommonConfig,
  ...EngineAddressConfig,
  ...AnnounceConfig,
  ...OutboxConfig,
  httpPort: Type.Integer({
    default: 8082,
    minimum: 0,
    maximum: 65535,
    description: 'HTTP port (`0`: any free port)',
  }),
  healthIntervalMs: Type.Integer({
    default: 30_000,
    minimum: 100,
    description: 'how often every engine is probed (`get_status`)',
  }),
  probeTimeoutMs: Type.Integer({ default: 5_000, minimum: 50, description: "one probe's timeout" }),
  failureThreshold: Type.Integer({
    default: 3,
    minimum: 1,
    description: 'consecutive failed probes before an engine is declared unhealthy.',
  }),
  statIntervalMs: Type.Integer({
    default: 5_000,
    minimum: 100,
    description: "how often each active stream's stat_url is read.",
  }),
  statTimeoutMs: Type.Integer({ default: 2_000, minimum: 50, description: "one stat read's timeout" }),
  starvedAfterMs: Type.Integer({
    default: 60_000,
    minimum: 0,
    description: 'zero peers for this long marks a stream starved.',
  }),
  streamLookbackMs: Type.Integer({
    default: 24 * 3600_000,
    minimum: 1000,
    description:
      'streams started longer ago than this are not replayed at start-up (the events stream keeps 7 days).',
  }),
  serviceCheckIntervalMs: Type.Integer({
    default: 15_000,
    minimum: 100,
    description:
      'how often every acefleet service is pinged through $SRV.PING, and how long answers are awaited.',
  }),
  serviceCheckWaitMs: Type.Integer({
    default: 1_000,
    minimum: 50,
    description: 'how long ping answers are collected',
  }),
  expectedServices: Type.String({
    default: '',
    description: 'comma-separated micro-service names that must answer; empty means every acefleet service.',
  }),
});
export type MonitorConfig = Static<typeof MonitorConfig>;
