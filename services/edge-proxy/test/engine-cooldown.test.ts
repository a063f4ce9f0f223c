import test, { type ExecutionContext } from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Subjects, type EngineHealth, type EngineRecord } from '@acefleet/contracts';
import { EventPublisher, createLogger, type NatsConnection } from '@acefleet/platform';
import { Player, putEngineRecord, readyEngine, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

// Regression (issue #9): with the engine manager down nobody updates the engines bucket, so a dead or
// unhealthy engine stayed `ready` in the proxy's cache and was chosen again for every new stream (502, 502,
// 502). No engine-manager runs here: every acquire falls back to the proxy's own choice from its cache.

let nextId = 0x300;
const freshId = (): string => (nextId++).toString(16).padStart(40, 'd');

interface World {
  proxy: ProxyUnderTest;
  /** What the proxy's cache prefers (least loaded record) and the other one. */
  preferred: Simulator;
  other: Simulator;
  /** An operator connection to the proxy's NATS, writing what the manager and health-monitor would. */
  nc: NatsConnection;
}

/**
 * Two simulated engines as records of the engines bucket. The other engine's record carries another proxy's
 * claim, so the cache ranks the preferred one first whatever order the records arrived in; it is written
 * first, so once a stream plays on the preferred engine the cache holds both.
 */
async function twoCachedEngines(t: ExecutionContext, env: Record<string, string>): Promise<World> {
  const sims = [buildSimulator({ burstSeconds: 1 }), buildSimulator({ burstSeconds: 1 })] as const;
  const [preferredUrl, otherUrl] = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  t.teardown(() => Promise.all(sims.map((s) => s.close())).then(() => undefined));
  // The simulators are where engines may be: the proxy chooses no cached engine elsewhere.
  const engineAddresses = [preferredUrl, otherUrl].map((u) => new URL(u!).host).join(',');
  const proxy = await startProxy({ ENGINE_ADDRESSES: engineAddresses, ...env });
  t.teardown(() => proxy.close());
  const nc = await proxy.nats.connect();
  t.teardown(() => nc.close());

  const now = new Date().toISOString();
  const claim = {
    claimId: 'claim-x',
    contentKey: `id:${'e'.repeat(40)}`,
    proxyId: 'proxy-other',
    claimedAt: now,
  };
  const other: EngineRecord = { ...readyEngine('engine-other', otherUrl!), capacity: 50, claims: [claim] };
  await putEngineRecord(nc, other);
  await putEngineRecord(nc, { ...readyEngine('engine-preferred', preferredUrl!), capacity: 50 });
  const world = { proxy, preferred: sims[0], other: sims[1], nc };
  await waitFor(async () => (await playOnce(world)) === 'preferred', 30_000, 200);
  return world;
}

/** Play a fresh content until its first bytes, hang up, and tell which engine served it (or the HTTP status). */
type Served = 'preferred' | 'other' | number;

async function playOnce(world: World): Promise<Served> {
  const before = world.preferred.stats().sessionsStarted;
  const player = await Player.open(`${world.proxy.url}/ace/getstream?id=${freshId()}`, 0);
  player.close();
  if (player.status !== 200) return player.status;
  return world.preferred.stats().sessionsStarted > before ? 'preferred' : 'other';
}

async function playMany(world: World, n: number): Promise<Served[]> {
  const served: Served[] = [];
  for (let i = 0; i < n; i++) served.push(await playOnce(world));
  return served;
}

async function publishHealth(
  nc: NatsConnection,
  engineId: string,
  status: EngineHealth['status'],
): Promise<void> {
  const events = new EventPublisher(nc, createLogger('test', 'silent'));
  const at = new Date().toISOString();
  const previous = status === 'healthy' ? 'unhealthy' : 'healthy';
  const event: EngineHealth = { engineId, status, previous, consecutiveFailures: 0, detail: 'test', at };
  events.publish(Subjects.engineHealth, event, `${engineId}:${status}:${at}`);
  if ((await events.drain(20_000)) > 0) throw new Error('the health event was not published');
}

test.serial(
  'proxy - with the manager down, an engine that died fails over its stream once and is not chosen for new streams',
  async (t) => {
    // No start retries: a new stream sent to the dead engine answers 502 instead of being retried elsewhere,
    // so every wrong choice shows.
    const world = await twoCachedEngines(t, { START_RETRIES: '0', ENGINE_COOLDOWN_MS: '600000' });
    const id = freshId();
    const player = await Player.open(`${world.proxy.url}/ace/getstream?id=${id}`, 0);
    t.teardown(() => player.close());
    t.is(player.status, 200);
    const stream = world.proxy.proxy.hub.all().find((s) => s.content.value === id);
    t.is(stream?.engineId, 'engine-preferred');

    await world.preferred.close(); // the engine process is gone: connections reset, port closed
    const lostAt = player.bytes;
    await waitFor(() => stream!.engineId === 'engine-other' && player.bytes > lostAt + 100_000, 60_000);
    t.false(player.ended, 'the playing stream failed over to the live engine');

    const served = await playMany(world, 8);
    t.deepEqual(served, Array<string>(8).fill('other'), 'every new stream played on the live engine');
  },
);

test.serial(
  'proxy - an engine reported unhealthy is not chosen until it is reported healthy again',
  async (t) => {
    const world = await twoCachedEngines(t, {});
    await publishHealth(world.nc, 'engine-preferred', 'unhealthy');
    await waitFor(async () => (await playOnce(world)) === 'other', 30_000, 200);
    const sessionsBefore = world.preferred.stats().sessionsStarted;
    t.deepEqual(await playMany(world, 6), Array<string>(6).fill('other'));
    t.is(
      world.preferred.stats().sessionsStarted,
      sessionsBefore,
      'no session was started on the unhealthy engine',
    );

    await publishHealth(world.nc, 'engine-preferred', 'healthy');
    await waitFor(async () => (await playOnce(world)) === 'preferred', 30_000, 200);
  },
);
