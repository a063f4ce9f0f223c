import { subjectMatches } from '@acefleet/platform';
import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { NatsUsers, type StreamEnded, type StreamMoved, streamEventsOf } from '@acefleet/contracts';
import {
  Player,
  collectEvents,
  startAcefleetService,
  waitFor,
  type EventCollector,
  type ServiceProcess,
} from '@acefleet/testkit';
import type { Stream } from '../src/session/stream.ts';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 9: a stream that was playing and stalls, turns to noise, or whose engine session expires moves to
 * another engine with its players, instead of waiting out EMPTY_TIMEOUT_MS or ending. Default timeouts
 * (EMPTY_TIMEOUT_MS 20 s, STALL_FAILOVER_MS 4 s); two ace-sims over HTTP; a real health-monitor reports the
 * expired sessions.
 */
const EMPTY_TIMEOUT_MS = 20_000;

let sims: Simulator[];
let urls: string[];
let proxy: ProxyUnderTest;
let monitor: ServiceProcess;
let nc: NatsConnection;
let events: EventCollector;

test.before(async () => {
  sims = [buildSimulator({ burstSeconds: 1 }), buildSimulator({ burstSeconds: 1 })];
  urls = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  // No proxy-wide cool-down: each test stalls an engine and needs the other one free.
  proxy = await startProxy({ STATIC_ENGINES: urls.join(','), ENGINE_COOLDOWN_MS: '0' });
  nc = await proxy.nats.connect();
  events = await collectEvents(nc, 'acefleet.events.stream.>');
  monitor = await startAcefleetService('monitor', {
    ...proxy.nats.env(NatsUsers.healthMonitor),
    STAT_INTERVAL_MS: '500',
    // The proxy's static engines: the monitor reads their stat URLs only where engines may be.
    ENGINE_ADDRESSES: urls.map((u) => new URL(u).host).join(','),
  });
});
test.after.always(async () => {
  await monitor?.stop();
  await events?.stop();
  await nc?.close();
  await proxy?.close();
  await Promise.all((sims ?? []).map((s) => s.close()));
});

function of<T>(subject: string, streamId: string): T[] {
  return events.events
    .filter(
      (e) => subjectMatches(subject, e.subject) && (e.data as { streamId: string }).streamId === streamId,
    )
    .map((e) => e.data as T);
}

/** The simulator a stream plays on now. */
function simOf(stream: Stream): Simulator {
  const i = urls.findIndex((u) => stream.statUrl?.startsWith(`${u}/`));
  if (i < 0) throw new Error(`stream ${stream.id} plays on no known engine`);
  return sims[i]!;
}

/** Two players of content `id`, receiving; the stream they share. */
async function playing(id: string): Promise<{ players: Player[]; stream: Stream }> {
  const url = `${proxy.url}/ace/getstream?id=${id}`;
  const players = await Promise.all([0, 1].map(() => Player.open(url, 0)));
  await waitFor(() => players.every((p) => p.bytes > 200_000), 10_000);
  return { players, stream: proxy.proxy.hub.all().find((s) => s.content.value === id)! };
}

/** Milliseconds from `since` until every player got `bytes` more than it had then. */
async function bytesAgain(players: Player[], bytes: number, since = performance.now()): Promise<number> {
  const before = players.map((p) => p.bytes);
  await waitFor(() => players.every((p, i) => p.bytes > before[i]! + bytes), EMPTY_TIMEOUT_MS + 10_000);
  return performance.now() - since;
}

/** The fault `fault` on the engine of a playing stream moves it, players attached, before the empty timeout. */
async function movesOnFault(
  t: import('ava').ExecutionContext,
  id: string,
  fault: Parameters<Simulator['faults']['setContent']>[1],
): Promise<void> {
  const { players, stream } = await playing(id);
  const from = stream.engineId;
  const victim = simOf(stream);
  await waitFor(() => players.every((p) => p.bytes > 400_000), 10_000);
  const faultAt = performance.now();
  victim.faults.setContent(id, fault);
  // Published at the first byte from the engine that took over.
  const moved = await waitFor(
    () => of<StreamMoved>(streamEventsOf('moved'), stream.id)[0] ?? false,
    EMPTY_TIMEOUT_MS + 10_000,
  );
  const movedMs = performance.now() - faultAt;
  t.log(`moved ${movedMs.toFixed(0)} ms after the fault; gap ${moved.gapMs} ms`);
  t.true(movedMs < EMPTY_TIMEOUT_MS, `moved after ${movedMs.toFixed(0)} ms`);
  t.true(moved.gapMs < EMPTY_TIMEOUT_MS, `gap ${moved.gapMs} ms`);
  t.like(moved, { previousEngineId: from, engineId: stream.engineId, reason: 'failover' });
  await bytesAgain(players, 100_000);
  t.true(
    players.every((p) => !p.ended),
    'no player saw the end of its stream',
  );
  t.is(stream.state, 'playing');
  t.not(simOf(stream), victim);
  t.deepEqual(of<StreamEnded>(streamEventsOf('ended'), stream.id), []);
  players.forEach((p) => p.close());
}

