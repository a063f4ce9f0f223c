import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const StatsConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8081, minimum: 0, maximum: 65535 }),
  /** SQLite file holding the history; ':memory:' keeps nothing across restarts. */
  dbPath: Type.String({ default: '.run/stats.db' }),
  /** Durable consumer name: keep it stable so a restarted stats resumes where it stopped. */
  consumerName: Type.String({ default: 'acefleet-stats', pattern: '^[A-Za-z0-9_-]+$' }),
});
export type StatsConfig = Static<typeof StatsConfig>;
