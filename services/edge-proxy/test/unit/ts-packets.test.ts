import test from 'ava';
import { findSync, isPatAt, PacketAligner, PACKET_SIZE } from '../../src/ts-packets.ts';
import { packet, packets } from './ts-bytes.ts';

const P = PACKET_SIZE;

/** Feed `bytes` to a fresh aligner in chunks of `sizes` (cycled); everything that came out. */
function align(bytes: Buffer, sizes: number[], aligner = new PacketAligner()): Buffer {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(...aligner.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return Buffer.concat(out);
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
  t.deepEqual(aligner.push(input), input);
  t.true(aligner.isLocked);
});

test('ts packets - chunks cut anywhere come out as the same stream, in whole packets', (t) => {
  const input = packets(40, [0, 20]);
  const aligner = new PacketAligner();
  const out: Buffer[] = [];
  const sizes = [7, 1000, 188, 333, 1];
  for (let at = 0, i = 0; at < input.length; at += sizes[i++ % sizes.length]!) {
    const chunk = aligner.push(input.subarray(at, at + sizes[i % sizes.length]!));
    t.is(chunk.length % P, 0, 'only whole packets');
    out.push(chunk);
  }
  t.deepEqual(Buffer.concat(out), input);
});

test('ts packets - bytes before the first lock are dropped', (t) => {
  const input = Buffer.concat([Buffer.alloc(100), packets(6)]);
  t.deepEqual(align(input, [input.length]), packets(6));
});

test('ts packets - nothing comes out until five packets confirm the lock', (t) => {
  const aligner = new PacketAligner();
  const input = packets(5);
  t.is(aligner.push(input.subarray(0, 4 * P)).length, 0);
  t.false(aligner.isLocked);
  t.deepEqual(aligner.push(input.subarray(4 * P)), input);
  t.true(aligner.isLocked);
});

test('ts packets - a packet without its sync byte drops the lock until five good packets follow', (t) => {
  const broken = packet('data', 0x30);
  broken[0] = 0x00;
  const aligner = new PacketAligner();
  const before = packets(6);
  const out = aligner.push(Buffer.concat([before, broken, packets(3)]));
  t.deepEqual(out, before, 'the broken packet and what follows it are held back');
  t.false(aligner.isLocked);
  const after = aligner.push(packets(5));
  t.deepEqual(after, Buffer.concat([packets(3), packets(5)]), 'relocked on the eight good packets');
  t.true(aligner.isLocked);
});

test('ts packets - bytes that are not MPEG-TS never come out', (t) => {
  const noise = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 31 + 7) % 0x47));
  t.is(align(noise, [1000, 37, 4096]).length, 0);
});
