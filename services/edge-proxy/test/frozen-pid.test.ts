import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Subjects, type StreamMoved } from '@acefleet/contracts';
import { Player, collectEvents, waitFor, type EventCollector } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 17: an engine whose video (or audio) PID stops while the rest of its multiplex, the PCR included,
 * goes on (ace-sim's frozenVideo / frozenAudio) is moved like a stall, with the reason saying which, and its
 * players stay connected.
 */
/** At the proxy's MIN_FROZEN_MS (a kind of media counts as frozen only after 2 s), so the goal reads as is. */
const STALL_FAILOVER_MS = 2000;

let sims: Simulator[];
let proxy: ProxyUnderTest;
let nc: NatsConnection;
let moves: EventCollector<StreamMoved>;

test.before(async () => {
  sims = [buildSimulator({ burstSeconds: 1 }), buildSimulator({ burstSeconds: 1 })];
  const urls = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  proxy = await startProxy({
    STATIC_ENGINES: urls.join(','),
    STALL_FAILOVER_MS: String(STALL_FAILOVER_MS),
    ENGINE_COOLDOWN_MS: '0',
  });
  nc = await proxy.nats.connect();
  moves = await collectEvents<StreamMoved>(nc, Subjects.streamMoved);
});
test.after.always(async () => {
  await moves?.stop();
  await nc?.close();
  await proxy?.close();
  await Promise.all((sims ?? []).map((s) => s.close()));
});

for (const [fault, reason] of [
  ['frozenVideo', 'video_frozen'],
  ['frozenAudio', 'audio_frozen'],
] as const) {
  test.serial(`proxy - ${fault} on the engine moves the stream (${reason}), its player stays`, async (t) => {
    const id = (fault === 'frozenVideo' ? 'f1' : 'f2').repeat(20);
    const player = await Player.playing(`${proxy.url}/ace/getstream?id=${id}`, 0);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 300_000, 10_000);
    const engine = sims.find((s) => s.stats().sessions.some((x) => x.contentId === id && !x.endReason))!;
    const before = moves.events.length;
    engine.faults.setContent(id, { [fault]: true });
    const frozenAt = performance.now();
    const moved = await waitFor(() => moves.events[before]?.data ?? false, STALL_FAILOVER_MS + 10_000);
    const tookMs = performance.now() - frozenAt;
    engine.faults.clearContent(id);
    t.is(moved.reason, reason);
    t.true(tookMs < STALL_FAILOVER_MS + 2000, `moved ${Math.round(tookMs)} ms after the freeze`);
    const after = player.bytes;
    await waitFor(() => player.bytes > after + 300_000, 10_000);
    t.false(player.ended, 'the player stayed connected');
  });
}
