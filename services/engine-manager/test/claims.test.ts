import test, { type ExecutionContext } from 'ava';
import { AcquireReply, ReleaseReply, RenewReply, proxyCallSubject } from '@acefleet/contracts';
import { containersWithLabels, waitFor } from '@acefleet/testkit';
import { acquire, acquireError, call, contentOf, isolatedManager, listEngines } from './helpers.ts';

test('manager - 50 concurrent acquires for 50 contents with maxReplicas 5 and capacity 2 never exceed 10 claims', async (t) => {
  t.timeout(90_000);
  const m = await isolatedManager(t, { MAX_REPLICAS: '5', MAX_STREAMS_PER_ENGINE: '2' });
  const started = Date.now();
  // Each acquire may wait for a container start; on a busy machine five of them take a while.
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => acquire(m.client, i, 'proxy-1', 75_000)),
  );
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  t.log(`50 acquires answered in ${Date.now() - started} ms`);
  t.is(ok.length, 10, 'exactly the fleet capacity was handed out');
  t.is(new Set(ok.map((r) => r.claimId)).size, 10);
  for (const err of failed) {
    t.like(err, { code: 'capacity_exhausted' });
    t.true(((err as { retryAfterMs?: number }).retryAfterMs ?? 0) > 0, 'carries a retry hint');
  }
  const engines = await listEngines(m.client, m.hostId);
  t.is(engines.length, 5);
  for (const e of engines) t.true(e.claims.length <= 2, `${e.id} holds ${e.claims.length} claims`);
  t.is(
    engines.reduce((n, e) => n + e.claims.length, 0),
    10,
  );
  t.is((await containersWithLabels([`io.acefleet.host=${m.hostId}`])).length, 5, 'five containers');
  const more = await acquireError(m.client, 99);
  t.is(more.code, 'capacity_exhausted');
});

/** A manager keeping two ready spares (up to 3 engines of 4 streams), once both are ready. */
async function withTwoSpares(t: ExecutionContext): Promise<Awaited<ReturnType<typeof isolatedManager>>> {
  const m = await isolatedManager(t, {
    MIN_FREE_REPLICAS: '2',
    MAX_REPLICAS: '3',
    MAX_STREAMS_PER_ENGINE: '4',
  });
  await waitFor(
    async () => (await listEngines(m.client, m.hostId)).filter((e) => e.state === 'ready').length >= 2,
    20_000,
  );
  return m;
}

test('manager - repeated acquires of one content land on one engine', async (t) => {
  t.timeout(60_000);
  const m = await withTwoSpares(t);
  const first = await acquire(m.client, 7, 'proxy-a');
  const other = await acquire(m.client, 8, 'proxy-a');
  t.not(other.engine.id, first.engine.id, 'a new content goes to the least loaded engine');
  const started = Date.now();
  const again = await Promise.all([7, 7, 7].map((n, i) => acquire(m.client, n, `proxy-${i}`)));
  t.log(`acquire of a playing content: ${Date.now() - started} ms for 3 concurrent`);
  for (const r of again) t.is(r.engine.id, first.engine.id);
  const released = await call(
    m.client,
    proxyCallSubject('release', 'proxy-a'),
    { engineId: first.engine.id, claimId: first.claimId },
    ReleaseReply,
  );
  t.true(released.released);
});

test('manager - a re-claim naming the engine it plays from (preferEngineId) stays there, before load and affinity', async (t) => {
  t.timeout(60_000);
  const m = await withTwoSpares(t);
  const reclaim = (n: number, preferEngineId?: string): Promise<AcquireReply> =>
    call(
      m.client,
      proxyCallSubject('acquire', 'proxy-b'),
      { content: contentOf(n), proxyId: 'proxy-b', ...(preferEngineId && { preferEngineId }) },
      AcquireReply,
    );
  const busy = (await acquire(m.client, 1, 'proxy-a')).engine.id;
  const other = (await acquire(m.client, 2, 'proxy-a')).engine.id;
  t.not(other, busy, 'a new content goes to the least loaded engine');
  for (const n of [10, 11])
    t.is((await reclaim(n, busy)).engine.id, busy, 'preferred, though others are emptier');
  t.not((await reclaim(4)).engine.id, busy, 'without the preference: a less loaded engine');
  t.is((await reclaim(2, busy)).engine.id, busy, 'preferred over the engine already playing the content');
  const full = (await listEngines(m.client, m.hostId)).find((e) => e.id === busy)!;
  t.is(full.claims.length, 4);
  t.not((await reclaim(12, busy)).engine.id, busy, 'a preferred engine without room is passed over');
});

test("manager - a vanished proxy's claims expire after the claim TTL, a renewing one's do not", async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, {
    MAX_REPLICAS: '2',
    MAX_STREAMS_PER_ENGINE: '4',
    CLAIM_TTL_MS: '1500',
  });
  const ghost = await acquire(m.client, 1, 'ghost-proxy');
  const alive = await acquire(m.client, 2, 'live-proxy');
  const renew = () =>
    call(
      m.client,
      proxyCallSubject('renew', 'live-proxy'),
      { proxyId: 'live-proxy', claims: [{ engineId: alive.engine.id, claimId: alive.claimId }] },
      RenewReply,
    );
  const timer = setInterval(() => void renew(), 400);
  try {
    await waitFor(async () => {
      const claims = (await listEngines(m.client, m.hostId)).flatMap((e) => e.claims);
      return !claims.some((c) => c.claimId === ghost.claimId);
    }, 10_000);
    const claims = (await listEngines(m.client, m.hostId)).flatMap((e) => e.claims);
    t.true(
      claims.some((c) => c.claimId === alive.claimId),
      'the renewing proxy keeps its claim',
    );
    const late = await call(
      m.client,
      proxyCallSubject('renew', 'ghost-proxy'),
      { proxyId: 'ghost-proxy', claims: [{ engineId: ghost.engine.id, claimId: ghost.claimId }] },
      RenewReply,
    );
    t.deepEqual(late, { renewed: [], lost: [ghost.claimId], ttlMs: 1500 });
    t.deepEqual((await renew()).renewed, [alive.claimId]);
  } finally {
    clearInterval(timer);
  }
});

test("manager - release with {proxyId, all} drops every claim of that proxy on every engine, and no one else's", async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MAX_REPLICAS: '2', MAX_STREAMS_PER_ENGINE: '2' });
  const dead = await Promise.all([1, 2, 3].map((n) => acquire(m.client, n, 'dead-proxy')));
  const other = await acquire(m.client, 4, 'other-proxy');
  t.is(new Set(dead.map((r) => r.engine.id)).size, 2, 'the dead proxy holds claims on both engines');
  const reply = await call(
    m.client,
    proxyCallSubject('release', 'dead-proxy'),
    { proxyId: 'dead-proxy', all: true },
    ReleaseReply,
  );
  t.deepEqual(reply, { released: true, count: 3 });
  const claims = (await listEngines(m.client, m.hostId)).flatMap((e) => e.claims);
  t.deepEqual(
    claims.map((c) => c.claimId),
    [other.claimId],
  );
  const again = await call(
    m.client,
    proxyCallSubject('release', 'dead-proxy'),
    { proxyId: 'dead-proxy', all: true },
    ReleaseReply,
  );
  t.deepEqual(again, { released: false, count: 0 });
});
