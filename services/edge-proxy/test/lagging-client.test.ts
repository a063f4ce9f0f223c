import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { discontinuityAt, hasPayloadAt, inspectTs } from '@acefleet/mpegts';
import { Player, metric, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  // A fast stream and a small window, so a short pause leaves the client behind the window.
  sim = buildSimulator({ bitrateBps: 40_000_000, burstSeconds: 0 });
  const { url } = await sim.listen();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    RING_BYTES: String(1024 * 1024),
    MAX_CLIENT_BACKLOG_BYTES: String(256 * 1024),
    SLOW_CLIENT_TIMEOUT_MS: '30000',
  });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

const P = 188;

/** `bytes` without the packets that only flag a discontinuity (what a skip sends before the key frame it lands on). */
function withoutFlags(bytes: Buffer): Buffer {
  const kept: Buffer[] = [];
  for (let at = 0; at + P <= bytes.length; at += P) {
    if (!(discontinuityAt(bytes, at) && !hasPayloadAt(bytes, at))) kept.push(bytes.subarray(at, at + P));
  }
  return Buffer.concat(kept);
}

/**
 * Places in `received` where its packets stop following `reference` (what a player that never lagged got
 * of the same stream): a skip makes one (its prelude, the PAT and PMT sent before the key frame it lands on,
 * belongs to it); a ring block reused while a socket still sent from it would make more.
 */
function breaksFrom(received: Buffer, reference: Buffer): number {
  const n = Math.floor(reference.length / P);
  const same = (at: number, refPacket: number): boolean =>
    refPacket < n && received.compare(reference, refPacket * P, refPacket * P + P, at, at + P) === 0;
  // A run of packets pins the position down (a PAT alone repeats).
  const locate = (at: number): number => {
    const run = Math.min(16, Math.floor((received.length - at) / P));
    for (let p = 0; p < n; p++) {
      let k = 0;
      while (k < run && same(at + k * P, p + k)) k++;
      if (k === run) return p;
    }
    return -1;
  };
  let breaks = 0;
  let expected = locate(0);
  for (let at = 0; at + P <= received.length; at += P) {
    if (expected >= 0 && same(at, expected)) {
      expected++;
      continue;
    }
    breaks++;
    // Up to a few packets of prelude come before the run that is found again.
    let found = -1;
    for (let skip = 0; skip < 4 && found < 0; skip++) found = locate(at + skip * P);
    if (found < 0) throw new Error(`packet at ${at} is not from the stream`);
    while (!same(at, found)) at += P;
    expected = found + 1;
  }
  return breaks;
}

const skips = async (): Promise<number> =>
  metric(await (await fetch(`${proxy.url}/metrics`)).text(), 'acefleet_proxy_slow_client_skips_total');

test.serial(
  'proxy - a lagging client gets the stream’s own bytes: a ring block is reused only once its socket sent it',
  async (t) => {
    const url = `${proxy.url}/ace/getstream?id=4444444444444444444444444444444444444444`;
    const skipsBefore = await skips();
    // A player that keeps up, from before the lagging one joins: what the stream was.
    const reference = await Player.open(url, 40_000_000);
    await waitFor(() => reference.bytes > 200_000, 5_000);
    const lagging = await Player.open(url, 16_000_000);
    await waitFor(() => lagging.bytes > 1_000_000, 5_000);
    // Its socket backlog holds views of blocks the ring evicts meanwhile, and it skips with them queued.
    lagging.pause();
    await waitFor(async () => (await skips()) > skipsBefore, 15_000);
    lagging.resume();
    await waitFor(() => lagging.bytes > 14_000_000, 10_000);
    lagging.close();
    reference.close();
    const skipped = (await skips()) - skipsBefore;
    t.true(skipped >= 1, 'the client fell out of the window');
    const received = lagging.head.subarray(0, lagging.head.length - (lagging.head.length % P));
    const breaks = breaksFrom(withoutFlags(received), reference.head);
    t.true(breaks <= skipped, `${breaks} breaks in the stream's packet order, ${skipped} skips`);
    // Each skip lands on a key frame behind packets that flag the break on every PID.
    const report = inspectTs(received);
    t.true(report.flaggedDiscontinuities.size > 0, 'the skip flagged its break');
  },
);

test('proxy - a client that falls out of the window jumps to the live edge on a packet boundary', async (t) => {
  const url = `${proxy.url}/ace/getstream?id=3333333333333333333333333333333333333333`;
  const lagging = await Player.open(url, 0);
  await waitFor(() => lagging.bytes > 1_000_000, 5_000);
  lagging.pause();
  // Paused until the stream has run past it: the proxy counts the jump to the live edge.
  await waitFor(async () => {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    return metric(text, 'acefleet_proxy_slow_client_skips_total') >= 1;
  }, 15_000);
  lagging.resume();
  const viewer = [...proxy.proxy.hub.all()[0]!.viewers][0]!;
  t.is(viewer.pos % 188, 0, 'resumed on a packet boundary');
  const after = lagging.bytes;
  await waitFor(() => lagging.bytes > after + 2_000_000, 5_000);
  t.false(lagging.ended, 'still connected');
  lagging.close();
});
