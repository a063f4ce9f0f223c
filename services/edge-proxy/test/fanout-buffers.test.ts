import test from 'ava';
import { BLOCK_BYTES, RingBuffer } from '../src/fanout/ring-buffer.ts';
import { RingMemory } from '../src/fanout/ring-memory.ts';
import { PACKET_SIZE, PacketAligner } from '../src/fanout/ts-packets.ts';

// Pure logic: the packet aligner and the ring the fan-out (fanout.ts) is built on.

/** `n` TS packets; packet i carries i in its payload, and every 10th is a PAT. */
function packets(n: number, from = 0): Buffer {
  const buf = Buffer.alloc(n * PACKET_SIZE, 0xff);
  for (let i = 0; i < n; i++) {
    const at = i * PACKET_SIZE;
    buf[at] = 0x47;
    const pat = (from + i) % 10 === 0;
    buf[at + 1] = pat ? 0x40 : 0x01;
    buf[at + 2] = pat ? 0 : 0x11;
    buf.writeUInt32BE(from + i, at + 4);
  }
  return buf;
}

test('aligner - chunks cut anywhere come out as the same whole packets, carrying at most 187 bytes', (t) => {
  const input = packets(200);
  const aligner = new PacketAligner();
  const out: Buffer[] = [];
  let at = 0;
  for (const size of [1000, 1, 187, 188, 189, 5000, 7, 30_000]) {
    out.push(...aligner.push(input.subarray(at, at + size)));
    at += size;
  }
  out.push(...aligner.push(input.subarray(at)));
  const joined = Buffer.concat(out);
  t.true(joined.equals(input));
  for (const piece of out) t.is(piece.length % PACKET_SIZE, 0);
});

test('aligner - a locked stream passes whole chunks on as views, without copying them', (t) => {
  const aligner = new PacketAligner();
  aligner.push(packets(10));
  const chunk = packets(50, 10);
  const [view] = aligner.push(chunk);
  t.is(view?.buffer, chunk.buffer, 'a view of the chunk, not a copy');
});

test('aligner - a packet that lost its sync byte drops the lock until the stream locks again', (t) => {
  const input = packets(30);
  input[12 * PACKET_SIZE] = 0;
  const out = Buffer.concat(new PacketAligner().push(input));
  t.is(out.length % PACKET_SIZE, 0);
  t.true(out.length < input.length && out.length >= 20 * PACKET_SIZE);
});

test('ring - holds its capacity plus at most one block, counted in the memory account', (t) => {
  const memory = new RingMemory(64 * 1024 * 1024);
  const ring = new RingBuffer(300_000, memory);
  for (let i = 0; i < 200; i++) ring.append(packets(100, i * 100));
  t.true(ring.bytes >= 300_000, `holds ${ring.bytes}`);
  t.true(ring.bytes < 300_000 + BLOCK_BYTES + 100 * PACKET_SIZE);
  t.is(memory.usedBytes % BLOCK_BYTES, 0);
  t.true(memory.usedBytes <= 300_000 + 2 * BLOCK_BYTES);
  ring.resize(100_000);
  t.true(ring.bytes < 100_000 + BLOCK_BYTES + 100 * PACKET_SIZE, 'shrinks to a new capacity');
  ring.clear();
  t.is(memory.usedBytes, 0);
});

test('ring - reads back what was written from any packet, and joins at a PAT', (t) => {
  const ring = new RingBuffer(10 * 1024 * 1024, new RingMemory(64 * 1024 * 1024));
  const all = packets(2000);
  for (let at = 0; at < all.length; at += 37 * PACKET_SIZE)
    ring.append(all.subarray(at, at + 37 * PACKET_SIZE));
  const from = 1234 * PACKET_SIZE;
  t.true(Buffer.concat([...ring.readFrom(from)]).equals(all.subarray(from)));
  const join = ring.joinPoint(15 * PACKET_SIZE + 1);
  t.is(join % PACKET_SIZE, 0);
  t.is(all[join + 1], 0x40, 'a PAT');
  t.is(join, 1990 * PACKET_SIZE, 'the first PAT of the window');
  t.is(ring.liveEdge() % PACKET_SIZE, 0);
});
