import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineRecord } from '@acefleet/contracts';

export type ManagerMetrics = ReturnType<typeof createManagerMetrics>;

export function createManagerMetrics(registry: Registry, engines: () => EngineRecord[]) {
  const registers = [registry];
  return {
    engines: new Gauge({
      name: 'acefleet_engines',
      help: 'Engines known to this manager, by state',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const e of engines()) this.inc({ state: e.state });
      },
    }),
    claims: new Gauge({
      name: 'acefleet_engine_claims',
      help: 'Claims (streams) currently held on engines',
      registers,
      collect() {
        this.set(engines().reduce((n, e) => n + e.claims.length, 0));
      },
    }),
    provisions: new Counter({
      name: 'acefleet_engine_provisions_total',
      help: 'Engine provisioning attempts, by result',
      labelNames: ['result'],
      registers,
    }),
    acquireSeconds: new Histogram({
      name: 'acefleet_engine_acquire_seconds',
      help: 'Time to answer an acquire, by result',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
  };
}
