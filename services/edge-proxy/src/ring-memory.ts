/**
 * The proxy-wide account of ring memory: every block a ring holds is counted here from its allocation to its
 * eviction, so the proxy can refuse new streams (see admission.ts) before the rings outgrow `capBytes`.
 */
export class RingMemory {
  private used = 0;

  constructor(readonly capBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  get isFull(): boolean {
    return this.used >= this.capBytes;
  }

  /** A new block of `bytes`, counted until `free` gives it back. */
  allocate(bytes: number): Buffer {
    this.used += bytes;
    // Not from the shared pool: a ring block lives for seconds and is dropped whole.
    return Buffer.allocUnsafeSlow(bytes);
  }

  free(bytes: number): void {
    this.used -= bytes;
  }
}
