import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { jetstream } from '@nats-io/jetstream';
import { NatsUsers, type ContentRef, type StreamMoved, streamEventSubject } from '@acefleet/contracts';
import { startSession, type EngineSession } from '@acefleet/engine-client';
import { ensureEventsStream } from '@acefleet/platform';
import {
  publishStreamEvent,
  putEngineRecord,
  readyEngine,
  startAcefleetService,
  startNatsServer,
  streamStarted,
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
 * A real nats-server, `engines` simulated engines over HTTP (in this process), each in the engines bucket as
 * `engine-<n>` (the monitor reads a stream's stat URL only on its engine's base URL), and the health monitor
 * as a real process with `env` on top of its settings; its ENGINE_ADDRESSES are the simulators' ports.
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
  await Promise.all(sims.map((s, n) => putEngineRecord(nc, readyEngine(`engine-${n}`, s.url))));
  const monitor = await startAcefleetService('monitor', {
    ...nats.env(NatsUsers.healthMonitor),
    EXPECTED_SERVICES: 'acefleet-health-monitor',
    ENGINE_ADDRESSES: sims.map((s) => new URL(s.url).host).join(','),
    ...env,
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

/** GET /api/health of the monitor: per engine, its status and the count and last start of its probes. */
export interface HealthSnapshot {
  engines: Record<string, { status: string; probes: number; lastProbeStartedAt: string | null }>;
}

export async function healthSnapshot(monitorUrl: string): Promise<HealthSnapshot> {
  return (await (await fetch(`${monitorUrl}/api/health`)).json()) as HealthSnapshot;
}

/**
 * The mean time between probe starts of engine `id` from snapshot `from` to snapshot `to`, from the
 * monitor's own counters and timestamps: exact however seldom the test could poll on a loaded machine.
 */
export function meanProbeGap(
  from: HealthSnapshot,
  to: HealthSnapshot,
  id: string,
): { gaps: number; meanMs: number } {
  const a = from.engines[id];
  const b = to.engines[id];
  if (!a?.lastProbeStartedAt || !b?.lastProbeStartedAt) throw new Error(`engine ${id} was not probed`);
  const gaps = b.probes - a.probes;
  return { gaps, meanMs: (Date.parse(b.lastProbeStartedAt) - Date.parse(a.lastProbeStartedAt)) / gaps };
}

/** A session on sim `n`, announced as a proxy would: `stream.started` on `engine-<n>`. */
export async function announceStarted(
  world: MonitorWorld,
  streamId: string,
  content: ContentRef,
  n: number,
): Promise<EngineSession> {
  const session = await startSession(world.sims[n]!.url, content, { timeoutMs: 10_000 });
  const started = streamStarted(streamId, { content, engineId: `engine-${n}`, statUrl: session.statUrl });
  await publishStreamEvent(world.nc, started);
  return session;
}

/** The stream moved from sim `from` to a new session on sim `to`, announced with `stream.moved`. */
export async function announceMoved(
  world: MonitorWorld,
  streamId: string,
  content: ContentRef,
  from: number,
  to: number,
): Promise<EngineSession> {
  const session = await startSession(world.sims[to]!.url, content, { timeoutMs: 10_000 });
  const moved: StreamMoved = {
    streamId,
    content,
    proxyId: 'proxy-a',
    previousEngineId: `engine-${from}`,
    engineId: `engine-${to}`,
    statUrl: session.statUrl,
    gapMs: 120,
    reason: 'failover',
    at: new Date().toISOString(),
  };
  await jetstream(world.nc).publish(streamEventSubject('moved', moved.proxyId), JSON.stringify(moved), {
    msgID: `${streamId}:moved:${to}`,
  });
  return session;
}
