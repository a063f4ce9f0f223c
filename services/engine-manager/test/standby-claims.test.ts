import test from 'ava';
import {
  AcefleetError,
  AcquireReply,
  ProvisionReply,
  ReleaseReply,
  RenewReply,
  Subjects,
  contentKeyOf,
  hostSubject,
  proxyCallSubject,
} from '@acefleet/contracts';
import { startNatsServer } from '@acefleet/testkit';
import { acquire, call, contentOf, listEngines, newHostId, startManager } from './helpers.ts';
import { ContainerCount, MemoryRuntime } from './memory-runtime.ts';

// Hot standby claims (issue 20): real nats-server, KV bucket and manager; only the container runtime is the
// in-memory fake, since this is claim logic, not Docker.

type Manager = Awaited<ReturnType<typeof startManager>>;

async function memoryManager(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string>,
): Promise<Manager> {
  const nats = await startNatsServer();
  const hostId = newHostId('hot');
  const runtime = new MemoryRuntime(hostId, new ContainerCount(), () => 0);
  const m = await startManager(nats, env, hostId, runtime);
  t.teardown(async () => {
    await m.close();
    await runtime.removeAll();
    await nats.destroy();
  });
  return m;
}

function acquireStandby(
  m: Manager,
  n: number,
  proxyId: string,
  excludeEngineIds: string[] = [],
): Promise<AcquireReply> {
  const req = { content: contentOf(n), proxyId, standby: true, excludeEngineIds };
  return call(m.client, proxyCallSubject('acquire', proxyId), req, AcquireReply, 10_000);
}

async function provision(m: Manager, count: number): Promise<string[]> {
  const reply = await call(m.client, Subjects.engineProvision, { count }, ProvisionReply);
  return reply.engines.map((e) => e.id);
}

async function standbyGauge(m: Manager): Promise<number | undefined> {
  const text = (await m.manager.http.inject({ url: '/metrics' })).body;
  const value = /^acefleet_engine_standby_claims(?:{[^}]*})? (\d+)/m.exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

test('standby - placed in free room off the excluded engine, outside the proxy bound, released like any other', async (t) => {
  t.timeout(30_000);
  const m = await memoryManager(t, {
    MAX_REPLICAS: '3',
    MAX_STREAMS_PER_ENGINE: '2',
    MAX_CLAIMS_PER_PROXY: '1',
  });
  await provision(m, 2);
  const playing = await acquire(m.client, 1, 'proxy-a');
  const standby = await acquireStandby(m, 1, 'proxy-a', [playing.engine.id]);
  t.not(standby.engine.id, playing.engine.id, 'never on the engine the channel plays on');
  t.deepEqual(
    standby.engine.claims.map((c) => [c.claimId, c.contentKey, c.standby]),
    [[standby.claimId, contentKeyOf(contentOf(1)), true]],
    'recorded as a standby claim',
  );
  t.is(await standbyGauge(m), 1);
  t.is((await listEngines(m.client, m.hostId)).length, 2, 'no engine started for it');

  const released = await call(
    m.client,
    proxyCallSubject('release', 'proxy-a'),
    { engineId: standby.engine.id, claimId: standby.claimId },
    ReleaseReply,
  );
  t.true(released.released);
  const after = (await listEngines(m.client, m.hostId)).find((e) => e.id === standby.engine.id);
  t.deepEqual(after?.claims, []);
});

test('standby - on a fleet without free room it answers no_engine_available at once and starts no engine', async (t) => {
  t.timeout(30_000);
  // Room to provision a third engine: a standby must still never cause one.
  const m = await memoryManager(t, { MAX_REPLICAS: '3', MAX_STREAMS_PER_ENGINE: '1' });
  const engines = await provision(m, 2);
  const playing = await acquire(m.client, 1, 'proxy-a');
  const free = engines.find((id) => id !== playing.engine.id)!;
  const refused = (n: number, exclude?: string[]) =>
    acquireStandby(m, n, 'proxy-b', exclude).then(
      () => t.fail('a standby was granted'),
      (err: unknown) => err,
    );

  const excluded = await refused(1, [free]);
  t.like(excluded, { code: 'no_engine_available' }, 'the only free room is on the excluded engine');
  await acquire(m.client, 2, 'proxy-a');
  const started = Date.now();
  const full = await refused(3);
  const tookMs = Date.now() - started;
  t.true(full instanceof AcefleetError);
  t.like(full, { code: 'no_engine_available', status: 503 });
  t.regex((full as Error).message, /standby/);
  t.true(tookMs < 5000, `answered in ${tookMs} ms, not after a provisioning wait`);
  t.is((await listEngines(m.client, m.hostId)).length, 2, 'no engine started for it');
});

