import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import {
  PACKET_SIZE,
  ProgramTracker,
  SectionReader,
  Seen,
  TIMESTAMP_WRAP,
  continuityAt,
  discontinuityPacket,
  inspectTs,
  keyFrameAt,
  nullPacket,
  parsePmt,
  pcrPacket,
  pcrAt,
  pesTimestampsAt,
  pidAt,
  randomAccessAt,
  sectionCrc,
  setContinuityAt,
  setPcrAt,
  shiftPesTimestampsAt,
  timestampDelta,
  unitStartAt,
  wrapTimestamp,
  withDiscontinuity,
  discontinuityAt,
} from '@acefleet/mpegts';

const run = promisify(execFile);

/** A clip made by ffmpeg, as a real muxer writes one: `seconds` of test pattern and tone. */
async function clip(videoCodec: string[], seconds: number): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-mpegts-'));
  try {
    const file = path.join(dir, 'clip.ts');
    await run('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=160x120:rate=25:duration=${seconds}`,
      ],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
      ...videoCodec,
      ...['-g', '25', '-c:a', 'mp2', '-b:a', '64k', '-f', 'mpegts', file],
    ]);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each packet of `bytes` with random_access_indicator cleared, so only the payload can tell a key frame. */
function withoutRandomAccess(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  for (let at = 0; at < copy.length; at += PACKET_SIZE) {
    if (randomAccessAt(copy, at)) copy[at + 5] = copy[at + 5]! & ~0x40;
  }
  return copy;
}

test('inspectTs - an ffmpeg H.264 clip: its programme, one key frame per GOP, no break', async (t) => {
  const bytes = await clip(['-c:v', 'libx264', '-preset', 'veryfast'], 3);
  const report = inspectTs(bytes);
  t.is(report.syncErrors, 0);
  t.deepEqual(
    report.map?.streams.map((s) => [s.kind, s.codec]),
    [
      ['video', 'h264'],
      ['audio', 'mpegaudio'],
    ],
  );
  t.is(report.keyFrames.length, 3, '3 s at one key frame a second');
  t.deepEqual(report.continuityErrors, []);
  t.deepEqual(report.timestampJumps, []);
  t.deepEqual(report.pcrJumps, []);
  // Without the muxer's random_access_indicator, the IDR / SPS in the payload still marks each one.
  t.deepEqual(inspectTs(withoutRandomAccess(bytes)).keyFrames, report.keyFrames);
});

test('keyFrameAt - MPEG-2 video: a sequence or GOP header starts a key frame, other pictures do not', async (t) => {
  const bytes = withoutRandomAccess(await clip(['-c:v', 'mpeg2video', '-b:v', '300k'], 3));
  const tracker = new ProgramTracker();
  const keys: number[] = [];
  let videoStarts = 0;
  tracker.scan(bytes, 0, bytes.length, (at) => keys.push(at));
  const videoPid = tracker.map!.streams.find((s) => s.kind === 'video')!.pid;
  for (let at = 0; at < bytes.length; at += PACKET_SIZE) {
    if (pidAt(bytes, at) === videoPid && unitStartAt(bytes, at)) videoStarts++;
  }
  t.is(tracker.map!.streams[0]!.codec, 'mpeg2video');
  t.is(keys.length, 3);
  t.is(videoStarts, 75, 'every frame starts a PES, and only one in 25 is a key frame');
  t.true(keys.every((at) => keyFrameAt(bytes, at, 'mpeg2video')));
});

