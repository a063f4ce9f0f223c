import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  PACKET_SIZE,
  ProgramTracker,
  hasPayloadAt,
  inspectTs,
  pidAt,
  timestampDelta,
} from '@acefleet/mpegts';
import { ffprobeBytes, waitFor } from '@acefleet/testkit';
import { infohashOfContentId } from '../src/index.ts';
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
  const r = await start(url, `id=${CONTENT_ID}`, 'manifest.m3u8');
  const tooFar = await fetch(`${url}/ace/c/${r.infohash}/${'9'.repeat(400)}.ts`);
  t.is(tooFar.status, 404, 'a segment number no timeline reaches');
});

const run = promisify(execFile);

interface Playlist {
  target: number;
  sequence: number;
  durations: number[];
  segments: string[];
}

async function playlist(url: string): Promise<Playlist> {
  const lines = (await (await fetch(url)).text()).trim().split('\n');
  const tag = (name: string): number => Number(lines.find((l) => l.startsWith(name))!.slice(name.length));
  return {
    target: tag('#EXT-X-TARGETDURATION:'),
    sequence: tag('#EXT-X-MEDIA-SEQUENCE:'),
    durations: lines.filter((l) => l.startsWith('#EXTINF:')).map((l) => parseFloat(l.slice(8))),
    segments: lines.filter((l) => !l.startsWith('#')),
  };
}

const bytesOf = async (url: string): Promise<Buffer> => Buffer.from(await (await fetch(url)).arrayBuffer());

/** The first packets of a segment, as a player starting there meets them. */
function head(segment: Buffer): { pat: boolean; pmtBeforeVideo: boolean; keyFrameFirst: boolean } {
  const tracker = new ProgramTracker();
  let firstVideo = -1;
  let keyFrame = -1;
  tracker.scan(segment, 0, segment.length, (at) => (keyFrame = keyFrame < 0 ? at : keyFrame));
  const videoPid = tracker.map?.streams.find((s) => s.kind === 'video')?.pid;
  for (let at = 0; at < segment.length && firstVideo < 0; at += PACKET_SIZE) {
    if (pidAt(segment, at) === videoPid && hasPayloadAt(segment, at)) firstVideo = at;
  }
  const pmtPid = tracker.currentTables ? pidAt(tracker.currentTables.pmt[0]!, 0) : -1;
  let pmtAt = -1;
  for (let at = 0; at < segment.length && pmtAt < 0; at += PACKET_SIZE)
    if (pidAt(segment, at) === pmtPid) pmtAt = at;
  return {
    pat: pidAt(segment, 0) === 0,
    pmtBeforeVideo: pmtAt >= 0 && pmtAt < firstVideo,
    keyFrameFirst: firstVideo >= 0 && firstVideo === keyFrame,
  };
}

test('HLS - every segment starts with PAT, PMT and a key frame, and the segments join with no break', async (t) => {
  const { sim, url } = await startSim({ segmentSeconds: 2 });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=h`, 'manifest.m3u8');
  const list = await playlist(r.playback_url);
  t.deepEqual(list.durations, [2, 2, 2, 2, 2], 'two GOPs of 1 s each');
  t.true(
    list.durations.every((d) => Math.round(d) <= list.target),
    `TARGETDURATION ${list.target}`,
  );
  const segments = await Promise.all(list.segments.map(bytesOf));
  for (const [i, segment] of segments.entries()) {
    t.deepEqual(head(segment), { pat: true, pmtBeforeVideo: true, keyFrameFirst: true }, `segment ${i}`);
  }
  const joined = inspectTs(Buffer.concat(segments));
  t.deepEqual(
    [joined.continuityErrors, joined.timestampJumps, joined.pcrJumps],
    [[], [], []],
    'counters and timestamps run on from one segment to the next',
  );
  t.is(joined.keyFrames.length, 10);
  const video = [...joined.firstTimestamp.keys()][0]!;
  t.is(
    timestampDelta(joined.lastTimestamp.get(video)!, joined.firstTimestamp.get(video)!),
    (5 * 50 - 1) * 3600,
    '10 s of video, 40 ms a frame',
  );
});

test('HLS - the media sequence is the segment’s place on the timeline: it moves on with the clock and two engines agree', async (t) => {
  const engines = await Promise.all([startSim(), startSim()]);
  t.teardown(() => Promise.all(engines.map(({ sim }) => sim.close())));
  const urls = await Promise.all(
    engines.map(async ({ url }) => (await start(url, `id=${CONTENT_ID}`, 'manifest.m3u8')).playback_url),
  );
  const [a, b] = await Promise.all(urls.map(playlist));
  t.true(Math.abs(a!.sequence - b!.sequence) <= 1, `${a!.sequence} and ${b!.sequence}`);
  // The live window ends at the wall clock: a 2 s segment of the content's channel.
  const { timeline } = engines[0].sim;
  const live = timeline.livePacket(timeline.phaseOf(infohashOfContentId(CONTENT_ID)));
  t.true(Math.abs(a!.sequence + 5 - live / 2000) <= 2, `sequence ${a!.sequence} at packet ${live}`);
  // Segment n is the same bytes on both engines.
  const n = Math.max(a!.sequence, b!.sequence);
  const [fromA, fromB] = await Promise.all(
    [a!, b!].map((list) => bytesOf(list.segments[n - list.sequence]!)),
  );
  t.true(fromA!.equals(fromB!), 'one segment, byte for byte');
  const moved = await waitFor(async () => {
    const next = await playlist(urls[0]!);
    return next.sequence > a!.sequence && next;
  }, 5000);
  t.is(moved.segments[0], a!.segments[moved.sequence - a!.sequence], 'the window slid along the same names');
});

test('HLS - ffmpeg decodes the live playlist from its first segment without an error', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`, 'manifest.m3u8');
  const { stderr } = await run(
    'ffmpeg',
    ['-v', 'error', '-live_start_index', '0', '-i', r.playback_url, '-t', '6', '-f', 'null', '-'],
    { timeout: 60_000 },
  );
  t.is(stderr, '');
});
