import test from 'ava';
import { findSync, isPatAt, PacketAligner, PACKET_SIZE } from '../../src/fanout/ts-packets.ts';
import { packet, packets } from './ts-bytes.ts';

const P = PACKET_SIZE;

/** Feed `bytes` to a fresh aligner in chunks of `sizes` (cycled); every piece that came out. */
function alignPieces(bytes: Buffer, sizes: number[]): Buffer[] {
  const aligner = new PacketAligner();
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(...aligner.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return out;
}

const align = (bytes: Buffer, sizes: number[]): Buffer => Buffer.concat(alignPieces(bytes, sizes));

/** Bytes that never hold a sync byte. */
const noise = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 0x47));

/** A packet whose sync byte was lost. */
function broken(): Buffer {
  const p = packet('data', 0x30);
  p[0] = 0x00;
  return p;
}

test('ts packets - a PAT is recognised only at a packet start carrying PID 0 with payload start', (t) => {
  const buf = Buffer.concat([packet('data'), packet('pat')]);
  t.false(isPatAt(buf, 0));
  t.true(isPatAt(buf, P));
  t.false(isPatAt(buf, P + 1));
  const noStart = Buffer.from(packet('pat'));
  noStart[1] = 0x00;
  t.false(isPatAt(noStart, 0), 'PID 0 without payload_unit_start');
  t.false(isPatAt(buf, 2 * P), 'past the end');
});

test('ts packets - sync is found only where five packets in a row carry 0x47', (t) => {
  t.is(findSync(Buffer.concat([Buffer.alloc(61), packets(5)])), 61);
  t.is(findSync(packets(4)), -1, 'four packets are not enough to lock');
  t.is(findSync(Buffer.alloc(5 * P, 0x47 ^ 0xff)), -1);
});

test('ts packets - whole packets in one chunk pass through unchanged', (t) => {
  const aligner = new PacketAligner();
  const input = packets(8, [0]);
  t.deepEqual(Buffer.concat(aligner.push(input)), input);
  t.true(aligner.isLocked);
});

test('ts packets - bytes before the first lock are dropped', (t) => {
  const input = Buffer.concat([Buffer.alloc(100), packets(6)]);
  t.deepEqual(align(input, [input.length]), packets(6));
});

test('ts packets - nothing comes out until five packets confirm the lock', (t) => {
  const aligner = new PacketAligner();
  const input = packets(5);
  t.deepEqual(aligner.push(input.subarray(0, 4 * P)), []);
  t.false(aligner.isLocked);
  t.deepEqual(Buffer.concat(aligner.push(input.subarray(4 * P))), input);
  t.true(aligner.isLocked);
});

test('ts packets - a packet without its sync byte drops the lock until five good packets follow', (t) => {
  const aligner = new PacketAligner();
  const before = packets(6);
  const out = aligner.push(Buffer.concat([before, broken(), packets(3)]));
  t.deepEqual(Buffer.concat(out), before, 'the broken packet and what follows it are held back');
  t.false(aligner.isLocked);
  const after = aligner.push(packets(5));
  t.deepEqual(
    Buffer.concat(after),
    Buffer.concat([packets(3), packets(5)]),
    'relocked on the eight good packets',
  );
  t.true(aligner.isLocked);
});

test('ts packets - chunks cut anywhere give the same whole packets, through noise and a lost lock', (t) => {
  const good = packets(12, [0]);
  const relocked = packets(9);
  const afterStray = packets(7, [0]);
  // A stray byte shifts the stream by one: the lock is lost there and regained on the very next byte.
  // The trailing half packet is never completed, so it never comes out.
  const input = Buffer.concat([
    noise(100),
    good,
    broken(),
    relocked,
    Buffer.from([0x00]),
    afterStray,
    packet('data').subarray(0, P / 2),
  ]);
  const expected = Buffer.concat([good, relocked, afterStray]);
  for (let size = 1; size <= 2 * P + 1; size++) {
    const pieces = alignPieces(input, [size]);
    t.true(
      pieces.every((piece) => piece.length > 0 && piece.length % P === 0),
      `chunks of ${size}: only whole packets`,
    );
    t.deepEqual(Buffer.concat(pieces), expected, `chunks of ${size}`);
  }
});

test('ts packets - bytes that are not MPEG-TS never come out, even four sync bytes a packet apart', (t) => {
  t.is(align(noise(20_000), [1000, 37, 4096]).length, 0);
  // Four packets with their sync byte, then one without, over and over: never five in a row.
  const nearLock = Buffer.concat(
    Array.from({ length: 100 }, (_, i) => (i % 5 === 4 ? broken() : packet('data', 0x30))),
  );
  t.is(align(nearLock, [nearLock.length]).length, 0);
  t.is(align(nearLock, [1000, 37, 4096]).length, 0);
});
