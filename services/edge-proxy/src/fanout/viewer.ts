import type { Socket } from 'node:net';
import type { StartPoint } from './entry-points.ts';
import type { RingBuffer } from './ring-buffer.ts';

export interface ViewerLimits {
  /** Bytes a client may have queued in its socket before we stop writing to it. */
  maxBacklogBytes: number;
  /** How long a client may stay at its backlog limit before it is dropped as slow. */
  slowClientTimeoutMs: number;
}

export type PumpResult = 'ok' | 'skipped' | 'slow';

const RESPONSE_HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-cache, no-store\r\n' +
  'Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\n';

/** The head of a player's MPEG-TS response: the body runs until the connection closes. */
export function writeResponseHead(socket: Socket): void {
  socket.setNoDelay(true);
  socket.write(RESPONSE_HEAD);
}

/** Where a lagging player goes on: a point to decode from, after what it lacks to get there cleanly. */
export type SkipTarget = (ring: RingBuffer) => StartPoint;

/**
 * One player connection. The body is written straight to the socket (headers once, then shared ring
 * segments; the body ends when the connection closes, as for any live HTTP/1.1 stream), so fan-out costs one
 * write per client per flush and no copies.
 */
export class Viewer {
  pos = 0;
  bytesOut = 0;
  private stalledSince: number | undefined;
  /** Where the bytes still queued when the client last skipped begin (they precede `pos - queued`). */
  private queuedBeforeSkip: number | undefined;
  private closed = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly limits: ViewerLimits,
  ) {}

  get isClosed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  /**
   * Place the client at `start` in the stream: its response head first (unless it was sent while the
   * stream started), then the start's prelude (the tables a decoder needs there).
   */
  begin(start: StartPoint, headSent: boolean): void {
    this.pos = start.pos;
    if (!headSent) writeResponseHead(this.socket);
    this.writePrelude(start.prelude);
  }

  /**
   * The oldest stream offset the socket may still be sending from: what it has queued are views of ring
   * blocks, which must not be reused before they are sent.
   */
  heldFrom(): number {
    const queued = this.socket.writableLength;
    if (queued === 0) {
      this.queuedBeforeSkip = undefined;
      return this.pos;
    }
    return Math.min(this.pos - queued, this.queuedBeforeSkip ?? Infinity);
  }

  /**
   * Write what the client has not had yet, within its backlog. A client that fell out of the window jumps
   * to the live edge ('skipped'); one stuck at its limit for too long is reported 'slow'.
   */
  pump(ring: RingBuffer, now: number, skipTo: SkipTarget): PumpResult {
    if (this.isClosed) return 'ok';
    let result: PumpResult = 'ok';
    if (this.pos < ring.start) {
      if (this.socket.writableLength > 0) this.queuedBeforeSkip = this.heldFrom();
      const target = skipTo(ring);
      this.pos = target.pos;
      this.writePrelude(target.prelude);
      result = 'skipped';
    }
    const socket = this.socket;
    if (socket.writableLength >= this.limits.maxBacklogBytes) {
      this.stalledSince ??= now;
      return now - this.stalledSince > this.limits.slowClientTimeoutMs ? 'slow' : result;
    }
    this.stalledSince = undefined;
    if (this.pos >= ring.end) return result;
    const chunks = ring.readFrom(this.pos);
    // Usually one view: a plain write costs less than cork, write and uncork (about 0.1 of a core less
    // for 1000 sockets written every 80 ms, measured when this was written).
    const corked = chunks.length > 1;
    if (corked) socket.cork();
    for (const chunk of chunks) {
      socket.write(chunk);
      this.pos += chunk.length;
      this.bytesOut += chunk.length;
      if (socket.writableLength >= this.limits.maxBacklogBytes) break;
    }
    if (corked) socket.uncork();
    return result;
  }

  private writePrelude(prelude: Buffer | undefined): void {
    if (!prelude) return;
    this.socket.write(prelude);
    this.bytesOut += prelude.length;
  }

  /** End the body cleanly (the player sees the end of the stream). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
