import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Subjects, type StreamMoved } from '@acefleet/contracts';
import { Player, collectEvents, encodeClip, waitFor, type EventCollector } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 17: the proxy watches video and audio each on its own (from the PMT). A programme without video (a
 * radio channel) is never moved for "no video", and an engine whose PMT names other PIDs (after a failover)
 * is followed, not taken for a frozen one.
 */
const STALL_FAILOVER_MS = 1000;

let nc: NatsConnection;
let moves: EventCollector<StreamMoved>;
const cleanups: (() => Promise<void>)[] = [];

async function stack(
  ...media: (string | undefined)[]
): Promise<{ sims: Simulator[]; proxy: ProxyUnderTest }> {
  const sims = media.map((mediaPath) =>
    buildSimulator({ burstSeconds: 1, ...(mediaPath ? { mediaPath } : {}) }),
  );
  const urls = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  const proxy = await startProxy({
    STATIC_ENGINES: urls.join(','),
    STALL_FAILOVER_MS: String(STALL_FAILOVER_MS),
    ENGINE_COOLDOWN_MS: '0',
  });
  nc = await proxy.nats.connect();
  moves = await collectEvents<StreamMoved>(nc, Subjects.streamMoved);
  cleanups.push(async () => {
    await moves.stop();
    await nc.close();
    await proxy.close();
    await Promise.all(sims.map((s) => s.close()));
  });
  return { sims, proxy };
}

test.afterEach.always(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

test.serial(
  'proxy - a radio channel (no video in its PMT) plays on and is never moved for no video',
  async (t) => {
    const radio = await encodeClip({ seconds: 6, video: false });
    t.teardown(radio.remove);
    const { proxy } = await stack(radio.path, radio.path);
    const player = await Player.playing(`${proxy.url}/ace/getstream?id=${'c1'.repeat(20)}`, 20_000);
    const stream = proxy.proxy.hub.all()[0]!;
    const before = player.bytes;
    // Five times the stall limit, audio only.
    await waitFor(
      () => performance.now() - player.openedAt > 5 * STALL_FAILOVER_MS && player.bytes > before,
      15_000,
    );
    t.is(stream.state, 'playing');
    t.deepEqual(moves.events, [], 'never moved');
    player.close();
  },
);

test.serial(
  'proxy - after a failover to an engine whose PMT names other PIDs, the stream follows it and stays',
  async (t) => {
    const other = await encodeClip({ seconds: 6, pids: { video: 0x300, audio: 0x301 } });
    t.teardown(other.remove);
    const { sims, proxy } = await stack(undefined, other.path);
    const players = await Promise.all(
      [0, 1].map(() => Player.playing(`${proxy.url}/ace/getstream?id=${'c2'.repeat(20)}`, 100_000)),
    );
    const stream = proxy.proxy.hub.all()[0]!;
    const victim = sims.find((s) => s.stats().activeSessions === 1)!;
    await victim.close();
    const moved = await waitFor(() => moves.events[0]?.data ?? false, 10_000);
    t.is(moved.reason, 'failover');
    const after = players.map((p) => p.bytes);
    // Five times the stall limit on the new PIDs: no "frozen" move follows.
    await waitFor(() => players.every((p, i) => p.bytes > after[i]! + 200_000), 10_000);
    const since = performance.now();
    await waitFor(
      () => performance.now() - since > 5 * STALL_FAILOVER_MS && players.every((p) => !p.ended),
      15_000,
    );
    t.is(stream.state, 'playing');
    t.is(moves.events.length, 1, moves.events.map((e) => e.data.reason).join(', '));
    players.forEach((p) => p.close());
  },
);
