import test from 'ava';
import {
  DrainReply,
  EngineDraining,
  ReleaseReply,
  Subjects,
  decodeMessage,
  proxyCallSubject,
} from '@acefleet/contracts';
import { encodeJson } from '@acefleet/platform';
import { containersWithLabels, waitFor } from '@acefleet/testkit';
import { acquire, call, isolatedManager, listEngines } from './helpers.ts';

test('manager - remove drains first: event with the claims, removed once its streams are released', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MAX_REPLICAS: '3', MAX_STREAMS_PER_ENGINE: '2' });
  const events: EngineDraining[] = [];
  const sub = m.client.subscribe(Subjects.engineDraining);
  void (async () => {
    for await (const msg of sub) events.push(decodeMessage(EngineDraining, msg.data, 'draining event'));
  })();
  const claim = await acquire(m.client, 1);
  const reply = await call(m.client, Subjects.engineRemove, { engineId: claim.engine.id }, DrainReply);
  t.is(reply.engine.state, 'draining');
  await waitFor(() => events.length === 1, 5000);
  t.is(events[0]!.engineId, claim.engine.id);
  t.is(events[0]!.reason, 'admin');
  t.deepEqual(
    events[0]!.claims.map((c) => c.claimId),
    [claim.claimId],
  );
  const next = await acquire(m.client, 1);
  t.not(next.engine.id, claim.engine.id, 'a draining engine takes no new claims');
  // A pass of the drainer with the stream still on the engine (the maintenance loop runs them too).
  await m.manager.drainer.tick();
  t.truthy(
    (await listEngines(m.client, m.hostId)).find((e) => e.id === claim.engine.id),
    'kept while in use',
  );
  await call(
    m.client,
    proxyCallSubject('release', 'proxy-1'),
    { engineId: claim.engine.id, claimId: claim.claimId },
    ReleaseReply,
  );
  await waitFor(
    async () => !(await listEngines(m.client, m.hostId)).some((e) => e.id === claim.engine.id),
    5000,
  );
  const left = await containersWithLabels([`io.acefleet.engine-id=${claim.engine.id}`]);
  t.deepEqual(left, [], 'its container is gone');
  sub.unsubscribe();
});

test('manager - a draining engine is removed at its deadline even with streams on it', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MAX_REPLICAS: '2' });
  const claim = await acquire(m.client, 1);
  await call(m.client, Subjects.engineDrain, { engineId: claim.engine.id, deadlineMs: 500 }, DrainReply);
  await waitFor(
    async () => !(await listEngines(m.client, m.hostId)).some((e) => e.id === claim.engine.id),
    5000,
  );
  t.pass();
});

test('manager - an unhealthy engine is marked unhealthy at once and replaced, never below one healthy', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MIN_REPLICAS: '1', MAX_REPLICAS: '3' });
  const [engine] = await waitFor(async () => {
    const all = await listEngines(m.client, m.hostId);
    return all.length === 1 && all[0]!.state === 'ready' ? all : false;
  }, 20_000);
  const started = Date.now();
  m.client.publish(
    Subjects.engineHealth,
    encodeJson({
      engineId: engine!.id,
      status: 'unhealthy',
      previous: 'healthy',
      consecutiveFailures: 3,
      detail: 'get_status timed out',
      at: new Date().toISOString(),
    }),
  );
  await waitFor(async () => (await listEngines(m.client, m.hostId))[0]?.state !== 'ready', 5000);
  const marked = (await listEngines(m.client, m.hostId)).find((e) => e.id === engine!.id);
  t.true(marked?.state === 'unhealthy' || marked?.state === 'draining', `state ${marked?.state}`);
  const after = await waitFor(async () => {
    const all = await listEngines(m.client, m.hostId);
    return all.length === 1 && all[0]!.id !== engine!.id && all[0]!.state === 'ready' ? all : false;
  }, 20_000);
  t.log(`unhealthy engine replaced in ${Date.now() - started} ms`);
  t.is(after.length, 1);
});
