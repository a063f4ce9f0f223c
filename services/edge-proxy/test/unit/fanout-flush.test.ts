import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import test from 'ava';
import { Registry } from 'prom-client';
import { createLogger } from '@acefleet/platform';
import { Fanout } from '../../src/fanout/fanout.ts';
import { FlushClock } from '../../src/fanout/flush-clock.ts';
import { createProxyMetrics } from '../../src/metrics.ts';
import { RingMemory } from '../../src/fanout/ring-memory.ts';
import { BLOCK_BYTES } from '../../src/fanout/ring-buffer.ts';
import { PACKET_SIZE } from '../../src/fanout/ts-packets.ts';
import { ScriptedLoop } from './scripted-loop.ts';
import { packets } from './ts-bytes.ts';

/**
 * A player's socket, for the pure logic of who gets which bytes when: nothing ever queues, and each write
 * of media (a plain one, or a corked batch: one syscall in the proxy) costs `writeMs` of the loop's time.
 * It keeps copies of the media it got.
 */
class PlayerSocket extends EventEmitter {
  readonly writableLength = 0;
  readonly destroyed = false;
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly loop: ScriptedLoop,
    private readonly writeMs: number,
  ) {
    super();
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private corked = false;

  setNoDelay(): void {}
  cork(): void {
    this.corked = true;
  }

  uncork(): void {
    this.corked = false;
    this.loop.time += this.writeMs;
  }

  write(data: Buffer | string): boolean {
    // The response head is a string; media comes as views of ring blocks, which the ring may reuse.
    if (typeof data === 'string') return true;
    this.chunks.push(Buffer.from(data));
    if (!this.corked) this.loop.time += this.writeMs;
    return true;
  }
}

function fanoutOn(clock: FlushClock, memory = new RingMemory(1 << 30), ringBytes = 4 * 1024 * 1024): Fanout {
  return new Fanout({
    settings: {
      ringBytes,
      ringSeconds: 2,
      joinWindowMs: 1500,
      joinWindowBytes: 1024 * 1024,
      viewer: { maxBacklogBytes: 1024 * 1024, slowClientTimeoutMs: 10_000 },
    },
    metrics: createProxyMetrics(new Registry(), () => ({ clients: 0, streams: 0 })),
    log: createLogger('fanout-flush-test', 'silent'),
    memory,
    clock,
    onViewersChanged: () => {},
  });
}

test('fanout - one stream of many players is flushed in turns of the slice, each player getting every byte once, in order', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => 100, loop, 10);
  const fanout = fanoutOn(clock);
  // 500 players at 0.25 ms a write: 125 ms a flush, against a 10 ms slice.
  const sockets = Array.from({ length: 500 }, () => new PlayerSocket(loop, 0.25));
  for (const s of sockets) fanout.join(s as unknown as Socket, process.hrtime.bigint(), 'live');
  const stream = packets(8 * 20);
  const chunks = Array.from({ length: 8 }, (_, i) =>
    stream.subarray(i * 20 * PACKET_SIZE, (i + 1) * 20 * PACKET_SIZE),
  );
  fanout.push([chunks.shift()!], loop.time);
  // The engine's next chunk is read before each turn, while a flush is under way.
  loop.beforeTurn = () => {
    const next = chunks.shift();
    if (next) fanout.push([next], loop.time);
  };
  loop.run();
  // Two rounds (the chunks that came during the first are the second's), each some 125 / 18 turns at least.
  t.true(loop.turns >= 12, `the flushes took several turns each (${loop.turns} in all)`);
  // 32 players (8 ms) between looks at the time: a turn ends at most that far past its 10 ms.
  t.true(loop.longestTurnMs <= 18, `no turn held the loop past the slice (${loop.longestTurnMs} ms)`);
  const wrong = sockets.filter((s) => !s.body.equals(stream)).length;
  t.is(wrong, 0, 'every player got the whole stream, once and in order');
});

test('fanout - a flush without a deadline serves every player at once', (t) => {
  const loop = new ScriptedLoop();
  const fanout = fanoutOn(new FlushClock(() => 100, loop, 10));
  const sockets = Array.from({ length: 100 }, () => new PlayerSocket(loop, 1));
  for (const s of sockets) fanout.join(s as unknown as Socket, process.hrtime.bigint(), 'live');
  const stream = packets(10);
  fanout.push([stream], loop.time);
  t.true(fanout.flush(loop.time));
  t.true(sockets.every((s) => s.body.equals(stream)));
});

test('fanout - blocks evicted while the players keep up go back to the pool after the flush', (t) => {
  const loop = new ScriptedLoop();
  const memory = new RingMemory(1 << 30);
  const fanout = fanoutOn(new FlushClock(() => 100, loop, 10), memory, BLOCK_BYTES);
  const sockets = Array.from({ length: 3 }, () => new PlayerSocket(loop, 1));
  for (const s of sockets) fanout.join(s as unknown as Socket, process.hrtime.bigint(), 'live');
  const stream = packets(4 * (BLOCK_BYTES / PACKET_SIZE));
  for (let at = 0; at < stream.length; at += BLOCK_BYTES) {
    fanout.push([stream.subarray(at, at + BLOCK_BYTES)], loop.time);
    loop.run();
  }
  t.is(memory.usedBytes, BLOCK_BYTES, 'the ring holds one block');
  t.is(memory.pooledBlocks, 1, 'the block evicted last is free for reuse (the ones before were reused)');
  t.true(sockets.every((s) => s.body.equals(stream)));
});
