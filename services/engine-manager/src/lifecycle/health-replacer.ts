import { EngineHealth, decodeMessage } from '@acefleet/contracts';
import {
  DeliveryGuard,
  supervise,
  type Logger,
  type NatsConnection,
  type Supervised,
} from '@acefleet/platform';
import type { Drainer } from './drainer.ts';
import type { Provisioner } from './provisioner.ts';
import type { EngineRegistry } from './registry.ts';

/**
 * Acts on health verdicts (health-monitor events, Docker health checks): an unhealthy engine of this host is
 * marked `unhealthy` at once, so proxies stop picking it, and replaced (drained) one at a time with a
 * cooldown, and only while enough healthy engines remain; until then a replacement is started first.
 */
export class HealthReplacer {
  private readonly queue = new Set<string>();
  private nextAllowedAt = 0;

  constructor(
    private readonly registry: EngineRegistry,
    private readonly provisioner: Provisioner,
    private readonly drainer: Drainer,
    private readonly opts: { hostId: string; cooldownMs: number; minHealthy: number },
    private readonly log: Logger,
  ) {}

  /** Follow engine.health events until stopped or the connection closes. */
  follow(nc: NatsConnection, subject: string): Supervised {
    return supervise('engine health events', this.log, async (signal) => {
      const sub = nc.subscribe(subject);
      const guard = new DeliveryGuard(this.log);
      signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
      for await (const msg of sub) {
        if (guard.refuses(msg, subject, 'event')) continue;
        try {
          const event = decodeMessage(EngineHealth, msg.data, 'engine health event');
          await this.verdict(event.engineId, event.status === 'healthy', event.detail);
        } catch (err) {
          this.log.warn({ err }, 'engine health event not applied');
        }
      }
    });
  }

  async verdict(engineId: string, healthy: boolean, detail: string): Promise<void> {
    const known = this.registry.table.get(engineId)?.record;
    if (!known || known.hostId !== this.opts.hostId) return;
    if (healthy) {
      this.queue.delete(engineId);
      await this.registry.transition(engineId, { to: 'ready', from: ['unhealthy'] });
      return;
    }
    const stored = await this.registry.transition(engineId, {
      to: 'unhealthy',
      from: ['ready', 'starting'],
      reason: detail,
    });
    if (stored?.record.state === 'unhealthy') {
      this.log.warn({ engineId, detail }, 'engine unhealthy: queued for replacement');
      this.queue.add(engineId);
    }
  }

  async tick(): Promise<void> {
    if (Date.now() < this.nextAllowedAt) return;
    const [engineId] = [...this.queue];
    if (!engineId) return;
    if (this.registry.table.get(engineId)?.record.state !== 'unhealthy') {
      this.queue.delete(engineId);
      return;
    }
    const usable = this.provisioner.ours().filter((e) => ['ready', 'starting'].includes(e.record.state));
    if (usable.filter((e) => e.record.state === 'ready').length < this.opts.minHealthy) {
      if (!usable.some((e) => e.record.state === 'starting') && !this.provisioner.refusal()) {
        await this.provisioner.provision();
      }
      return;
    }
    this.queue.delete(engineId);
    this.nextAllowedAt = Date.now() + this.opts.cooldownMs;
    await this.drainer.drain(engineId, 'unhealthy');
  }
}
