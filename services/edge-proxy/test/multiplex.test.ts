import { streamEventsOf } from '@acefleet/contracts';
import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { StreamEnded } from '@acefleet/contracts';
import { Player, metric, storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  // 8 Mbit/s so a client that stops reading fills its socket buffers quickly.
  sim = buildSimulator({ bitrateBps: 8_000_000, burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    MAX_CLIENT_BACKLOG_BYTES: String(256 * 1024),
    SLOW_CLIENT_TIMEOUT_MS: '1500',
    RING_BYTES: String(4 * 1024 * 1024),
    JOIN_WINDOW_BYTES: String(512 * 1024),
  });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

const streamUrl = (id: string): string => `${proxy.url}/ace/getstream?id=${id}`;
/** A cold engine session of a test channel holds its first byte this long: the baseline "at once" beats. */
const COLD_START_MS = 2000;
/** Bytes the engine has sent for content `id` so far. */
const upstreamBytes = (id: string): number =>
  sim
    .stats()
    .sessions.filter((s) => s.contentId === id)
    .reduce((sum, s) => sum + s.bytesSent, 0);
const isPat = (b: Buffer): boolean =>
  b[0] === 0x47 && (b[1]! & 0x40) !== 0 && (b[1]! & 0x1f) === 0 && b[2] === 0;

test('proxy - a late joiner starts at once, on a PAT from the buffered window, sharing the one upstream', async (t) => {
  const id = '1111111111111111111111111111111111111111';
  sim.faults.setContent(id, { firstByteDelayMs: COLD_START_MS });
  const first = await Player.open(streamUrl(id));
  await waitFor(() => first.bytes > 500_000, 10_000 + COLD_START_MS);
  const before = sim.stats().sessionsStarted;
  const late = await Player.open(streamUrl(id));
  await waitFor(() => late.bytes >= 188 * 100, COLD_START_MS * 2);
  // The 50 ms p99 target is measured by bench/; here: at once, sooner than any engine session could start.
  t.log(
    `first byte: cold ${first.timeToFirstByteMs?.toFixed(0)} ms, late ${late.timeToFirstByteMs?.toFixed(0)} ms`,
  );
  t.true(
    late.timeToFirstByteMs! < COLD_START_MS,
    `late joiner first byte after ${late.timeToFirstByteMs} ms`,
  );
  t.true(isPat(late.head), 'the late joiner begins with a PAT');
  for (let at = 0; at + 188 <= late.head.length; at += 188) {
    if (late.head[at] !== 0x47) return t.fail(`no sync byte at ${at}: not on packet boundaries`);
  }
  t.is(sim.stats().sessionsStarted, before, 'no second upstream session');
  first.close();
  late.close();
});

test('proxy - a client that never reads does not stall the others and is dropped as slow', async (t) => {
  const id = '2222222222222222222222222222222222222222';
  const stuck = await Player.open(streamUrl(id));
  stuck.pause();
  const reader = await Player.open(streamUrl(id));
  const readerFrom = reader.bytes;
  const upstreamFrom = upstreamBytes(id);
  // A window of three seconds of media as the engine sent it (a loaded machine may take longer to send it);
  // the reader must have had all of it but what is in flight, whatever the stuck client does meanwhile.
  await waitFor(() => upstreamBytes(id) - upstreamFrom >= 3_000_000, 20_000);
  const sent = upstreamBytes(id) - upstreamFrom;
  const share = (reader.bytes - readerFrom) / sent;
  t.true(share > 0.85, `reader got ${(share * 100).toFixed(0)}% of the ${sent} bytes the engine sent`);
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  await waitFor(() => stream.viewers.size === 1, 15_000);
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  t.true(metric(text, 'acefleet_proxy_slow_client_drops_total') >= 1);
  // The drop shows once the stuck player reads again: its buffered bytes, then the end of the connection.
  stuck.resume();
  await stuck.closed;
  const upstream = upstreamBytes(id);
  t.log(`stuck client read ${stuck.bytes} bytes before its end, of ${upstream} the engine sent`);
  t.true(stuck.bytes < upstream, 'the stuck client was cut off short of the stream');
  const readerAt = reader.bytes;
  await waitFor(() => reader.bytes - readerAt >= 100_000, 10_000);
  t.false(reader.ended, 'the reader plays on');
  reader.close();
});

test('proxy - a stream whose only client stops reading ends with slow_client', async (t) => {
  const id = '2323232323232323232323232323232323232323';
  const stuck = await Player.open(streamUrl(id));
  stuck.pause();
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  const ended = await waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, streamEventsOf('ended'));
    return events.find((e) => e.data.streamId === stream.id) ?? false;
  }, 20_000);
  t.is(ended.data.reason, 'slow_client');
  stuck.resume();
  await stuck.closed;
});
