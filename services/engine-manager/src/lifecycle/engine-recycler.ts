import type { DrainReason, EngineRecord } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { Drainer } from './drainer.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRuntime } from '../runtime/runtime.ts';

export interface RecycleRules {
  /** An engine older than this is replaced. */
  maxAgeMs: number;
  /** An engine whose memory stays over this many MiB for `overChecks` checks in a row is replaced (0: never). */
  memoryMb: number;
  /** An engine that wrote more than this many MiB outside its bounded cache is replaced (0: never). */
  diskMb: number;
  /** How often engines' memory and disk are measured (ages are read every maintenance step). */
  checkIntervalMs: number;
  /** Warm engines the fleet keeps (MIN_FREE_REPLICAS): a recycle never leaves fewer ready ones. */
  minFree: number;
}

/** Checks in a row an engine's memory must stay over its bound: one spike (a burst of peers) is no reason. */
const OVER_CHECKS = 3;

/** Why an engine is due for recycling, with the figure that says so (for the log). */
interface Due {
  reason: DrainReason;
  detail: Record<string, number>;
}

/** The recycling rules of a manager's configuration. */
export function recycleRulesOf(config: {
  engineMaxAgeMs: number;
  engineRecycleMemoryMb: number;
  engineDiskMaxMb: number;
  engineUsageCheckMs: number;
  minFreeReplicas: number;
}): RecycleRules {
  return {
    maxAgeMs: config.engineMaxAgeMs,
    memoryMb: config.engineRecycleMemoryMb,
    diskMb: config.engineDiskMaxMb,
    checkIntervalMs: config.engineUsageCheckMs,
    minFree: config.minFreeReplicas,
  };
}
const MIB = 1024 * 1024;

/**
 * Keeps engines fresh for months unattended: an engine past ENGINE_MAX_AGE_MS, or whose memory stays over
 * ENGINE_RECYCLE_MEMORY_MB, or that wrote more than ENGINE_DISK_MAX_MB outside its bounded cache, is replaced
 * through a drain, one engine at a time:
 *
 * - an idle one at once (drained only while still idle), when a warm engine remains beside it; else a new
 *   one is provisioned first, so a new channel never waits for a boot;
 * - a busy one only when a ready engine with room is there to take its streams: proxies then move them at
 *   once. Drain moves are break-before-make today (a short gap); until make-before-break moves land, that is
 *   the quietest moment the manager can choose.
 *
 * The autoscaler replaces what was removed (MIN_REPLICAS, MIN_FREE_REPLICAS).
 */
export class EngineRecycler {
  /** The first measurement comes one interval after start, as every later one. */
  private lastUsageAt: number;
  private measuring: Promise<void> | undefined;
  private readonly memoryOver = new Map<string, number>();
  /** Engines found over a usage bound at the last measurement, and why. */
  private overUsage = new Map<string, Due>();

  constructor(
    private readonly provisioner: Provisioner,
    private readonly drainer: Drainer,
    private readonly runtime: EngineRuntime,
    private readonly rules: RecycleRules,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.lastUsageAt = now();
  }

  /**
   * One maintenance step: ages are read from the records every step (nothing to ask), memory and disk are
   * measured every `checkIntervalMs`; then at most one engine is recycled.
   */
  async tick(): Promise<void> {
    const now = this.now();
    const engines = this.provisioner.ours().map((e) => e.record);
    const ready = engines.filter((r) => r.state === 'ready');
    if (now - this.lastUsageAt >= this.rules.checkIntervalMs && !this.measuring) {
      // Off the maintenance loop: Docker's stats and layer sizes take seconds an engine, and the loop also
      // sweeps leases and scales the fleet. What it finds counts from the next step on.
      this.lastUsageAt = now;
      this.measuring = this.measure(ready)
        .catch((err: unknown) => this.log.warn({ err }, 'engine usage not measured'))
        .finally(() => (this.measuring = undefined));
    }
    // One recycle at a time: the previous one's drain is still moving streams.
    if (engines.some((r) => r.state === 'draining' && isRecycle(r.stateReason))) return;
    const due = ready.flatMap((record): (Due & { record: EngineRecord })[] => {
      const ageMs = now - Date.parse(record.createdAt);
      if (ageMs > this.rules.maxAgeMs) return [{ record, reason: 'max_age', detail: { ageMs } }];
      const over = this.overUsage.get(record.id);
      return over ? [{ record, ...over }] : [];
    });
    // Idle ones first (no stream moves), then the oldest.
    due.sort(
      (a, b) =>
        a.record.claims.length - b.record.claims.length ||
        a.record.createdAt.localeCompare(b.record.createdAt),
    );
    const [next] = due;
    if (next) await this.recycle(next.record, next.reason, next.detail, engines);
  }

  /** Memory and disk of every ready engine, where its runtime can tell: who is over its bound now. */
  private async measure(ready: EngineRecord[]): Promise<void> {
    const over = new Map<string, Due>();
    for (const id of this.memoryOver.keys()) {
      if (!ready.some((r) => r.id === id)) this.memoryOver.delete(id);
    }
    const measured = this.rules.memoryMb > 0 || this.rules.diskMb > 0;
    if (!measured || !this.runtime.usage) return;
    for (const record of ready) {
      if (!record.containerId) continue;
      const usage = await this.runtime.usage(record.containerId).catch(() => undefined);
      const diskMb = (usage?.diskBytes ?? 0) / MIB;
      if (this.rules.diskMb > 0 && diskMb > this.rules.diskMb) {
        over.set(record.id, { reason: 'disk', detail: { diskMb } });
        continue;
      }
      const memoryMb = (usage?.memoryBytes ?? 0) / MIB;
      const checks =
        this.rules.memoryMb > 0 && memoryMb > this.rules.memoryMb
          ? (this.memoryOver.get(record.id) ?? 0) + 1
          : 0;
      this.memoryOver.set(record.id, checks);
      if (checks >= OVER_CHECKS) over.set(record.id, { reason: 'memory', detail: { memoryMb } });
    }
    this.overUsage = over;
  }

  private async recycle(
    record: EngineRecord,
    reason: DrainReason,
    detail: Record<string, number>,
    engines: EngineRecord[],
  ): Promise<void> {
    const others = engines.filter((r) => r.id !== record.id && r.state === 'ready');
    const warm = others.filter((r) => r.claims.length === 0).length;
    const room = others.some((r) => r.claims.length < r.capacity);
    const idle = record.claims.length === 0;
    const replacementFirst = (idle && warm < this.rules.minFree) || (!idle && !room);
    if (replacementFirst && !engines.some((r) => r.state === 'starting') && !this.provisioner.refusal()) {
      // Make before break: the replacement first. At MAX_REPLICAS (refused) there is no room for one: an idle
      // engine is recycled anyway and replaced after; a busy one waits for a ready engine with room.
      this.log.info(
        { engineId: record.id, reason, ...detail },
        'engine due for recycling: starting its replacement first',
      );
      await this.provisioner.provision();
      return;
    }
    if (replacementFirst && !(idle && this.provisioner.refusal())) return;
    this.log.info(
      { engineId: record.id, reason, claims: record.claims.length, ...detail },
      'recycling engine',
    );
    await this.drainer.drain(record.id, reason, undefined, idle);
    this.memoryOver.delete(record.id);
  }
}

function isRecycle(reason: string | undefined): boolean {
  return reason === 'max_age' || reason === 'memory' || reason === 'disk';
}
