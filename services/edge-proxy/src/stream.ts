import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  AcefleetError,
  Subjects,
  type ContentRef,
  type EndReason,
  type StreamEnded,
  type StreamStarted,
} from '@acefleet/contracts';
import { openPlayback, startSession, stopSession, type EngineSession } from '@acefleet/engine-client';
import type { EventPublisher, Logger } from '@acefleet/platform';
import type { EngineLease, EngineSource } from './engine-source.ts';
import type { ProxyMetrics } from './metrics.ts';
import { RingBuffer } from './ring-buffer.ts';
import { PacketAligner } from './ts-packets.ts';
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

/** Why the upstream stopped feeding us; `error` is what waiting players are told. */
interface Loss {
  reason: EndReason;
  error: AcefleetError;
}

interface Waiter {
  socket: Socket;
  requestedAt: bigint;
  resolve: (viewer: Viewer) => void;
  reject: (err: AcefleetError) => void;
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

/** Why a start failed, for stream.ended: a timeout while opening the media is a first-byte timeout. */
function startFailureReason(error: AcefleetError, phase: 'start' | 'playback'): EndReason {
  if (error.code === 'content_unavailable') return 'content_unavailable';
  if (error.code !== 'engine_timeout') return 'engine_error';
  return phase === 'playback' ? 'first_byte_timeout' : 'engine_timeout';
}

/**
 * One content played from one engine session, fanned out to every player of it. Owns its upstream (lease,
 * engine session, media body), its ring buffer, its players and its timers, and releases all of them on
 * every path to `ended`.
 */
export class Stream {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  state: StreamState = 'starting';
  readonly ring: RingBuffer;
  readonly viewers = new Set<Viewer>();
  private waiters: Waiter[] = [];
  private lease: EngineLease | undefined;
  private session: EngineSession | undefined;
  private body: IncomingMessage | undefined;
  private readonly aligner = new PacketAligner();
  private pendingChunks: Buffer[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private lastFlushAt = 0;
  private lastDataAt = 0;
  private upstreamOpenedAt = 0;
  private startedPublished = false;
  /** The engine this stream last used: sessions that reached an engine are reported even if they failed. */
  private lastEngineId: string | undefined;
  private recoverBy = 0;
  private lostBy: Loss | undefined;
  private readonly failedEngines = new Set<string>();
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
    return this.lease;
  }

  get statUrl(): string | undefined {
    return this.session?.statUrl;
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
    if (this.lease?.engineId !== engineId || !this.body) return;
    this.log.info({ engineId }, 'engine draining: moving the stream');
    this.lose(this.body, 'engine_drained', 'the engine was drained');
  }

  /** The engine forgot this stream's session: it cannot play on. */
  expireSession(engineId: string): void {
    if (this.lastEngineId === engineId) this.end('session_expired');
  }

  /**
   * The manager lost our claim (e.g. it expired while we could not renew). Claim again: content affinity
   * brings us back to the same engine; a claim elsewhere is given back, since the stream keeps playing here.
   */
  async reclaim(): Promise<void> {
    const old = this.lease;
    if (!old || this.isEnded()) return;
    const fresh = await this.deps.engines.acquire(this.content, new Set()).catch(() => undefined);
    if (!fresh) return;
    if (fresh.engineId === old.engineId && this.lease === old && !this.isEnded()) this.lease = fresh;
    else await this.deps.engines.release(fresh);
  }

