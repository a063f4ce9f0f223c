import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ObservabilitySubjects, type StreamMoved, streamEventSubject } from '@acefleet/contracts';
import { publishStreamEvent, streamStarted, waitFor, type ServiceProcess } from '@acefleet/testkit';
import { startStatsWorld, type StatsWorld } from './helpers.ts';

let world: StatsWorld;
let nc: NatsConnection;
let stats: ServiceProcess;

test.before(async () => {
  world = await startStatsWorld();
  ({ nc, stats } = world);
});
test.after.always(async () => {
  await world?.close();
});

async function get<T>(route: string): Promise<T> {
  const res = await fetch(`${stats.url}${route}`);
  if (!res.ok) throw new Error(`${route}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Session {
  streamId: string;
  engineId: string;
  moves: number;
}

test('stats - a moved stream shows its new engine and counts its moves; the left session is no stale alert', async (t) => {
  const s = streamStarted('moving', { engineId: 'engine-old' });
  await publishStreamEvent(nc, s);
  const js = jetstream(nc);
  const moved: StreamMoved = {
    streamId: s.streamId,
    content: s.content,
    proxyId: s.proxyId,
    previousEngineId: 'engine-old',
    engineId: 'engine-new',
    statUrl: 'http://127.0.0.1:1/ace/stat/x/y',
    gapMs: 250,
    reason: 'failover',
    at: new Date().toISOString(),
  };
  await js.publish(streamEventSubject('moved', moved.proxyId), JSON.stringify(moved), {
    msgID: 'moving:moved:1',
  });
  // Delivered again (as after a crash before the ack): counted once.
  await js.publish(streamEventSubject('moved', moved.proxyId), JSON.stringify(moved), {
    msgID: 'moving:moved:1-again',
  });
  // The old engine forgot the session the stream left behind.
  const stale = {
    streamId: s.streamId,
    proxyId: s.proxyId,
    engineId: 'engine-old',
    content: s.content,
    reason: 'unknown_session',
    detail: 'gone',
    at: new Date().toISOString(),
  };
  await js.publish(ObservabilitySubjects.streamStale, JSON.stringify(stale));
  await waitFor(
    async () => (await get<{ events: unknown[] }>(`/api/events?stream=moving`)).events.length === 4,
    20_000,
  );

  const { session } = await get<{ session: Session }>('/api/streams/moving');
  t.like(session, { engineId: 'engine-new', moves: 1 });
  const { streams } = await get<{ streams: (Session & { stale: boolean })[] }>('/api/streams');
  t.like(
    streams.find((x) => x.streamId === 'moving'),
    { engineId: 'engine-new', moves: 1, stale: false },
  );
  const { events } = await get<{ events: { kind: string; engineId: string }[] }>(
    '/api/events?kind=stream.moved&stream=moving',
  );
  t.true(events.length > 0 && events.every((e) => e.engineId === 'engine-new'));
  const { sessions } = await get<{ sessions: Session[] }>('/api/sessions?engine=engine-new');
  t.deepEqual(
    sessions.map((x) => x.streamId),
    ['moving'],
  );
});
