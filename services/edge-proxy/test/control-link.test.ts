import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import {
  ObservabilitySubjects,
  type StreamEnded,
  type StreamStale,
  type StreamViewers,
  streamEventsOf,
} from '@acefleet/contracts';
import { Player, storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest, PROXY_UNDER_TEST } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  // One engine: a stream whose session expired has nowhere to move, and ends after the failover deadline.
  proxy = await startProxy({ STATIC_ENGINES: url, FAILOVER_DEADLINE_MS: '1000' });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

async function publish(subject: string, body: unknown): Promise<void> {
  const nc = await proxy.nats.connect();
  nc.publish(subject, JSON.stringify(body));
  await nc.flush();
  await nc.close();
}

test('proxy - a stale stream that no other engine can take ends with session_expired', async (t) => {
  const id = '7'.repeat(40);
  const p = await Player.open(`${proxy.url}/ace/getstream?id=${id}`, 0);
  await waitFor(() => p.bytes > 50_000, 10_000);
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  const stale: StreamStale = {
    streamId: stream.id,
    proxyId: PROXY_UNDER_TEST,
    engineId: stream.engineId!,
    content: stream.content,
    reason: 'unknown_session',
    detail: 'unknown playback session id',
    at: new Date().toISOString(),
  };
  await publish(ObservabilitySubjects.streamStale, { ...stale, proxyId: 'some-other-proxy' });
  await publish(ObservabilitySubjects.streamStale, { ...stale, engineId: 'another-engine' });
  await publish(ObservabilitySubjects.streamStale, { not: 'a stale event' });
  t.is(stream.state, 'playing', 'events for other proxies, other engines and garbage change nothing');
  await publish(ObservabilitySubjects.streamStale, stale);
  await p.closed;
  const ended = await waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, streamEventsOf('ended'));
    return events.find((e) => e.data.streamId === stream.id) ?? false;
  }, 5000);
  t.is(ended.data.reason, 'session_expired');
});

test('proxy - viewer counts are published as they change', async (t) => {
  const id = '8'.repeat(40);
  const players = await Promise.all([0, 1].map(() => Player.open(`${proxy.url}/ace/getstream?id=${id}`, 0)));
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  const counted = await waitFor(async () => {
    const events = await storedEvents<StreamViewers>(proxy.nats, streamEventsOf('viewers'));
    return events.find((e) => e.data.streamId === stream.id && e.data.viewers === 2) ?? false;
  }, 5000);
  t.is(counted.data.proxyId, PROXY_UNDER_TEST);
  players.forEach((p) => p.close());
});
