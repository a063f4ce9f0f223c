import test from 'ava';
import type { ContentRef, StreamStats } from '@acefleet/contracts';
import { waitFor } from '@acefleet/testkit';
import { announceMoved, announceStarted, startMonitorWorld, type MonitorWorld } from './helpers.ts';

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

// Chaos run finding: nats.js 3.4 recreates a reset ordered consumer with its first config's opt_start_time
// beside the new start sequence, which nats-server refuses; the monitor's followers never resumed after a
// nats-server restart, so moves went unseen (false stale alerts) and new streams were never polled.
test('health-monitor - after a nats-server restart it still follows new streams and their moves', async (t) => {
  const before: ContentRef = { kind: 'id', value: 'a1'.repeat(20) };
  await announceStarted(world, 'stream-before', before, 0);
  await announceMoved(world, 'stream-before', before, 0, 1);
  await waitFor(async () => (await polledOn('stream-before')) === 'engine-1', 20_000);

  await world.nats.stop();
  await world.nats.start();

  const after: ContentRef = { kind: 'id', value: 'b2'.repeat(20) };
  await waitFor(
    () =>
      announceStarted(world, 'stream-after', after, 0).then(
        () => true,
        () => false,
      ),
    30_000,
    500,
  );
  await waitFor(async () => (await polledOn('stream-after')) === 'engine-0', 30_000);
  await announceMoved(world, 'stream-after', after, 0, 1);
  await waitFor(async () => (await polledOn('stream-after')) === 'engine-1', 30_000);
  t.is(await polledOn('stream-after'), 'engine-1', 'polled on the engine it moved to');
});
