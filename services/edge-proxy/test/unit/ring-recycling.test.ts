import test from 'ava';
import { bytesOfSeconds } from '../../src/fanout/fanout.ts';
import { BLOCK_BYTES, RingBuffer } from '../../src/fanout/ring-buffer.ts';
import { RingMemory } from '../../src/fanout/ring-memory.ts';
import { PACKET_SIZE } from '../../src/fanout/ts-packets.ts';
import { packets } from './ts-bytes.ts';

const PER_BLOCK = BLOCK_BYTES / PACKET_SIZE;
const read = (ring: RingBuffer, pos: number): Buffer => Buffer.concat([...ring.readFrom(pos)]);

test('sizing - seconds of the measured bitrate, within the bounds', (t) => {
  t.is(bytesOfSeconds(500_000, 2, 256 * 1024, 2 * 1024 * 1024), 1_000_000, '2 s at 4 Mbit/s');
  t.is(bytesOfSeconds(500_000, 1.5, 0, 1024 * 1024), 750_000, 'a join window of 1.5 s');
  t.is(bytesOfSeconds(10_000, 2, 256 * 1024, 2 * 1024 * 1024), 256 * 1024, 'a low rate gets the minimum');
  t.is(bytesOfSeconds(5_000_000, 2, 0, 1024 * 1024), 1024 * 1024, 'a high rate gets the cap');
});

test('sizing - while the bitrate is not measured yet the cap applies', (t) => {
  t.is(bytesOfSeconds(0, 2, 256 * 1024, 2 * 1024 * 1024), 2 * 1024 * 1024);
  t.is(bytesOfSeconds(0, 2, 0, 1024 * 1024), 1024 * 1024);
});

test('ring memory - a recycled block is handed out again, and only blocks held by rings are counted', (t) => {
  const memory = new RingMemory(1 << 30);
  const a = memory.allocate(BLOCK_BYTES);
  t.is(memory.usedBytes, BLOCK_BYTES);
  memory.free(BLOCK_BYTES);
  memory.recycle(a);
  t.is(memory.usedBytes, 0);
  t.is(memory.pooledBlocks, 1);
  t.is(memory.allocate(BLOCK_BYTES), a, 'the same memory, no new allocation');
  t.is(memory.pooledBlocks, 0);
  t.is(memory.usedBytes, BLOCK_BYTES);
});

test('ring memory - the pool keeps at most 4 MiB (or an eighth of what rings hold); the rest goes to the GC', (t) => {
  const memory = new RingMemory(1 << 30);
  const blocks = Array.from({ length: 200 }, () => memory.allocate(BLOCK_BYTES));
  for (const b of blocks) {
    memory.free(BLOCK_BYTES);
    memory.recycle(b);
  }
  t.is(memory.pooledBlocks, Math.floor((4 * 1024 * 1024) / BLOCK_BYTES));
});

test('ring recycling - an evicted block is not reused while a socket may still send from it', (t) => {
  const memory = new RingMemory(1 << 30);
  const ring = new RingBuffer(BLOCK_BYTES, memory);
  ring.recycle(0); // a player still holds offset 0
  ring.append(packets(2 * PER_BLOCK));
  t.is(ring.start, BLOCK_BYTES, 'block 0 was evicted');
  t.is(memory.pooledBlocks, 0, 'but not reused: offset 0 is still held');
  ring.recycle(BLOCK_BYTES - 1);
  t.is(memory.pooledBlocks, 0, 'one byte of it is still held');
  ring.recycle(BLOCK_BYTES);
  t.is(memory.pooledBlocks, 1, 'sent: back in the pool');
});

test('ring recycling - with no socket behind, the dropped block becomes the next block at once', (t) => {
  const memory = new RingMemory(1 << 30);
  const ring = new RingBuffer(2 * BLOCK_BYTES, memory);
  const stream = packets(6 * PER_BLOCK + 5, [1, 4 * PER_BLOCK + 2]);
  ring.append(stream.subarray(0, 3 * BLOCK_BYTES));
  ring.recycle(ring.end); // every player has sent everything
  const [oldest] = ring.readFrom(ring.start);
  ring.append(stream.subarray(3 * BLOCK_BYTES, 4 * BLOCK_BYTES + 7 * PACKET_SIZE));
  const [newest] = ring.readFrom(ring.liveEdge());
  t.is(newest?.buffer, oldest?.buffer, 'the evicted block was reused for the new one');
  t.is(memory.pooledBlocks, 0);
  ring.append(stream.subarray(4 * BLOCK_BYTES + 7 * PACKET_SIZE));
  t.deepEqual(read(ring, ring.start), stream.subarray(ring.start), 'reuse never changes what is read');
});

test('ring recycling - a reader moving back (a new player) keeps the blocks it holds from reuse', (t) => {
  const memory = new RingMemory(1 << 30);
  const ring = new RingBuffer(2 * BLOCK_BYTES, memory);
  const stream = packets(8 * PER_BLOCK);
  ring.append(stream.subarray(0, 3 * BLOCK_BYTES));
  ring.recycle(ring.end);
  const joinedAt = ring.start;
  // What a joiner's socket queues: views of the ring blocks, not copies.
  const queued = [...ring.readFrom(joinedAt)];
  ring.recycle(joinedAt); // what fanout.ts does after a join
  ring.append(stream.subarray(3 * BLOCK_BYTES, 6 * BLOCK_BYTES));
  t.true(ring.start > joinedAt, 'the joiner’s blocks were evicted');
  t.is(memory.pooledBlocks, 0, 'none of them reused');
  t.deepEqual(
    Buffer.concat(queued),
    stream.subarray(joinedAt, 3 * BLOCK_BYTES),
    'the joiner’s bytes are intact',
  );
});

test('ring recycling - an ended ring reuses nothing (its players may still be sending)', (t) => {
  const memory = new RingMemory(1 << 30);
  const ring = new RingBuffer(BLOCK_BYTES, memory);
  ring.recycle(Number.MAX_SAFE_INTEGER);
  ring.append(packets(2 * PER_BLOCK + 1));
  const pooled = memory.pooledBlocks;
  ring.clear();
  t.is(memory.usedBytes, 0);
  t.is(memory.pooledBlocks, pooled, 'no block of the ended ring went to the pool');
});
