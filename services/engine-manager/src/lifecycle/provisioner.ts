import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AcefleetError, type Claim, type EngineRecord } from '@acefleet/contracts';
import { probeStatus } from '@acefleet/engine-client';
import type { VersionedEngine } from '@acefleet/engine-records';
import type { Logger } from '@acefleet/platform';
import type { CircuitBreaker } from '../runtime/breaker.ts';
import type { ProvisionLimiter } from '../runtime/limiter.ts';
import { Lock } from '../lock.ts';
import type { ManagerMetrics } from '../metrics.ts';
import {
  isPortConflict,
  PORTS_PER_ENGINE,
  portOf,
  REFUSED_PORT_MS,
  type PortAllocator,
} from '../runtime/ports.ts';
import type { EngineRegistry } from './registry.ts';
import type { ClaimRoom } from '../claims/room.ts';
import type { EngineRuntime } from '../runtime/runtime.ts';
import type { VpnWatcher } from '../runtime/vpn.ts';

/** How often a starting engine's container is looked at (is it still running?) while it does not answer. */
const CONTAINER_LOOK_MS = 1000;

export interface ProvisionerOptions {
  hostId: string;
  maxReplicas: number;
  /** Engines of all hosts together (the engines bucket); 0: no fleet-wide limit. */
  fleetMaxReplicas: number;
  capacity: number;
  readyTimeoutMs: number;
  httpPortRangeStart: number;
  p2pPortRangeStart: number;
}

export interface ProvisionerPorts {
  registry: EngineRegistry;
  runtime: EngineRuntime;
  ports: PortAllocator;
  breaker: CircuitBreaker;
  limiter: ProvisionLimiter;
  vpn: VpnWatcher | undefined;
  /** Room on an existing engine of this host, re-checked under the lock before creating one for a claim. */
  claimRoom: ClaimRoom;
  metrics: ManagerMetrics;
  log: Logger;
}

/** What an engine is created for: a claim (placed elsewhere if room appeared meanwhile), or a spare. */
export interface ClaimToPlace {
  claim: Claim;
  exclude: ReadonlySet<string>;
  /** The engine the stream plays from now (a re-claim): taken first while it has room. */
  prefer?: string | undefined;
}

/**
 * The only path that creates or removes this host's containers. Every creation checks, under its own lock,
 * maxReplicas, the fleet-wide limit, the Docker circuit breaker, the VPN and the rate limit, then records
 * the engine (with the claim it is created for) before starting its container, so a count taken under the
 * lock is exact. Claims on existing engines never take this lock (compare-and-set decides them).
 */
export class Provisioner {
  /** Serialises "count, decide, record" of creations; private so no caller can forget or bypass it. */
  private readonly creating = new Lock();
  /** Engines this process is bringing up (recorded, container maybe not yet listed). */
  private readonly bringingUp = new Map<string, Promise<void>>();

  constructor(
    private readonly p: ProvisionerPorts,
    private readonly opts: ProvisionerOptions,
  ) {}

  ours(): VersionedEngine[] {
    return this.p.registry.table.all().filter((e) => e.record.hostId === this.opts.hostId);
  }

  isBringingUp(engineId: string): boolean {
    return this.bringingUp.has(engineId);
  }

  /**
   * Why this host cannot create an engine right now (undefined: it can). `surge`: engines allowed beyond
   * maxReplicas and fleetMaxReplicas (a successor started before the engine it replaces goes).
   */
  refusal(surge = 0): AcefleetError | undefined {
    const breaker = this.p.breaker.snapshot();
    if (breaker.state === 'open') {
      return new AcefleetError(
        'runtime_unavailable',
        `docker circuit breaker open (${breaker.lastError ?? 'failures'})`,
        { retryAfterMs: Math.max(1, breaker.retryAfterMs ?? 1) },
      );
    }
    const vpn = this.p.vpn?.state;
    if (vpn && !vpn.up) {
      return new AcefleetError('runtime_unavailable', `VPN down: ${vpn.reason ?? 'unknown'}`, {
        retryAfterMs: this.p.vpn!.pollIntervalMs,
      });
    }
    if (this.ours().length >= this.opts.maxReplicas + surge) {
      return new AcefleetError(
        'capacity_exhausted',
        `host ${this.opts.hostId} runs its maximum of ${this.opts.maxReplicas} engines, all full`,
        { retryAfterMs: 5000 },
      );
    }
    const fleetMax = this.opts.fleetMaxReplicas;
    if (fleetMax > 0 && this.p.registry.table.all().length >= fleetMax + surge) return this.fleetFull();
    return undefined;
  }

