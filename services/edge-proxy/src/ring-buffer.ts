import { isPatAt, PACKET_SIZE } from './ts-packets.ts';

interface Segment {
  /** Absolute stream offset of data[0]. */
  start: number;
  data: Buffer;
}

/**
 * The stream's recent past: whole-packet segments addressed by absolute byte offset, at most `maxBytes`
 * (the newest segment is always kept). Every offset that is a multiple of 188 is a packet boundary.
 * Segments are shared, never copied, between all the clients that read them.
 */
export class RingBuffer {
  private segments: Segment[] = [];
  private first = 0;
  private size = 0;
  end = 0;

  constructor(private readonly maxBytes: number) {}

  get start(): number {
    return this.segments[this.first]?.start ?? this.end;
  }

  get bytes(): number {
    return this.size;
  }

  append(data: Buffer): void {
    if (data.length === 0) return;
    this.segments.push({ start: this.end, data });
    this.end += data.length;
    this.size += data.length;
    while (this.size > this.maxBytes && this.segments.length - this.first > 1) {
      this.size -= this.segments[this.first]!.data.length;
      this.first++;
    }
    if (this.first > 64 && this.first * 2 > this.segments.length) {
      this.segments = this.segments.slice(this.first);
      this.first = 0;
    }
  }

  /** The start of the newest segment: where a client that fell out of the window resumes. */
  liveEdge(): number {
    return this.segments[this.segments.length - 1]?.start ?? this.end;
  }

  /**
   * Where a new client begins: within the last `windowBytes`, at the first PAT if there is one, else at
   * the first packet of that window.
   */
  joinPoint(windowBytes: number): number {
    const from = Math.max(this.start, this.end - windowBytes);
    const aligned = from + ((PACKET_SIZE - (from % PACKET_SIZE)) % PACKET_SIZE);
    let i = this.indexOf(aligned);
    let offset = aligned;
    for (; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      for (let at = offset - seg.start; at < seg.data.length; at += PACKET_SIZE) {
        if (isPatAt(seg.data, at)) return seg.start + at;
      }
      offset = seg.start + seg.data.length;
    }
    return Math.min(aligned, this.end);
  }

  /** The bytes from `pos` on, as shared views of the stored segments (the first may be a partial view). */
  *readFrom(pos: number): Generator<Buffer> {
    for (let i = this.indexOf(pos); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      yield pos > seg.start ? seg.data.subarray(pos - seg.start) : seg.data;
    }
  }

  /** Index of the segment holding `pos` (binary search over the live segments). */
  private indexOf(pos: number): number {
    let lo = this.first;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.start <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