test.serial(
  'proxy - a stalled engine: players keep their connection and get bytes from another engine',
  (t) => movesOnFault(t, '5a'.repeat(20), { stallAfterMs: 1 }),
);

test.serial('proxy - an engine sending noise mid-stream: the stream moves as after a stall', (t) =>
  movesOnFault(t, '5b'.repeat(20), { badBody: 'random' }),
);

test.serial(
  'proxy - an expired engine session moves the stream to another engine instead of ending it',
  (t) => movesOnFault(t, '5c'.repeat(20), { expireSessions: true }),
);

test.serial(
  'proxy - a stalled engine that resumes before another one plays keeps the stream, and nothing moves',
  async (t) => {
    const id = '5d'.repeat(20);
    const { players, stream } = await playing(id);
    const victim = simOf(stream);
    const other = sims.find((s) => s !== victim)!;
    // The other engine answers the start only after the stalled one has resumed.
    other.faults.setContent(id, { startDelayMs: 15_000 });
    victim.faults.setContent(id, { stallAfterMs: 1 });
    await waitFor(() => stream.state === 'moving', EMPTY_TIMEOUT_MS);
    victim.faults.clearContent(id);
    await bytesAgain(players, 100_000);
    t.is(stream.state, 'playing');
    t.is(simOf(stream), victim);
    t.true(players.every((p) => !p.ended));
    t.deepEqual(of<StreamMoved>(streamEventsOf('moved'), stream.id), []);
    // The candidate on the other engine was given up: its session is stopped once its start answers.
    await waitFor(() => other.stats().activeSessions === 0, 30_000);
    players.forEach((p) => p.close());
    other.faults.clearContent(id);
  },
);

/** The HLS session of content `id` (its first playlist polled) and the simulator it plays on. */
async function hlsPlaying(id: string): Promise<{ streamId: string; victim: Simulator }> {
  const res = await fetch(`${proxy.url}/ace/manifest.m3u8?id=${id}`);
  if (!res.ok) throw new Error(`first playlist: HTTP ${res.status}`);
  const { hls } = (await (await fetch(`${proxy.url}/api/streams`)).json()) as {
    hls: { streamId: string; engineId: string; content: { value: string } }[];
  };
  const session = hls.find((s) => s.content.value === id)!;
  const i = urls.findIndex((u) => session.engineId === `static:${u}`);
  return { streamId: session.streamId, victim: sims[i]! };
}

/** Poll the playlist like a player until the session moved; every poll's status. */
async function pollUntilMoved(
  id: string,
  streamId: string,
): Promise<{ statuses: number[]; moved: StreamMoved }> {
  const statuses: number[] = [];
  const moved = await waitFor(async () => {
    const res = await fetch(`${proxy.url}/ace/manifest.m3u8?id=${id}`, {
      signal: AbortSignal.timeout(30_000),
    });
    statuses.push(res.status);
    await res.text();
    return of<StreamMoved>(streamEventsOf('moved'), streamId)[0] ?? false;
  }, EMPTY_TIMEOUT_MS + 10_000);
  return { statuses, moved };
}

test.serial(
  'proxy - HLS: a stalled playlist moves the session to another engine while polls keep answering',
  async (t) => {
    const id = '5e'.repeat(20);
    const { streamId, victim } = await hlsPlaying(id);
    const faultAt = performance.now();
    victim.faults.setContent(id, { stallAfterMs: 1 });
    const { statuses, moved } = await pollUntilMoved(id, streamId);
    const movedMs = performance.now() - faultAt;
    t.log(`moved ${movedMs.toFixed(0)} ms after the fault, ${statuses.length} polls`);
    t.true(movedMs < EMPTY_TIMEOUT_MS);
    t.true(statuses.every((s) => s === 200));
    t.like(moved, { previousEngineId: `static:${urls[sims.indexOf(victim)]!}`, reason: 'failover' });
    t.deepEqual(of<StreamEnded>(streamEventsOf('ended'), streamId), []);
  },
);

test.serial('proxy - HLS: an expired engine session moves the session instead of ending it', async (t) => {
  const id = '5f'.repeat(20);
  const { streamId, victim } = await hlsPlaying(id);
  victim.faults.setContent(id, { expireSessions: true });
  const { statuses, moved } = await pollUntilMoved(id, streamId);
  t.true(statuses.every((s) => s === 200));
  t.like(moved, { previousEngineId: `static:${urls[sims.indexOf(victim)]!}`, reason: 'failover' });
  t.deepEqual(of<StreamEnded>(streamEventsOf('ended'), streamId), []);
});
