import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { keyFrameAt, PACKET_SIZE, pidAt, ProgramTracker, unitStartAt } from '@acefleet/mpegts';
import { ffprobe, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let simUrl: string;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ segmentSeconds: 1 });
  simUrl = (await sim.listen()).url;
  proxy = await startProxy({ STATIC_ENGINES: simUrl, HLS_SEGMENT_SECONDS: '1', HLS_PLAYLIST_SEGMENTS: '3' });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

const manifest = (id: string): string => `${proxy.url}/ace/manifest.m3u8?id=${id}`;

async function playlist(url: string, player = 'player'): Promise<string> {
  const res = await fetch(url, { headers: { 'user-agent': player }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`playlist: HTTP ${res.status} ${await res.text()}`);
  return res.text();
}

const segmentsOf = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('/ace/hls/'));

async function segment(path: string): Promise<Buffer> {
  const res = await fetch(`${proxy.url}${path}`, {
    headers: { 'user-agent': 'vlc' },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`segment ${path}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The segment opens with the PAT, then the PMT, and its first video picture is a key frame. */
function startsOnKeyFrame(body: Buffer): boolean {
  if (body.length === 0 || body.length % PACKET_SIZE !== 0 || pidAt(body, 0) !== 0) return false;
  const program = new ProgramTracker();
  let keyFrame: boolean | undefined;
  for (let at = 0; at < body.length && keyFrame === undefined; at += PACKET_SIZE) {
    program.scan(body, at, at + PACKET_SIZE);
    const video = program.map?.streams.find((s) => s.kind === 'video');
    if (video && pidAt(body, at) === video.pid && unitStartAt(body, at)) {
      keyFrame = keyFrameAt(body, at, video.codec);
    }
  }
  return keyFrame === true && program.map !== undefined;
}

test.serial('proxy - ffprobe reads the HLS the proxy cuts', async (t) => {
  const probe = await ffprobe(manifest('1'.repeat(40)));
  t.is(probe.formatName, 'hls');
  t.true(probe.streams.some((s) => s.codec_type === 'video'));
});

test.serial(
  'proxy - 2 MPEG-TS and 2 HLS players of one channel share one engine session, and every segment starts on a key frame',
  async (t) => {
    const id = '2'.repeat(40);
    const started = sim.stats().sessionsStarted;
    const ts = [0, 1].map(() => new AbortController());
    const tsBytes = [0, 0];
    await Promise.all(
      ts.map(async (abort, i) => {
        const res = await fetch(`${proxy.url}/ace/getstream?id=${id}`, { signal: abort.signal });
        const reader = res.body!.getReader();
        void (async () => {
          for (;;) {
            // Aborted at the end of the test: the read ends.
            const { value } = await reader.read().catch(() => ({ value: undefined }));
            if (!value) return;
            tsBytes[i]! += value.length;
          }
        })();
      }),
    );
    const lists = await Promise.all(['vlc', 'kodi'].map((p) => playlist(manifest(id), p)));
    const enginePort = new URL(simUrl).port;
    for (const text of lists) {
      t.true(text.startsWith('#EXTM3U'));
      t.false(text.includes(enginePort), 'no engine address in the playlist');
    }
    // A few segments on, each one fetched is whole TS that starts at a key frame behind PAT and PMT.
    const fetched = new Set<string>();
    await waitFor(async () => {
      for (const path of segmentsOf(await playlist(manifest(id), 'vlc'))) {
        if (fetched.has(path)) continue;
        fetched.add(path);
        const body = await segment(path);
        t.true(startsOnKeyFrame(body), `${path} starts on a key frame behind PAT and PMT`);
      }
      return fetched.size >= 4;
    }, 30_000);
    t.true(
      tsBytes.every((n) => n > 0),
      'the MPEG-TS players get bytes too',
    );
    t.is(sim.stats().sessionsStarted - started, 1, 'one engine session for the four players');
    type Listed = { streamId: string; clients: number; content: { value: string } };
    const view = (await (await fetch(`${proxy.url}/api/streams`)).json()) as {
      streams: Listed[];
      hls: Listed[];
    };
    const streams = view.streams.filter((s) => s.content.value === id);
    const hls = view.hls.filter((s) => s.content.value === id);
    t.is(streams.length, 1);
    t.is(hls[0]?.streamId, streams[0]!.streamId, 'the HLS output is the same stream');
    t.is(streams[0]!.clients, 4);
    t.is(hls[0]!.clients, 2);
    for (const abort of ts) abort.abort();
  },
);

test.serial('proxy - a segment that has left the window answers 404 with a JSON error', async (t) => {
  const id = '3'.repeat(40);
  const first = segmentsOf(await playlist(manifest(id)))[0]!;
  // Three in the playlist and two behind it: the first has gone once six newer ones came.
  await waitFor(async () => {
    const newest = segmentsOf(await playlist(manifest(id))).at(-1)!;
    return Number(/(\d+)\.ts$/.exec(newest)![1]) >= Number(/(\d+)\.ts$/.exec(first)![1]) + 6;
  }, 30_000);
  const res = await fetch(`${proxy.url}${first}`, { signal: AbortSignal.timeout(5_000) });
  t.is(res.status, 404);
  t.like(await res.json(), { error: { code: 'not_found' } });
  const odd = await fetch(`${first.replace(/\d+\.ts$/, 'x.ts')}`.replace(/^/, proxy.url));
  t.is(odd.status, 404);
});

test.serial('proxy - an unknown HLS session answers 404 stream_not_found', async (t) => {
  const res = await fetch(`${proxy.url}/ace/hls/nope/1.ts`);
  t.is(res.status, 404);
  t.like(await res.json(), { error: { code: 'stream_not_found' } });
});
