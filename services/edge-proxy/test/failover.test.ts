import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { type StreamMoved, streamEventsOf } from '@acefleet/contracts';
import { Player, collectEvents, metric, waitFor, type EventCollector } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sims: Simulator[];
let urls: string[];
let proxy: ProxyUnderTest;
let nc: NatsConnection;
let moves: EventCollector<StreamMoved>;

test.before(async () => {
  sims = [buildSimulator({ burstSeconds: 1 }), buildSimulator({ burstSeconds: 1 })];
  urls = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  proxy = await startProxy({ STATIC_ENGINES: urls.join(','), FAILOVER_DEADLINE_MS: '5000' });
  nc = await proxy.nats.connect();
  moves = await collectEvents<StreamMoved>(nc, streamEventsOf('moved'));
});
test.after.always(async () => {
  await moves?.stop();
  await nc?.close();
  await proxy?.close();
  await Promise.all(sims.map((s) => s.close()));
});

test('proxy - engine killed mid-stream: players keep their connection and get bytes from another engine', async (t) => {
  const url = `${proxy.url}/ace/getstream?id=${'f'.repeat(40)}`;
  const players = await Promise.all([0, 1].map(() => Player.open(url, 0)));
  await waitFor(() => players.every((p) => p.bytes > 200_000), 10_000);
  const stream = proxy.proxy.hub.all()[0]!;
  const first = stream.engineId;
  const victim = sims.find((s) => s.stats().activeSessions === 1)!;
  const survivor = sims.find((s) => s !== victim)!;
  const lostAt = performance.now();
  await victim.close(); // the engine process is gone: connections reset, port closed
  const before = players.map((p) => p.bytes);
  await waitFor(() => players.every((p, i) => p.bytes > before[i]! + 200_000), 10_000);
  t.log(`bytes flowing again after ${(performance.now() - lostAt).toFixed(0)} ms`);
  t.true(
    players.every((p) => !p.ended),
    'no player saw the end of its stream',
  );
  t.not(stream.engineId, first);
  t.is(survivor.stats().sessionsStarted, 1);
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  t.is(metric(text, 'acefleet_proxy_failovers_total', 'result="ok"'), 1);
  // The move is published with where the stream plays now, so health-monitor polls the new session.
  const moved = await waitFor(() => moves.events[0]?.data ?? false, 10_000);
  t.like(moved, {
    streamId: stream.id,
    previousEngineId: first,
    engineId: stream.engineId,
    reason: 'failover',
  });
  t.is(moved.statUrl, stream.statUrl ?? '');
  t.true(moved.statUrl.startsWith(`${urls[sims.indexOf(survivor)]!}/`), moved.statUrl);
  t.true(moved.gapMs > 0, `gap ${moved.gapMs} ms`);
  players.forEach((p) => p.close());
});
