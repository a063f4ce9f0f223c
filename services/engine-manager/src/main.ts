import { ServiceNames } from '@acefleet/contracts';
import {
  applyJetStreamBounds,
  announcedAddress,
  applyJetStreamReplicas,
  bootService,
  listenFront,
  onShutdown,
  orExitOnConfigError,
} from '@acefleet/platform';
import { buildEngineManager, type EngineManager } from './app.ts';
import { engineEnvOf, ManagerConfig } from './config.ts';
import { orchestratorEnv } from './orchestrator-env.ts';

const { config, log, link } = bootService(
  ManagerConfig,
  ServiceNames.engineManager,
  process.env,
  orchestratorEnv,
);
// Checked before anything starts: a bad ENGINE_ENV entry stops the manager, not its first engine start.
orExitOnConfigError(() => engineEnvOf(config));
const problems = (): string[] => link.problems();
const front = await listenFront({
  host: config.httpHost,
  port: config.httpPort,
  problems,
  limits: config,
});
let manager: EngineManager | undefined;
// The one service allowed to: other services only create the streams, with JS_REPLICAS, when they are missing.
link.onConnect('jetstream replicas', (nc) => applyJetStreamReplicas(nc, config.jsReplicas, log));
link.onConnect('jetstream bounds', (nc) => applyJetStreamBounds(nc, config, log));
link.onConnect('engine manager', async (nc) => {
  manager = await buildEngineManager(config, nc, log, problems);
  await front.mount(manager.http);
});
link.onConnect('micro service', async () => {
  await manager?.serve(
    announcedAddress(config.httpHost, Number(new URL(front.address).port), config.publicUrl),
  );
});
link.start();
log.info(
  { address: front.address, runtime: config.engineRuntime, hostId: config.hostId },
  'engine manager started',
);

onShutdown(log, [
  { name: 'stop service', run: () => manager?.close() },
  { name: 'remove engines', run: () => (config.removeEnginesOnExit ? manager?.removeAll() : undefined) },
  { name: 'close nats', run: () => link.close() },
  { name: 'close http', run: () => front.close() },
]);
