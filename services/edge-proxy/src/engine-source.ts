import {
  AcefleetError,
  ReleaseReply,
  RenewReply,
  Subjects,
  contentKeyOf,
  type ContentRef,
  type EndReason,
  type AcquireReply,
  type EngineRecord,
  type ReleaseRequest,
} from '@acefleet/contracts';
import { requestJson, supervise, type Logger, type NatsConnection } from '@acefleet/platform';
import type { EngineCooldown } from './engine-cooldown.ts';
import { requestAcquire } from './acquire-request.ts';
import type { ProxyMetrics } from './metrics.ts';

/** An engine this proxy may start a session on, and the claim that holds it. */
export interface EngineLease {
  engineId: string;
  baseUrl: string;
  claimId: string;
  /** Chosen by the proxy itself (manager unreachable): nothing to release at the manager. */
  local: boolean;
}

/** The engine that just failed a stream's start, told to the manager so it places the retry elsewhere. */
export interface EngineFailure {
  engineId: string;
  reason: EndReason;
}

/** An engine the proxy could choose by itself, and how many sessions it may hold there. */
interface LocalChoice {
  engineId: string;
  baseUrl: string;
  room: number;
}

export interface EngineSourceOptions {
  proxyId: string;
  requestTimeoutMs: number;
  /** Engines to use when neither the manager nor the cache can help (base URLs). */
  staticEngines: string[];
  /** Sessions this proxy opens at most on one static engine (static engines have no record to say). */
  staticEngineCapacity: number;
}

/** How long a player refused for lack of engine capacity should wait before trying again. */
const FULL_RETRY_AFTER_MS = 5000;
/** How long releases deferred while the manager was unreachable wait before the next try. */
const RELEASE_RETRY_MS = 3000;

/**
 * Where streams get engines: the engine manager over NATS; when it does not answer, a healthy engine from
 * the live cache of the engines bucket; when that is empty too, the statically configured engines. Engines
 * chosen locally are counted per engine and never get more sessions than their capacity.
 */
export class EngineSource {
  private readonly pendingReleases: ReleaseRequest[] = [];
  /** Sessions this proxy holds on engines it chose itself, by engine id (no entry: none). */
  private readonly localSessions = new Map<string, number>();
  private staticTurn = 0;
  private releasing: Promise<void> | undefined;
  private releaseRetry: NodeJS.Timeout | undefined;
  /** False while NATS is disconnected: requests would only wait for their timeout, so go local at once. */
  private connected = true;

  constructor(
    private nc: NatsConnection | undefined,
    private readonly table: { records(): EngineRecord[] } | undefined,
    private readonly opts: EngineSourceOptions,
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics,
    private readonly cooldown: EngineCooldown,
  ) {
    if (nc) this.attach(nc);
  }

