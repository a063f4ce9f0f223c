import test from 'ava';
import { BLOCK_BYTES, RingBuffer } from '../../src/fanout/ring-buffer.ts';
import { RingMemory } from '../../src/fanout/ring-memory.ts';
import { PACKET_SIZE } from '../../src/fanout/ts-packets.ts';
import { packets } from './ts-bytes.ts';

const P = PACKET_SIZE;
/** Packets per ring block. */
const PER_BLOCK = BLOCK_BYTES / P;
const read = (ring: RingBuffer, pos: number): Buffer => Buffer.concat([...ring.readFrom(pos)]);
const unbounded = (): RingMemory => new RingMemory(1 << 30);

test('ring buffer - an empty buffer joins at its end and holds no block', (t) => {
  const memory = unbounded();
  const ring = new RingBuffer(10 * P, memory);
  t.is(ring.joinPoint(5 * P), 0);
  t.is(ring.start, 0);
  t.is(ring.liveEdge(), 0);
  t.is(memory.usedBytes, 0);
});

test('ring buffer - a new client joins at the first PAT inside the window', (t) => {
  const ring = new RingBuffer(100 * P, unbounded());
  ring.append(packets(10, [2, 7]));
  t.is(ring.joinPoint(10 * P), 2 * P, 'whole window: the earliest PAT');
  t.is(ring.joinPoint(4 * P), 7 * P, 'last four packets: the PAT inside them');
});

test('ring buffer - without a PAT in the window the join point is the window’s first packet boundary', (t) => {
  const ring = new RingBuffer(100 * P, unbounded());
  ring.append(packets(10, [0]));
  // The window starts mid-packet (10 * P - 3 * P - 50): rounded up to the next boundary.
  t.is(ring.joinPoint(3 * P + 50), 7 * P);
});

test('ring buffer - a PAT in a later block than the window start is found', (t) => {
  const ring = new RingBuffer(100 * BLOCK_BYTES, unbounded());
  ring.append(packets(PER_BLOCK + 3, [PER_BLOCK + 1]));
  t.is(ring.liveEdge(), BLOCK_BYTES, 'the chunk was split over two blocks');
  t.is(ring.joinPoint(10 * P), (PER_BLOCK + 1) * P, 'the window starts 7 packets before the block ends');
});

test('ring buffer - a window wider than what is kept starts at the oldest kept block', (t) => {
  const ring = new RingBuffer(6 * P, unbounded());
  ring.append(packets(2 * PER_BLOCK + 4, [3, PER_BLOCK + 5, 2 * PER_BLOCK + 1]));
  // The newest block holds 4 packets, less than the capacity: the block before it stays too.
  t.is(ring.start, BLOCK_BYTES, 'only the oldest block is dropped');
  t.is(ring.bytes, BLOCK_BYTES + 4 * P);
  t.is(ring.joinPoint(1000 * BLOCK_BYTES), (PER_BLOCK + 5) * P, 'the evicted PAT at packet 3 is not offered');
});

test('ring buffer - the newest block is kept even when it alone holds more than the capacity', (t) => {
  const memory = unbounded();
  const ring = new RingBuffer(P, memory);
  ring.append(packets(5));
  t.is(ring.bytes, 5 * P);
  t.is(ring.start, 0);
  ring.append(packets(PER_BLOCK));
  t.is(ring.start, BLOCK_BYTES);
  t.is(ring.liveEdge(), BLOCK_BYTES);
  t.is(ring.end, (PER_BLOCK + 5) * P);
  t.is(memory.usedBytes, BLOCK_BYTES, 'the dropped block was given back');
});

test('ring buffer - after every append it holds at least its capacity and less than one block more', (t) => {
  const capacity = 3 * BLOCK_BYTES;
  const memory = unbounded();
  const ring = new RingBuffer(capacity, memory);
  // The first append ends on a block boundary with exactly the capacity behind the newest block start.
  const sizes = [4 * PER_BLOCK, 1, 7, PER_BLOCK, 2 * PER_BLOCK + 1, 100, 3];
  for (let i = 0; i < 60; i++) {
    ring.append(packets(sizes[i % sizes.length]!));
    const at = `after append ${i}: ${ring.bytes} bytes held`;
    t.true(ring.bytes >= Math.min(ring.end, capacity), at);
    t.true(ring.bytes < capacity + BLOCK_BYTES, at);
    t.is(
      memory.usedBytes,
      Math.ceil(ring.bytes / BLOCK_BYTES) * BLOCK_BYTES,
      `${at}: only live blocks counted`,
    );
  }
});

test('ring buffer - reads from any offset return exactly the stream’s bytes from there', (t) => {
  const ring = new RingBuffer(100 * BLOCK_BYTES, unbounded());
  const whole = packets(2 * PER_BLOCK + 9, [4]);
  const cuts = [0, 2 * P, (PER_BLOCK + 2) * P, whole.length];
  for (let i = 1; i < cuts.length; i++) ring.append(whole.subarray(cuts[i - 1], cuts[i]));
  const B = BLOCK_BYTES;
  for (const pos of [0, P, 3 * P + 17, B - 1, B, B + 1, 2 * B, whole.length - P, whole.length]) {
    t.deepEqual(read(ring, pos), whole.subarray(pos), `from ${pos}`);
  }
});

test('ring buffer - packets are copied in, and readers share views of that copy', (t) => {
  const ring = new RingBuffer(100 * P, unbounded());
  const chunk = packets(3);
  const sent = Buffer.from(chunk);
  ring.append(chunk);
  chunk.fill(0);
  t.deepEqual(read(ring, 0), sent, 'reusing the appended chunk changes nothing stored');
  const [a] = ring.readFrom(0);
  const [b] = ring.readFrom(P);
  t.not(a?.buffer, chunk.buffer);
  t.is(a?.buffer, b?.buffer, 'two readers, one block');
});

test('ring buffer - offsets stay right after many blocks were evicted and the list compacted', (t) => {
  const capacity = BLOCK_BYTES + 10 * P;
  const memory = unbounded();
  const ring = new RingBuffer(capacity, memory);
  const total = 40 * PER_BLOCK + 7;
  const stream = packets(total, [5, 38 * PER_BLOCK + 2, total - 3]);
  for (let at = 0; at < stream.length; at += 1000 * P) ring.append(stream.subarray(at, at + 1000 * P));
  // Blocks 0..37 are gone (more than 16, so the block list was compacted); 38, 39 and the partial 40 stay.
  t.is(ring.end, total * P);
  t.is(ring.start, 38 * BLOCK_BYTES);
  t.is(memory.usedBytes, 3 * BLOCK_BYTES);
  t.deepEqual(read(ring, ring.start), stream.subarray(ring.start));
  const mid = 39 * BLOCK_BYTES + 5 * P + 11;
  t.deepEqual(read(ring, mid), stream.subarray(mid));
  t.is(ring.liveEdge(), 40 * BLOCK_BYTES);
  t.is(ring.joinPoint(10 * P), (total - 3) * P);
  t.is(ring.joinPoint(100 * BLOCK_BYTES), (38 * PER_BLOCK + 2) * P);
});

test('ring buffer - an empty chunk allocates no block', (t) => {
  const memory = unbounded();
  const ring = new RingBuffer(10 * P, memory);
  ring.append(packets(PER_BLOCK));
  ring.append(Buffer.alloc(0));
  t.is(memory.usedBytes, BLOCK_BYTES, 'the full block was not followed by an empty one');
  t.is(ring.liveEdge(), 0, 'no empty block became the live edge');
  t.is(ring.end, BLOCK_BYTES);
});
