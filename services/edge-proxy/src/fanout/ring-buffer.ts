import type { RingMemory } from './ring-memory.ts';
import { isPatAt, PACKET_SIZE } from './ts-packets.ts';

/** Bytes per ring block: a whole number of packets, so no packet straddles two blocks. */
export const BLOCK_BYTES = PACKET_SIZE * 348;
/**
 * Evicted blocks a ring waits on for sockets that still send from them. A socket that holds more than this
 * (one stuck at its backlog past a skip) keeps the oldest alive by itself: those are left to the GC.
 */
const MAX_RETIRED_BLOCKS = 16;

interface Block {
  /** Absolute stream offset of data[0]. */
  start: number;
  data: Buffer;
  /** Bytes written so far (the block is full at BLOCK_BYTES). */
  filled: number;
}

/**
 * The stream's recent past, addressed by absolute byte offset: whole packets copied into fixed blocks, so
 * the ring holds its capacity plus at most one block, whatever the size of the chunks it was fed (socket
 * reads are not kept alive by it). Every offset that is a multiple of 188 is a packet boundary. Readers get
 * views of the blocks, shared by every client; a block is only written past its filled end. An evicted block
 * is reused (see `recycle`) only once no socket can still be sending from it.
 */
export class RingBuffer {
  private blocks: Block[] = [];
  private first = 0;
  /** Evicted blocks, oldest first, until `recycle` finds no socket sending from them. */
  private retired: Block[] = [];
  /** No socket sends from before this offset (as last told to `recycle`). */
  private heldFrom = 0;
  end = 0;

  constructor(
    private capacity: number,
    private readonly memory: RingMemory,
  ) {}

  get start(): number {
    return this.blocks[this.first]?.start ?? this.end;
  }

  /** Media bytes held (what players can still be served). */
  get bytes(): number {
    return this.end - this.start;
  }

  /** Keep at least `bytes` of the past from now on (the oldest blocks beyond it are dropped); a change of less than a block is ignored. */
  resize(bytes: number): void {
    // Less than a block would change what is held by one block at most, each time the bitrate wobbles.
    if (Math.abs(bytes - this.capacity) < BLOCK_BYTES) return;
    this.capacity = bytes;
    this.evict();
  }

  /** Copy whole packets in. */
  append(data: Buffer): void {
    let from = 0;
    while (from < data.length) {
      let tail = this.blocks[this.blocks.length - 1];
      if (!tail || tail.filled === BLOCK_BYTES) {
        // Evicting first lets the new block be the one just dropped, when no socket sends from it.
        this.evict();
        tail = { start: this.end, data: this.memory.allocate(BLOCK_BYTES), filled: 0 };
        this.blocks.push(tail);
      }
      const n = Math.min(BLOCK_BYTES - tail.filled, data.length - from);
      data.copy(tail.data, tail.filled, from, from + n);
      tail.filled += n;
      this.end += n;
      from += n;
    }
    this.evict();
  }

  /**
   * Evicted blocks wholly before `heldFrom` (the oldest offset any player's socket may still send from) go
   * back to the memory pool for reuse, now and as they are evicted, until the next call. The caller must call
   * again before any socket is given bytes from before `heldFrom` (a new player).
   */
  recycle(heldFrom: number): void {
    this.heldFrom = heldFrom;
    let n = 0;
    for (; n < this.retired.length; n++) {
      const block = this.retired[n]!;
      if (block.start + block.filled > heldFrom) break;
      this.memory.recycle(block.data);
    }
    if (n > 0) this.retired.splice(0, n);
  }

  /**
   * Give every block back to the memory account (the stream has ended). None is reused: ended players'
   * sockets may still be sending from them, so they are left to the GC.
   */
  clear(): void {
    for (let i = this.first; i < this.blocks.length; i++) this.memory.free(BLOCK_BYTES);
    this.blocks = [];
    this.retired = [];
    this.first = 0;
  }

  /** Drop the oldest blocks while the rest still hold `capacity` bytes; the newest block always stays. */
  private evict(): void {
    while (
      this.blocks.length - this.first > 1 &&
      this.end - this.blocks[this.first + 1]!.start >= this.capacity
    ) {
      this.memory.free(BLOCK_BYTES);
      this.retired.push(this.blocks[this.first]!);
      this.first++;
    }
    this.recycle(this.heldFrom);
    if (this.retired.length > MAX_RETIRED_BLOCKS)
      this.retired.splice(0, this.retired.length - MAX_RETIRED_BLOCKS);
    if (this.first > 16 && this.first * 2 > this.blocks.length) {
      this.blocks = this.blocks.slice(this.first);
      this.first = 0;
    }
  }

  /** The start of the newest block: where a client that fell out of the window resumes. */
  liveEdge(): number {
    return this.blocks[this.blocks.length - 1]?.start ?? this.end;
  }

  /**
   * Where a new client begins: within the last `windowBytes`, at the first PAT if there is one, else at
   * the first packet of that window.
   */
  joinPoint(windowBytes: number): number {
    const from = Math.max(this.start, this.end - windowBytes);
    const aligned = from + ((PACKET_SIZE - (from % PACKET_SIZE)) % PACKET_SIZE);
    let offset = aligned;
    for (let i = this.indexOf(aligned); i < this.blocks.length; i++) {
      const block = this.blocks[i]!;
      for (let at = offset - block.start; at < block.filled; at += PACKET_SIZE) {
        if (isPatAt(block.data, at)) return block.start + at;
      }
      offset = block.start + block.filled;
    }
    return Math.min(aligned, this.end);
  }

  /** The bytes from `pos` on, as shared views of the stored blocks (one per block; rarely more than two). */
  readFrom(pos: number): Buffer[] {
    const views: Buffer[] = [];
    for (let i = this.indexOf(pos); i < this.blocks.length; i++) {
      const block = this.blocks[i]!;
      const at = Math.max(0, pos - block.start);
      if (at < block.filled) views.push(block.data.subarray(at, block.filled));
    }
    return views;
  }

  /** Index of the block holding `pos` (binary search over the live blocks). */
  private indexOf(pos: number): number {
    let lo = this.first;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blocks[mid]!.start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