test('PES timestamps and PCR - rewritten in place, across the 2^33 wrap', (t) => {
  const packet = Buffer.alloc(PACKET_SIZE, 0xff);
  // Header: PUSI, PID 0x100, adaptation (PCR) + payload.
  packet.set([0x47, 0x41, 0x00, 0x30, 7, 0x10, 0, 0, 0, 0, 0x7e, 0x00]);
  // PES: start code, video stream id, length 0, flags, PTS+DTS, header length 10.
  packet.set([0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10, 0x31, 0, 1, 0, 1, 0x11, 0, 1, 0, 1], 12);
  const near = TIMESTAMP_WRAP - 45_000;
  t.true(setPcrAt(packet, 0, near));
  t.is(pcrAt(packet, 0), near);
  t.true(shiftPesTimestampsAt(packet, 0, near));
  const before = pesTimestampsAt(packet, 0);
  t.deepEqual(before, { pts: near, dts: near });
  t.true(shiftPesTimestampsAt(packet, 0, 90_000));
  t.deepEqual(pesTimestampsAt(packet, 0), { pts: 45_000, dts: 45_000 }, 'wrapped past 2^33');
  t.is(timestampDelta(45_000, near), 90_000);
  t.is(timestampDelta(near, 45_000), -90_000);
  t.is(wrapTimestamp(-1), TIMESTAMP_WRAP - 1);
  setPcrAt(packet, 0, TIMESTAMP_WRAP + 5);
  t.is(pcrAt(packet, 0), 5);
  t.false(setPcrAt(nullPacket(), 0, 1), 'no PCR field to write');
  t.deepEqual(pesTimestampsAt(nullPacket(), 0), { pts: undefined, dts: undefined });
});

