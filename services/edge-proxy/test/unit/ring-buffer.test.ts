import test from 'ava';
import { RingBuffer } from '../../src/ring-buffer.ts';
import { RingMemory } from '../../src/ring-memory.ts';
import { PACKET_SIZE } from '../../src/ts-packets.ts';
import { packet, packets } from './ts-bytes.ts';

const P = PACKET_SIZE;
const read = (ring: RingBuffer, pos: number): Buffer => Buffer.concat([...ring.readFrom(pos)]);

test('ring buffer - an empty buffer joins at its end', (t) => {
  const ring = new RingBuffer(10 * P, new RingMemory(1 << 30));
  t.is(ring.joinPoint(5 * P), 0);
  t.is(ring.start, 0);
  t.is(ring.liveEdge(), 0);
});

test('ring buffer - a new client joins at the first PAT inside the window', (t) => {
  const ring = new RingBuffer(100 * P, new RingMemory(1 << 30));
  ring.append(packets(10, [2, 7]));
  t.is(ring.joinPoint(10 * P), 2 * P, 'whole window: the earliest PAT');
  t.is(ring.joinPoint(4 * P), 7 * P, 'last four packets: the PAT inside them');
});

test('ring buffer - without a PAT in the window the join point is the window’s first packet boundary', (t) => {
  const ring = new RingBuffer(100 * P, new RingMemory(1 << 30));
  ring.append(packets(10, [0]));
  // The window starts mid-packet (10 * P - 3 * P - 50): rounded up to the next boundary.
  t.is(ring.joinPoint(3 * P + 50), 7 * P);
});

test('ring buffer - a PAT in a later segment than the window start is found', (t) => {
  const ring = new RingBuffer(100 * P, new RingMemory(1 << 30));
  ring.append(packets(3));
  ring.append(packets(2));
  ring.append(Buffer.concat([packet('data'), packet('pat')]));
  t.is(ring.joinPoint(6 * P), 6 * P);
});

test('ring buffer - a window wider than what is kept starts at the oldest kept byte', (t) => {
  const ring = new RingBuffer(4 * P, new RingMemory(1 << 30));
  for (let i = 0; i < 10; i++) ring.append(packet(i === 3 || i === 8 ? 'pat' : 'data'));
  t.is(ring.start, 6 * P, 'only the newest four packets are kept');
  t.is(ring.bytes, 4 * P);
  t.is(ring.joinPoint(1000 * P), 8 * P, 'the evicted PAT at packet 3 is not offered');
});

test('ring buffer - the newest segment is kept even when it alone exceeds the limit', (t) => {
  const ring = new RingBuffer(P, new RingMemory(1 << 30));
  ring.append(packets(5));
  t.is(ring.bytes, 5 * P);
  t.is(ring.start, 0);
  ring.append(packets(2));
  t.is(ring.start, 5 * P);
  t.is(ring.liveEdge(), 5 * P);
  t.is(ring.end, 7 * P);
});

test('ring buffer - reads from any offset return exactly the stream’s bytes from there', (t) => {
  const ring = new RingBuffer(100 * P, new RingMemory(1 << 30));
  const whole = packets(9, [4]);
  ring.append(whole.subarray(0, 2 * P));
  ring.append(whole.subarray(2 * P, 7 * P));
  ring.append(whole.subarray(7 * P));
  for (const pos of [0, P, 2 * P, 3 * P + 17, 7 * P, 9 * P]) {
    t.deepEqual(read(ring, pos), whole.subarray(pos), `from ${pos}`);
  }
});

test('ring buffer - readers share the stored segments instead of copying them', (t) => {
  const ring = new RingBuffer(100 * P, new RingMemory(1 << 30));
  const a = packets(2);
  const b = packets(3);
  ring.append(a);
  ring.append(b);
  const views = [...ring.readFrom(0)];
  t.is(views[0], a);
  t.is(views[1], b);
  t.is(views.length, 2);
});

test('ring buffer - offsets stay right after many segments were evicted and the list compacted', (t) => {
  const ring = new RingBuffer(10 * P, new RingMemory(1 << 30));
  for (let i = 0; i < 200; i++) ring.append(packet(i === 195 ? 'pat' : 'data', i % 0x40));
  t.is(ring.start, 190 * P);
  t.is(ring.end, 200 * P);
  t.is(read(ring, ring.start).length, 10 * P);
  t.deepEqual(read(ring, 199 * P), packet('data', 199 % 0x40));
  t.is(ring.joinPoint(10 * P), 195 * P);
});

test('ring buffer - empty chunks change nothing', (t) => {
  const ring = new RingBuffer(10 * P, new RingMemory(1 << 30));
  ring.append(packets(2));
  ring.append(Buffer.alloc(0));
  t.is(ring.liveEdge(), 0, 'no empty segment became the live edge');
  t.is(ring.end, 2 * P);
});
