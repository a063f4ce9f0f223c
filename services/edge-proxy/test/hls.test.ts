import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { ffprobe } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let simUrl: string;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ segmentSeconds: 1 });
  simUrl = (await sim.listen()).url;
  proxy = await startProxy({ STATIC_ENGINES: simUrl });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

const manifest = (id: string): string => `${proxy.url}/ace/manifest.m3u8?id=${id}`;

test.serial('proxy - ffprobe reads the proxied HLS stream', async (t) => {
  const probe = await ffprobe(manifest('1'.repeat(40)));
  t.is(probe.formatName, 'hls');
  t.true(probe.streams.some((s) => s.codec_type === 'video'));
});

test.serial(
  'proxy - the playlist never shows the engine address and players share each segment fetch',
  async (t) => {
    const id = '2'.repeat(40);
    const playlists = await Promise.all([0, 1, 2].map(async () => (await fetch(manifest(id))).text()));
    const enginePort = new URL(simUrl).port;
    for (const text of playlists) {
      t.true(text.startsWith('#EXTM3U'));
      t.false(text.includes(enginePort), 'no engine address in the playlist');
    }
    const segments = playlists[0]!.split('\n').filter((l) => l.startsWith('/ace/hls/'));
    t.true(segments.length >= 3);
    t.deepEqual(
      playlists.map((p) => p.split('\n').filter((l) => l.startsWith('/ace/hls/'))),
      [segments, segments, segments],
      'every player sees the same segment names',
    );
    const served = sim.stats().segmentsServed;
    const bodies = await Promise.all(
      [0, 1, 2].map(async () =>
        Buffer.from(await (await fetch(`${proxy.url}${segments.at(-1)}`)).arrayBuffer()),
      ),
    );
    t.is(sim.stats().segmentsServed, served + 1, 'one engine fetch for three players');
    t.true(bodies.every((b) => b.length > 0 && b.length % 188 === 0 && b[0] === 0x47));
  },
);

test.serial('proxy - an unknown HLS session answers 404 stream_not_found', async (t) => {
  const res = await fetch(`${proxy.url}/ace/hls/nope/1.ts`);
  t.is(res.status, 404);
  t.like(await res.json(), { error: { code: 'stream_not_found' } });
});