  /** Attach a player. Resolves once it has its response head and first bytes; rejects (nothing sent) on failure. */
  attach(socket: Socket, requestedAt: bigint): Promise<Viewer> {
    if (this.state === 'ended')
      return Promise.reject(new AcefleetError('engine_error', 'the stream has ended'));
    if (this.ring.end > 0) return Promise.resolve(this.join(socket, requestedAt));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { socket, requestedAt, resolve, reject };
      this.waiters.push(waiter);
      socket.once('close', () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.checkEmpty();
      });
    });
  }

  private join(socket: Socket, requestedAt: bigint): Viewer {
    const joinKind = this.state === 'lingering' ? 'linger' : this.ring.end > 0 ? 'live' : 'new';
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
    socket.on('drain', () => this.pumpOne(viewer));
    socket.on('error', () => {});
    this.pumpOne(viewer);
    const seconds = Number(process.hrtime.bigint() - requestedAt) / 1e9;
    this.deps.metrics.firstByteSeconds.observe({ join: joinKind }, seconds);
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
    if (this.deps.settings.lingerMs <= 0) {
      this.end(why);
      return;
    }
    if (this.state === 'starting' || this.state === 'recovering') return; // decided when bytes flow again
    this.state = 'lingering';
    this.lingerTimer = setTimeout(() => this.end('linger_expired'), this.deps.settings.lingerMs);
  }

  /** Get an engine and open the media; on failure decide between failover and the end. */
  private async connect(): Promise<void> {
    const { settings } = this.deps;
    let phase: 'start' | 'playback' = 'start';
    try {
      this.lease = await this.deps.engines.acquire(this.content, this.failedEngines);
      this.lastEngineId = this.lease.engineId;
      if (this.isEnded()) return this.releaseUpstream();
      this.session = await startSession(this.lease.baseUrl, this.content, {
        timeoutMs: settings.engineStartTimeoutMs,
        extraParams: this.extraParams,
      });
      if (this.isEnded()) return this.releaseUpstream();
      this.upstreamOpenedAt = Date.now();
      phase = 'playback';
      const body = await openPlayback(this.session.playbackUrl, settings.firstByteTimeoutMs);
      if (this.isEnded()) {
        body.destroy();
        return this.releaseUpstream();
      }
      this.body = body;
      this.aligner.reset();
      body.on('data', (chunk: Buffer) => this.onData(chunk));
      body.once('end', () => this.lose(body, 'engine_eof', 'the engine ended the stream'));
      body.once('error', () => this.lose(body, 'engine_error', 'the engine connection failed'));
      this.log.info({ engineId: this.lease.engineId }, 'upstream open');
    } catch (err) {
      const error =
        err instanceof AcefleetError ? err : new AcefleetError('internal', 'start failed', { cause: err });
      const reason = startFailureReason(error, phase);
      this.log.warn({ err: error.message, code: error.code }, 'upstream start failed');
      await this.failOver({ reason, error });
    }
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.deps.metrics.bytesIn.inc(chunk.length);
    this.lastDataAt = Date.now();
    const packets = this.aligner.push(chunk);
    if (packets.length === 0) return;
    this.pendingChunks.push(packets);
    if (this.state === 'starting' || this.state === 'recovering') {
      this.onPlaying();
      return;
    }
    if (this.flushTimer) return;
    const wait =
      this.lastFlushAt +
      flushDelayMs(this.deps.totalClients(), this.deps.settings.coalesceMs) -
      this.lastDataAt;
    if (wait <= 0) this.flush();
    else this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  private onPlaying(): void {
    const recovered = this.state === 'recovering';
    this.state = 'playing';
    this.lostBy = undefined;
    this.flush();
    if (recovered) this.deps.metrics.failovers.inc({ result: 'ok' });
    if (!this.startedPublished) this.publishStarted();
    for (const w of this.waiters.splice(0)) w.resolve(this.join(w.socket, w.requestedAt));
    this.checkEmpty();
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
    for (const viewer of this.viewers) this.pumpOne(viewer);
  }

  private pumpOne(viewer: Viewer): void {
    const before = viewer.bytesOut;
    const result = viewer.pump(this.ring, this.lastFlushAt);
    this.deps.metrics.bytesOut.inc(viewer.bytesOut - before);
    if (result === 'skipped') this.deps.metrics.slowSkips.inc();
    if (result === 'slow') {
      this.log.info({ viewer: viewer.id }, 'dropping slow client');
      this.deps.metrics.slowDrops.inc();
      viewer.destroy();
      this.detach(viewer, 'slow_client');
    }
  }

  /** Timeouts that no event marks: first byte, silence, and players stuck at their backlog. */
  private checkTimers(): void {
    const now = Date.now();
    const { firstByteTimeoutMs, emptyTimeoutMs } = this.deps.settings;
    if (
      this.body &&
      this.lastDataAt < this.upstreamOpenedAt &&
      now - this.upstreamOpenedAt > firstByteTimeoutMs
    ) {
      this.lose(this.body, 'first_byte_timeout', `no media from the engine in ${firstByteTimeoutMs} ms`);
    } else if (
      this.body &&
      this.lastDataAt >= this.upstreamOpenedAt &&
      now - this.lastDataAt > emptyTimeoutMs
    ) {
      this.lose(this.body, 'empty_timeout', `the engine sent nothing for ${emptyTimeoutMs} ms`);
    }
    for (const viewer of this.viewers) if (viewer.socket.writableLength > 0) this.pumpOne(viewer);
  }

  private lose(body: IncomingMessage, reason: EndReason, message: string): void {
    if (body !== this.body) return;
    this.body = undefined;
    body.destroy();
    this.log.warn({ reason, engineId: this.lease?.engineId }, 'upstream lost');
    const timedOut = reason === 'first_byte_timeout' || reason === 'empty_timeout';
    const code = timedOut ? 'engine_timeout' : 'engine_error';
    void this.failOver({ reason, error: new AcefleetError(code, message) });
  }

  /**
   * The engine failed us. With players attached and time left, start the same content on another engine
   * and keep feeding the same connections; otherwise end the stream.
   */
  private async failOver(loss: Loss): Promise<void> {
    if (this.isEnded()) return;
    const wasPlaying = this.state === 'playing' || this.state === 'recovering';
    if (this.lease) this.failedEngines.add(this.lease.engineId);
    await this.releaseUpstream();
    if (this.isEnded()) return;
    if (this.state === 'playing') {
      this.state = 'recovering';
      this.recoverBy = Date.now() + this.deps.settings.failoverDeadlineMs;
      this.lostBy = loss;
    }
    // The stream ends for the reason that started the trouble, not for the last retry's failure.
    const cause = this.lostBy ?? loss;
    const hopeless = loss.reason === 'content_unavailable' || Date.now() >= this.recoverBy;
    if (!wasPlaying || this.viewers.size === 0 || hopeless) {
      if (this.state === 'recovering') this.deps.metrics.failovers.inc({ result: 'failed' });
      this.end(cause.reason, cause.error);
      return;
    }
    this.log.info({ failed: [...this.failedEngines] }, 'failing over to another engine');
    await sleep(200);
    if (this.state === 'recovering') await this.connect();
  }

  /** Stop the engine session and give the engine back (best effort; engines also expire idle sessions). */
  private async releaseUpstream(): Promise<void> {
    const { body, session, lease } = this;
    this.body = undefined;
    this.session = undefined;
    this.lease = undefined;
    body?.destroy();
    if (session) await stopSession(session, this.deps.settings.engineCallTimeoutMs).catch(() => {});
    if (lease) await this.deps.engines.release(lease).catch(() => {});
  }

  private publishStarted(): void {
    this.startedPublished = true;
    const event: StreamStarted = {
      streamId: this.id,
      content: this.content,
      engineId: this.lastEngineId ?? 'unknown',
      proxyId: this.deps.proxyId,
      startedAt: this.startedAt.toISOString(),
      ...(this.session ? { statUrl: this.session.statUrl } : {}),
    };
    this.deps.events.publish(Subjects.streamStarted, event, `${this.id}:started`);
  }

  /** End the stream for everyone, once: players get a clean end (or, if still waiting, the error). */
  end(reason: EndReason, error?: AcefleetError): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearInterval(this.watchdog);
    clearTimeout(this.flushTimer);
    clearTimeout(this.lingerTimer);
    const failure = error ?? new AcefleetError('engine_error', `the stream ended (${reason})`);
    for (const w of this.waiters.splice(0)) w.reject(failure);
    for (const viewer of this.viewers) {
      this.bytesOutOfGone += viewer.bytesOut;
      viewer.end();
    }
    this.viewers.clear();
    void this.releaseUpstream();
    this.deps.metrics.streamsEnded.inc({ reason });
    this.log.info({ reason, bytesIn: this.bytesIn, bytesOut: this.bytesOutOfGone }, 'stream ended');
    if (this.lastEngineId !== undefined) {
      if (!this.startedPublished) this.publishStarted();
      const event: StreamEnded = {
        streamId: this.id,
        content: this.content,
        engineId: this.lastEngineId,
        proxyId: this.deps.proxyId,
        startedAt: this.startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        reason,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOutOfGone,
        peakClients: this.peakClients,
      };
      this.deps.events.publish(Subjects.streamEnded, event, `${this.id}:ended`);
    }
    this.deps.onEnded(this);
  }
}
