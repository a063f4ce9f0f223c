import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import { AcefleetError, type ContentRef, type EndReason } from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { EngineFailures } from './engine-failures.ts';
import type { EngineLease, EngineSource } from './engine-source.ts';
import type { ProxyMetrics } from './metrics.ts';
import { RingBuffer } from './ring-buffer.ts';
import {
  moveReasonOf,
  publishEnded,
  publishMoved,
  publishStarted,
  type PendingMove,
  type SessionIdentity,
} from './stream-events.ts';
import { Upstream, type Loss } from './upstream.ts';
import { Viewer, type ViewerLimits } from './viewer.ts';

export interface StreamSettings {
  ringBytes: number;
  joinWindowBytes: number;
  /** Longest wait before arriving bytes are flushed to players (see flushDelayMs). */
  coalesceMs: number;
  engineStartTimeoutMs: number;
  firstByteTimeoutMs: number;
  emptyTimeoutMs: number;
  lingerMs: number;
  failoverDeadlineMs: number;
  /** A failed start is tried again on another engine this many times... */
  startRetries: number;
  /** ...while its first player has waited less than this. */
  startPatienceMs: number;
  engineCallTimeoutMs: number;
  viewer: ViewerLimits;
}

export interface StreamDeps {
  engines: EngineSource;
  events: EventPublisher;
  metrics: ProxyMetrics;
  log: Logger;
  proxyId: string;
  settings: StreamSettings;
  onEnded: (stream: Stream) => void;
  /** How many players this whole proxy serves now: flushes are batched more as it grows. */
  totalClients: () => number;
  /** Told when players join or leave (the control link publishes viewer counts from it). */
  onViewersChanged?: (stream: Stream) => void;
}

export type StreamState = 'starting' | 'playing' | 'recovering' | 'lingering' | 'ended';

interface Waiter {
  socket: Socket;
  requestedAt: bigint;
  resolve: (viewer: Viewer) => void;
  reject: (err: AcefleetError) => void;
  /** Forgets the waiter if its player hangs up first; removed once it is answered. */
  onClose: () => void;
}

let viewerIds = 0;

/**
 * How long arriving bytes may wait to be written, so each player gets fewer, larger writes: 1 ms per 10
 * players the proxy serves, from 5 ms up to `maxMs`. A few players get bytes almost as they arrive; a
 * thousand share the cost of a write syscall per player per 100 ms instead of per engine chunk.
 */
export function flushDelayMs(totalClients: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(5, Math.round(totalClients / 10)));
}

/**
 * One content fanned out to every player of it. Owns its upstream (see upstream.ts; replaced on failover),
 * its ring buffer, its players and its timers, and releases all of them on every path to `ended`.
 */
