import {
  AcefleetError,
  ReleaseReply,
  RenewReply,
  contentKeyOf,
  proxyCallSubject,
  staticEngineId,
  type ContentRef,
  type EndReason,
  type EngineRecord,
  type ReleaseRequest,
} from '@acefleet/contracts';
import { requestJson, supervise, type Logger, type NatsConnection } from '@acefleet/platform';
import type { EngineCooldown } from './engine-cooldown.ts';
import { requestAcquire } from './acquire-request.ts';
import { LocalLeases } from './local-leases.ts';
import type { ProxyMetrics } from '../metrics.ts';

/** An engine this proxy may start a session on, and the claim that holds it. */
export interface EngineLease {
  engineId: string;
  baseUrl: string;
  /** The manager's claim, or one of the proxy's own (local-leases.ts) until the manager adopts it. */
  claimId: string;
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
  /** An engine of the fleet (from the engines table), whose manager can adopt the lease. */
  ofFleet: boolean;
}

export interface EngineSourceOptions {
  proxyId: string;
  requestTimeoutMs: number;
  /**
   * A manager that has not answered after this long is not waited for when an engine of the cache (or a static
   * one) has room: the stream starts there, and a grant that comes later is given back.
   */
  fallbackMs: number;
  /** Engines to use when neither the manager nor the cache can help (base URLs). */
  staticEngines: string[];
  /** Sessions this proxy opens at most on one static engine (static engines have no record to say). */
  staticEngineCapacity: number;
  /**
   * Whether a cached engine lies where engines may be (ENGINE_ADDRESSES, see engineAddressFilter): the
   * manager's address rule, applied to the engines the proxy chooses by itself. Reports each refused one.
   */
  engineAllowed: (engine: EngineRecord) => boolean;
  /**
   * The fleet is full: end the stream that has lingered longest (no player, its engine held), resolving once
   * its engine is given back; false when no stream lingers.
   */
  reclaimEngine: () => Promise<boolean>;
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
  /** Sessions this proxy holds on engines it chose itself, until they end or the manager adopts them. */
  private readonly local = new LocalLeases();
  /** The last acquire went local because the manager did not answer: its next answer starts an adoption. */
  private managerLost = false;
  /** One renewal at a time, so that two answers never settle the same adoption offers. */
  private renewals: Promise<unknown> = Promise.resolve();
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
    this.adoptNow();
  }

  private async followConnection(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type === 'reconnect') {
        this.connected = true;
        void this.sendReleases();
        this.adoptNow();
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
    let local = false;
    try {
      const lease = await this.reclaimingWhenFull(() =>
        this.fromManagerOrSooner(content, avoid, exclude, failed).catch((err: unknown) => {
          if (!(err instanceof AcefleetError) || err.code !== 'control_plane_unavailable') throw err;
          this.log.warn({ err: err.message }, 'engine manager unavailable; choosing an engine locally');
          return this.chooseLocallyAvoiding(content, avoid, exclude, err);
        }),
      );
      local = this.local.has(lease.claimId);
      if (local) this.managerLost = true;
      if (!local && this.managerLost) {
        this.managerLost = false;
        this.adoptNow();
      }
      end({ result: local ? 'local' : 'ok' });
      return lease;
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  /**
   * The fleet is full (capacity_exhausted): a stream that only lingers gives its engine up, the one that
   * lingered longest first, and the acquire is tried again, until it succeeds or no stream lingers. A new
   * channel never waits LINGER_MS for engines nobody watches.
   */
  private async reclaimingWhenFull(attempt: () => Promise<EngineLease>): Promise<EngineLease> {
    for (;;) {
      try {
        return await attempt();
      } catch (err) {
        const full = err instanceof AcefleetError && err.code === 'capacity_exhausted';
        if (!full || !(await this.opts.reclaimEngine())) throw err;
        this.log.info('the fleet is full: a lingering stream gave its engine up, acquiring again');
      }
    }
  }

  /** An engine failed one of our streams: neither chosen here nor asked of the manager while it cools down. */
  reportFailure(failure: EngineFailure): void {
    if (this.cooldown.failed(failure.engineId, failure.reason)) {
      this.log.info({ engineId: failure.engineId, reason: failure.reason }, 'engine failed: cooling down');
    }
  }

  /**
   * The manager's answer, unless it is slow: after `fallbackMs` without one, an engine this proxy can choose
   * itself is taken instead and the acquire goes on in the background, its grant given back when it comes.
   * With nothing to choose here, the manager is waited for (up to `requestTimeoutMs`: it may be starting an
   * engine).
   */
  private async fromManagerOrSooner(
    content: ContentRef,
    avoid: ReadonlySet<string>,
    exclude: ReadonlySet<string>,
    failed?: EngineFailure,
  ): Promise<EngineLease> {
    const asked = this.fromManager(content, avoid, failed);
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, this.opts.fallbackMs, undefined);
    });
    const first = await Promise.race([asked, slow]).finally(() => clearTimeout(timer));
    if (first) return first;
    const why = new AcefleetError(
      'control_plane_unavailable',
      `the engine manager did not answer within ${this.opts.fallbackMs} ms`,
    );
    let lease: EngineLease;
    try {
      lease = this.chooseLocallyAvoiding(content, avoid, exclude, why);
    } catch {
      return asked; // nothing to choose here: the manager may be starting an engine
    }
    this.log.warn({ engineId: lease.engineId }, `${why.message}: playing on an engine chosen here`);
    // An acquire that fails after all left nothing to give back.
    asked.then(
      (late) => this.releaseLate(late),
      () => {},
    );
    return lease;
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
      (late) => this.releaseLate({ engineId: late.engine.id, baseUrl: '', claimId: late.claimId }),
    );
    return { engineId: reply.engine.id, baseUrl: reply.engine.baseUrl, claimId: reply.claimId };
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
    const chosen = candidates.find((c) => this.local.count(c.engineId) < c.room);
    if (!chosen) {
      throw new AcefleetError('capacity_exhausted', 'every engine this proxy can reach is full', {
        cause,
        retryAfterMs: FULL_RETRY_AFTER_MS,
      });
    }
    const { engineId, baseUrl } = chosen;
    return {
      engineId,
      baseUrl,
      claimId: this.local.add(engineId, chosen.ofFleet ? contentKeyOf(content) : undefined),
    };
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
      .filter((e) => e.state === 'ready' && !exclude.has(e.id) && this.opts.engineAllowed(e))
      .sort((a, b) => score(a) - score(b))
      .map((e) => ({
        engineId: e.id,
        baseUrl: e.baseUrl,
        room: e.capacity - e.claims.length,
        ofFleet: true,
      }));
  }

  /** The static engines, starting one further each time so sessions spread over them. */
  private staticEngines(exclude: ReadonlySet<string>): LocalChoice[] {
    const choices = this.opts.staticEngines
      .map((url) => ({
        engineId: staticEngineId(url),
        baseUrl: url,
        room: this.opts.staticEngineCapacity,
        ofFleet: false,
      }))
      .filter((c) => !exclude.has(c.engineId));
    const turn = this.staticTurn++ % Math.max(1, choices.length);
    return [...choices.slice(turn), ...choices.slice(0, turn)];
  }

  /**
   * Keep these claims alive at the manager, and offer it the leases of streams placed here by themselves to
   * adopt. Returns the manager's claim ids it no longer knows, or undefined when the manager could not be
   * asked (the claims then live on until their TTL; the next renewal tries again).
   */
  renew(leases: EngineLease[]): Promise<string[] | undefined> {
    const run = this.renewals.then(() => this.renewOnce(leases));
    this.renewals = run;
    return run;
  }

  /** The manager answers again: offer it the streams placed here now, rather than at the next renewal. */
  private adoptNow(): void {
    if (this.local.awaitingAdoption) void this.renew([]);
  }

  private async renewOnce(leases: EngineLease[]): Promise<string[] | undefined> {
    if (!this.nc || this.nc.isClosed() || !this.connected) return undefined;
    const held = leases
      .filter((l) => !this.local.has(l.claimId))
      .map((l) => ({ engineId: l.engineId, claimId: l.claimId }));
    const offers = this.local.offer();
    if (held.length + offers.length === 0) return undefined;
    try {
      const body = { proxyId: this.opts.proxyId, claims: [...held, ...offers] };
      const reply = await requestJson(
        this.nc,
        proxyCallSubject('renew', this.opts.proxyId),
        body,
        RenewReply,
        this.opts.requestTimeoutMs,
      );
      const adopted = this.local.settle(offers, new Set(reply.renewed));
      if (adopted.length > 0) {
        this.log.info(
          { adopted: adopted.length, offered: offers.length },
          'the manager adopted streams placed here',
        );
      }
      const offered = new Set(offers.map((o) => o.claimId));
      return reply.lost.filter((id) => !offered.has(id));
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'claim renewal failed');
      return undefined;
    }
  }

  /** A grant that came after we stopped waiting (timed out, or fell back): nobody holds it, give it back. */
  private releaseLate(late: EngineLease): void {
    this.log.warn(
      { engineId: late.engineId },
      'engine granted after the proxy stopped waiting: releasing it',
    );
    // release() never rejects: a manager it cannot reach is retried, a refusal is logged.
    void this.release(late);
  }

  /**
   * Give the claim back (a local lease the manager may have adopted too); if the manager is unreachable, keep
   * it and try again a moment later.
   */
  release(lease: EngineLease): Promise<void> {
    if (this.local.releaseHere(lease.claimId)) return Promise.resolve();
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
          proxyCallSubject('release', this.opts.proxyId),
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
