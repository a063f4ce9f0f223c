import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const MonitorConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8082, minimum: 0, maximum: 65535 }),
  healthIntervalMs: Type.Integer({ default: 30_000, minimum: 100 }),
  probeTimeoutMs: Type.Integer({ default: 5_000, minimum: 50 }),
  /** Consecutive failed probes before an engine is declared unhealthy. */
  failureThreshold: Type.Integer({ default: 3, minimum: 1 }),
  /** How often each active stream's stat_url is read. */
  statIntervalMs: Type.Integer({ default: 5_000, minimum: 100 }),
  statTimeoutMs: Type.Integer({ default: 2_000, minimum: 50 }),
  /** Zero peers for this long marks a stream starved. */
  starvedAfterMs: Type.Integer({ default: 60_000, minimum: 0 }),
  /** Streams started longer ago than this are not replayed at start-up (the events stream keeps 7 days). */
  streamLookbackMs: Type.Integer({ default: 24 * 3600_000, minimum: 1000 }),
  /** How often every acefleet service is pinged through $SRV.PING, and how long answers are awaited. */
  serviceCheckIntervalMs: Type.Integer({ default: 15_000, minimum: 100 }),
  serviceCheckWaitMs: Type.Integer({ default: 1_000, minimum: 50 }),
  /** Comma-separated micro-service names that must answer; empty means every acefleet service. */
  expectedServices: Type.String({ default: '' }),
});
export type MonitorConfig = Static<typeof MonitorConfig>;
