import { Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/nats-core';
import { ObservabilitySubjects, type ServiceInstance, type ServicePresence } from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { Gauge, type Registry } from 'prom-client';

export interface PresenceOptions {
  expected: string[];
  intervalMs: number;
  waitMs: number;
}

/**
 * Pings every micro service through $SRV.PING on a cadence and reports which expected ones did not answer:
 * a gauge per service, the last result for the status endpoint, and a services.presence event whenever the
 * set of missing services changes (and once at start).
 */
export class ServicePresenceCheck {
  private timer: NodeJS.Timeout | undefined;
  private last: ServicePresence | undefined;
  private checking = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly events: EventPublisher,
    private readonly opts: PresenceOptions,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const current = (): ServicePresence | undefined => this.last;
    const expected = opts.expected;
    new Gauge({
      name: 'acefleet_health_service_instances',
      help: 'Instances of each expected acefleet service that answered $SRV.PING',
      labelNames: ['service'],
      registers: [registry],
      collect() {
        const last = current();
        if (!last) return;
        for (const name of expected)
          this.set({ service: name }, last.present.filter((p) => p.name === name).length);
      },
    });
  }

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  snapshot(): ServicePresence | null {
    return this.last ?? null;
  }

  async check(): Promise<ServicePresence | undefined> {
    if (this.checking) return this.last;
    this.checking = true;
    try {
      const present: ServiceInstance[] = [];
      const client = new Svcm(this.nc).client({ strategy: 'timer', maxWait: this.opts.waitMs });
      for await (const p of await client.ping()) present.push({ name: p.name, id: p.id, version: p.version });
      const names = new Set(present.map((p) => p.name));
      const missing = this.opts.expected.filter((n) => !names.has(n));
      const changed = !this.last || this.last.missing.join(',') !== missing.join(',');
      this.last = { present, missing, at: new Date().toISOString() };
      if (changed) {
        this.log[missing.length ? 'warn' : 'info']({ missing }, 'service presence changed');
        this.events.publish(ObservabilitySubjects.servicePresence, this.last, `presence:${this.last.at}`);
      }
    } catch (err) {
      this.log.warn({ err }, 'service ping failed');
    } finally {
      this.checking = false;
    }
    return this.last;
  }
}
