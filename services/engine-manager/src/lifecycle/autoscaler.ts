import type { Logger } from '@acefleet/platform';
import type { Drainer } from './drainer.ts';
import { isFree } from '../claims/placement.ts';
import type { Provisioner } from './provisioner.ts';

export interface AutoscalerOptions {
  minReplicas: number;
  minFreeReplicas: number;
  idleGraceMs: number;
}

/**
 * Keeps this host's fleet between its bounds: at least minReplicas usable engines and minFreeReplicas warm
 * spares (so a new channel never waits for a container), at most maxReplicas (the provisioner enforces it),
 * and drains engines idle longer than the grace period when they are above both minimums.
 */
export class Autoscaler {
  private readonly idleSince = new Map<string, number>();

  constructor(
    private readonly provisioner: Provisioner,
    private readonly drainer: Drainer,
    private readonly opts: AutoscalerOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async tick(): Promise<void> {
    await this.scaleUp();
    await this.scaleDownIdle();
  }

  private usable() {
    return this.provisioner.ours().filter((e) => e.record.state === 'ready' || e.record.state === 'starting');
  }

  private async scaleUp(): Promise<void> {
    const usable = this.usable().map((e) => e.record);
    const missing = Math.max(
      this.opts.minReplicas - usable.length,
      this.opts.minFreeReplicas - usable.filter(isFree).length,
    );
    for (let i = 0; i < missing; i++) {
      if (this.provisioner.refusal()) return;
      try {
        await this.provisioner.provision();
      } catch (err) {
        this.log.debug({ err: String(err) }, 'spare not provisioned');
        return;
      }
    }
  }

  private async scaleDownIdle(): Promise<void> {
    const now = this.now();
    const usable = this.usable().map((e) => e.record);
    const ids = new Set(usable.map((r) => r.id));
    for (const id of this.idleSince.keys()) if (!ids.has(id)) this.idleSince.delete(id);
    let count = usable.length;
    let free = usable.filter(isFree).length;
    for (const rec of usable) {
      if (rec.state !== 'ready' || rec.claims.length > 0) {
        this.idleSince.delete(rec.id);
        continue;
      }
      const since = this.idleSince.get(rec.id) ?? now;
      this.idleSince.set(rec.id, since);
      if (now - since < this.opts.idleGraceMs) continue;
      if (count - 1 < this.opts.minReplicas || free - 1 < this.opts.minFreeReplicas) continue;
      count--;
      free--;
      this.idleSince.delete(rec.id);
      await this.drainer.drain(rec.id, 'idle', 0, true).catch((err: unknown) => {
        this.log.warn({ err, engineId: rec.id }, 'idle engine not drained');
      });
    }
  }
}
