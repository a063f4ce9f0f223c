import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { buildHttpApp, rejectOtherMethods, type AccessOptions, type Logger } from '@acefleet/platform';
import type { HealthMonitor } from './monitor.ts';
import type { ServicePresenceCheck } from './service-presence.ts';
import type { StreamPoller } from './stream-poller.ts';

export interface MonitorParts {
  monitor: HealthMonitor;
  poller: StreamPoller;
  presence: ServicePresenceCheck;
}

/** The monitor's HTTP side: /health, /metrics and what it currently believes, as JSON. */
export function buildMonitorHttp(
  log: Logger,
  registry: Registry,
  access: AccessOptions,
  parts: MonitorParts,
  problems: () => string[],
): FastifyInstance {
  const http = buildHttpApp({ logger: log, registry, access, problems });
  http.get('/api/health', async () => ({ engines: parts.monitor.snapshot() }));
  http.get('/api/streams', async () => ({ streams: parts.poller.snapshot() }));
  http.get('/api/services', async () => parts.presence.snapshot() ?? { present: [], missing: [], at: null });
  rejectOtherMethods(http, ['/api/health', '/api/streams', '/api/services']);
  return http;
}
