import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AcefleetError,
  contentKeyOf,
  type AcquireReply,
  type AcquireRequest,
  type Claim,
  type EngineRecord,
  type ReleaseRequest,
} from '@acefleet/contracts';
import { probeStatus } from '@acefleet/engine-client';
import type { Logger, VersionedEngine } from '@acefleet/platform';
import type { EngineRegistry } from './registry.ts';
import type { EngineRuntime } from './runtime.ts';
import { portOf, type PortAllocator } from './ports.ts';
import type { ManagerMetrics } from './metrics.ts';

export interface FleetOptions {
  hostId: string;
  minReplicas: number;
  maxReplicas: number;
  capacity: number;
  readyTimeoutMs: number;
  httpPortRangeStart: number;
  p2pPortRangeStart: number;
}

/** A simple async mutex: placement decisions (choose, or decide to provision) happen one at a time. */
class Lock {
  private tail = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Owns the fleet: hands out engines (claims), provisions when none has room, keeps the minimum running. */
export class Fleet {
  private readonly placement = new Lock();
  private readonly readiness = new Map<string, Promise<void>>();

  constructor(
    private readonly registry: EngineRegistry,
    private readonly runtime: EngineRuntime,
    private readonly ports: PortAllocator,
    private readonly opts: FleetOptions,
    private readonly log: Logger,
    private readonly metrics: ManagerMetrics,
  ) {}

  list(): EngineRecord[] {
    return this.registry.table.records();
  }

  private ours(): VersionedEngine[] {
    return this.registry.table.all().filter((e) => e.record.hostId === this.opts.hostId);
  }

  async acquire(req: AcquireRequest): Promise<AcquireReply> {
    const started = process.hrtime.bigint();
    const claim: Claim = {
      claimId: randomUUID(),
      contentKey: contentKeyOf(req.content),
      proxyId: req.proxyId,
      claimedAt: new Date().toISOString(),
    };
    let result = 'ok';
    try {
      const exclude = new Set(req.excludeEngineIds ?? []);
      const engineId = await this.placement.run(() => this.place(claim, exclude));
      await this.readiness.get(engineId);
      const engine = this.registry.table.get(engineId)?.record;
      if (!engine) throw new AcefleetError('runtime_unavailable', 'the engine went away while starting');
      this.log.info({ engineId, contentKey: claim.contentKey, claimId: claim.claimId }, 'engine claimed');
      return { claimId: claim.claimId, engine };
    } catch (err) {
      result = err instanceof AcefleetError ? err.code : 'internal';
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.acquireSeconds.observe({ result }, seconds);
    }
  }

  /** Claim room on the best engine (content affinity first), or provision one with the claim already on it. */
  private async place(claim: Claim, exclude: Set<string>): Promise<string> {
    for (;;) {
      const candidate = this.choose(claim.contentKey, exclude);
      if (!candidate) break;
      const stored = await this.registry.mutate(candidate.record.id, (rec) =>
        this.hasRoom(rec) ? { ...rec, claims: [...rec.claims, claim] } : undefined,
      );
      if (stored?.record.claims.some((c) => c.claimId === claim.claimId)) return candidate.record.id;
    }
    if (this.ours().length >= this.opts.maxReplicas) {
      throw new AcefleetError('capacity_exhausted', `all ${this.opts.maxReplicas} engines are full`, {
        retryAfterMs: 5000,
      });
    }
    return this.provision([claim]);
  }

  private hasRoom(rec: EngineRecord): boolean {
    return (rec.state === 'ready' || rec.state === 'starting') && rec.claims.length < rec.capacity;
  }

  private choose(contentKey: string, exclude: Set<string>): VersionedEngine | undefined {
    const score = (rec: EngineRecord): number =>
      (rec.claims.some((c) => c.contentKey === contentKey) ? 0 : 1000) +
      (rec.state === 'ready' ? 0 : 100) +
      rec.claims.length;
    return this.registry.table
      .all()
      .filter((e) => this.hasRoom(e.record) && !exclude.has(e.record.id))
      .sort((a, b) => score(a.record) - score(b.record))[0];
  }

  /** Start an engine, record it as starting (carrying `claims`), and mark it ready once get_status answers. */
  async provision(claims: Claim[]): Promise<string> {
    const httpPort = await this.ports.allocate(this.ours().map((e) => portOf(e.record.baseUrl)));
    if (httpPort === undefined) {
      throw new AcefleetError('capacity_exhausted', 'no free engine port in the configured range', {
        retryAfterMs: 5000,
      });
    }
    const engineId = `${this.opts.hostId}-${randomBytes(4).toString('hex')}`;
    const now = new Date().toISOString();
    const record: EngineRecord = {
      id: engineId,
      hostId: this.opts.hostId,
      baseUrl: this.runtime.baseUrlOf({ engineId, httpPort }),
      state: 'starting',
      capacity: this.opts.capacity,
      claims,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.registry.create(record);
    } finally {
      this.ports.settle(httpPort);
    }
    this.log.info({ engineId, httpPort }, 'provisioning engine');
    const p2pPort = this.opts.p2pPortRangeStart + (httpPort - this.opts.httpPortRangeStart);
    const ready = this.bringUp(record, httpPort, p2pPort);
    this.readiness.set(engineId, ready);
    void ready.catch(() => {}).finally(() => this.readiness.delete(engineId));
    return engineId;
  }

