import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AcefleetError, type ContentRef, type EndReason } from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { EngineFailures } from './engine-failures.ts';
import type { EngineLease, EngineSource } from './engine-source.ts';
import { HlsLoss, HlsUpstream, type HlsUpstreamSettings } from './hls-upstream.ts';
import {
  moveReasonOf,
  publishEnded,
  publishMoved,
  publishStarted,
  type PendingMove,
  type SessionIdentity,
} from './stream-events.ts';
import type { StreamSettings } from './stream.ts';
import type { Loss } from './upstream.ts';

const SEGMENTS_KEPT = 16;

/** The TS streams' timeouts and retry limits, and how long a session nobody polls lives. */
export interface HlsSettings
  extends
    HlsUpstreamSettings,
    Pick<
      StreamSettings,
      'emptyTimeoutMs' | 'stallFailoverMs' | 'failoverDeadlineMs' | 'startRetries' | 'startPatienceMs'
    > {
  /** An HLS session nobody has asked anything of for this long is stopped; players count this long too. */
  idleMs: number;
}

export interface HlsDeps {
  engines: EngineSource;
  events: EventPublisher;
  log: Logger;
  proxyId: string;
  settings: HlsSettings;
  onEnded: (session: HlsSession) => void;
  /** Told when the number of players polling changes (the control link publishes viewer counts from it). */
  onViewersChanged?: (session: HlsSession) => void;
}

interface Segment {
  engineUrl: string;
  upstream: HlsUpstream;
  /** One fetch per segment, shared by every player that asks for it. */
  body?: Promise<Buffer>;
}

/** How long to look for an engine: until `deadline`, at most `retries` failed engines; a move also waits for one. */
interface Search {
  deadline: number;
  retries: number;
  move: boolean;
}

/**
 * One HLS session of a content, shared by all its players: the playlist is fetched from the engine and
 * rewritten so segments come through the proxy (engine addresses never reach players), and each segment is
 * fetched once however many players ask for it. When its engine fails or is drained the session moves to
 * another engine (as a TS stream does) and keeps its id and its players.
 */
export class HlsSession {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  /** Players (address and user agent) that asked within the idle window, with when they last asked. */
  readonly viewers = new Map<string, number>();
  peakClients = 0;
  bytesIn = 0;
  bytesOut = 0;
  requests = 0;
  private current: HlsUpstream | undefined;
  /** What polls read from: the current upstream, or the move that replaces a failed one. */
  private ready: Promise<HlsUpstream>;
  private moving = false;
  private readonly failures = new EngineFailures((f) => this.deps.engines.reportFailure(f));
  private readonly segments = new Map<string, Segment>();
  private idleTimer: NodeJS.Timeout | undefined;
  private ended: AcefleetError | undefined;
  private nextSegment = 0;
  private lastByteAt = 0;
  private lastPlaylist = '';
  private playlistChangedAt = Date.now();
  private moves = 0;
  private readonly log: Logger;

  constructor(
    readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly deps: HlsDeps,
  ) {
    this.log = deps.log.child({ hlsSession: this.id, content: `${content.kind}:${content.value}` });
    const { startPatienceMs, startRetries } = deps.settings;
    const search = { deadline: Date.now() + startPatienceMs, retries: startRetries, move: false };
    this.ready = this.connect(search).then((upstream) => this.begin(upstream));
    this.ready.catch((err: unknown) => this.end(err instanceof HlsLoss ? err.loss.reason : 'engine_error'));
    this.armIdleTimer();
  }

  get engineId(): string | undefined {
    return this.current?.engineId;
  }

  get currentLease(): EngineLease | undefined {
    return this.current?.lease;
  }

  private identity(engineId: string): SessionIdentity {
    const { proxyId } = this.deps;
    return { streamId: this.id, content: this.content, engineId, proxyId, startedAt: this.startedAt };
  }

