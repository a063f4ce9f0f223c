import test from 'ava';
import { ObservabilitySubjects, type ContentRef, type StreamStats } from '@acefleet/contracts';
import { stopSession } from '@acefleet/engine-client';
import { collectEvents, waitFor, type EventCollector } from '@acefleet/testkit';
import { announceMoved, announceStarted, startMonitorWorld, type MonitorWorld } from './helpers.ts';

const STAT_INTERVAL_MS = 300;

let world: MonitorWorld;
let streamEvents: EventCollector;
test.before(async () => {
  world = await startMonitorWorld(2, { STAT_INTERVAL_MS: String(STAT_INTERVAL_MS) });
  streamEvents = await collectEvents(world.nc, 'acefleet.events.stream.>', ObservabilitySubjects.streamStats);
});
test.after.always(async () => {
  await streamEvents?.stop();
  await world?.close();
});

function of<T>(subject: string, streamId: string): T[] {
  return streamEvents.events
    .filter((e) => e.subject === subject && (e.data as { streamId: string }).streamId === streamId)
    .map((e) => e.data as T);
}

test.serial(
  'health-monitor - after stream.moved it polls the new stat_url and raises no stale alert for the left session',
  async (t) => {
    const streamId = 'stream-moving';
    const content: ContentRef = { kind: 'id', value: 'dd'.repeat(20) };
    const first = await announceStarted(world, streamId, content, 0);
    await waitFor(() => of(ObservabilitySubjects.streamStats, streamId).length > 0, 20_000);

    // The proxy moved the stream: a session on the other engine, the old one stopped (the engine forgets it).
    await announceMoved(world, streamId, content, 0, 1);
    await stopSession(first, 5000);

    // Samples keep coming, now from the new engine; the engine that forgot the old session is not asked again.
    const movedSeen = of(ObservabilitySubjects.streamStats, streamId).length;
    await waitFor(
      () =>
        of<StreamStats>(ObservabilitySubjects.streamStats, streamId)
          .slice(movedSeen)
          .filter((s) => s.engineId === 'engine-1').length >= 8,
      30_000,
    );
    const samples = of<StreamStats>(ObservabilitySubjects.streamStats, streamId);
    const firstNew = samples.findIndex((s) => s.engineId === 'engine-1');
    t.true(
      samples.slice(firstNew).every((s) => s.engineId === 'engine-1'),
      'no sample of the old engine after the first of the new one',
    );
    t.true(samples.slice(firstNew).every((s) => s.peers > 0));
    t.is(of(ObservabilitySubjects.streamStale, streamId).length, 0, 'no stale event after the move');
    const polled = (await (await fetch(`${world.monitor.url}/api/streams`)).json()) as {
      streams: { streamId: string; stale: boolean; last: StreamStats | null }[];
    };
    t.like(
      polled.streams.find((s) => s.streamId === streamId),
      { stale: false, last: { engineId: 'engine-1' } },
    );
  },
);
