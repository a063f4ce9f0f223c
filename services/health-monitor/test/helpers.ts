import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { NatsUsers } from '@acefleet/contracts';
import { ensureEventsStream } from '@acefleet/platform';
import {
  entries,
  freePort,
  startNatsServer,
  startService,
  type NatsServer,
  type ServiceProcess,
} from '@acefleet/testkit';

export interface MonitorWorld {
  nats: NatsServer;
  nc: NatsConnection;
  monitor: ServiceProcess;
  sims: { sim: Simulator; url: string }[];
  close(): Promise<void>;
}

/**
 * A real nats-server, `engines` simulated engines over HTTP (in this process), and the health monitor as a
 * real process with `env` on top of its settings.
 */
export async function startMonitorWorld(engines: number, env: Record<string, string>): Promise<MonitorWorld> {
  const nats = await startNatsServer();
  const nc = await nats.connect();
  await ensureEventsStream(nc);
  const sims = await Promise.all(
    Array.from({ length: engines }, async () => {
      const sim = buildSimulator({ burstSeconds: 0.2, idleTimeoutMs: 60_000 });
      const { url } = await sim.listen(0, '127.0.0.1');
      return { sim, url };
    }),
  );
  const port = await freePort();
  const monitor = await startService('monitor', {
    entry: entries.monitor,
    port,
    env: {
      ...nats.env(NatsUsers.healthMonitor),
      HTTP_PORT: String(port),
      EXPECTED_SERVICES: 'acefleet-health-monitor',
      ...env,
    },
  });
  return {
    nats,
    nc,
    monitor,
    sims,
    async close() {
      await monitor.stop();
      await nc.close();
      await Promise.all(sims.map((s) => s.sim.close()));
      await nats.destroy();
    },
  };
}