  private async bringUp(record: EngineRecord, httpPort: number, p2pPort: number): Promise<void> {
    let containerId: string | undefined;
    try {
      ({ containerId } = await this.runtime.start({ engineId: record.id, httpPort, p2pPort }));
      await this.registry.mutate(record.id, (rec) => ({ ...rec, containerId }));
      await this.awaitReady(record.baseUrl);
      await this.registry.mutate(record.id, (rec) => ({ ...rec, state: 'ready' }));
      this.metrics.provisions.inc({ result: 'ok' });
      this.log.info({ engineId: record.id, containerId }, 'engine ready');
    } catch (err) {
      this.metrics.provisions.inc({ result: 'failed' });
      this.log.error({ err, engineId: record.id }, 'engine failed to start');
      if (containerId) await this.runtime.remove(containerId).catch(() => {});
      await this.registry.remove(record.id).catch(() => {});
      throw err instanceof AcefleetError
        ? err
        : new AcefleetError('runtime_unavailable', 'the engine did not start', {
            cause: err,
            retryAfterMs: 5000,
          });
    }
  }

  private async awaitReady(baseUrl: string): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    for (;;) {
      try {
        await probeStatus(baseUrl, 1000);
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new AcefleetError('engine_timeout', `engine not ready after ${this.opts.readyTimeoutMs} ms`, {
            cause: err,
            retryAfterMs: 5000,
          });
        }
        await sleep(200);
      }
    }
  }

  async release(req: ReleaseRequest): Promise<{ released: boolean }> {
    let released = false;
    await this.registry.mutate(req.engineId, (rec) => {
      const claims = rec.claims.filter((c) => c.claimId !== req.claimId);
      released = claims.length !== rec.claims.length;
      return released ? { ...rec, claims } : undefined;
    });
    if (released) this.log.info({ engineId: req.engineId, claimId: req.claimId }, 'engine released');
    return { released };
  }

  /** Keep at least minReplicas engines of ours. */
  async ensureMinimum(): Promise<void> {
    const missing = this.opts.minReplicas - this.ours().length;
    const starts = Array.from({ length: Math.max(0, missing) }, () =>
      this.placement.run(() => this.provision([])).then((id) => this.readiness.get(id)),
    );
    await Promise.allSettled(starts);
  }

  /**
   * Make the records match reality: adopt running labelled containers, forget records whose container is
   * gone, remove stopped containers of ours.
   */
  async reconcile(): Promise<void> {
    const running = await this.runtime.list();
    const byEngine = new Map(running.map((r) => [r.engineId, r]));
    for (const r of running) {
      const known = this.registry.table.get(r.engineId);
      if (!r.running) {
        this.log.warn({ engineId: r.engineId }, 'removing stopped engine container');
        await this.runtime.remove(r.containerId);
        if (known) await this.registry.remove(r.engineId);
      } else if (!known) {
        await this.adopt(r.engineId, r.containerId, r.httpPort);
      }
    }
    for (const { record } of this.ours()) {
      if (record.state !== 'starting' && !byEngine.has(record.id)) {
        this.log.warn({ engineId: record.id }, 'engine container is gone; forgetting it');
        await this.registry.remove(record.id);
      }
    }
  }

  private async adopt(engineId: string, containerId: string, httpPort: number): Promise<void> {
    const now = new Date().toISOString();
    const baseUrl = this.runtime.baseUrlOf({ engineId, httpPort });
    const state = await probeStatus(baseUrl, 2000).then(
      () => 'ready' as const,
      () => 'unhealthy' as const,
    );
    this.log.info({ engineId, containerId, state }, 'adopting engine container');
    await this.registry.create({
      id: engineId,
      hostId: this.opts.hostId,
      baseUrl,
      containerId,
      state,
      capacity: this.opts.capacity,
      claims: [],
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Remove every engine of ours (used by `npm start` on Ctrl-C, never on a plain restart). */
  async removeAll(): Promise<void> {
    for (const { record } of this.ours()) {
      if (record.containerId) await this.runtime.remove(record.containerId).catch(() => {});
      await this.registry.remove(record.id).catch(() => {});
    }
  }
}
