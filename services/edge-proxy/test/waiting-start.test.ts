import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { StreamEnded } from '@acefleet/contracts';
import { NULL_PID, PACKET_SIZE, inspectTs, pidAt } from '@acefleet/mpegts';
import { Player, metric, storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 17: a real engine warms up for 5-25 s before its first byte. The player gets its response head
 * within a second anyway (WAIT_HEAD_MS, 500 ms by default) and null packets until the media comes, so a
 * player with a short read timeout stays; the first media it gets is a PAT, a PMT and a key frame.
 */
const run = promisify(execFile);
const ENGINE_WARM_UP_MS = 15_000;

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({ STATIC_ENGINES: url });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

async function endedOf(id: string): Promise<StreamEnded> {
  return waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, 'acefleet.events.stream.ended');
    return events.find((e) => e.data.content.value === id)?.data ?? false;
  }, 15_000);
}

/** The body's first packets after the null packets sent while the engine warmed up. */
function firstMedia(body: Buffer): Buffer {
  let at = 0;
  while (at + PACKET_SIZE <= body.length && pidAt(body, at) === NULL_PID) at += PACKET_SIZE;
  return body.subarray(at);
}

test('proxy - an engine that warms up for 15 s: head within 1 s, null packets meanwhile, ffprobe with a 5 s read timeout plays it', async (t) => {
  const id = 'a1'.repeat(20);
  sim.faults.setContent(id, { firstByteDelayMs: ENGINE_WARM_UP_MS });
  const url = `${proxy.url}/ace/getstream?id=${id}`;
  const requestedAt = performance.now();
  const player = await Player.open(url, 2_000_000);
  const headMs = performance.now() - requestedAt;
  t.log(`response head after ${headMs.toFixed(0)} ms`);
  t.is(player.status, 200);
  t.true(headMs < 1000, `head after ${headMs.toFixed(0)} ms`);
  // ffprobe gives up on a read that waits 5 s: the null packets keep it reading through the warm-up.
  const probe = run(
    'ffprobe',
    ['-v', 'error', '-rw_timeout', '5000000', '-show_streams', '-of', 'json', url],
    { timeout: ENGINE_WARM_UP_MS + 30_000 },
  );
  await waitFor(() => player.bytes >= 5 * PACKET_SIZE * 4, 5_000);
  t.is(player.firstMediaAt, undefined, 'nothing but null packets while the engine warms up');
  const { stdout } = await probe;
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string }[] }).streams;
  t.deepEqual(streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  await waitFor(() => player.firstMediaAt !== undefined && player.bytes > 500_000, 10_000);
  // The engine's first byte: its session started, then its playback answered after the warm-up.
  const session = sim.stats().sessions.find((s) => s.contentId === id)!;
  const engineFirstByte = session.startedAt + ENGINE_WARM_UP_MS;
  const lagMs = performance.timeOrigin + player.firstMediaAt! - engineFirstByte;
  t.log(`first media ${lagMs.toFixed(0)} ms after the engine's first byte`);
  t.true(lagMs < 1000, `first media ${lagMs.toFixed(0)} ms after the engine's first byte`);
  const media = firstMedia(player.head);
  t.is(pidAt(media, 0), 0, 'a PAT first');
  const report = inspectTs(media);
  t.truthy(report.map, 'then its PMT');
  t.is(report.keyFrames[0], 2 * PACKET_SIZE, 'then a key frame');
  player.close();
  sim.faults.clearContent(id);
});

test('proxy - a start that fails after the head went out ends the body cleanly, and stream.ended says why', async (t) => {
  const id = 'a2'.repeat(20);
  // The engine takes 2 s to refuse the content: the waiting player has its head by then.
  sim.faults.setContent(id, { startDelayMs: 2_000, offline: true });
  const player = await Player.open(`${proxy.url}/ace/getstream?id=${id}`);
  t.is(player.status, 200);
  await player.closed;
  t.true(player.ended, 'the player saw the end of its body');
  t.is(player.firstMediaAt, undefined);
  t.true(player.bytes > 0 && player.bytes % PACKET_SIZE === 0, `${player.bytes} bytes of null packets`);
  t.is((await endedOf(id)).reason, 'content_unavailable');
  const text = await (await fetch(`${proxy.url}/metrics`)).text();
  t.true(metric(text, 'acefleet_proxy_streams_ended_total', 'reason="content_unavailable"') >= 1);
  sim.faults.clearContent(id);
});

test('proxy - a start that fails at once still answers with its error status', async (t) => {
  const id = 'a3'.repeat(20);
  sim.faults.setContent(id, { offline: true });
  const res = await fetch(`${proxy.url}/ace/getstream?id=${id}`);
  t.is(res.status, 404);
  t.like(await res.json(), { error: { code: 'content_unavailable' } });
  sim.faults.clearContent(id);
});

test('proxy - HLS from an engine slow to start: a master playlist at once, and ffprobe plays on when the segments exist', async (t) => {
  const id = 'a4'.repeat(20);
  sim.faults.setContent(id, { startDelayMs: 4_000 });
  const url = `${proxy.url}/ace/manifest.m3u8?id=${id}`;
  const t0 = performance.now();
  const res = await fetch(url);
  const answeredMs = performance.now() - t0;
  const text = await res.text();
  t.log(`manifest answered after ${answeredMs.toFixed(0)} ms`);
  t.true(answeredMs < 1000, `manifest after ${answeredMs.toFixed(0)} ms`);
  t.regex(text, /#EXT-X-STREAM-INF:BANDWIDTH=\d+\n\/ace\/hls\/[0-9a-f-]+\/live\.m3u8\n/);
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', url], {
    timeout: 60_000,
  });
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string }[] }).streams;
  t.deepEqual(streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  sim.faults.clearContent(id);
});

test('proxy - HLS: a slow start that fails answers the live playlist with its error', async (t) => {
  const id = 'a5'.repeat(20);
  sim.faults.setContent(id, { startDelayMs: 2_000, offline: true });
  const master = await (await fetch(`${proxy.url}/ace/manifest.m3u8?id=${id}`)).text();
  const live = master.split('\n').find((line) => line.endsWith('live.m3u8'))!;
  const res = await fetch(`${proxy.url}${live}`);
  t.is(res.status, 404);
  t.like(await res.json(), { error: { code: 'content_unavailable' } });
  sim.faults.clearContent(id);
});
