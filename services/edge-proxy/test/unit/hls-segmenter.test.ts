import { readFileSync } from 'node:fs';
import test from 'ava';
import { Registry } from 'prom-client';
import { inspectTs, PACKET_SIZE, pidAt, ProgramTracker } from '@acefleet/mpegts';
import { createLogger } from '@acefleet/platform';
import { repoRoot } from '@acefleet/testkit';
import { Fanout, KEY_FRAME_SEEN } from '../../src/fanout/fanout.ts';
import { FlushClock } from '../../src/fanout/flush-clock.ts';
import { RingMemory } from '../../src/fanout/ring-memory.ts';
import { Segmenter } from '../../src/hls/segmenter.ts';
import { createProxyMetrics } from '../../src/metrics.ts';

/** The simulator's clip: 12 s of H.264 with a key frame every second, PAT/PMT in front of each. */
const clip = readFileSync(`${repoRoot}/tools/ace-sim/media/testsrc-320x240-12s.mpegts`);

function fanoutWith(memory: RingMemory): Fanout {
  return new Fanout({
    settings: {
      ringBytes: 4 * 1024 * 1024,
      ringSeconds: 2,
      joinWindowMs: 1500,
      joinWindowBytes: 1024 * 1024,
      viewer: { maxBacklogBytes: 1024 * 1024, slowClientTimeoutMs: 10_000 },
    },
    metrics: createProxyMetrics(new Registry(), () => ({ clients: 0, streams: 0 })),
    log: createLogger('hls-segmenter-test', 'silent'),
    memory,
    clock: new FlushClock(() => 1000),
    onViewersChanged: () => {},
  });
}

/** The clip fed in reads of `chunk` bytes, as an engine body would come; returns what each push reported. */
function feed(fanout: Fanout, program: ProgramTracker, chunk = 64 * PACKET_SIZE): number[] {
  const seen: number[] = [];
  for (let at = 0; at < clip.length; at += chunk) {
    seen.push(fanout.push([clip.subarray(at, Math.min(clip.length, at + chunk))], 0, program));
  }
  return seen;
}

// Regression: `seen |= scan(…, () => (seen |= KEY_FRAME_SEEN))` lost the bit, so every stream failed
// with "no key frame for 10 s" after ten seconds (found by the benchmark).
test('fanout - a push that carries a key frame says so', (t) => {
  const fanout = fanoutWith(new RingMemory(1 << 30));
  const seen = feed(fanout, new ProgramTracker());
  const withKey = seen.filter((s) => s & KEY_FRAME_SEEN).length;
  t.true(withKey >= 11, `${withKey} pushes with a key frame in 12 s of one a second`);
  fanout.close();
});

test('segmenter - segments start at a key frame behind PAT and PMT, last about the target, and stay within the window', (t) => {
  const memory = new RingMemory(1 << 30);
  const fanout = fanoutWith(memory);
  const segmenter = new Segmenter({ targetSeconds: 2, playlistSegments: 3 }, memory);
  fanout.feed(segmenter, 0);
  feed(fanout, new ProgramTracker());
  const segments = segmenter.segments;
  t.is(segments.length, 5, 'three in the playlist, two behind it');
  for (const s of segments) {
    t.is(pidAt(s.data, 0), 0, `segment ${s.sequence} opens with the PAT`);
    const report = inspectTs(s.data);
    const video = report.map!.streams.find((st) => st.kind === 'video')!;
    const firstVideo = [...Array(s.data.length / PACKET_SIZE).keys()].find(
      (i) => pidAt(s.data, i * PACKET_SIZE) === video.pid,
    )!;
    t.is(
      report.keyFrames[0],
      firstVideo * PACKET_SIZE,
      `segment ${s.sequence}: its first picture is a key frame`,
    );
    t.true(Math.abs(s.durationS - 2) < 0.05, `segment ${s.sequence}: ${s.durationS} s`);
  }
  t.is(segmenter.segment(segments[0]!.sequence - 1), undefined, 'a segment that left the cache is gone');
  const playlist = segmenter.playlist('/ace/hls/x', '');
  t.regex(playlist, /#EXT-X-TARGETDURATION:2\n/);
  t.is(playlist.split('\n').filter((l) => l.startsWith('/ace/hls/x/')).length, 3);
  t.true(segmenter.heldBytes > 0);
  fanout.close();
  segmenter.close();
  t.is(memory.usedBytes, 0, 'ring and segments give their memory back');
});

test('segmenter - after a break the next segment is cut at once and the playlist flags it once', (t) => {
  const memory = new RingMemory(1 << 30);
  const fanout = fanoutWith(memory);
  const segmenter = new Segmenter({ targetSeconds: 4, playlistSegments: 5 }, memory);
  fanout.feed(segmenter, 0);
  const program = new ProgramTracker();
  const half = Math.floor(clip.length / 2 / PACKET_SIZE) * PACKET_SIZE;
  fanout.push([clip.subarray(0, half)], 0, program);
  segmenter.discontinuity();
  fanout.push([clip.subarray(half)], 0, program);
  const playlist = segmenter.playlist('/s', '');
  t.is(playlist.split('\n').filter((l) => l === '#EXT-X-DISCONTINUITY').length, 1, playlist);
  t.regex(playlist, /#EXT-X-DISCONTINUITY-SEQUENCE:0\n/);
  fanout.close();
  segmenter.close();
});

test('segmenter - idle while nobody polls: no cutting, its memory back; fed again, the sequence goes on after a break', (t) => {
  const memory = new RingMemory(1 << 30);
  const fanout = fanoutWith(memory);
  const segmenter = new Segmenter({ targetSeconds: 2, playlistSegments: 3 }, memory);
  const program = new ProgramTracker();
  fanout.feed(segmenter, 0);
  const half = Math.floor(clip.length / 2 / PACKET_SIZE) * PACKET_SIZE;
  fanout.push([clip.subarray(0, half)], 0, program);
  const last = segmenter.segments.at(-1)!.sequence;
  const before = memory.usedBytes;
  fanout.unfeed();
  segmenter.idle();
  t.is(segmenter.segments.length, 0);
  t.true(memory.usedBytes < before, 'the segments gave their memory back');
  fanout.push([clip.subarray(half)], 0, program);
  t.is(segmenter.segments.length, 0, 'nothing is cut while idle');
  fanout.feed(segmenter, 0);
  fanout.push([clip], 0, program);
  const playlist = segmenter.playlist('/s', '');
  t.true(segmenter.segments[0]!.sequence > last, 'the sequence goes on');
  t.regex(playlist, /#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
  fanout.close();
  segmenter.close();
});
