import { AcefleetError, type ContentRef, type EngineRecord } from '@acefleet/contracts';
import { supervise, type Logger, type NatsConnection } from '@acefleet/platform';
import type { Status } from '@nats-io/nats-core';
import { requestAcquire } from './acquire-request.ts';
import { ClaimRenewal } from './claim-renewal.ts';
import type { EngineCooldown } from './engine-cooldown.ts';
import type { EngineFailure, EngineLease } from './engine-lease.ts';
import { LocalChoice, type LocalChoiceOptions } from './local-choice.ts';
import { LocalLeases } from './local-leases.ts';
import { ReleaseQueue } from './release-queue.ts';
import type { ProxyMetrics } from '../metrics.ts';

export type { EngineFailure, EngineLease } from './engine-lease.ts';

export interface EngineSourceOptions extends LocalChoiceOptions {
  proxyId: string;
  requestTimeoutMs: number;
  /**
   * A manager that has not answered after this long is not waited for when an engine of the cache (or a static
   * one) has room: the stream starts there, and a grant that comes later is given back.
   */
  fallbackMs: number;
  /**
   * The fleet is full: end the stream that has lingered longest (no player, its engine held), resolving once
   * its engine is given back; false when no stream lingers.
   */
  reclaimEngine: () => Promise<boolean>;
}

/** What an acquire tells the manager beside the content and the engines to avoid. */
interface ManagerAsk {
  /** The engine whose start just failed for this stream, and why. */
  failed?: EngineFailure | undefined;
  standby?: boolean;
  /** The engine the stream plays from now (a re-claim): the manager places the claim there while it has room. */
  prefer?: string | undefined;
}

/**
 * Where streams get engines: the engine manager over NATS; when it does not answer in time, an engine the
 * proxy chooses itself (local-choice.ts). Its other jobs each have their module: renewals and adoptions of
 * local leases (claim-renewal.ts) and the queue of releases (release-queue.ts). It owns the loop that
 * follows the NATS connection, stopped by `stop`.
 */
export class EngineSource {
  /** Sessions this proxy holds on engines it chose itself, until they end or the manager adopts them. */
  private readonly local = new LocalLeases();
  private readonly choice: LocalChoice;
  private readonly renewal: ClaimRenewal;
  private readonly releases: ReleaseQueue;
  /** The last acquire went local because the manager did not answer: its next answer starts an adoption. */
  private managerLost = false;
  private nc: NatsConnection | undefined;
  /** False while NATS is disconnected: requests would only wait for their timeout, so go local at once. */
  private connected = true;
  private following: ReturnType<typeof supervise> | undefined;

  constructor(
    table: { records(): EngineRecord[] } | undefined,
    private readonly opts: EngineSourceOptions,
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics,
    private readonly cooldown: EngineCooldown,
  ) {
    const manager = (): NatsConnection | undefined =>
      this.nc && !this.nc.isClosed() && this.connected ? this.nc : undefined;
    this.choice = new LocalChoice(table, this.local, opts, log);
    this.renewal = new ClaimRenewal(manager, this.local, opts, log);
    this.releases = new ReleaseQueue(manager, this.local, opts, log);
  }

  /** Ask the manager over `nc` from now on (the proxy serves before NATS is reachable). */
  attach(nc: NatsConnection): void {
    this.nc = nc;
    void this.following?.stop();
    this.following = supervise('engine source connection', this.log, (signal) =>
      this.followConnection(nc, signal),
    );
    void this.releases.send();
    this.renewal.adoptNow();
  }

  /** Stop following the connection and retrying releases (the proxy stops). */
  async stop(): Promise<void> {
    this.releases.stop();
    await this.following?.stop();
  }