export class Stream {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  state: StreamState = 'starting';
  readonly ring: RingBuffer;
  readonly viewers = new Set<Viewer>();
  private waiters: Waiter[] = [];
  private upstream: Upstream | undefined;
  private pendingChunks: Buffer[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private lastFlushAt = 0;
  private startedPublished = false;
  /** The engine this stream last used: sessions that reached an engine are reported even if they failed. */
  private lastEngineId: string | undefined;
  private recoverBy = 0;
  private lostBy: Loss | undefined;
  private readonly failures = new EngineFailures((f) => this.deps.engines.reportFailure(f));
  /** When the last media came from the engine: a move's gap starts there. */
  private lastMediaAt = 0;
  /** Set while a playing stream looks for another engine; published as stream.moved when bytes flow again. */
  private pendingMove: PendingMove | undefined;
  private moves = 0;
  /** A drained engine's upstream, kept until the stream plays elsewhere so its session is not seen stale. */
  private leaving: Upstream | undefined;
  private startRetriesUsed = 0;
  bytesIn = 0;
  private bytesOutOfGone = 0;
  peakClients = 0;
  private readonly log: Logger;

  constructor(
    readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly deps: StreamDeps,
  ) {
    this.ring = new RingBuffer(deps.settings.ringBytes);
    this.log = deps.log.child({ streamId: this.id, content: `${content.kind}:${content.value}` });
    this.watchdog = setInterval(() => this.checkTimers(), 250);
    void this.connect();
  }

  get engineId(): string | undefined {
    return this.lastEngineId;
  }

  /** The claim this stream holds on its engine (renewed by the control link). */
  get currentLease(): EngineLease | undefined {
    return this.upstream?.lease;
  }

  get statUrl(): string | undefined {
    return this.upstream?.session?.statUrl;
  }

  get bytesOut(): number {
    let sum = this.bytesOutOfGone;
    for (const v of this.viewers) sum += v.bytesOut;
    return sum;
  }

  /** Re-read after every await: the stream may have ended meanwhile. */
  isEnded(): boolean {
    return this.state === 'ended';
  }

  get clientCount(): number {
    return this.viewers.size + this.waiters.length;
  }

  /** The engine is draining: move to another one now, keeping the players (as after an engine loss). */
  moveOff(engineId: string): void {
    const upstream = this.upstream;
    if (upstream?.engineId !== engineId || !upstream.isPlaying) return;
    this.log.info({ engineId }, 'engine draining: moving the stream');
    upstream.lose('engine_drained', 'the engine was drained');
  }

  /** The engine forgot this stream's session: it cannot play on (a session it left behind does not count). */
  expireSession(engineId: string): void {
    if (this.upstream?.engineId === engineId) this.end('session_expired');
  }

  /**
   * The manager lost our claim (e.g. it expired while we could not renew). Claim again: content affinity
   * brings us back to the same engine; a claim elsewhere is given back, since the stream keeps playing here.
   */
  async reclaim(): Promise<void> {
    const upstream = this.upstream;
    const old = upstream?.lease;
    if (!upstream || !old || this.isEnded()) return;
    const fresh = await this.deps.engines.acquire(this.content, new Set()).catch(() => undefined);
    if (!fresh) return;
    const same = fresh.engineId === old.engineId && upstream.lease === old && this.upstream === upstream;
    if (same && !this.isEnded()) upstream.lease = fresh;
    else await this.deps.engines.release(fresh);
  }

  /** Attach a player. Resolves once it has its response head and first bytes; rejects (nothing sent) on failure. */
  attach(socket: Socket, requestedAt: bigint): Promise<Viewer> {
    if (this.state === 'ended')
      return Promise.reject(new AcefleetError('engine_error', 'the stream has ended'));
    if (this.ring.end > 0)
      return Promise.resolve(this.join(socket, requestedAt, this.state === 'lingering' ? 'linger' : 'live'));
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.checkEmpty();
      };
      const waiter: Waiter = { socket, requestedAt, resolve, reject, onClose };
      this.waiters.push(waiter);
      socket.once('close', onClose);
    });
  }

  /** `kind` labels the time-to-first-byte metric: a new stream, a running one, or one kept by linger. */
  private join(socket: Socket, requestedAt: bigint, kind: 'new' | 'live' | 'linger'): Viewer {
    if (this.state === 'lingering') {
      clearTimeout(this.lingerTimer);
      this.state = 'playing';
      this.deps.metrics.lingerHits.inc();
    }
    const viewer = new Viewer(++viewerIds, socket, this.deps.settings.viewer);
    viewer.begin(this.ring.joinPoint(this.deps.settings.joinWindowBytes));
    this.viewers.add(viewer);
    this.peakClients = Math.max(this.peakClients, this.viewers.size);
    this.deps.onViewersChanged?.(this);
    socket.once('close', () => this.detach(viewer, 'client_disconnected'));
    socket.on('drain', () => this.deps.metrics.bytesOut.inc(this.pumpOne(viewer)));
    socket.on('error', () => {});
    this.deps.metrics.bytesOut.inc(this.pumpOne(viewer));
    const seconds = Number(process.hrtime.bigint() - requestedAt) / 1e9;
    this.deps.metrics.firstByteSeconds.observe({ join: kind }, seconds);
    return viewer;
  }

  private detach(viewer: Viewer, why: 'client_disconnected' | 'slow_client'): void {
    if (!this.viewers.delete(viewer)) return;
    this.bytesOutOfGone += viewer.bytesOut;
    this.deps.onViewersChanged?.(this);
    this.checkEmpty(why);
  }

  /** The last player left: linger, so a returning viewer or a channel-surfer starts instantly. */
  private checkEmpty(why: 'client_disconnected' | 'slow_client' = 'client_disconnected'): void {
    if (this.clientCount > 0 || this.state === 'ended' || this.state === 'lingering') return;
    // Nobody waits for a start any more: stop it rather than hold an engine for a stream nobody asked for.
    if (this.deps.settings.lingerMs <= 0 || this.state === 'starting') {
      this.end(why);
      return;
    }
    if (this.state === 'recovering') return; // decided when bytes flow again
    this.state = 'lingering';
    this.lingerTimer = setTimeout(() => this.end('linger_expired'), this.deps.settings.lingerMs);
  }

  /** Get an engine and open the media; on failure decide between failover and the end. */
  private async connect(): Promise<void> {
    const upstream: Upstream = new Upstream(
      this.content,
      this.extraParams,
      this.deps.engines,
      this.deps.settings,
      {
        onClaimed: (engineId) => (this.lastEngineId = engineId),
        onData: (packets, rawBytes) => this.onData(packets, rawBytes),
        onLost: (loss) => {
          if (this.upstream !== upstream) return;
          this.log.warn({ reason: loss.reason, engineId: upstream.engineId }, 'upstream lost');
          void this.failOver(loss);
        },
      },
    );
    this.upstream = upstream;
    const failure = await upstream.open(this.failures.excluded, this.failures.last);
    if (this.isEnded()) return upstream.close();
    if (failure) {
      this.log.warn({ err: failure.error.message, code: failure.error.code }, 'upstream start failed');
      return this.failOver(failure);
    }
    this.log.info({ engineId: upstream.engineId }, 'upstream open');
  }

  private onData(packets: Buffer, rawBytes: number): void {
    this.bytesIn += rawBytes;
    this.deps.metrics.bytesIn.inc(rawBytes);
    if (packets.length === 0) return;
    this.lastMediaAt = Date.now();
    this.pendingChunks.push(packets);
    if (this.state === 'starting' || this.state === 'recovering') {
      this.onPlaying();
      return;
    }
    if (this.flushTimer) return;
    const wait =
      this.lastFlushAt + flushDelayMs(this.deps.totalClients(), this.deps.settings.coalesceMs) - Date.now();
    if (wait <= 0) this.flush();
    else this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  private onPlaying(): void {
    const recovered = this.state === 'recovering';
    this.state = 'playing';
    this.lostBy = undefined;
    this.flush();
    if (recovered) this.completeMove();
    if (!this.startedPublished) this.publishStarted();
    for (const w of this.waiters.splice(0)) {
      w.socket.off('close', w.onClose);
      w.resolve(this.join(w.socket, w.requestedAt, 'new'));
    }
    this.checkEmpty();
  }

  /** Bytes flow from another engine: tell the fleet where the stream is now, then let the drained engine go. */
  private completeMove(): void {
    this.deps.metrics.failovers.inc({ result: 'ok' });
    const move = this.pendingMove;
    this.pendingMove = undefined;
    const { engineId, statUrl } = this;
    if (move && engineId && statUrl && engineId !== move.previousEngineId) {
      publishMoved(this.deps.events, this.identity(engineId), move, statUrl, ++this.moves);
      this.log.info({ from: move.previousEngineId, to: engineId, reason: move.reason }, 'stream moved');
    }
    void this.closeLeaving();
  }

  private async closeLeaving(): Promise<void> {
    const leaving = this.leaving;
    this.leaving = undefined;
    await leaving?.close();
  }

  /** Move what arrived since the last flush into the ring, as one segment, and feed every player. */
  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.lastFlushAt = Date.now();
    if (this.pendingChunks.length === 0) return;
    const segment =
      this.pendingChunks.length === 1 ? this.pendingChunks[0]! : Buffer.concat(this.pendingChunks);
    this.pendingChunks = [];
    this.ring.append(segment);
    let written = 0;
    for (const viewer of this.viewers) written += this.pumpOne(viewer);
    this.deps.metrics.bytesOut.inc(written);
  }

  /** Feed one player what it lacks; returns the bytes written (counted by the caller, once per flush). */
  private pumpOne(viewer: Viewer): number {
    const before = viewer.bytesOut;
    const result = viewer.pump(this.ring, this.lastFlushAt);
    if (result === 'skipped') this.deps.metrics.slowSkips.inc();
    if (result === 'slow') {
      this.log.info({ viewer: viewer.id }, 'dropping slow client');
      this.deps.metrics.slowDrops.inc();
      viewer.destroy();
      this.detach(viewer, 'slow_client');
    }
    return viewer.bytesOut - before;
  }

  /** Timeouts that no event marks: the upstream's first byte and silence, and players stuck at their backlog. */
  private checkTimers(): void {
    this.upstream?.checkTimers(Date.now());
    let written = 0;
    for (const viewer of this.viewers) if (viewer.socket.writableLength > 0) written += this.pumpOne(viewer);
    this.deps.metrics.bytesOut.inc(written);
  }

  /**
   * The engine failed us. While players wait for a start, or are attached to a stream that was playing, and
   * time is left, start the same content on another engine (the same connections are kept); otherwise end
   * the stream.
   */
  private async failOver(loss: Loss): Promise<void> {
    if (this.isEnded()) return;
    const engineId = this.upstream?.engineId;
    if (engineId) this.failures.record(engineId, loss.reason);
    if (loss.reason === 'engine_drained') {
      await this.closeLeaving();
      this.leaving = this.upstream;
      this.upstream = undefined;
    } else await this.releaseUpstream();
    if (this.isEnded()) return;
    if (this.state === 'playing') {
      this.state = 'recovering';
      this.recoverBy = Date.now() + this.deps.settings.failoverDeadlineMs;
      this.lostBy = loss;
      if (engineId) {
        const reason = moveReasonOf(loss.reason);
        this.pendingMove = { previousEngineId: engineId, reason, lastByteAt: this.lastMediaAt };
      }
    }
    // The stream ends for the reason that started the trouble, not for the last retry's failure.
    if (this.state === 'starting') this.lostBy ??= loss;
    const cause = this.lostBy ?? loss;
    if (!this.mayRetry(loss, engineId !== undefined)) {
      if (this.state === 'recovering') this.deps.metrics.failovers.inc({ result: 'failed' });
      this.end(cause.reason, cause.error);
      return;
    }
    if (this.state === 'starting') this.startRetriesUsed++;
    this.log.info({ failed: [...this.failures.excluded], state: this.state }, 'trying another engine');
    await sleep(200);
    if (this.state === 'starting' || this.state === 'recovering') await this.connect();
  }

  /**
   * Another engine may help: the content exists and players wait, within their patience or the failover
   * deadline. A start is retried only after an engine failed it: when none could be had, asking again
   * would only keep the players waiting.
   */
  private mayRetry(loss: Loss, engineFailed: boolean): boolean {
    if (loss.reason === 'content_unavailable') return false;
    const { startRetries, startPatienceMs } = this.deps.settings;
    if (this.state === 'starting') {
      const patient = Date.now() - this.startedAt.getTime() < startPatienceMs;
      return engineFailed && this.waiters.length > 0 && this.startRetriesUsed < startRetries && patient;
    }
    return this.state === 'recovering' && this.viewers.size > 0 && Date.now() < this.recoverBy;
  }

  private async releaseUpstream(): Promise<void> {
    const upstream = this.upstream;
    this.upstream = undefined;
    await upstream?.close();
  }

  private identity(engineId: string): SessionIdentity {
    const { proxyId } = this.deps;
    return { streamId: this.id, content: this.content, engineId, proxyId, startedAt: this.startedAt };
  }

  private publishStarted(): void {
    this.startedPublished = true;
    publishStarted(this.deps.events, this.identity(this.lastEngineId ?? 'unknown'), this.statUrl);
  }

  /** End the stream for everyone, once: players get a clean end (or, if still waiting, the error). */
  end(reason: EndReason, error?: AcefleetError): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearInterval(this.watchdog);
    clearTimeout(this.flushTimer);
    clearTimeout(this.lingerTimer);
    const failure = error ?? new AcefleetError('engine_error', `the stream ended (${reason})`);
    for (const w of this.waiters.splice(0)) {
      w.socket.off('close', w.onClose);
      w.reject(failure);
    }
    for (const viewer of this.viewers) {
      this.bytesOutOfGone += viewer.bytesOut;
      viewer.end();
    }
    this.viewers.clear();
    void this.releaseUpstream();
    void this.closeLeaving();
    this.deps.metrics.streamsEnded.inc({ reason });
    this.log.info({ reason, bytesIn: this.bytesIn, bytesOut: this.bytesOutOfGone }, 'stream ended');
    if (this.lastEngineId !== undefined) {
      if (!this.startedPublished) this.publishStarted();
      const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOutOfGone, peakClients: this.peakClients };
      publishEnded(this.deps.events, this.identity(this.lastEngineId), reason, totals);
    }
    this.deps.onEnded(this);
  }
}
