import {
  AcefleetError,
  Subjects,
  type DrainReason,
  type EngineDraining,
  type EngineRecord,
} from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import type { ManagerMetrics } from '../metrics.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRegistry } from './registry.ts';

/**
 * Every removal goes through draining: the engine is marked `draining` (no new claims), proxies are told by
 * an engine.draining event to move its streams, and the owning manager removes it once it is empty or its
 * deadline has passed. Only the owning host's manager drains and removes (a drain asked of another is forwarded to it).
 */
export class Drainer {
  constructor(
    private readonly registry: EngineRegistry,
    private readonly provisioner: Provisioner,
    private readonly events: EventPublisher,
    private readonly opts: { drainTimeoutMs: number },
    private readonly log: Logger,
    private readonly metrics: ManagerMetrics,
  ) {}

  /** `onlyIfIdle`: leave the engine alone if a claim landed on it meanwhile (idle scale-down). */
  async drain(
    engineId: string,
    reason: DrainReason,
    deadlineMs = this.opts.drainTimeoutMs,
    onlyIfIdle = false,
  ): Promise<EngineRecord> {
    const deadline = new Date(Date.now() + deadlineMs).toISOString();
    const stored = await this.registry.transition(engineId, {
      to: 'draining',
      from: ['starting', 'ready', 'unhealthy', 'draining'],
      reason,
      drainDeadline: deadline,
      when: (rec) =>
        !(onlyIfIdle && rec.claims.length > 0) &&
        !(rec.state === 'draining' && rec.drainDeadline && rec.drainDeadline <= deadline),
    });
    if (!stored) throw new AcefleetError('not_found', `no engine ${engineId}`);
    const record = stored.record;
    if (record.state === 'draining' && record.drainDeadline === deadline) {
      this.metrics.drains.inc({ reason });
      this.log.info({ engineId, reason, deadline, claims: record.claims.length }, 'engine draining');
      const event: EngineDraining = {
        engineId,
        hostId: record.hostId,
        reason,
        deadline,
        claims: record.claims,
        at: new Date().toISOString(),
      };
      this.events.publish(Subjects.engineDraining, event, `draining-${engineId}-${deadline}`);
    }
    return record;
  }

  /** Remove this host's draining engines that are empty or past their deadline. */
  async tick(): Promise<void> {
    const now = new Date().toISOString();
    for (const { record } of this.provisioner.ours()) {
      if (record.state !== 'draining') continue;
      const due = record.claims.length === 0 || (record.drainDeadline ?? '') <= now;
      if (!due || this.provisioner.isBringingUp(record.id)) continue;
      const engine = { engineId: record.id, containerId: record.containerId };
      await this.provisioner.remove(engine, record.stateReason ?? 'drained').catch((err: unknown) => {
        this.log.warn({ err, engineId: record.id }, 'could not remove drained engine');
      });
    }
  }
}
