import test, { type ExecutionContext } from 'ava';
import http from 'node:http';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { EngineRecord } from '@acefleet/contracts';
import { openEnginesKv } from '@acefleet/platform';
import { waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

// Regression: with the engine manager down, 60 one-shot requests opened 60 sessions on one static engine.
// No engine-manager runs in these tests: every acquire falls back to the proxy's own choice.

let nextId = 0x100;
const freshId = (): string => (nextId++).toString(16).padStart(40, 'c');

/** A simulator whose most simultaneous sessions are recorded from now until the test ends. */
async function watchedEngine(
  t: ExecutionContext,
): Promise<{ sim: Simulator; url: string; peak: () => number }> {
  const sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, sim.stats().activeSessions)), 5);
  t.teardown(async () => {
    clearInterval(sampler);
    await sim.close();
  });
  return { sim, url, peak: () => Math.max(peak, sim.stats().activeSessions) };
}

async function proxyWith(t: ExecutionContext, env: Record<string, string>): Promise<ProxyUnderTest> {
  const proxy = await startProxy({ MAX_STREAMS_PER_CLIENT: '100', ...env });
  t.teardown(() => proxy.close());
  return proxy;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
  /** Ends the request (a player that got its stream hangs up). */
  close(): void;
}

/** Request a stream; a 200 stays open until `close`, an error answer is read whole. */
function request(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const answer = (code?: string): Answer => ({
        status: res.statusCode ?? 0,
        retryAfter: res.headers['retry-after'],
        code,
        close: () => req.destroy(),
      });
      if (res.statusCode === 200) return resolve(answer());
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(answer((JSON.parse(text) as { error: { code: string } }).error.code)));
    });
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function assertRefusedFull(t: ExecutionContext, refused: Answer[]): void {
  for (const a of refused) {
    t.is(a.status, 503);
    t.is(a.code, 'capacity_exhausted');
    t.is(a.retryAfter, '5');
  }
}

test('proxy - with the manager down a static engine gets at most STATIC_ENGINE_CAPACITY sessions; the rest get 503 with Retry-After', async (t) => {
  const engine = await watchedEngine(t);
  const proxy = await proxyWith(t, { STATIC_ENGINES: engine.url, STATIC_ENGINE_CAPACITY: '2' });
  const base = `${proxy.url}/ace/getstream?id=`;

  const burst = await Promise.all(Array.from({ length: 12 }, () => request(base + freshId())));
  t.teardown(() => burst.forEach((a) => a.close()));
  const playing = burst.filter((a) => a.status === 200);
  t.is(playing.length, 2);
  assertRefusedFull(
    t,
    burst.filter((a) => a.status !== 200),
  );

  // One-shot players, six at a time: as sessions end their room is reused, never exceeded.
  playing.forEach((a) => a.close());
  let served = 0;
  for (let round = 0; round < 5; round++) {
    const shots = await Promise.all(Array.from({ length: 6 }, () => request(base + freshId())));
    shots.forEach((a) => a.close());
    served += shots.filter((a) => a.status === 200).length;
    assertRefusedFull(
      t,
      shots.filter((a) => a.status !== 200),
    );
    await waitFor(() => engine.sim.stats().activeSessions === 0, 10_000);
  }
  t.true(served >= 5 * 2, `${served} of 30 one-shot requests were served`);
  t.true(engine.peak() <= 2, `the engine had ${engine.peak()} sessions at once`);
  t.is(engine.sim.stats().sessionsStarted, 2 + served, 'no session was started beyond those served');
});

test('proxy - with the manager down a cached engine gets no more sessions than its record leaves room for', async (t) => {
  const engine = await watchedEngine(t);
  // The simulator is where engines may be: the proxy chooses no cached engine elsewhere.
  const proxy = await proxyWith(t, { ENGINE_ADDRESSES: new URL(engine.url).host });
  const nc = await proxy.nats.connect();
  t.teardown(() => nc.close());
  const now = new Date().toISOString();
  const record: EngineRecord = {
    id: 'engine-cached',
    hostId: 'host-a',
    baseUrl: engine.url,
    state: 'ready',
    capacity: 3,
    // One session is another proxy's: two are left for this one.
    claims: [{ claimId: 'claim-x', contentKey: `id:${freshId()}`, proxyId: 'proxy-other', claimedAt: now }],
    createdAt: now,
    updatedAt: now,
  };
  const kv = await openEnginesKv(nc);
  await kv.put(record.id, JSON.stringify(record));
  // The proxy's cache follows the bucket by a watch: wait until a request plays on the cached engine.
  await waitFor(async () => {
    const probe = await request(`${proxy.url}/ace/getstream?id=${freshId()}`);
    probe.close();
    return probe.status === 200;
  }, 10_000);
  await waitFor(() => engine.sim.stats().activeSessions === 0, 10_000);

  const burst = await Promise.all(
    Array.from({ length: 5 }, () => request(`${proxy.url}/ace/getstream?id=${freshId()}`)),
  );
  t.teardown(() => burst.forEach((a) => a.close()));
  t.is(burst.filter((a) => a.status === 200).length, 2);
  assertRefusedFull(
    t,
    burst.filter((a) => a.status !== 200),
  );
  t.true(engine.peak() <= 2, `the engine had ${engine.peak()} sessions at once`);
});