  /** Ends when the connection closes, or at `stop`. */
  private async followConnection(nc: NatsConnection, signal: AbortSignal): Promise<void> {
    const statuses = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    signal.addEventListener('abort', () => statuses.stop?.(), { once: true });
    for await (const s of statuses) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type === 'reconnect') {
        this.connected = true;
        void this.releases.send();
        this.renewal.adoptNow();
      }
    }
  }

  async acquire(
    content: ContentRef,
    exclude: ReadonlySet<string>,
    { failed, prefer }: Pick<ManagerAsk, 'failed' | 'prefer'> = {},
  ): Promise<EngineLease> {
    const end = this.metrics.acquireSeconds.startTimer();
    const avoid = this.cooldown.excluding(exclude);
    try {
      const lease = await this.reclaimingWhenFull(() =>
        this.fromManagerOrSooner(content, avoid, exclude, { failed, prefer }).catch((err: unknown) => {
          if (!(err instanceof AcefleetError) || err.code !== 'control_plane_unavailable') throw err;
          this.log.warn({ err: err.message }, 'engine manager unavailable; choosing an engine locally');
          return this.choice.choose(content, avoid, exclude, err);
        }),
      );
      const local = this.local.has(lease.claimId);
      if (local) this.managerLost = true;
      if (!local && this.managerLost) {
        this.managerLost = false;
        this.renewal.adoptNow();
      }
      end({ result: local ? 'local' : 'ok' });
      return lease;
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  /**
   * A claim for a hot standby (see Stream): asked of the manager, which places it in free room on an
   * engine other than `exclude`, or refuses at once. Without a manager, only a static engine with room is
   * chosen here. Never at a lingering stream's cost.
   */
  async acquireStandby(content: ContentRef, exclude: ReadonlySet<string>): Promise<EngineLease> {
    const avoid = this.cooldown.excluding(exclude);
    try {
      return await this.fromManager(content, avoid, { standby: true });
    } catch (err) {
      if (!(err instanceof AcefleetError) || err.code !== 'control_plane_unavailable') throw err;
      const lease = this.choice.chooseStandby(content, avoid);
      if (!lease) throw new AcefleetError('no_engine_available', 'no engine has room for a standby');
      return lease;
    }
  }

  /** Renew these claims and offer local leases for adoption (see ClaimRenewal.renew). */
  renew(leases: EngineLease[]): Promise<string[] | undefined> {
    return this.renewal.renew(leases);
  }

  /** Give the claim back; never rejects (see ReleaseQueue). */
  release(lease: EngineLease): Promise<void> {
    return this.releases.release(lease);
  }

  /** Give back every claim the proxy instance that ran here before this one still holds. */
  releasePredecessor(proxyId: string): Promise<void> {
    return this.releases.releaseAllOf(proxyId);
  }

  /** An engine failed one of our streams: neither chosen here nor asked of the manager while it cools down. */
  reportFailure(failure: EngineFailure): void {
    if (this.cooldown.failed(failure.engineId, failure.reason)) {
      this.log.info({ engineId: failure.engineId, reason: failure.reason }, 'engine failed: cooling down');
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
    ask: ManagerAsk,
  ): Promise<EngineLease> {
    const asked = this.fromManager(content, avoid, ask);
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
      lease = this.choice.choose(content, avoid, exclude, why);
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
    { failed, standby, prefer }: ManagerAsk,
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
        ...(standby && { standby }),
        ...(prefer !== undefined && { preferEngineId: prefer }),
      },
      { timeoutMs: this.opts.requestTimeoutMs },
      (late) => this.releaseLate({ engineId: late.engine.id, baseUrl: '', claimId: late.claimId }),
    );
    return { engineId: reply.engine.id, baseUrl: reply.engine.baseUrl, claimId: reply.claimId };
  }

  /** A grant that came after we stopped waiting (timed out, or fell back): nobody holds it, give it back. */
  private releaseLate(late: EngineLease): void {
    this.log.warn(
      { engineId: late.engineId },
      'engine granted after the proxy stopped waiting: releasing it',
    );
    void this.releases.release(late);
  }
}
