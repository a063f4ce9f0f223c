import test from 'ava';
import { Player, ffprobeBytes, randomContentId, waitFor } from '@acefleet/testkit';
import { get } from 'node:http';
import { CONTENT_ID, readBody, start, startSim } from './helpers.ts';

test('playback is chunked MPEG-TS with a video stream that ffprobe identifies', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=p`);
  const body = await readBody(r.playback_url, 1500);
  t.is(body.status, 200);
  t.is(body.headers['content-type'], 'video/mp2t');
  t.is(body.headers['transfer-encoding'], 'chunked');
  t.is(body.ended, 'timeout', 'the live body is endless');
  t.is(body.bytes[0], 0x47);
  const probe = await ffprobeBytes(body.bytes);
  t.is(probe.formatName, 'mpegts');
  t.true(probe.streams.some((s) => s.codec_type === 'video'));
});

test('playback sends the burst at once, then paces at the configured bitrate in whole TS packets', async (t) => {
  const bitrateBps = 800_000;
  const { sim, url } = await startSim({ bitrateBps, burstSeconds: 1 });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  const early = await readBody(r.playback_url, 300);
  t.true(early.bytes.length >= 100_000, `burst of 1 s at 100 kB/s, got ${early.bytes.length}`);
  const body = await readBody(r.playback_url, 2000);
  const expected = (bitrateBps / 8) * 3; // burst + 2 s
  t.true(Math.abs(body.bytes.length - expected) < expected * 0.15, `${body.bytes.length} vs ${expected}`);
  t.is(body.bytes.length % 188, 0);
  for (let i = 0; i < body.bytes.length; i += 188)
    if (body.bytes[i] !== 0x47) return t.fail(`no sync at ${i}`);
});

test('a reader that does not read gets backpressure, not an unbounded buffer', async (t) => {
  const { sim, url } = await startSim({ bitrateBps: 200_000_000, burstSeconds: 0 });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  const req = get(r.playback_url, (res) => res.pause());
  req.on('error', () => undefined);
  t.teardown(() => req.destroy());
  // A reader of another session, at the same bitrate, is the clock: what it got is what the engine would send.
  const control = await Player.open((await start(url, `id=${randomContentId()}`)).playback_url, 0);
  t.teardown(() => control.close());
  const pausedSent = (): number => sim.stats().sessions.find((s) => s.contentId === CONTENT_ID)!.bytesSent;

  await waitFor(() => control.bytes >= 50_000_000, 30_000);
  const sent = pausedSent();
  // 2 s at 25 MB/s is 50 MB; what is in flight is bounded by socket buffers and one credit.
  t.log(`the paused session sent ${sent} bytes while the reading one got ${control.bytes}`);
  t.true(sent < 40_000_000, `sent ${sent}`);
  const from = control.bytes;
  await waitFor(() => control.bytes - from >= 12_500_000, 30_000);
  t.true(pausedSent() - sent < 1_000_000, 'nothing more goes out while paused');
});
