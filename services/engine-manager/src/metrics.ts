import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState, EngineRecord, ManagerRole } from '@acefleet/contracts';

export type ManagerMetrics = ReturnType<typeof createManagerMetrics>;

const breakerStates: BreakerState[] = ['closed', 'open', 'half_open'];

/** `engines`: this host's engines; `breaker`: the Docker circuit breaker's state now; `role`: ours now. */
export function createManagerMetrics(
  registry: Registry,
  engines: () => EngineRecord[],
  breaker: () => BreakerState,
  role: () => ManagerRole,
) {
  const registers = [registry];
  return {
    engines: new Gauge({
      name: 'acefleet_engines',
      help: 'Engines of this host, by state',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        for (const state of ['starting', 'ready', 'draining', 'unhealthy']) this.set({ state }, 0);
        for (const e of engines()) this.inc({ state: e.state });
      },
    }),
    claims: new Gauge({
      name: 'acefleet_engine_claims',
      help: 'Claims (streams) currently held on this host’s engines',
      registers,
      collect() {
        this.set(engines().reduce((n, e) => n + e.claims.length, 0));
      },
    }),
    standbyClaims: new Gauge({
      name: 'acefleet_engine_standby_claims',
      help: 'Hot standby claims among acefleet_engine_claims: given up first when a stream needs the room',
      registers,
      collect() {
        this.set(engines().reduce((n, e) => n + e.claims.filter((c) => c.standby).length, 0));
      },
    }),
    claimsExpired: new Counter({
      name: 'acefleet_engine_claims_expired_total',
      help: 'Claims dropped because their proxy stopped renewing them',
      registers,
    }),
    provisions: new Counter({
      name: 'acefleet_engine_provisions_total',
      help: 'Engine provisioning attempts, by result (ok, failed, refused)',
      labelNames: ['result'],
      registers,
    }),
    drains: new Counter({
      name: 'acefleet_engine_drains_total',
      help: 'Engines put into draining, by reason',
      labelNames: ['reason'],
      registers,
    }),
    breaker: new Gauge({
      name: 'acefleet_docker_breaker_state',
      help: 'Docker circuit breaker: 1 for the current state',
      labelNames: ['state'],
      registers,
      collect() {
        const now = breaker();
        for (const state of breakerStates) this.set({ state }, state === now ? 1 : 0);
      },
    }),
    leader: new Gauge({
      name: 'acefleet_manager_leader',
      help: 'Whether this manager leads its host (1) or stands by (0)',
      registers,
      collect() {
        this.set(role() === 'leader' ? 1 : 0);
      },
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
