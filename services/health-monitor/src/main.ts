import { ObservabilitySubjects, ServiceNames } from '@acefleet/contracts';
import { getSessionStat, probeStatus } from '@acefleet/engine-client';
import {
  addMicroService,
  announcedAddress,
  bootService,
  createRegistry,
  encodeJson,
  EventPublisher,
  engineAddressFilter,
  parseEngineAddresses,
  listenFront,
  onShutdown,
  openEnginesKv,
  orExitOnConfigError,
  type NatsConnection,
} from '@acefleet/platform';
import { EngineTable } from '@acefleet/engine-records';
import { ActiveStreams } from './active-streams.ts';
import { buildMonitorHttp } from './app.ts';
import { MonitorConfig } from './config.ts';
import { HealthMonitor } from './monitor.ts';
import { ServicePresenceCheck } from './service-presence.ts';
import { statUrlFilter } from './stat-url.ts';
import { StreamPoller } from './stream-poller.ts';

const { config, log, link } = bootService(MonitorConfig, ServiceNames.healthMonitor, process.env);
const engineRules = orExitOnConfigError(() => parseEngineAddresses(config.engineAddresses));
const problems = (): string[] => link.problems();
const front = await listenFront({
  host: config.httpHost,
  port: config.httpPort,
  problems,
  limits: config,
});
const stopSteps: (() => unknown)[] = [];

/** Everything the monitor does needs NATS: built and started once it is connected. */
async function startMonitoring(nc: NatsConnection): Promise<void> {
  const registry = createRegistry(ServiceNames.healthMonitor);
  const table = new EngineTable(await openEnginesKv(nc), log);
  await table.start();
  const events = new EventPublisher(nc, log, {
    ...(config.outboxDir && { durable: { dir: config.outboxDir, name: ServiceNames.healthMonitor } }),
  });
  const engineAllowed = engineAddressFilter(engineRules, log, 'probed');
  const monitor = new HealthMonitor(
    () => table.records().filter(engineAllowed),
    probeStatus,
    events,
    {
      intervalMs: config.healthIntervalMs,
      probeTimeoutMs: config.probeTimeoutMs,
      failureThreshold: config.failureThreshold,
    },
    log,
    registry,
    (probe) => nc.publish(ObservabilitySubjects.engineProbe, encodeJson(probe)),
  );
  const readable = statUrlFilter((id) => table.get(id)?.record, engineAllowed, log);
  const poller = new StreamPoller(
    () => streams.all().filter(readable),
    getSessionStat,
    events,
    config,
    log,
    registry,
  );
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
  const http = buildMonitorHttp(log, registry, config, { monitor, poller, presence }, problems);
  await front.mount(http);
  const service = await addMicroService(nc, {
    name: ServiceNames.healthMonitor,
    version: '0.1.0',
    description: 'Probes every AceStream engine and stream, and checks every acefleet service answers',
    httpAddress: announcedAddress(config.httpHost, Number(new URL(front.address).port), config.publicUrl),
    instanceId: config.instanceId,
  });
  streams.start();
  monitor.start();
  poller.start();
  presence.start();
  stopSteps.push(
    () => [monitor, poller, presence].forEach((p) => p.stop()),
    () => streams.stop(),
    () => service.stop(),
    () => events.drain(3000),
    () => events.close(),
    () => table.stop(),
    () => http.close(),
  );
}

link.onConnect('health monitor', startMonitoring);
link.start();
log.info({ address: front.address, intervalMs: config.healthIntervalMs }, 'health monitor started');

onShutdown(log, [
  {
    name: 'stop monitoring',
    run: async () => {
      for (const step of stopSteps) await step();
    },
  },
  { name: 'close nats', run: () => link.close() },
  { name: 'close http', run: () => front.close() },
]);
