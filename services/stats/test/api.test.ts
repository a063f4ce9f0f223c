import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ObservabilitySubjects, Subjects } from '@acefleet/contracts';
import {
  waitFor,
  type ServiceProcess,
  streamEnded,
  randomContentId,
  publishStreamEvent,
  streamStarted,
} from '@acefleet/testkit';
import { startStatsWorld, type StatsWorld } from './helpers.ts';

let world: StatsWorld;
let nc: NatsConnection;
let stats: ServiceProcess;
const contentA = randomContentId();

test.before(async () => {
  world = await startStatsWorld();
  ({ nc, stats } = world);
  const a1 = streamStarted('a1', { content: { kind: 'id', value: contentA }, engineId: 'e1' });
  const a2 = streamStarted('a2', { content: { kind: 'id', value: contentA }, engineId: 'e2' });
  const b1 = streamStarted('b1', { engineId: 'e1', proxyId: 'proxy-b' });
  for (const s of [a1, a2, b1]) await publishStreamEvent(nc, s);
  await publishStreamEvent(nc, streamEnded(a1, 'engine_eof', 5000, 3));
  const js = jetstream(nc);
  const ref = { streamId: 'a2', proxyId: 'proxy-a', engineId: 'e2', content: a2.content };
  for (const [i, peers] of [4, 6, 5].entries()) {
    const at = new Date(Date.now() - (3 - i) * 1000).toISOString();
    const sample = {
      ...ref,
      status: 'dl',
      peers,
      speedDownKBps: 200 + i,
      speedUpKBps: 10,
      downloadedBytes: 1000 * i,
      uploadedBytes: 0,
      at,
    };
    await js.publish(ObservabilitySubjects.streamStats, JSON.stringify(sample));
  }
  await js.publish(
    ObservabilitySubjects.streamStale,
    JSON.stringify({ ...ref, reason: 'unknown_session', detail: 'gone', at: new Date().toISOString() }),
  );
  await js.publish(
    Subjects.engineHealth,
    JSON.stringify({
      engineId: 'e1',
      status: 'unhealthy',
      previous: 'healthy',
      consecutiveFailures: 3,
      detail: 'no answer',
      at: new Date().toISOString(),
    }),
  );
  // A kind stats has never heard of is kept in the event log all the same.
  await js.publish(
    'acefleet.events.engine.draining',
    JSON.stringify({ engineId: 'e2', reason: 'rebalance', at: new Date().toISOString() }),
  );
  await waitFor(async () => (await get<{ events: unknown[] }>('/api/events')).events.length === 7, 10_000);
});
test.after.always(async () => {
  await world?.close();
});

async function get<T>(route: string, status = 200): Promise<T> {
  const res = await fetch(`${stats.url}${route}`);
  if (res.status !== status) throw new Error(`${route}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

type Sessions = { sessions: { streamId: string }[] };
const ids = (r: Sessions): string[] => r.sessions.map((s) => s.streamId).sort();

test('stats api - sessions filter by content, engine, proxy, state, reason and time range', async (t) => {
  t.deepEqual(ids(await get<Sessions>(`/api/sessions?content=${contentA.toUpperCase()}`)), ['a1', 'a2']);
  t.deepEqual(ids(await get<Sessions>('/api/sessions?engine=e1')), ['a1', 'b1']);
  t.deepEqual(ids(await get<Sessions>('/api/sessions?proxy=proxy-b')), ['b1']);
  t.deepEqual(ids(await get<Sessions>('/api/sessions?state=active')), ['a2', 'b1']);
  t.deepEqual(ids(await get<Sessions>('/api/sessions?reason=engine_eof')), ['a1']);
  const future = new Date(Date.now() + 60_000).toISOString();
  t.deepEqual(ids(await get<Sessions>(`/api/sessions?since=${future}`)), []);
  t.deepEqual(ids(await get<Sessions>(`/api/sessions?until=${future}&limit=2`)).length, 2);
});

test('stats api - usage summaries per content, engine and day', async (t) => {
  const byContent = await get<{
    usage: { key: string; sessions: number; bytesOut: number; peakViewers: number }[];
  }>('/api/usage?group=content');
  t.like(byContent.usage[0], { key: `id:${contentA}`, sessions: 2, bytesOut: 5000, peakViewers: 3 });
  const byEngine = await get<{ usage: { key: string; sessions: number }[] }>('/api/usage?group=engine');
  t.deepEqual(
    byEngine.usage.map((u) => [u.key, u.sessions]),
    [
      ['e1', 2],
      ['e2', 1],
    ],
  );
  const byDay = await get<{ usage: { key: string; sessions: number }[] }>('/api/usage?group=day');
  t.deepEqual(
    byDay.usage.map((u) => [u.key, u.sessions]),
    [[new Date().toISOString().slice(0, 10), 3]],
  );
});

test('stats api - streams carry their samples and flags; events log keeps every kind', async (t) => {
  const { streams } = await get<{
    streams: { streamId: string; stale: boolean; sample: { peers: number } | null }[];
  }>('/api/streams');
  t.like(
    streams.find((s) => s.streamId === 'a2'),
    { stale: true, sample: { peers: 5 } },
  );
  const detail = await get<{ samples: { peers: number }[] }>('/api/streams/a2');
  t.deepEqual(
    detail.samples.map((s) => s.peers),
    [4, 6, 5],
  );
  const health = await get<{ events: { engineId: string; data: { status: string } }[] }>(
    '/api/events?kind=engine.health',
  );
  t.like(health.events[0], { engineId: 'e1', data: { status: 'unhealthy' } });
  const e2 = await get<{ events: { kind: string }[] }>('/api/events?engine=e2');
  t.true(e2.events.some((e) => e.kind === 'engine.draining'));
  const overview = await get<{ streams: number; alerts: { kind: string }[] }>('/api/overview');
  t.is(overview.streams, 2);
  t.true(overview.alerts.some((a) => a.kind === 'stream_stale'));
});

test('stats api - bad input answers a JSON error, never a 500', async (t) => {
  const notFound = await get<{ error: { code: string } }>('/api/streams/nope', 404);
  t.is(notFound.error.code, 'stream_not_found');
  const bad = await get<{ error: { code: string } }>('/api/sessions?since=yesterday', 400);
  t.is(bad.error.code, 'bad_request');
  t.is((await get<{ error: { code: string } }>('/api/usage?group=planet', 400)).error.code, 'bad_request');
  const asset = await get<{ error: { code: string } }>('/assets/..%2Fsrc%2Fmain.ts', 404);
  t.is(asset.error.code, 'not_found');
  const res = await fetch(`${stats.url}/api/sessions`, { method: 'DELETE' });
  t.is(res.status, 405);
});

// Pins two fuzz findings: `limit=1e309` answered 500 (SQLite datatype mismatch); HEAD /api/live never answered.
test('stats api - limit=1e309 is a 400 and HEAD /api/live answers at once', async (t) => {
  for (const route of ['/api/events', '/api/usage', '/api/sessions']) {
    t.is((await get<{ error: { code: string } }>(`${route}?limit=1e309`, 400)).error.code, 'bad_request');
  }
  const head = await fetch(`${stats.url}/api/live`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
  t.is(head.status, 200);
  t.is(head.headers.get('content-type'), 'text/event-stream; charset=utf-8');
});
