import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
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
const isPat = (b: Buffer): boolean =>
  b[0] === 0x47 && (b[1]! & 0x40) !== 0 && (b[1]! & 0x1f) === 0 && b[2] === 0;

test('proxy - a late joiner starts at once, on a PAT from the buffered window, sharing the one upstream', async (t) => {
  const id = '1111111111111111111111111111111111111111';
  const first = await Player.open(streamUrl(id));
  await waitFor(() => first.bytes > 500_000, 10_000);
  const before = sim.stats().sessionsStarted;
  const late = await Player.open(streamUrl(id));
  await waitFor(() => late.bytes >= 188 * 100, 5_000);
  // The 50 ms p99 target is measured by bench/; here: at once, not after a new engine session.
  t.true(late.timeToFirstByteMs! < 250, `late joiner first byte after ${late.timeToFirstByteMs} ms`);
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
  const startBytes = reader.bytes;
  const started = performance.now();
  await sleep(3000);
  const seconds = (performance.now() - started) / 1000;
  const rate = ((reader.bytes - startBytes) * 8) / seconds;
  t.true(rate > 8_000_000 * 0.9, `reader kept ${(rate / 1e6).toFixed(2)} Mbit/s of 8`);
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  await waitFor(() => stream.viewers.size === 1, 15_000);
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  t.true(metric(text, 'acefleet_proxy_slow_client_drops_total') >= 1);
  // The drop shows once the stuck player reads again: its buffered bytes, then the end of the connection.
  stuck.resume();
  await stuck.closed;
  t.pass();
  reader.close();
});

test('proxy - a stream whose only client stops reading ends with slow_client', async (t) => {
  const id = '2323232323232323232323232323232323232323';
  const stuck = await Player.open(streamUrl(id));
  stuck.pause();
  const stream = proxy.proxy.hub.all().find((s) => s.content.value === id)!;
  const ended = await waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, 'acefleet.events.stream.ended');
    return events.find((e) => e.data.streamId === stream.id) ?? false;
  }, 20_000);
  t.is(ended.data.reason, 'slow_client');
  stuck.resume();
  await stuck.closed;
});
