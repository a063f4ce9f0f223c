import test from 'ava';
import { EngineDraining, ReleaseReply, Subjects, decodeMessage, proxyCallSubject } from '@acefleet/contracts';
import { waitFor } from '@acefleet/testkit';
import { acquire, call, isolatedManager, listEngines } from './helpers.ts';

const isFree = (e: { state: string; claims: unknown[] }): boolean =>
  e.state === 'ready' && e.claims.length === 0;

test('manager - minFreeReplicas spares exist after start and are replenished after claims', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, {
    MIN_FREE_REPLICAS: '2',
    MAX_REPLICAS: '5',
    MAX_STREAMS_PER_ENGINE: '1',
  });
  const started = Date.now();
  await waitFor(async () => (await listEngines(m.client, m.hostId)).filter(isFree).length === 2, 20_000);
  t.log(`two warm spares ready ${Date.now() - started} ms after start`);
  const before = Date.now();
  const a = await acquire(m.client, 1);
  const b = await acquire(m.client, 2);
  t.log(`acquire on a warm spare: ${(Date.now() - before) / 2} ms each`);
  t.not(a.engine.id, b.engine.id);
  const refilled = await waitFor(async () => {
    const engines = await listEngines(m.client, m.hostId);
    return engines.filter(isFree).length === 2 ? engines : false;
  }, 20_000);
  t.is(refilled.length, 4, 'two claimed engines plus two new spares');
});

test('manager - idle engines above the minimums are drained with an event after the grace period', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, {
    MIN_FREE_REPLICAS: '1',
    MAX_REPLICAS: '4',
    MAX_STREAMS_PER_ENGINE: '1',
    IDLE_GRACE_MS: '1500',
  });
  const drained: EngineDraining[] = [];
  const sub = m.client.subscribe(Subjects.engineDraining);
  void (async () => {
    for await (const msg of sub) drained.push(decodeMessage(EngineDraining, msg.data, 'draining event'));
  })();
  const claims = [await acquire(m.client, 1), await acquire(m.client, 2)];
  for (const c of claims) {
    const r = await call(
      m.client,
      proxyCallSubject('release', 'proxy-1'),
      { engineId: c.engine.id, claimId: c.claimId },
      ReleaseReply,
    );
    t.true(r.released);
  }
  const total = (await listEngines(m.client, m.hostId)).length;
  t.true(total >= 2);
  const engines = await waitFor(async () => {
    const all = await listEngines(m.client, m.hostId);
    return all.length === 1 ? all : false;
  }, 20_000);
  t.true(isFree(engines[0]!), 'one warm spare is kept');
  await waitFor(() => drained.length >= total - 1, 5000);
  for (const d of drained) t.is(d.reason, 'idle');
  sub.unsubscribe();
});
