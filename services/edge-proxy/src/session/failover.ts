import { AcefleetError } from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import type { EngineSource } from '../engines/engine-source.ts';
import type { ProxyMetrics } from '../metrics.ts';
import type { Loss } from './engine-attachment.ts';
import { EngineFailures } from './engine-failures.ts';
import { mayRetry, type StreamState } from './stream-lifecycle.ts';
import { moveReasonOf, publishMoved, type PendingMove, type SessionIdentity } from './stream-events.ts';

export interface FailoverSettings {
  /** Time allowed to resume a playing stream on another engine. */
  failoverDeadlineMs: number;
  /** After a stall, the stream looks for another engine until its silence reaches this. */
  emptyTimeoutMs: number;
  /** A failed start is tried again on another engine this many times... */
  startRetries: number;
  /** ...while its first player has waited less than this. */
  startPatienceMs: number;
}

export interface FailoverDeps {
  engines: EngineSource;
  events: EventPublisher;
  metrics: ProxyMetrics;
  log: Logger;
  settings: FailoverSettings;
}

/** A planned move gives up this long before the drain deadline, while the old engine still plays. */
const PLANNED_MARGIN_MS = 2000;

/** Pause before another engine is tried, so a failing fleet is not hammered. */
const RETRY_DELAY_MS = 200;

/** What the stream tells the policy when an engine failed it, to decide between another engine and the end. */
export interface Lost {
  state: StreamState;
  loss: Loss;
  engineId: string | undefined;
  /** Players waiting for the start, and players watching. */
  waiters: number;
  viewers: number;
  startedAt: number;
}

/**
 * One stream's failover policy: which engines failed it (never tried again for it), how many start retries
 * are left and until when a move may go on (the deadline), the loss the stream ends for if none works out,
 * and the `stream.moved` event once another engine plays. The stream owns its state and its engine
 * attachments; this says what to do and when to give up.
 */
export class Failover {
  readonly failures: EngineFailures;
  private moveBy = 0;
  /** The loss that started the trouble: the stream ends for it, not for the last retry's failure. */
  private lostBy: Loss | undefined;
  /** Set while a playing stream looks for another engine; published as stream.moved when bytes flow again. */
  private pendingMove: PendingMove | undefined;
  private moves = 0;
  private startRetriesUsed = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FailoverDeps) {
    this.failures = new EngineFailures((f) => deps.engines.reportFailure(f));
  }

  /** The loss the stream ends for: the first of the trouble, else `loss`. */
  causeOr(loss: Loss): Loss {
    return this.lostBy ?? loss;
  }

  /** A move ran out of time (the stream gives up, or stays on what it was leaving). */
  overdue(now: number): Loss | undefined {
    return this.lostBy && now > this.moveBy ? this.lostBy : undefined;
  }

  /**
   * A playing stream lost its engine and starts moving: until the failover deadline, or, after a stall,
   * until the silence reaches the empty timeout (the end it would have met without looking elsewhere).
   */
  beginMove(loss: Loss, engineId: string | undefined, stalled: boolean, lastMediaAt: number): void {
    const { failoverDeadlineMs, emptyTimeoutMs } = this.deps.settings;
    this.moveBy = stalled ? lastMediaAt + emptyTimeoutMs : Date.now() + failoverDeadlineMs;
    this.lostBy = loss;
    if (engineId) {
      this.pendingMove = {
        previousEngineId: engineId,
        reason: moveReasonOf(loss.reason),
        lastByteAt: lastMediaAt,
      };
    }
  }

  /**
   * A planned move (a drain) begins: the stream plays on from the drained engine until another takes over,
   * so it may look for one until shortly before the drain deadline `until` (and at least the failover
   * deadline). It is not the engine's failure.
   */
  beginPlannedMove(
    engineId: string,
    until: number,
    lastMediaAt: number,
    reason: 'drain' | 'no_room' = 'drain',
  ): void {
    const now = Date.now();
    this.moveBy = Math.max(now + this.deps.settings.failoverDeadlineMs, until - PLANNED_MARGIN_MS);
    this.lostBy = {
      reason: 'engine_drained',
      error: new AcefleetError('engine_error', 'the engine was drained and no other took the stream'),
    };
    this.pendingMove = { previousEngineId: engineId, reason, lastByteAt: lastMediaAt };
  }

  /** An engine failed the stream: record it; true when another engine may be tried (then `retry` runs soon). */
  lost(l: Lost, retry: () => void): boolean {
    if (l.engineId) this.failures.record(l.engineId, l.loss.reason);
    if (l.state === 'starting') this.lostBy ??= l.loss;
    const { startRetries, startPatienceMs } = this.deps.settings;
    const again = mayRetry({
      state: l.state,
      contentUnavailable: l.loss.reason === 'content_unavailable',
      engineFailed: l.engineId !== undefined,
      waiters: l.waiters,
      viewers: l.viewers,
      startRetriesUsed: this.startRetriesUsed,
      startRetries,
      waitedMs: Date.now() - l.startedAt,
      startPatienceMs,
      recoverLeftMs: this.moveBy - Date.now(),
    });
    if (!again) return false;
    if (l.state === 'starting') this.startRetriesUsed++;
    this.deps.log.info({ failed: [...this.failures.excluded], state: l.state }, 'trying another engine');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(retry, RETRY_DELAY_MS);
    return true;
  }

  /**
   * Bytes flow from another engine: the move is done, and the fleet is told where the stream is now.
   * `lastMediaAt`: when the players last got media before it (the gap's start; a planned move fed them).
   */
  completed(who: SessionIdentity | undefined, statUrl: string | undefined, lastMediaAt?: number): void {
    this.deps.metrics.failovers.inc({ result: 'ok' });
    const move = this.pendingMove;
    this.pendingMove = undefined;
    this.lostBy = undefined;
    if (!move || !who || !statUrl || who.engineId === move.previousEngineId) return;
    if (lastMediaAt) move.lastByteAt = Math.max(move.lastByteAt, lastMediaAt);
    publishMoved(this.deps.events, who, move, statUrl, ++this.moves);
    this.deps.log.info(
      { from: move.previousEngineId, to: who.engineId, reason: move.reason },
      'stream moved',
    );
  }

  /** The stream plays its first media: a later loss is its own. */
  started(): void {
    this.lostBy = undefined;
  }

  /** The stream stays on the engine it was leaving: nothing moved, nothing more is tried. */
  stayed(): void {
    clearTimeout(this.retryTimer);
    this.pendingMove = undefined;
    this.lostBy = undefined;
  }

  /** A move that failed: counted. */
  failed(): void {
    this.deps.metrics.failovers.inc({ result: 'failed' });
  }

  /** The stream ended: no retry runs any more. */
  stop(): void {
    clearTimeout(this.retryTimer);
  }
}