  /** Ask the manager over `nc` from now on (the proxy serves before NATS is reachable). */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    // Ends when the connection closes.
    supervise('engine source connection', this.log, () => this.followConnection(nc));
    void this.sendReleases();
  }

  private async followConnection(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type === 'reconnect') {
        this.connected = true;
        void this.sendReleases();
      }
    }
  }

  async acquire(
    content: ContentRef,
    exclude: ReadonlySet<string>,
    failed?: EngineFailure,
  ): Promise<EngineLease> {
    const end = this.metrics.acquireSeconds.startTimer();
    const avoid = this.cooldown.excluding(exclude);
    try {
      const lease = await this.fromManager(content, avoid, failed).catch((err: unknown) => {
        if (!(err instanceof AcefleetError) || err.code !== 'control_plane_unavailable') throw err;
        this.log.warn({ err: err.message }, 'engine manager unavailable; choosing an engine locally');
        return this.chooseLocallyAvoiding(content, avoid, exclude, err);
      });
      end({ result: lease.local ? 'local' : 'ok' });
      return lease;
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  /** An engine failed one of our streams: neither chosen here nor asked of the manager while it cools down. */
  reportFailure(failure: EngineFailure): void {
    if (this.cooldown.failed(failure.engineId, failure.reason)) {
      this.log.info({ engineId: failure.engineId, reason: failure.reason }, 'engine failed: cooling down');
    }
  }

  private async fromManager(
    content: ContentRef,
    exclude: ReadonlySet<string>,
    failed?: EngineFailure,
  ): Promise<EngineLease> {
    if (!this.nc || this.nc.isClosed() || !this.connected) {
      throw new AcefleetError('control_plane_unavailable', 'not connected to NATS');
    }
    const reply = await requestAcquire(
      this.nc,
      {
        content,
        proxyId: this.opts.proxyId,
        excludeEngineIds: [...exclude],
        ...(failed && { failedEngineId: failed.engineId, failureReason: failed.reason }),
      },
      { timeoutMs: this.opts.requestTimeoutMs },
      (late) => void this.releaseLate(late),
    );
    return { engineId: reply.engine.id, baseUrl: reply.engine.baseUrl, claimId: reply.claimId, local: false };
  }

  /**
   * Cooling down is a preference, not a ban: when every engine this proxy knows is cooling down, one of them
   * is tried rather than refusing the player (only the engines that failed this very stream stay excluded).
   */
  private chooseLocallyAvoiding(
    content: ContentRef,
    avoid: ReadonlySet<string>,
    exclude: ReadonlySet<string>,
    cause: unknown,
  ): EngineLease {
    try {
      return this.chooseLocally(content, avoid, cause);
    } catch (err) {
      if (
        !(err instanceof AcefleetError) ||
        err.code !== 'no_engine_available' ||
        avoid.size === exclude.size
      )
        throw err;
      this.log.warn('every known engine is cooling down: trying one of them');
      return this.chooseLocally(content, exclude, cause);
    }
  }

  /** A cached engine with room, else a static one with room; the lease is counted until released. */
  private chooseLocally(content: ContentRef, exclude: ReadonlySet<string>, cause: unknown): EngineLease {
    const cached = this.cachedEngines(content, exclude);
    const candidates = cached.length > 0 ? cached : this.staticEngines(exclude);
    if (candidates.length === 0) {
      throw new AcefleetError('no_engine_available', 'no engine manager answered and no engine is known', {
        cause,
        retryAfterMs: FULL_RETRY_AFTER_MS,
      });
    }
    const chosen = candidates.find((c) => this.localCount(c.engineId) < c.room);
    if (!chosen) {
      throw new AcefleetError('capacity_exhausted', 'every engine this proxy can reach is full', {
        cause,
        retryAfterMs: FULL_RETRY_AFTER_MS,
      });
    }
    this.localSessions.set(chosen.engineId, this.localCount(chosen.engineId) + 1);
    const { engineId, baseUrl } = chosen;
    return { engineId, baseUrl, claimId: `local-${Date.now()}`, local: true };
  }

  private localCount(engineId: string): number {
    return this.localSessions.get(engineId) ?? 0;
  }

  /**
   * Ready engines of the cache, those already playing this content first, then the least loaded. `room` is
   * what the record left free when the manager was last heard (claims of every proxy).
   */
  private cachedEngines(content: ContentRef, exclude: ReadonlySet<string>): LocalChoice[] {
    const key = contentKeyOf(content);
    const score = (e: EngineRecord): number =>
      (e.claims.some((c) => c.contentKey === key) ? 0 : 1000) + e.claims.length / e.capacity;
    return (this.table?.records() ?? [])
      .filter((e) => e.state === 'ready' && !exclude.has(e.id))
      .sort((a, b) => score(a) - score(b))
      .map((e) => ({ engineId: e.id, baseUrl: e.baseUrl, room: e.capacity - e.claims.length }));
  }

  /** The static engines, starting one further each time so sessions spread over them. */
  private staticEngines(exclude: ReadonlySet<string>): LocalChoice[] {
    const choices = this.opts.staticEngines
      .map((url) => ({ engineId: `static:${url}`, baseUrl: url, room: this.opts.staticEngineCapacity }))
      .filter((c) => !exclude.has(c.engineId));
    const turn = this.staticTurn++ % Math.max(1, choices.length);
    return [...choices.slice(turn), ...choices.slice(0, turn)];
  }

  /**
   * Keep these claims alive at the manager. Returns the claim ids it no longer knows, or undefined when the
   * manager could not be asked (the claims then live on until their TTL; the next renewal tries again).
   */
  async renew(leases: EngineLease[]): Promise<string[] | undefined> {
    const claims = leases.filter((l) => !l.local).map((l) => ({ engineId: l.engineId, claimId: l.claimId }));
    if (claims.length === 0 || !this.nc || this.nc.isClosed() || !this.connected) return undefined;
    try {
      const body = { proxyId: this.opts.proxyId, claims };
      const reply = await requestJson(
        this.nc,
        Subjects.engineRenew,
        body,
        RenewReply,
        this.opts.requestTimeoutMs,
      );
      return reply.lost;
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'claim renewal failed');
      return undefined;
    }
  }

  /** A grant that came after we stopped waiting: nobody holds it, give it back at once. */
  private releaseLate(late: AcquireReply): Promise<void> {
    this.log.warn({ engineId: late.engine.id }, 'engine granted after the acquire timed out: releasing it');
    return this.release({ engineId: late.engine.id, baseUrl: '', claimId: late.claimId, local: false });
  }

  /** Give the claim back; if the manager is unreachable, keep it and try again a moment later. */
  release(lease: EngineLease): Promise<void> {
    if (lease.local) {
      const left = this.localCount(lease.engineId) - 1;
      if (left > 0) this.localSessions.set(lease.engineId, left);
      else this.localSessions.delete(lease.engineId);
      return Promise.resolve();
    }
    this.pendingReleases.push({ engineId: lease.engineId, claimId: lease.claimId });
    return this.sendReleases();
  }

  /**
   * Give back every claim the proxy instance that ran here before this one still holds (it was killed and
   * its claims would block engines until their TTL), once the manager can be asked.
   */
  releasePredecessor(proxyId: string): Promise<void> {
    this.log.info({ predecessor: proxyId }, "releasing the previous instance's claims");
    this.pendingReleases.push({ proxyId, all: true });
    return this.sendReleases();
  }

  private sendReleases(): Promise<void> {
    this.releasing ??= this.flushReleases().finally(() => (this.releasing = undefined));
    return this.releasing;
  }

  private async flushReleases(): Promise<void> {
    while (this.pendingReleases.length > 0 && this.nc && !this.nc.isClosed() && this.connected) {
      const next = this.pendingReleases[0]!;
      try {
        const reply = await requestJson(
          this.nc,
          Subjects.engineRelease,
          next,
          ReleaseReply,
          this.opts.requestTimeoutMs,
        );
        if ('all' in next)
          this.log.info({ ...next, count: reply.count }, "previous instance's claims released");
      } catch (err) {
        if (err instanceof AcefleetError && err.code === 'control_plane_unavailable') {
          this.log.warn(next, 'release deferred: engine manager unavailable');
          // Unref'd: it must not hold a stopping proxy; after close it finds the connection closed.
          this.releaseRetry ??= setTimeout(() => {
            this.releaseRetry = undefined;
            void this.sendReleases();
          }, RELEASE_RETRY_MS).unref();
          return;
        }
        this.log.warn({ err, ...next }, 'release refused');
      }
      this.pendingReleases.shift();
    }
  }
}