test('standby - a stream on a fleet full of standby claims takes the oldest, and its renewal reports it lost', async (t) => {
  t.timeout(30_000);
  // One engine and no more: the stream can only start by taking the standby's room.
  const m = await memoryManager(t, { MAX_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '2' });
  const playing = await acquire(m.client, 1, 'proxy-a');
  const standby = await acquireStandby(m, 2, 'proxy-b');
  t.is(standby.engine.id, playing.engine.id);

  const stream = await acquire(m.client, 3, 'proxy-c', 10_000);
  t.is(stream.engine.id, playing.engine.id, 'placed by giving up the standby');
  const [engine] = await listEngines(m.client, m.hostId);
  t.deepEqual(engine?.claims.map((c) => c.claimId).sort(), [playing.claimId, stream.claimId].sort());
  t.is(await standbyGauge(m), 0);

  const renewal = (claims: { engineId: string; claimId: string; contentKey?: string }[]) =>
    call(m.client, proxyCallSubject('renew', 'proxy-b'), { proxyId: 'proxy-b', claims }, RenewReply);
  const held = { engineId: standby.engine.id, claimId: standby.claimId };
  const renewed = await renewal([held]);
  t.deepEqual(renewed, { renewed: [], lost: [standby.claimId], ttlMs: renewed.ttlMs });
  // Offered back for adoption (issue 22's path) it is still refused: the engine has no free room.
  const offered = await renewal([{ ...held, contentKey: contentKeyOf(contentOf(2)) }]);
  t.deepEqual(offered.lost, [standby.claimId]);
  t.is((await listEngines(m.client, m.hostId))[0]?.claims.length, 2, 'not adopted back');

  const more = await acquire(m.client, 4, 'proxy-c', 10_000).catch((err: unknown) => err);
  t.like(more, { code: 'capacity_exhausted' }, 'streams are never given up');
});

test('standby - goes to another host than the engine the channel plays on, placed by that host', async (t) => {
  t.timeout(30_000);
  const nats = await startNatsServer();
  const hosts: [string, string] = [newHostId('hota'), newHostId('hotb')];
  const runtimes = hosts.map((h) => new MemoryRuntime(h, new ContainerCount(), () => 0));
  const env = { MAX_REPLICAS: '2', MAX_STREAMS_PER_ENGINE: '2' };
  const managers = await Promise.all(hosts.map((h, i) => startManager(nats, env, h, runtimes[i])));
  t.teardown(async () => {
    for (const m of managers) await m.close();
    for (const r of runtimes) await r.removeAll();
    await nats.destroy();
  });
  const [a] = managers as [Manager, Manager];
  // Host a: two engines (one will play the channel, one stays empty); host b: one engine, as empty.
  await call(a.client, hostSubject(hosts[0], 'provision'), { count: 2 }, ProvisionReply);
  await call(a.client, hostSubject(hosts[1], 'provision'), { count: 1 }, ProvisionReply);
  const playing = await call(
    a.client,
    hostSubject(hosts[0], 'acquire'),
    { content: contentOf(1), proxyId: 'proxy-a' },
    AcquireReply,
  );

  for (let i = 0; i < 3; i++) {
    // Whichever manager the queue group hands it to, host b's places it.
    const standby = await acquireStandby(a, 1, 'proxy-a', [playing.engine.id]);
    t.is(standby.engine.hostId, hosts[1], 'the other host, though host a has an empty engine too');
    await call(
      a.client,
      proxyCallSubject('release', 'proxy-a'),
      { engineId: standby.engine.id, claimId: standby.claimId },
      ReleaseReply,
    );
  }
});
