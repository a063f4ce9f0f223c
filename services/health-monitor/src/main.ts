import { randomUUID } from 'node:crypto';
import { ServiceNames } from '@acefleet/contracts';
import { probeStatus } from '@acefleet/engine-client';
import {
  addMicroService,
  buildHttpApp,
  connectNats,
  createLogger,
  createRegistry,
  EngineTable,
  ensureEventsStream,
  EventPublisher,
  loadConfigOrExit,
  onShutdown,
  openEnginesKv,
} from '@acefleet/platform';
import { MonitorConfig } from './config.ts';
import { HealthMonitor } from './monitor.ts';

const config = loadConfigOrExit(MonitorConfig, process.env);
const instanceId = config.instanceId || randomUUID();
const log = createLogger(ServiceNames.healthMonitor, config.logLevel);
const nc = await connectNats(config.natsUrl, ServiceNames.healthMonitor, log);
await ensureEventsStream(nc);
const registry = createRegistry(ServiceNames.healthMonitor);
const table = new EngineTable(await openEnginesKv(nc), log);
await table.start();
const events = new EventPublisher(nc, log);
const monitor = new HealthMonitor(
  () => table.records(),
  probeStatus,
  events,
  {
    intervalMs: config.healthIntervalMs,
    probeTimeoutMs: config.probeTimeoutMs,
    failureThreshold: config.failureThreshold,
  },
  log,
  registry,
);
const http = buildHttpApp({ logger: log, registry });
http.get('/api/health', async () => ({ engines: monitor.snapshot() }));
const address = await http.listen({ host: config.httpHost, port: config.httpPort });
const service = await addMicroService(nc, {
  name: ServiceNames.healthMonitor,
  version: '0.1.0',
  description: 'Probes every AceStream engine and publishes health changes',
  httpAddress: address,
  instanceId,
});
monitor.start();
log.info({ address, intervalMs: config.healthIntervalMs }, 'health monitor started');

onShutdown(log, [
  { name: 'stop probing', run: () => monitor.stop() },
  { name: 'stop service', run: () => service.stop() },
  { name: 'flush events', run: () => events.drain(3000) },
  { name: 'drain nats', run: () => nc.drain() },
  { name: 'close http', run: () => http.close() },
]);
