import test from 'ava';
import { ffprobeBytes } from '@acefleet/testkit';
import { CONTENT_ID, start, startSim } from './helpers.ts';

test('manifest.m3u8 starts an HLS session whose live playlist lists decodable TS segments', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=h`, 'manifest.m3u8');
  t.regex(r.playback_url, new RegExp(`^${url}/ace/m/${r.infohash}/[0-9a-f]{32}\\.m3u8$`));
  const res = await fetch(r.playback_url);
  t.is(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
  const lines = (await res.text()).trim().split('\n');
  t.is(lines[0], '#EXTM3U');
  t.true(lines.includes('#EXT-X-VERSION:3'));
  t.true(lines.some((l) => l.startsWith('#EXT-X-TARGETDURATION:')));
  t.true(lines.some((l) => l.startsWith('#EXT-X-MEDIA-SEQUENCE:')));
  const segments = lines.filter((l) => !l.startsWith('#'));
  t.is(segments.length, lines.filter((l) => l.startsWith('#EXTINF:')).length);
  t.true(segments.every((s) => new RegExp(`^${url}/ace/c/${r.infohash}/\\d+\\.ts$`).test(s)));
  const segment = await fetch(segments.at(-1)!);
  t.is(segment.headers.get('content-type'), 'video/mp2t');
  const probe = await ffprobeBytes(Buffer.from(await segment.arrayBuffer()));
  t.is(probe.formatName, 'mpegts');
  t.true(probe.streams.some((s) => s.codec_type === 'video'));
});

test('manifest.m3u8 without format=json redirects to the playlist; segments need a live session', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const res = await fetch(`${url}/ace/manifest.m3u8?id=${CONTENT_ID}`, { redirect: 'manual' });
  t.is(res.status, 302);
  t.regex(res.headers.get('location') ?? '', /\/ace\/m\/[0-9a-f]{40}\/[0-9a-f]{32}\.m3u8$/);
  t.is((await fetch(`${url}/ace/c/${'0'.repeat(40)}/1.ts`)).status, 404);
});
