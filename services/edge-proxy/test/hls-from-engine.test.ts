import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { ffprobe, Player, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ segmentSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({ STATIC_ENGINES: url, HLS_FROM_ENGINE: 'true' });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

test('proxy - HLS_FROM_ENGINE: the engine HLS session feeds MPEG-TS and HLS players alike, one session', async (t) => {
  const id = '9'.repeat(40);
  const started = sim.stats().sessionsStarted;
  const served = sim.stats().segmentsServed;
  const player = await Player.open(`${proxy.url}/ace/getstream?id=${id}`, 0);
  t.teardown(() => player.close());
  await waitFor(() => player.bytes > 300_000, 20_000);
  t.true(sim.stats().segmentsServed > served, 'the proxy read engine segments');
  const probe = await ffprobe(`${proxy.url}/ace/manifest.m3u8?id=${id}`);
  t.is(probe.formatName, 'hls');
  t.true(probe.streams.some((s) => s.codec_type === 'video'));
  t.is(sim.stats().sessionsStarted - started, 1, 'one engine session');
});
