/**
 * Idle blocks kept for reuse, proxy-wide: this many bytes, or an eighth of what the rings hold if more, which
 * evens out one stream's evictions against another's appends (and rings resized to a new bitrate).
 */
const MIN_POOLED_BYTES = 4 * 1024 * 1024;

/**
 * The proxy-wide account of ring memory: every block a ring holds is counted here from its allocation to its
 * eviction, so the proxy can refuse new streams (see admission.ts) before the rings outgrow `capBytes`.
 * It is also the pool blocks come from: an evicted block that no socket sends from any more comes back here
 * and is handed to the next ring that needs one, so steady streaming allocates nothing and leaves no garbage
 * for the collector (each freed block would otherwise live on until a full GC).
 */
export class RingMemory {
  private used = 0;
  private readonly pool: Buffer[] = [];

  constructor(readonly capBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Idle blocks waiting for reuse (not counted in `usedBytes`). */
  get pooledBlocks(): number {
    return this.pool.length;
  }

  get isFull(): boolean {
    return this.used >= this.capBytes;
  }

  /** A block of `bytes` (a pooled one when there is one of that size), counted until `free` gives it back. */
  allocate(bytes: number): Buffer {
    this.used += bytes;
    const pooled = this.pool.at(-1);
    if (pooled?.length === bytes) return this.pool.pop()!;
    // Not from the shared pool of small buffers: a ring block lives for seconds and is dropped whole.
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** The ring no longer holds `bytes` (the block may still be sent from: see `recycle`). */
  free(bytes: number): void {
    this.used -= bytes;
  }

  /** A freed block nothing reads any more: kept for the next `allocate` (or left to the GC when enough are). */
  recycle(block: Buffer): void {
    if ((this.pool.length + 1) * block.length <= Math.max(MIN_POOLED_BYTES, this.used / 8))
      this.pool.push(block);
  }
}
