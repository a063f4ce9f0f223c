import test from 'ava';
import { jetstream } from '@nats-io/jetstream';
import {
  Subjects,
  type ContentRef,
  type StreamMoved,
  type StreamStarted,
  type StreamStats,
} from '@acefleet/contracts';
import { startSession } from '@acefleet/engine-client';
import { waitFor } from '@acefleet/testkit';
import { startMonitorWorld, type MonitorWorld } from './helpers.ts';

let world: MonitorWorld;
test.before(async () => {
  world = await startMonitorWorld(2, { STAT_INTERVAL_MS: '300' });
});
test.after.always(async () => {
  await world?.close();
});

interface Polled {
  streams: { streamId: string; last: StreamStats | null }[];
}

async function polledOn(streamId: string): Promise<string | undefined> {
  const res = await fetch(`${world.monitor.url}/api/streams`);
  const polled = (await res.json()) as Polled;
  return polled.streams.find((s) => s.streamId === streamId)?.last?.engineId;
}

/** A session on sim `n`, announced as started on `engine-<n>`. */
async function publishStarted(streamId: string, content: ContentRef, n: number): Promise<void> {
  const session = await startSession(world.sims[n]!.url, content, { timeoutMs: 10_000 });
  const started: StreamStarted = {
    streamId,
    content,
    engineId: `engine-${n}`,
    proxyId: 'proxy-a',
    startedAt: new Date().toISOString(),
    statUrl: session.statUrl,
  };
  await jetstream(world.nc).publish(Subjects.streamStarted, JSON.stringify(started), {
    msgID: `${streamId}:started`,
  });
}

async function publishMoved(streamId: string, content: ContentRef, n: number): Promise<void> {
  const session = await startSession(world.sims[n]!.url, content, { timeoutMs: 10_000 });
  const moved: StreamMoved = {
    streamId,
    content,
    proxyId: 'proxy-a',
    previousEngineId: `engine-${1 - n}`,
    engineId: `engine-${n}`,
    statUrl: session.statUrl,
    gapMs: 100,
    reason: 'failover',
    at: new Date().toISOString(),
  };
  await jetstream(world.nc).publish(Subjects.streamMoved, JSON.stringify(moved), {
    msgID: `${streamId}:moved:${n}`,
  });
}

// Chaos run finding: nats.js 3.4 recreates a reset ordered consumer with its first config's opt_start_time
// beside the new start sequence, which nats-server refuses; the monitor's followers never resumed after a
// nats-server restart, so moves went unseen (false stale alerts) and new streams were never polled.
test('health-monitor - after a nats-server restart it still follows new streams and their moves', async (t) => {
  const before: ContentRef = { kind: 'id', value: 'a1'.repeat(20) };
  await publishStarted('stream-before', before, 0);
  await publishMoved('stream-before', before, 1);
  await waitFor(async () => (await polledOn('stream-before')) === 'engine-1', 20_000);

  await world.nats.stop();
  await world.nats.start();

  const after: ContentRef = { kind: 'id', value: 'b2'.repeat(20) };
  await waitFor(
    () =>
      publishStarted('stream-after', after, 0).then(
        () => true,
        () => false,
      ),
    30_000,
    500,
  );
  await waitFor(async () => (await polledOn('stream-after')) === 'engine-0', 30_000);
  await publishMoved('stream-after', after, 1);
  await waitFor(async () => (await polledOn('stream-after')) === 'engine-1', 30_000);
  t.is(await polledOn('stream-after'), 'engine-1', 'polled on the engine it moved to');
});
