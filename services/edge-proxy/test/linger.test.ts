import { streamEventsOf } from '@acefleet/contracts';
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { StreamEnded } from '@acefleet/contracts';
import { Player, storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;
const LINGER_MS = 1000;
/** A cold engine session of the test channels holds its first byte this long: the baseline "at once" beats. */
const COLD_START_MS = 2000;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({ STATIC_ENGINES: url, LINGER_MS: String(LINGER_MS) });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

const streamUrl = (id: string): string => `${proxy.url}/ace/getstream?id=${id}`;

test.serial(
  'proxy - a viewer returning within the linger gets bytes at once from the same engine session',
  async (t) => {
    const id = '4444444444444444444444444444444444444444';
    sim.faults.setContent(id, { firstByteDelayMs: COLD_START_MS });
    const first = await Player.open(streamUrl(id));
    await waitFor(() => first.bytes > 100_000, 10_000 + COLD_START_MS);
    first.close();
    await waitFor(() => proxy.proxy.hub.all()[0]?.state === 'lingering', 5000);
    const started = sim.stats().sessionsStarted;
    const back = await Player.open(streamUrl(id));
    await waitFor(() => back.bytes > 0, COLD_START_MS * 2);
    t.log(
      `first byte: cold ${first.timeToFirstByteMs?.toFixed(0)} ms, back ${back.timeToFirstByteMs?.toFixed(0)} ms`,
    );
    t.true(
      back.timeToFirstByteMs! < COLD_START_MS,
      `first byte after ${back.timeToFirstByteMs} ms: sooner than any engine start`,
    );
    t.is(sim.stats().sessionsStarted, started, 'the engine session was kept, not restarted');
    back.close();
  },
);

test.serial(
  'proxy - when the linger expires the session is stopped and ended with linger_expired',
  async (t) => {
    const id = '5555555555555555555555555555555555555555';
    const p = await Player.open(streamUrl(id));
    await waitFor(() => p.bytes > 100_000, 10_000);
    const closedAt = Date.now();
    p.close();
    const session = await waitFor(
      () => sim.stats().sessions.find((s) => s.contentId === id && s.endReason === 'stopped') ?? false,
      LINGER_MS * 10,
    );
    // Timers never fire early (10 ms for clock rounding), so a stop sooner than the linger would mean it
    // was not kept lingering.
    const stoppedAfterMs = session.stoppedAt! - closedAt;
    t.true(stoppedAfterMs >= LINGER_MS - 10, `engine stopped ${stoppedAfterMs} ms after the close`);
    const ended = await waitFor(async () => {
      const events = await storedEvents<StreamEnded>(proxy.nats, streamEventsOf('ended'));
      return events.find((e) => e.data.content.value === id) ?? false;
    }, 5000);
    t.is(ended.data.reason, 'linger_expired');
  },
);

test.serial(
  'proxy - 200 rapid start/abort cycles across channels leave no sessions, sockets or timers',
  async (t) => {
    t.timeout(120_000);
    const ids = ['6', '7', '8', '9', 'a'].map((c) => c.repeat(40));
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    for (let i = 0; i < 200; i++) {
      const p = await Player.open(streamUrl(ids[i % ids.length]!)).catch(() => undefined);
      await sleep(i % 7);
      p?.close();
    }
    await waitFor(() => proxy.proxy.hub.all().length === 0, LINGER_MS + 5000);
    await waitFor(() => sim.stats().activeSessions === 0, 5000);
    const stats = sim.stats();
    t.is(stats.activeSessions, 0, 'no engine session left open');
    const connections = await new Promise<number>((resolve) =>
      proxy.proxy.http.server.getConnections((_e, n) => resolve(n)),
    );
    t.is(connections, 0, 'no player socket left open');
    // Timers of the last cycles' work (a release's call timeout, an HTTP agent's) run out in seconds; a
    // timer left behind per cycle would be hundreds and stay.
    await waitFor(() => timers() <= timersBefore + 1, 15_000).catch(() => undefined);
    const timersAfter = timers();
    t.true(timersAfter <= timersBefore + 1, `timers before ${timersBefore}, after ${timersAfter}`);
  },
);
