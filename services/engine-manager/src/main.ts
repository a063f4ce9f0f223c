import { randomUUID } from 'node:crypto';
import { ServiceNames } from '@acefleet/contracts';
import {
  connectNats,
  createLogger,
  ensureEventsStream,
  loadConfigOrExit,
  onShutdown,
} from '@acefleet/platform';
import { buildEngineManager } from './app.ts';
import { ManagerConfig } from './config.ts';

const config = loadConfigOrExit(ManagerConfig, process.env);
const instanceId = config.instanceId || randomUUID();
const log = createLogger(ServiceNames.engineManager, config.logLevel);
const nc = await connectNats(config.natsUrl, ServiceNames.engineManager, log);
await ensureEventsStream(nc);
const manager = await buildEngineManager({ ...config, instanceId }, nc, log);
const address = await manager.http.listen({ host: config.httpHost, port: config.httpPort });
await manager.serve(address);
log.info({ address, runtime: config.engineRuntime, hostId: config.hostId }, 'engine manager started');

onShutdown(log, [
  { name: 'stop service', run: () => manager.close() },
  { name: 'remove engines', run: () => (config.removeEnginesOnExit ? manager.removeAll() : undefined) },
  { name: 'drain nats', run: () => nc.drain() },
]);
