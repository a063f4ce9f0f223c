// Playback sessions: one per start, one per player id, ended by stop, by a newer start with the same pid,
// by the admin API, or by themselves once nobody has read them for the idle timeout.
import { randomBytes } from 'node:crypto';

export type EndReason = 'stopped' | 'replaced' | 'idle' | 'expired' | 'cut' | 'reset' | 'shutdown';

export interface Reader {
  /** Ends this reader's body because its session ended. */
  end(): void;
}

export interface Session {
  readonly id: string;
  readonly token: string;
  readonly infohash: string;
  readonly contentId: string | undefined;
  readonly pid: string | undefined;
  readonly startedAt: number;
  /** When its warm-up ends: no media byte comes before (startedAt when the profile has no warm-up). */
  readonly readyAt: number;
  /** Where the content starts within the clip (the channel's phase on the timeline). */
  readonly phase: number;
  stoppedAt?: number;
  endReason?: EndReason;
  readonly readers: Set<Reader>;
  bytesSent: number;
  lastReadAt: number;
}

/** What the engine decided when the session started. */
export interface SessionStart {
  infohash: string;
  contentId: string | undefined;
  pid: string | undefined;
  phase: number;
  warmupMs: number;
}

export interface SessionInfo {
  id: string;
  infohash: string;
  contentId?: string;
  pid?: string;
  startedAt: number;
  readyAt: number;
  stoppedAt?: number;
  endReason?: EndReason;
  readers: number;
  bytesSent: number;
}

export interface SessionStats {
  sessionsStarted: number;
  activeSessions: number;
  stopsReceived: number;
  /** HLS segment requests answered. */
  segmentsServed: number;
  playbackReaders: number;
  sessions: SessionInfo[];
}

export interface SessionOptions {
  idleTimeoutMs: number;
  historySize: number;
  onEnd: (session: Session) => void;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export class SessionRegistry {
  readonly #active = new Map<string, Session>();
  readonly #byPid = new Map<string, Session>();
  #history: Session[] = [];
  #started = 0;
  #stops = 0;
  #segments = 0;
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly opts: SessionOptions) {
    this.#sweep = setInterval(() => this.#expireIdle(), Math.min(1000, Math.max(50, opts.idleTimeoutMs / 4)));
    this.#sweep.unref();
  }

  start({ infohash, contentId, pid, phase, warmupMs }: SessionStart): Session {
    const earlier = pid === undefined ? undefined : this.#byPid.get(pid);
    if (earlier) this.end(earlier, 'replaced');
    const now = Date.now();
    const session: Session = {
      id: hex(20),
      token: hex(16),
      infohash,
      contentId,
      pid,
      startedAt: now,
      readyAt: now + warmupMs,
      phase,
      readers: new Set(),
      bytesSent: 0,
      lastReadAt: now,
    };
    this.#active.set(session.id, session);
    if (pid !== undefined) this.#byPid.set(pid, session);
    this.#history.push(session);
    if (this.#history.length > this.opts.historySize)
      this.#history = this.#history.slice(-this.opts.historySize);
    this.#started++;
    return session;
  }

  /** The active session behind a playback/stat/command URL. */
  find(infohash: string, token: string): Session | undefined {
    for (const s of this.#active.values()) if (s.token === token && s.infohash === infohash) return s;
    return undefined;
  }

  byId(id: string): Session | undefined {
    return this.#active.get(id);
  }

  activeFor(infohash: string): Session[] {
    return [...this.#active.values()].filter((s) => s.infohash === infohash);
  }

  touch(session: Session): void {
    session.lastReadAt = Date.now();
  }

  addReader(session: Session, reader: Reader): () => void {
    session.readers.add(reader);
    return () => {
      session.readers.delete(reader);
      session.lastReadAt = Date.now();
    };
  }

  countStop(): void {
    this.#stops++;
  }

  end(session: Session, why: EndReason): void {
    if (!this.#active.delete(session.id)) return;
    if (session.pid !== undefined && this.#byPid.get(session.pid) === session)
      this.#byPid.delete(session.pid);
    session.stoppedAt = Date.now();
    session.endReason = why;
    for (const reader of [...session.readers]) reader.end();
    session.readers.clear();
    this.opts.onEnd(session);
  }

  endAll(why: EndReason): void {
    for (const s of [...this.#active.values()]) this.end(s, why);
  }

  /** Ends every session and forgets history and counters. */
  reset(): void {
    this.endAll('reset');
    this.#history = [];
    this.#started = 0;
    this.#stops = 0;
    this.#segments = 0;
  }

  close(): void {
    clearInterval(this.#sweep);
    this.endAll('shutdown');
  }

  countSegment(): void {
    this.#segments++;
  }

  stats(): SessionStats {
    let readers = 0;
    for (const s of this.#active.values()) readers += s.readers.size;
    return {
      sessionsStarted: this.#started,
      activeSessions: this.#active.size,
      stopsReceived: this.#stops,
      segmentsServed: this.#segments,
      playbackReaders: readers,
      sessions: this.#history.map((s) => ({
        id: s.id,
        infohash: s.infohash,
        ...(s.contentId === undefined ? {} : { contentId: s.contentId }),
        ...(s.pid === undefined ? {} : { pid: s.pid }),
        startedAt: s.startedAt,
        readyAt: s.readyAt,
        ...(s.stoppedAt === undefined ? {} : { stoppedAt: s.stoppedAt, endReason: s.endReason }),
        readers: s.readers.size,
        bytesSent: s.bytesSent,
      })),
    };
  }

  #expireIdle(): void {
    const cutoff = Date.now() - this.opts.idleTimeoutMs;
    for (const s of [...this.#active.values()]) {
      if (s.readers.size === 0 && s.lastReadAt <= cutoff) this.end(s, 'idle');
    }
  }
}