  /** Claim an engine and open the session on it, trying others (never one that failed) as `search` allows. */
  private async connect(search: Search): Promise<HlsUpstream> {
    const { engines, settings } = this.deps;
    for (let failed = 0; ;) {
      try {
        return await HlsUpstream.open(engines, this.content, this.extraParams, settings, this.failures);
      } catch (err) {
        if (!(err instanceof HlsLoss)) throw err;
        if (err.engineId) this.failures.record(err.engineId, err.loss.reason);
        const another = err.engineId !== undefined ? failed++ < search.retries : search.move;
        const retry = another && err.loss.reason !== 'content_unavailable' && Date.now() < search.deadline;
        if (!retry || this.ended) throw err;
        this.log.info({ failed: [...this.failures.excluded], err: err.message }, 'trying another engine');
        await sleep(200);
      }
    }
  }

  private begin(upstream: HlsUpstream): HlsUpstream {
    if (this.ended) {
      void upstream.close();
      throw this.ended;
    }
    this.current = upstream;
    this.lastByteAt = Date.now();
    publishStarted(this.deps.events, this.identity(upstream.engineId), upstream.session.statUrl);
    return upstream;
  }

  /**
   * The engine failed (or is drained, or stalled): open the session on another one within the failover
   * deadline. Polls wait for the move after a failure; a drained or stalled engine serves them until the new
   * one is ready. A stall is looked after until its playlist has stood still for the empty timeout: if no
   * engine takes over by then the session ends, and if the playlist advanced meanwhile it stays.
   */
  private lose(from: HlsUpstream, loss: Loss, stalled = false): void {
    if (from !== this.current || this.moving || this.ended) return;
    this.moving = true;
    this.failures.record(from.engineId, loss.reason);
    const move: PendingMove = {
      previousEngineId: from.engineId,
      reason: moveReasonOf(loss.reason),
      lastByteAt: this.lastByteAt,
    };
    this.log.warn({ engineId: from.engineId, reason: loss.reason }, 'engine lost: moving the session');
    const { failoverDeadlineMs, emptyTimeoutMs } = this.deps.settings;
    const deadline = stalled ? this.playlistChangedAt + emptyTimeoutMs : Date.now() + failoverDeadlineMs;
    const next = this.connect({ deadline, retries: Infinity, move: true }).then((to) =>
      this.completeMove(from, to, move),
    );
    next.catch(() => {
      if (stalled && !this.ended && Date.now() - this.playlistChangedAt <= emptyTimeoutMs) {
        this.moving = false;
        this.log.info({ engineId: from.engineId }, 'no engine took over, but the playlist advances: staying');
      } else this.end(loss.reason);
    });
    if (!stalled && move.reason === 'failover') {
      this.ready = next;
      void from.close();
    }
  }

  private completeMove(from: HlsUpstream, to: HlsUpstream, move: PendingMove): HlsUpstream {
    if (this.ended) {
      void to.close();
      throw this.ended;
    }
    this.current = to;
    this.ready = Promise.resolve(to);
    this.moving = false;
    this.playlistChangedAt = Date.now();
    publishMoved(this.deps.events, this.identity(to.engineId), move, to.session.statUrl, ++this.moves);
    this.lastByteAt = Date.now();
    this.log.info({ from: from.engineId, to: to.engineId, reason: move.reason }, 'hls session moved');
    void from.close();
    return to;
  }

  /** The upstream to read from now; a session that ended answers with why. */
  private async upstream(): Promise<HlsUpstream> {
    if (this.ended) throw this.ended;
    try {
      return await this.ready;
    } catch (err) {
      throw err instanceof HlsLoss ? err.loss.error : err;
    }
  }

