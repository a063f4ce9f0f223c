import { setTimeout as sleep } from 'node:timers/promises';
import { EngineHealth, Subjects, decodeMessage } from '@acefleet/contracts';
import { DeliveryGuard, type Logger, type NatsConnection } from '@acefleet/platform';
import type { Subscription } from '@nats-io/nats-core';
import type { EngineCooldown } from './engine-cooldown.ts';

/** Wait before subscribing again after the subscription closed by itself (e.g. a permissions error). */
const RESUBSCRIBE_MS = 1000;

/**
 * Hears health-monitor's engine.health verdicts directly, so the proxy stops choosing an unhealthy engine
 * even while the engine manager (which otherwise marks it in the engines bucket) is down. A core
 * subscription: verdicts published while the proxy was not listening are not replayed.
 */
export class EngineHealthFollower {
  private sub: Subscription | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private readonly guard: DeliveryGuard;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cooldown: EngineCooldown,
    private readonly log: Logger,
  ) {
    this.guard = new DeliveryGuard(log);
  }

  start(): void {
    this.running ??= this.follow();
  }

  /** Unsubscribe and wait for the loop to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.sub?.unsubscribe();
    await this.running;
  }

  /** Subscribe, apply every verdict, and subscribe again if the subscription ends while we still follow. */
  private async follow(): Promise<void> {
    while (!this.stopping.signal.aborted && !this.nc.isClosed() && !this.nc.isDraining()) {
      try {
        this.sub = this.nc.subscribe(Subjects.engineHealth);
        for await (const msg of this.sub) {
          if (!this.guard.refuses(msg, Subjects.engineHealth, 'event')) this.apply(msg.data);
        }
        const closedBy = await this.sub.closed;
        if (closedBy) throw closedBy;
      } catch (err) {
        this.log.warn({ err }, 'engine health subscription failed; subscribing again');
      }
      // Aborted by stop(): nothing more to do, the loop ends.
      await sleep(RESUBSCRIBE_MS, undefined, { signal: this.stopping.signal }).catch(() => {});
    }
  }

  private apply(data: Uint8Array): void {
    try {
      const event = decodeMessage(EngineHealth, data, 'engine health event');
      this.cooldown.healthVerdict(event.engineId, event.status === 'healthy');
      this.log.info({ engineId: event.engineId, status: event.status }, 'engine health verdict');
    } catch (err) {
      this.log.warn({ err }, 'ignoring a malformed engine health event');
    }
  }
}
