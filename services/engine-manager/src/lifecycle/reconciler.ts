import { setTimeout as sleep } from 'node:timers/promises';
import { probeStatus } from '@acefleet/engine-client';
import type { Logger } from '@acefleet/platform';
import type { CircuitBreaker } from '../runtime/breaker.ts';
import type { Drainer } from './drainer.ts';
import { Lock } from '../lock.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRegistry } from './registry.ts';
import type { EngineRuntime, RunningEngine, RuntimeEvent } from '../runtime/runtime.ts';

export interface ReconcilerOptions {
  hostId: string;
  capacity: number;
}

/**
 * Makes the records match Docker: adopts running containers that carry our labels (keeping the record and
 * its claims when KV has one), removes dead containers and foreign-config ones (draining them first when
 * they hold streams), forgets records whose container is gone. Runs on start, on every Docker event for our
 * containers, and periodically. Containers without our labels are never listed, so never touched.
 */
export class Reconciler {
  private readonly lock = new Lock();
  private pending: Promise<void> | undefined;

  constructor(
    private readonly registry: EngineRegistry,
    private readonly runtime: EngineRuntime,
    private readonly provisioner: Provisioner,
    private readonly drainer: Drainer,
    private readonly breaker: CircuitBreaker,
    private readonly opts: ReconcilerOptions,
    private readonly log: Logger,
    private readonly onHealth: (engineId: string, healthy: boolean, detail: string) => Promise<void>,
  ) {}

  /** Run one pass; a request while one runs is folded into a single next pass. */
  reconcile(): Promise<void> {
    this.pending ??= this.lock.run(async () => {
      this.pending = undefined;
      await this.pass();
    });
    return this.pending;
  }

  private async pass(): Promise<void> {
    const containers = await this.breaker.run(() => this.runtime.list());
    const byEngine = new Map(containers.map((c) => [c.engineId, c]));
    for (const c of containers) await this.settle(c);
    for (const { record } of this.provisioner.ours()) {
      if (byEngine.has(record.id) || this.provisioner.isBringingUp(record.id)) continue;
      this.log.warn({ engineId: record.id, claims: record.claims.length }, 'engine container is gone');
      await this.provisioner.remove({ engineId: record.id }, 'container gone');
    }
  }

  private async settle(c: RunningEngine): Promise<void> {
    // The provisioner owns a container until its start is decided (ready, or failed: it removes the container
    // and says how it ended). A pass that listed it a moment before it started would take it for dead.
    if (this.provisioner.isBringingUp(c.engineId)) return;
    const known = this.registry.table.get(c.engineId)?.record;
    if (!c.running) {
      await this.provisioner.remove(c, 'container dead');
      return;
    }
    if (!c.current) {
      if (known && known.claims.length > 0) {
        if (known.state !== 'draining') await this.drainer.drain(c.engineId, 'config_changed');
        return;
      }
      await this.provisioner.remove(c, 'made with other settings');
      return;
    }
    if (!known) {
      await this.adopt(c);
    } else if (known.containerId !== c.containerId || known.state === 'starting') {
      const ready = await this.probe(known.baseUrl);
      await this.registry.mutate(c.engineId, (rec) =>
        rec.containerId === c.containerId ? undefined : { ...rec, containerId: c.containerId },
      );
      if (ready) await this.registry.transition(c.engineId, { to: 'ready', from: ['starting'] });
    }
  }

  private probe(baseUrl: string): Promise<boolean> {
    return probeStatus(baseUrl, 2000).then(
      () => true,
      () => false,
    );
  }

  /** A running labelled container without a record (KV lost it): take it back, with no claims. */
  private async adopt(c: RunningEngine): Promise<void> {
    const now = new Date().toISOString();
    const baseUrl = this.runtime.baseUrlOf({ engineId: c.engineId, httpPort: c.httpPort });
    const ready = await this.probe(baseUrl);
    this.log.info({ engineId: c.engineId, containerId: c.containerId, ready }, 'adopting engine container');
    await this.registry.create({
      id: c.engineId,
      hostId: this.opts.hostId,
      baseUrl,
      containerId: c.containerId,
      state: ready ? 'ready' : 'unhealthy',
      capacity: this.opts.capacity,
      claims: [],
      createdAt: now,
      updatedAt: now,
      ...(c.p2pPort ? { p2pPort: c.p2pPort } : {}),
      ...(c.image ? { image: c.image } : {}),
    });
  }

  /** Follow the runtime's events until `signal` aborts, resubscribing (and resyncing) after each break. */
  async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.runtime.watch((e) => void this.onEvent(e), signal);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'engine event stream broke');
      }
      if (signal.aborted) return;
      // An abort ends the pause early: the loop's condition sees it.
      await sleep(1000, undefined, { signal }).catch(() => {});
      await this.reconcile().catch((err: unknown) => this.log.warn({ err }, 'resync after the break failed'));
    }
  }

  private async onEvent(e: RuntimeEvent): Promise<void> {
    this.log.info({ engineId: e.engineId, event: e.kind, health: e.health }, 'engine container event');
    try {
      if (e.kind === 'health') {
        if (e.health === 'healthy' || e.health === 'unhealthy') {
          await this.onHealth(e.engineId, e.health === 'healthy', 'docker health check');
        }
        return;
      }
      await this.reconcile();
    } catch (err) {
      this.log.warn({ err, engineId: e.engineId }, 'engine event not applied');
    }
  }
}