  private fleetFull(): AcefleetError {
    return new AcefleetError(
      'capacity_exhausted',
      `the fleet runs its maximum of ${this.opts.fleetMaxReplicas} engines, all full`,
      { retryAfterMs: 5000 },
    );
  }

  /**
   * Create an engine, under the provisioning lock (taken here). For a claim: once the lock is held, an
   * existing engine that has room by now (a release, or the engine the acquire queued ahead created) takes
   * the claim by CAS instead, so no engine is created needlessly. Resolves with the id of the engine holding
   * the claim (or of the new spare) once it is recorded.
   */
  provision(forClaim?: ClaimToPlace): Promise<string> {
    return this.creating.run(async () => {
      const existing =
        forClaim && (await this.p.claimRoom(forClaim.claim, forClaim.exclude, forClaim.prefer));
      return existing ?? this.create(forClaim ? [forClaim.claim] : []);
    });
  }

  /**
   * A successor for an engine about to be replaced (a rolling upgrade): made before the old one goes, so it
   * may run one engine over maxReplicas and fleetMaxReplicas (as Kubernetes' maxSurge 1) until then.
   */
  provisionSuccessor(): Promise<string> {
    return this.creating.run(() => this.create([], 1));
  }

  private async create(claims: Claim[], surge = 0): Promise<string> {
    const refused = this.refusal(surge);
    if (refused) {
      this.p.metrics.provisions.inc({ result: 'refused' });
      throw refused;
    }
    this.p.limiter.takeToken();
    const ours = this.ours().map((e) => e.record);
    const httpPort = await this.p.ports.allocate(
      ours.map((r) => portOf(r.baseUrl)),
      (port) => this.p2pPortFor(port, ours),
    );
    if (httpPort === undefined) {
      throw new AcefleetError('capacity_exhausted', 'no free engine port in the configured range', {
        retryAfterMs: 5000,
      });
    }
    const engineId = `${this.opts.hostId}-${randomBytes(4).toString('hex')}`;
    const p2pPort = this.p2pPortFor(httpPort, ours);
    const now = new Date().toISOString();
    const record: EngineRecord = {
      id: engineId,
      hostId: this.opts.hostId,
      baseUrl: this.p.runtime.baseUrlOf({ engineId, httpPort }),
      state: 'starting',
      capacity: this.opts.capacity,
      claims,
      createdAt: now,
      updatedAt: now,
      p2pPort,
      ...(this.p.runtime.image ? { image: this.p.runtime.image } : {}),
    };
    let settle!: () => void;
    this.bringingUp.set(engineId, new Promise((r) => (settle = r)));
    try {
      await this.p.registry.create(record);
      await this.withinFleetLimit(engineId, surge);
    } catch (err) {
      this.bringingUp.delete(engineId);
      settle();
      throw err;
    } finally {
      this.p.ports.settle(httpPort);
    }
    this.p.log.info({ engineId, httpPort, p2pPort, claims: claims.length }, 'provisioning engine');
    const up = this.bringUp(record, httpPort, p2pPort);
    this.bringingUp.set(engineId, up);
    void up
      // bringUp logged and counted its failure; awaitReady reports it to whoever waits.
      .catch(() => {})
      .finally(() => {
        this.bringingUp.delete(engineId);
        settle();
      });
    return engineId;
  }

  /**
   * The record just created is a reservation: counted afresh in the bucket, the fleet may exceed its limit
   * when hosts created at once. Then it is withdrawn before any container starts; the last of the racers
   * to count always sees every record, so the fleet never runs more than fleetMaxReplicas containers.
   */
  private async withinFleetLimit(engineId: string, surge: number): Promise<void> {
    const fleetMax = this.opts.fleetMaxReplicas;
    if (fleetMax === 0) return;
    let count = 0;
    for await (const _ of await this.p.registry.table.kv.keys()) count++;
    if (count <= fleetMax + surge) return;
    await this.p.registry.remove(engineId);
    this.p.metrics.provisions.inc({ result: 'refused' });
    throw this.fleetFull();
  }

  /** The VPN's forwarded port goes to exactly one engine; the others take theirs from the P2P range. */
  private p2pPortFor(httpPort: number, ours: EngineRecord[]): number {
    const forwarded = this.p.vpn?.state.forwardedPort ?? 0;
    if (forwarded > 0 && !ours.some((r) => r.p2pPort === forwarded)) return forwarded;
    return this.opts.p2pPortRangeStart + (httpPort - this.opts.httpPortRangeStart) / PORTS_PER_ENGINE;
  }

