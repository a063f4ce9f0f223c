import {
  AcefleetError,
  AcquireReply,
  ReleaseReply,
  RenewReply,
  Subjects,
  contentKeyOf,
  type ContentRef,
  type EngineRecord,
} from '@acefleet/contracts';
import { requestJson, supervise, type Logger, type NatsConnection } from '@acefleet/platform';
import type { ProxyMetrics } from './metrics.ts';

/** An engine this proxy may start a session on, and the claim that holds it. */
export interface EngineLease {
  engineId: string;
  baseUrl: string;
  claimId: string;
  /** Chosen by the proxy itself (manager unreachable): nothing to release at the manager. */
  local: boolean;
}

export interface EngineSourceOptions {
  proxyId: string;
  requestTimeoutMs: number;
  /** Engines to use when neither the manager nor the cache can help (base URLs). */
  staticEngines: string[];
}

/**
 * Where streams get engines: the engine manager over NATS; when it does not answer, a healthy engine from
 * the live cache of the engines bucket; when that is empty too, the statically configured engines.
 */
export class EngineSource {
  private readonly pendingReleases: EngineLease[] = [];
  private staticTurn = 0;
  private releasing: Promise<void> | undefined;
  /** False while NATS is disconnected: requests would only wait for their timeout, so go local at once. */
  private connected = true;

  constructor(
    private nc: NatsConnection | undefined,
    private readonly table: { records(): EngineRecord[] } | undefined,
    private readonly opts: EngineSourceOptions,
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics,
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

  async acquire(content: ContentRef, exclude: ReadonlySet<string>): Promise<EngineLease> {
    const end = this.metrics.acquireSeconds.startTimer();
    try {
      const lease = await this.fromManager(content, exclude).catch((err: unknown) => {
        if (!(err instanceof AcefleetError) || err.code !== 'control_plane_unavailable') throw err;
        this.log.warn({ err: err.message }, 'engine manager unavailable; choosing an engine locally');
        const local = this.fromCache(content, exclude) ?? this.fromStatic(exclude);
        if (!local) {
          throw new AcefleetError(
            'no_engine_available',
            'no engine manager answered and no engine is known',
            {
              cause: err,
              retryAfterMs: 5000,
            },
          );
        }
        return local;
      });
      end({ result: lease.local ? 'local' : 'ok' });
      return lease;
    } catch (err) {
      end({ result: err instanceof AcefleetError ? err.code : 'internal' });
      throw err;
    }
  }

  private async fromManager(content: ContentRef, exclude: ReadonlySet<string>): Promise<EngineLease> {
    if (!this.nc || this.nc.isClosed() || !this.connected) {
      throw new AcefleetError('control_plane_unavailable', 'not connected to NATS');
    }
    const reply = await requestJson(
      this.nc,
      Subjects.engineAcquire,
      { content, proxyId: this.opts.proxyId, excludeEngineIds: [...exclude] },
      AcquireReply,
      this.opts.requestTimeoutMs,
    );
    return { engineId: reply.engine.id, baseUrl: reply.engine.baseUrl, claimId: reply.claimId, local: false };
  }

  private fromCache(content: ContentRef, exclude: ReadonlySet<string>): EngineLease | undefined {
    const key = contentKeyOf(content);
    const score = (e: EngineRecord): number =>
      (e.claims.some((c) => c.contentKey === key) ? 0 : 1000) + e.claims.length / e.capacity;
    const best = (this.table?.records() ?? [])
      .filter((e) => e.state === 'ready' && !exclude.has(e.id))
      .sort((a, b) => score(a) - score(b))[0];
    return best && { engineId: best.id, baseUrl: best.baseUrl, claimId: `local-${Date.now()}`, local: true };
  }

  private fromStatic(exclude: ReadonlySet<string>): EngineLease | undefined {
    const choices = this.opts.staticEngines.filter((url) => !exclude.has(`static:${url}`));
    const url = choices[this.staticTurn++ % Math.max(1, choices.length)];
    return url
      ? { engineId: `static:${url}`, baseUrl: url, claimId: `local-${Date.now()}`, local: true }
      : undefined;
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

  /** Give the claim back; if the manager is unreachable, keep it and try again on the next release. */
  release(lease: EngineLease): Promise<void> {
    if (lease.local) return Promise.resolve();
    this.pendingReleases.push(lease);
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
        const body = { engineId: next.engineId, claimId: next.claimId };
        await requestJson(this.nc, Subjects.engineRelease, body, ReleaseReply, this.opts.requestTimeoutMs);
      } catch (err) {
        if (err instanceof AcefleetError && err.code === 'control_plane_unavailable') {
          this.log.warn({ engineId: next.engineId }, 'release deferred: engine manager unavailable');
          return;
        }
        this.log.warn({ err, engineId: next.engineId }, 'release refused');
      }
      this.pendingReleases.shift();
    }
  }
}
