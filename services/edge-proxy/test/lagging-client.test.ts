import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { pcrAt, timestampDelta } from '@acefleet/mpegts';
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

/**
 * Places in `received` where its packets stop following the channel. ace-sim's PCR is a packet's place on
 * the channel's timeline, so two PCRs say how many packets lie between them: a skip to the live edge makes one
 * place where they disagree; a ring block reused while a socket still sent from it would make more.
 */
function discontinuities(received: Buffer, ticksPerPacket: number): number {
  let breaks = 0;
  let pcrs = 0;
  let last: { index: number; pcr: number } | undefined;
  for (let at = 0; at + P <= received.length; at += P) {
    const pcr = pcrAt(received, at);
    if (pcr === undefined) continue;
    pcrs++;
    const index = at / P;
    if (last && timestampDelta(pcr, last.pcr) !== (index - last.index) * ticksPerPacket) breaks++;
    last = { index, pcr };
  }
  if (pcrs < 100) throw new Error(`only ${pcrs} PCRs in ${received.length} bytes`);
  return breaks;
}

const skips = async (): Promise<number> =>
  metric(await (await fetch(`${proxy.url}/metrics`)).text(), 'acefleet_proxy_slow_client_skips_total');

test.serial(
  'proxy - a lagging client gets the stream’s own bytes: a ring block is reused only once its socket sent it',
  async (t) => {
    const url = `${proxy.url}/ace/getstream?id=4444444444444444444444444444444444444444`;
    const skipsBefore = await skips();
    const lagging = await Player.open(url, 16_000_000);
    await waitFor(() => lagging.bytes > 1_000_000, 5_000);
    // Its socket backlog holds views of blocks the ring evicts meanwhile, and it skips with them queued.
    lagging.pause();
    await waitFor(async () => (await skips()) > skipsBefore, 15_000);
    lagging.resume();
    await waitFor(() => lagging.bytes > 14_000_000, 10_000);
    lagging.close();
    const skipped = (await skips()) - skipsBefore;
    t.true(skipped >= 1, 'the client fell out of the window');
    const received = lagging.head;
    const ticksPerPacket = sim.timeline.loopTicks / sim.timeline.loopPackets;
    const breaks = discontinuities(
      received.subarray(0, received.length - (received.length % P)),
      ticksPerPacket,
    );
    t.true(breaks <= skipped, `${breaks} breaks in the channel's packet order, ${skipped} skips`);
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