  /** A player asked something: it counts as a viewer for the idle window, and the session stays. */
  private touch(viewer: string): void {
    this.requests++;
    const now = Date.now();
    let changed = !this.viewers.has(viewer);
    this.viewers.set(viewer, now);
    for (const [v, at] of this.viewers) {
      if (now - at <= this.deps.settings.idleMs) continue;
      this.viewers.delete(v);
      changed = true;
    }
    this.peakClients = Math.max(this.peakClients, this.viewers.size);
    if (changed) this.deps.onViewersChanged?.(this);
    this.armIdleTimer();
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.end('linger_expired'), this.deps.settings.idleMs);
  }

  /**
   * The engine's playlist with every segment URI replaced by `<segmentBase>/<name>`. A poll that finds the
   * engine failed waits for the move and answers from the new engine.
   */
  async playlist(segmentBase: string, viewer: string): Promise<string> {
    this.touch(viewer);
    for (let attempt = 0; ; attempt++) {
      const upstream = await this.upstream();
      try {
        const text = await upstream.playlist();
        this.received(upstream, text.length);
        this.checkAdvancing(upstream, text);
        return text
          .split('\n')
          .map((line) =>
            line === '' || line.startsWith('#') ? line : `${segmentBase}/${this.nameFor(line, upstream)}`,
          )
          .join('\n');
      } catch (err) {
        if (!(err instanceof HlsLoss)) throw err;
        this.lose(upstream, err.loss);
        if (attempt > 0) throw err.loss.error;
      }
    }
  }

  private received(upstream: HlsUpstream, bytes: number): void {
    this.bytesIn += bytes;
    if (upstream === this.current) this.lastByteAt = Date.now();
  }

  /**
   * A live playlist that stops advancing means the engine stalled (as a silent TS body): after the stall
   * limit the session looks for another engine while this one serves on; after the empty timeout it fails.
   */
  private checkAdvancing(upstream: HlsUpstream, text: string): void {
    const now = Date.now();
    if (text !== this.lastPlaylist) {
      this.lastPlaylist = text;
      this.playlistChangedAt = now;
      return;
    }
    const { emptyTimeoutMs, stallFailoverMs } = this.deps.settings;
    const stillMs = now - this.playlistChangedAt;
    const stalled = stillMs <= emptyTimeoutMs;
    if (stalled && (stallFailoverMs === 0 || stillMs <= stallFailoverMs)) return;
    const limitMs = stalled ? stallFailoverMs : emptyTimeoutMs;
    const error = new AcefleetError('engine_timeout', `the playlist did not advance in ${limitMs} ms`);
    this.lose(upstream, { reason: 'empty_timeout', error }, stalled);
  }

  /** The proxy-side name of an engine segment: stable while the segment is in the window. */
  private nameFor(engineUrl: string, upstream: HlsUpstream): string {
    for (const [name, seg] of this.segments) if (seg.engineUrl === engineUrl) return name;
    const name = `${this.nextSegment++}.ts`;
    this.segments.set(name, { engineUrl, upstream });
    while (this.segments.size > SEGMENTS_KEPT) this.segments.delete(this.segments.keys().next().value!);
    return name;
  }

  /** A segment's bytes, fetched once from the engine for all players. */
  async segment(name: string, viewer: string): Promise<Buffer> {
    this.touch(viewer);
    const seg = this.segments.get(name);
    if (!seg) throw new AcefleetError('not_found', 'unknown or expired segment');
    seg.body ??= seg.upstream.segment(seg.engineUrl).then((body) => {
      this.received(seg.upstream, body.length);
      return body;
    });
    // A failed fetch is tried again by the next player; a dead engine is found by the playlist polls.
    seg.body.catch(() => (seg.body = undefined));
    let body: Buffer;
    try {
      body = await seg.body;
    } catch (err) {
      throw err instanceof HlsLoss ? err.loss.error : err;
    }
    this.bytesOut += body.length;
    return body;
  }

  /** The engine is draining: move to another one, serving from this one until then. */
  moveOff(engineId: string): void {
    const current = this.current;
    if (current?.engineId !== engineId) return;
    this.lose(current, {
      reason: 'engine_drained',
      error: new AcefleetError('engine_error', 'the engine was drained'),
    });
  }

  /** The engine forgot the session: move to another engine (a session it left behind does not count). */
  expireSession(engineId: string): void {
    const current = this.current;
    if (current?.engineId !== engineId) return;
    this.lose(current, {
      reason: 'session_expired',
      error: new AcefleetError('engine_error', 'the engine no longer knows the session'),
    });
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = new AcefleetError('engine_error', `the HLS session ended (${reason}); reload the playlist`);
    clearTimeout(this.idleTimer);
    const current = this.current;
    if (current) {
      void current.close();
      const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOut, peakClients: this.peakClients };
      publishEnded(this.deps.events, this.identity(current.engineId), reason, totals);
    }
    this.log.info({ reason, moves: this.moves, peakClients: this.peakClients }, 'hls session ended');
    this.deps.onEnded(this);
  }
}
