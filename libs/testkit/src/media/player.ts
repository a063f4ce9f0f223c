import http from 'node:http';
import { waitFor } from '../wait.ts';

/**
 * A test player: reads a proxied stream and records what arrived and when. It can stop reading (pause) to
 * behave like a stuck client, and keeps the first `keepBytes` bytes for inspection.
 */
export class Player {
  bytes = 0;
  firstByteAt: number | undefined;
  /** When the first packet that is not a null packet came (a waiting player gets null packets first). */
  firstMediaAt: number | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  ended = false;
  /** The longest wait between two chunks since the first media (or the last `resetGaps`). */
  longestGapMs = 0;
  private lastChunkAt: number | undefined;
  private kept: Buffer[] = [];
  private keptBytes = 0;
  readonly openedAt = performance.now();
  readonly closed: Promise<void>;
  private res: http.IncomingMessage | undefined;
  private readonly req: http.ClientRequest;
  private markClosed!: () => void;

  private constructor(url: string, keepBytes: number, from: string | undefined) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.req = http.get(url, { agent: false, ...(from ? { localAddress: from } : {}) }, (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.on('data', (chunk: Buffer) => {
        this.firstByteAt ??= performance.now();
        if (this.firstMediaAt === undefined && hasMediaPacket(chunk, this.bytes))
          this.firstMediaAt = performance.now();
        this.bytes += chunk.length;
        const now = performance.now();
        if (this.lastChunkAt !== undefined) {
          this.longestGapMs = Math.max(this.longestGapMs, now - this.lastChunkAt);
        }
        if (this.firstMediaAt !== undefined) this.lastChunkAt = now;
        if (this.keptBytes < keepBytes) {
          this.kept.push(chunk);
          this.keptBytes += chunk.length;
        }
      });
      res.on('end', () => (this.ended = true));
    });
    // A failed request ends in 'close' too, which marks the player closed: the error itself needs no handling.
    this.req.on('error', () => {});
    this.req.on('close', () => this.markClosed());
  }

  /**
   * Open `url`; resolves once the response head arrived. `from`: the local address to connect from (another
   * loopback address, 127.0.0.2, is another client to the proxy).
   */
  static open(url: string, keepBytes = 1_000_000, from?: string): Promise<Player> {
    const player = new Player(url, keepBytes, from);
    return new Promise((resolve, reject) => {
      player.req.once('response', () => resolve(player));
      player.req.once('error', reject);
    });
  }

  /** Open `url` (keeping no bytes) and resolve once it has played `bytes`: a viewer that is watching. */
  static async playing(url: string, bytes = 50_000): Promise<Player> {
    const player = await Player.open(url, 0);
    await waitFor(() => player.bytes > bytes, 30_000);
    return player;
  }

  get head(): Buffer {
    return Buffer.concat(this.kept);
  }

  get timeToFirstMediaMs(): number | undefined {
    return this.firstMediaAt === undefined ? undefined : this.firstMediaAt - this.openedAt;
  }

  get timeToFirstByteMs(): number | undefined {
    return this.firstByteAt === undefined ? undefined : this.firstByteAt - this.openedAt;
  }

  /** Measure gaps from now on (a fault's window). */
  resetGaps(): void {
    this.longestGapMs = 0;
  }

  pause(): void {
    this.res?.pause();
  }

  resume(): void {
    this.res?.resume();
  }

  close(): void {
    this.req.destroy();
  }
}

/**
 * Does `chunk`, found at byte `offset` of an MPEG-TS body, start a packet that is not a null packet (PID
 * 0x1FFF)? Only packet headers wholly inside the chunk are looked at.
 */
function hasMediaPacket(chunk: Buffer, offset: number): boolean {
  for (let at = (188 - (offset % 188)) % 188; at + 3 <= chunk.length; at += 188) {
    if (chunk[at] === 0x47 && (((chunk[at + 1]! & 0x1f) << 8) | chunk[at + 2]!) !== 0x1fff) return true;
  }
  return false;
}

/** Sum of the Prometheus samples named `name` whose labels include `labels` (e.g. `reason="shutdown"`). */
export function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.split(' ').pop());
  }
  return sum;
}
