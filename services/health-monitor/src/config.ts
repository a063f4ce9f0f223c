import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const MonitorConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8082, minimum: 0, maximum: 65535 }),
  healthIntervalMs: Type.Integer({ default: 30_000, minimum: 100 }),
  probeTimeoutMs: Type.Integer({ default: 5_000, minimum: 50 }),
  /** Consecutive failed probes before an engine is declared unhealthy. */
  failureThreshold: Type.Integer({ default: 3, minimum: 1 }),
});
export type MonitorConfig = Static<typeof MonitorConfig>;
