import { Registry, collectDefaultMetrics } from 'prom-client';

/** A metrics registry with the process defaults, one per service process. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'acefleet_' });
  return registry;
}
