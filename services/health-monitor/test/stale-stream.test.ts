import { subjectMatches } from '@acefleet/platform';
import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import {
  ObservabilitySubjects,
  Subjects,
  type ProxyLost,
  type ContentRef,
  type StreamStale,
  type StreamStarted,
  type StreamStarved,
  type StreamStats,
} from '@acefleet/contracts';
import { startSession } from '@acefleet/engine-client';
import {
  collectEvents,
  publishStreamEvent,
  streamEnded,
  streamStarted,
  waitFor,
  type EventCollector,
} from '@acefleet/testkit';
import { startMonitorWorld, type MonitorWorld } from './helpers.ts';

const STAT_INTERVAL_MS = 300;

let world: MonitorWorld;
let streamEvents: EventCollector;
test.before(async () => {
  world = await startMonitorWorld(1, {
    STAT_INTERVAL_MS: String(STAT_INTERVAL_MS),
    STARVED_AFTER_MS: '1000',
  });
  streamEvents = await collectEvents(world.nc, 'acefleet.events.stream.>', ObservabilitySubjects.streamStats);
});
test.after.always(async () => {
  await streamEvents?.stop();
  await world?.close();
});

/** Start a real session on the simulated engine and announce it as a proxy would. */
async function playOnEngine(
  streamId: string,
  value: string,
  proxyId = 'proxy-a',
): Promise<{ psid: string; content: ContentRef; started: StreamStarted }> {
  const url = world.sims[0]!.url;
  const content: ContentRef = { kind: 'id', value };
  const session = await startSession(url, content, { timeoutMs: 5000 });
  const started = streamStarted(streamId, {
    content,
    engineId: 'engine-0',
    statUrl: session.statUrl,
    proxyId,
  });
  await publishStreamEvent(world.nc, started);
  return { psid: session.playbackSessionId, content, started };
}

function of<T>(subject: string, streamId: string): T[] {
  return streamEvents.events
    .filter(
      (e) => subjectMatches(subject, e.subject) && (e.data as { streamId: string }).streamId === streamId,
    )
    .map((e) => e.data as T);
}

/**
 * Wait until the monitor polled `streamId` `rounds` more times. With a control stream that keeps playing,
 * this proves that many poll rounds went by: what did not happen to another stream in them never will.
 */
async function pollRounds(streamId: string, rounds: number): Promise<void> {
  const from = of(ObservabilitySubjects.streamStats, streamId).length;
  await waitFor(
    () => of(ObservabilitySubjects.streamStats, streamId).length >= from + rounds,
    rounds * STAT_INTERVAL_MS * 10,
  );
}

test.serial(
  'health-monitor - a session the engine expired is published as a stale stream with its id',
  async (t) => {
    await playOnEngine('control-expiring', 'ab'.repeat(20));
    const { psid } = await playOnEngine('stream-expiring', 'aa'.repeat(20));
    const stats = await waitFor(
      () => of<StreamStats>(ObservabilitySubjects.streamStats, 'stream-expiring')[0] ?? false,
      5000,
    );
    t.is(stats.proxyId, 'proxy-a');
    t.true(stats.peers > 0);
    t.regex(stats.status, /^(prebuf|dl|buf|wait)$/);

    const expiredAt = Date.now();
    const res = await fetch(`${world.sims[0]!.url}/__sim/sessions/${psid}/expire`, { method: 'POST' });
    t.is(res.status, 200);
    const stale = await waitFor(
      () => of<StreamStale>(ObservabilitySubjects.streamStale, 'stream-expiring')[0] ?? false,
      5000,
    );
    const latency = Date.parse(stale.at) - expiredAt;
    t.log(
      `stale event ${latency} ms after the engine expired the session (stat interval ${STAT_INTERVAL_MS} ms)`,
    );
    // Found by the next poll: a loaded machine may delay it a little, never by many rounds.
    t.true(latency <= 3 * STAT_INTERVAL_MS + 1000, `${latency} ms`);
    t.like(stale, {
      streamId: 'stream-expiring',
      proxyId: 'proxy-a',
      engineId: 'engine-0',
      reason: 'unknown_session',
    });
    t.deepEqual(stale.content, { kind: 'id', value: 'aa'.repeat(20) });

    // Published once, and the stream is no longer polled.
    const samplesBefore = of(ObservabilitySubjects.streamStats, 'stream-expiring').length;
    await pollRounds('control-expiring', 4);
    t.is(of(ObservabilitySubjects.streamStale, 'stream-expiring').length, 1);
    t.is(of(ObservabilitySubjects.streamStats, 'stream-expiring').length, samplesBefore);
  },
);

test.serial(
  'health-monitor - zero peers for the configured time marks a stream starved, peers again clear it',
  async (t) => {
    const value = 'bb'.repeat(20);
    const sim = world.sims[0]!.url;
    const setFaults = (body: unknown) =>
      fetch(`${sim}/__sim/faults/content/${value}?mode=replace`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    t.is((await setFaults({ starved: true })).status, 200);
    await playOnEngine('stream-starving', value);
    const starved = await waitFor(
      () => of<StreamStarved>(ObservabilitySubjects.streamStarved, 'stream-starving')[0] ?? false,
      5000,
    );
    t.true(starved.starved);
    t.true(starved.zeroPeersMs >= 1000, `${starved.zeroPeersMs} ms`);
    t.is(of<StreamStats>(ObservabilitySubjects.streamStats, 'stream-starving')[0]?.peers, 0);

    t.is((await setFaults({})).status, 200);
    const recovered = await waitFor(
      () => of<StreamStarved>(ObservabilitySubjects.streamStarved, 'stream-starving')[1] ?? false,
      5000,
    );
    t.false(recovered.starved);
  },
);

test.serial('health-monitor - an ended stream is no longer polled', async (t) => {
  const value = 'cc'.repeat(20);
  await playOnEngine('control-ending', 'cd'.repeat(20));
  const { started } = await playOnEngine('stream-ending', value);
  await waitFor(() => of(ObservabilitySubjects.streamStats, 'stream-ending').length > 0, 5000);
  await publishStreamEvent(world.nc, streamEnded(started, 'client_disconnected', 0));
  // A poll already under way when the end arrived may still report; after that, none.
  await pollRounds('control-ending', 2);
  const count = of(ObservabilitySubjects.streamStats, 'stream-ending').length;
  await pollRounds('control-ending', 4);
  t.is(of(ObservabilitySubjects.streamStats, 'stream-ending').length, count);
});

// stats ends a gone proxy's sessions with its own proxy.lost event (never the proxy's stream.ended): the
// monitor stops polling them too.
test.serial('health-monitor - the streams of a proxy stats found lost are no longer polled', async (t) => {
  await playOnEngine('control-lost', 'ce'.repeat(20), 'proxy-b');
  await playOnEngine('stream-lost', 'cf'.repeat(20), 'proxy-lost');
  await waitFor(() => of(ObservabilitySubjects.streamStats, 'stream-lost').length > 0, 5000);
  const lost: ProxyLost = { proxyId: 'proxy-lost', at: new Date().toISOString() };
  await jetstream(world.nc).publish(Subjects.proxyLost, JSON.stringify(lost));
  await pollRounds('control-lost', 2);
  const count = of(ObservabilitySubjects.streamStats, 'stream-lost').length;
  await pollRounds('control-lost', 4);
  t.is(of(ObservabilitySubjects.streamStats, 'stream-lost').length, count);
});
