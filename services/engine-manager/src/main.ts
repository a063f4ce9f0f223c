import { ServiceNames } from '@acefleet/contracts';
import { bootService, onShutdown } from '@acefleet/platform';
import { buildEngineManager } from './app.ts';
import { ManagerConfig } from './config.ts';
import { orchestratorEnv } from './orchestrator-env.ts';

const { config, log, nc } = await bootService(
  ManagerConfig,
  ServiceNames.engineManager,
  process.env,
  orchestratorEnv,
);
const manager = await buildEngineManager(config, nc, log);
const address = await manager.http.listen({ host: config.httpHost, port: config.httpPort });
await manager.serve(address);
log.info({ address, runtime: config.engineRuntime, hostId: config.hostId }, 'engine manager started');

onShutdown(log, [
  { name: 'stop service', run: () => manager.close() },
  { name: 'remove engines', run: () => (config.removeEnginesOnExit ? manager.removeAll() : undefined) },
  { name: 'drain nats', run: () => nc.drain() },
]);
