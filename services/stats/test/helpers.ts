import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers } from '@acefleet/contracts';
import { ensureEventsStream } from '@acefleet/platform';
import {
  startAcefleetService,
  startNatsServer,
  type NatsServer,
  type ServiceProcess,
} from '@acefleet/testkit';

/** Stats as a real process on a free port, with its database at `dbPath`. */
export function startStats(
  nats: NatsServer,
  dbPath: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startAcefleetService('stats', { ...nats.env(NatsUsers.stats), DB_PATH: dbPath, ...env });
}

export interface StatsWorld {
  nats: NatsServer;
  /** An operator connection, for publishing the events stats consumes. */
  nc: NatsConnection;
  stats: ServiceProcess;
  close(): Promise<void>;
}

/** A nats-server of its own with the events stream, and stats on a fresh database; `close()` removes it all. */
export async function startStatsWorld(env: Record<string, string> = {}): Promise<StatsWorld> {
  const nats = await startNatsServer();
  const nc = await nats.connect();
  await ensureEventsStream(nc);
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-stats-'));
  const stats = await startStats(nats, path.join(dir, 'stats.db'), env);
  return {
    nats,
    nc,
    stats,
    async close() {
      await stats.stop();
      await nc.close();
      await nats.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