test('SectionReader - a section over two packets is reassembled; a bad CRC is dropped', (t) => {
  // A PMT with 40 audio streams (5 bytes each): longer than one packet.
  const streams = Array.from({ length: 40 }, (_, i) => [0x03, 0xe1, 0x00 + i, 0xf0, 0x00]).flat();
  const body = [0x02, 0, 0, 0x00, 0x01, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0x00, ...streams];
  body[1] = 0xb0 | ((body.length + 4 - 3) >> 8);
  body[2] = (body.length + 4 - 3) & 0xff;
  const crc = sectionCrc(Uint8Array.from(body));
  const section = Buffer.from([...body, crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
  t.is(sectionCrc(section), 0);
  const first = Buffer.alloc(PACKET_SIZE, 0xff);
  first.set([0x47, 0x50, 0x00, 0x10, 0x00]);
  section.copy(first, 5, 0, PACKET_SIZE - 5);
  const second = Buffer.alloc(PACKET_SIZE, 0xff);
  second.set([0x47, 0x10, 0x00, 0x11]);
  section.copy(second, 4, PACKET_SIZE - 5);
  const reader = new SectionReader();
  t.is(reader.push(first, 0), undefined);
  const whole = reader.push(second, 0);
  t.is(parsePmt(whole!)?.streams.length, 40);
  second[10] = (second[10] ?? 0) ^ 0xff;
  t.is(reader.push(first, 0), undefined);
  t.is(reader.push(second, 0), undefined, 'corrupt: CRC fails');
});

test('ProgramTracker - follows a PMT whose PIDs change, and says so', async (t) => {
  const bytes = await clip(['-c:v', 'mpeg2video', '-b:v', '300k'], 1);
  const other = await clip(
    ['-c:v', 'mpeg2video', '-b:v', '300k', '-streamid', '0:0x300', '-streamid', '1:0x301'],
    1,
  );
  const tracker = new ProgramTracker();
  const first = tracker.scan(bytes);
  t.true((first & Seen.video) !== 0 && (first & Seen.audio) !== 0);
  t.is(tracker.programChanges, 0);
  const second = tracker.scan(other);
  t.true((second & Seen.programChanged) !== 0);
  t.is(tracker.programChanges, 1);
  t.deepEqual(
    tracker.map!.streams.map((s) => s.pid),
    [0x300, 0x301],
  );
  t.true(tracker.hasVideo && tracker.hasAudio);
  const tables = tracker.currentTables!;
  t.is(pidAt(tables.pat, 0), 0);
  t.is(pidAt(tables.pmt[0]!, 0), 0x1000, "ffmpeg's PMT PID");
});

test('discontinuityPacket - announces a break, and the counter runs on from it', (t) => {
  const payload = (cc: number): Buffer => {
    const p = Buffer.alloc(PACKET_SIZE, 0);
    p.set([0x47, 0x01, 0x00, 0x10]);
    setContinuityAt(p, 0, cc);
    return p;
  };
  const unflagged = inspectTs(Buffer.concat([payload(3), payload(9)]));
  t.is(unflagged.continuityErrors.length, 1);
  const flagged = inspectTs(
    Buffer.concat([payload(3), discontinuityPacket(0x100, 8), payload(9), payload(10)]),
  );
  t.deepEqual(flagged.continuityErrors, []);
  t.is(flagged.flaggedDiscontinuities.get(0x100), 1);
  t.is(continuityAt(discontinuityPacket(0x100, 17), 0), 1);
});

test('pcrPacket - the clock of a PID without payload: no counter step, no media seen, PCR read back', async (t) => {
  const bytes = await clip(['-c:v', 'mpeg2video', '-b:v', '300k'], 1);
  const tracker = new ProgramTracker();
  tracker.scan(bytes);
  const videoPid = tracker.map!.streams.find((s) => s.kind === 'video')!.pid;
  let lastCc = -1;
  for (let at = 0; at < bytes.length; at += PACKET_SIZE) {
    if (pidAt(bytes, at) === videoPid) lastCc = continuityAt(bytes, at);
  }
  const near = TIMESTAMP_WRAP - 90;
  const clock = [pcrPacket(videoPid, lastCc, near), pcrPacket(videoPid, lastCc, near + 1800)];
  t.is(pcrAt(clock[0]!, 0), near);
  t.is(pcrAt(clock[1]!, 0), 1710, 'wrapped past 2^33');
  t.is(tracker.scan(Buffer.concat(clock)), 0, 'neither video nor audio moved');
  const report = inspectTs(Buffer.concat([bytes, ...clock]));
  t.deepEqual(report.continuityErrors, [], 'a packet without payload keeps the counter');
  t.is(report.flaggedDiscontinuities.size, 0);
});

test('setPcrAt - keeps the 27 MHz extension unless told, and sets it when told', (t) => {
  const packet = pcrPacket(0x100, 0, 1000);
  packet[10] = packet[10]! | 0x01;
  packet[11] = 0x2b; // extension 299
  t.true(setPcrAt(packet, 0, 2000));
  t.is(pcrAt(packet, 0), 2000);
  t.is(((packet[10] & 0x01) << 8) | packet[11], 299);
  t.true(setPcrAt(packet, 0, 3000, 0));
  t.is(((packet[10] & 0x01) << 8) | packet[11], 0);
  t.is(packet[10] & 0x7e, 0x7e, 'reserved bits set');
});

test('withDiscontinuity - a PAT copy flagged in an adaptation field made of its stuffing still reads the same', async (t) => {
  const bytes = await clip(['-c:v', 'mpeg2video', '-b:v', '300k'], 1);
  let at = 0;
  while (pidAt(bytes, at) !== 0) at += PACKET_SIZE;
  const flagged = withDiscontinuity(bytes, at)!;
  t.true(discontinuityAt(flagged, 0));
  t.is(continuityAt(flagged, 0), continuityAt(bytes, at), 'same counter: it stands for the packet');
  t.deepEqual(new SectionReader().push(flagged, 0), new SectionReader().push(bytes, at));
  const full = Buffer.alloc(PACKET_SIZE, 0x11);
  full.set([0x47, 0x40, 0x00, 0x10]);
  t.is(withDiscontinuity(full, 0), undefined, 'no adaptation field and no stuffing to make one of');
  const withAf = Buffer.from(full);
  withAf.set([0x47, 0x40, 0x00, 0x30, 1, 0x00]);
  t.true(
    discontinuityAt(withDiscontinuity(withAf, 0)!, 0),
    'an adaptation field of its own is flagged in place',
  );
});