  /** Wait until an engine (of any host) is ready; throws when it fails or disappears. */
  async awaitReady(engineId: string): Promise<EngineRecord> {
    await this.bringingUp.get(engineId);
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    for (;;) {
      const record = this.p.registry.table.get(engineId)?.record;
      if (!record) throw new AcefleetError('runtime_unavailable', 'the engine went away while starting');
      if (record.state !== 'starting') return record;
      if (Date.now() > deadline) {
        throw new AcefleetError('engine_timeout', 'the engine did not become ready', { retryAfterMs: 5000 });
      }
      await sleep(100);
    }
  }

  private async bringUp(record: EngineRecord, httpPort: number, p2pPort: number): Promise<void> {
    let containerId: string | undefined;
    try {
      ({ containerId } = await this.p.limiter.run(() =>
        this.p.breaker.run(() => this.p.runtime.start({ engineId: record.id, httpPort, p2pPort })),
      ));
      await this.p.registry.mutate(record.id, (rec) => ({ ...rec, containerId }));
      await this.waitForEngine(record.baseUrl, containerId);
      await this.p.registry.transition(record.id, { to: 'ready', from: ['starting'] });
      this.p.metrics.provisions.inc({ result: 'ok' });
      this.p.log.info({ engineId: record.id, containerId }, 'engine ready');
    } catch (err) {
      this.p.metrics.provisions.inc({ result: 'failed' });
      this.p.log.error({ err, engineId: record.id }, 'engine failed to start');
      if (isPortConflict(err)) {
        this.p.ports.refuse(httpPort);
        this.p.log.warn(
          { httpPort, p2pPort, minutes: REFUSED_PORT_MS / 60_000 },
          'another program holds a port of this engine: its ports are left out for a while',
        );
      }
      // Best effort, past the breaker: the waiter must see the record go even while Docker fails.
      if (containerId) await this.p.runtime.remove(containerId).catch(() => {});
      await this.p.registry.remove(record.id).catch(() => {});
      throw err instanceof AcefleetError
        ? err
        : new AcefleetError('runtime_unavailable', `the engine did not start: ${String(err)}`, {
            cause: err,
            retryAfterMs: Math.max(1000, this.p.breaker.retryAfterMs()),
          });
    }
  }

  /**
   * Until the engine answers `get_status`, or its container ends (an image that crashes, a port some other
   * process took after the allocator looked): then at once, with its exit code, rather than at the deadline.
   * An answer counts only while the container runs, since another process may answer on that port.
   */
  private async waitForEngine(baseUrl: string, containerId: string): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    let lookAt = Date.now() + CONTAINER_LOOK_MS;
    for (;;) {
      // Undefined: it answered; else why it did not.
      const failure = await probeStatus(baseUrl, 1000).then(
        () => undefined,
        (err: unknown) => err ?? new Error('no answer'),
      );
      if (failure === undefined || Date.now() >= lookAt) {
        await this.mustRun(containerId);
        if (failure === undefined) return;
        lookAt = Date.now() + CONTAINER_LOOK_MS;
      }
      if (Date.now() > deadline) {
        throw new AcefleetError('engine_timeout', `engine not ready after ${this.opts.readyTimeoutMs} ms`, {
          cause: failure,
          retryAfterMs: 5000,
        });
      }
      await sleep(100);
    }
  }

  private async mustRun(containerId: string): Promise<void> {
    const exit = await this.p.runtime.exitOf(containerId).catch(() => undefined);
    if (!exit) return;
    const how = exit.reason === 'gone' ? 'is gone' : `exited with code ${exit.exitCode ?? '?'}`;
    const oom = exit.reason === 'out of memory' ? ' (out of memory)' : '';
    throw new AcefleetError('engine_error', `the engine ${how}${oom} before it answered`, {
      retryAfterMs: 1000,
    });
  }

  /**
   * The one way an engine of this host goes away (drained, dead, foreign settings, container gone, failed
   * start): its container, through the breaker, then its record.
   */
  async remove(
    engine: { engineId: string; containerId?: string | undefined },
    reason: string,
  ): Promise<void> {
    const { engineId, containerId } = engine;
    if (containerId) await this.p.breaker.run(() => this.p.runtime.remove(containerId));
    if (this.p.registry.table.get(engineId)) await this.p.registry.remove(engineId);
    this.p.log.info({ engineId, containerId, reason }, 'engine removed');
  }
}
