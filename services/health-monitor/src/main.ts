import { ServiceNames } from '@acefleet/contracts';
import { getSessionStat, probeStatus } from '@acefleet/engine-client';
import {
  addMicroService,
  bootService,
  createRegistry,
  EngineTable,
  EventPublisher,
  onShutdown,
  openEnginesKv,
} from '@acefleet/platform';
import { ActiveStreams } from './active-streams.ts';
import { buildMonitorHttp } from './app.ts';
import { MonitorConfig } from './config.ts';
import { HealthMonitor } from './monitor.ts';
import { ServicePresenceCheck } from './service-presence.ts';
import { StreamPoller } from './stream-poller.ts';

const { config, log, nc } = await bootService(MonitorConfig, ServiceNames.healthMonitor, process.env);
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
const poller = new StreamPoller(() => streams.all(), getSessionStat, events, config, log, registry);
const forget = (id: string): void => poller.forget(id);
const streams = new ActiveStreams(nc, log, config.streamLookbackMs, forget, forget);
const expected = config.expectedServices
  ? config.expectedServices.split(',').map((s) => s.trim())
  : Object.values(ServiceNames);
const presence = new ServicePresenceCheck(
  nc,
  events,
  { expected, intervalMs: config.serviceCheckIntervalMs, waitMs: config.serviceCheckWaitMs },
  log,
  registry,
);

const http = buildMonitorHttp(log, registry, config, { monitor, poller, presence });
const address = await http.listen({ host: config.httpHost, port: config.httpPort });
const service = await addMicroService(nc, {
  name: ServiceNames.healthMonitor,
  version: '0.1.0',
  description: 'Probes every AceStream engine and stream, and checks every acefleet service answers',
  httpAddress: address,
  instanceId: config.instanceId,
});
await streams.start();
monitor.start();
poller.start();
presence.start();
log.info({ address, intervalMs: config.healthIntervalMs }, 'health monitor started');

onShutdown(log, [
  { name: 'stop probing', run: () => [monitor, poller, presence, streams].forEach((p) => p.stop()) },
  { name: 'stop service', run: () => service.stop() },
  { name: 'flush events', run: () => events.drain(3000) },
  { name: 'stop engine table', run: () => table.stop() },
  { name: 'drain nats', run: () => nc.drain() },
  { name: 'close http', run: () => http.close() },
]);
