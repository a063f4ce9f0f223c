import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { AcquireRequest, ReleaseRequest, ServiceNames, Subjects, type ListReply } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  EngineTable,
  openEnginesKv,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { Type } from '@sinclair/typebox';
import type { ManagerConfig } from './config.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { Fleet } from './fleet.ts';
import { createManagerMetrics } from './metrics.ts';
import { PortAllocator } from './ports.ts';
import { presets } from './presets.ts';
import { ProcessRuntime } from './process-runtime.ts';
import { EngineRegistry } from './registry.ts';
import type { EngineRuntime } from './runtime.ts';

export interface EngineManager {
  http: FastifyInstance;
  fleet: Fleet;
  /** Register the micro service (call once HTTP listens, so INFO can carry its address). */
  serve(httpAddress: string): Promise<Service>;
  close(): Promise<void>;
}

function createRuntime(config: ManagerConfig): EngineRuntime {
  const preset = presets[config.enginePreset] ?? presets['ace-sim']!;
  if (config.engineRuntime === 'process') {
    return new ProcessRuntime(config.engineProcessCommand, preset, config.engineHost);
  }
  return new DockerRuntime({
    docker: new Docker({ socketPath: config.dockerSocket }),
    preset,
    image: config.engineImage || preset.image,
    hostId: config.hostId,
    networkMode: config.networkMode,
    engineHost: config.engineHost,
  });
}

/** Build the engine manager from its config and an open NATS connection. */
export async function buildEngineManager(
  config: ManagerConfig,
  nc: NatsConnection,
  log: Logger,
): Promise<EngineManager> {
  const registry = createRegistry(ServiceNames.engineManager);
  const table = new EngineTable(await openEnginesKv(nc), log);
  await table.start();
  const runtime = createRuntime(config);
  const hostNetwork = config.networkMode === 'host' || config.engineRuntime === 'process';
  const ports = new PortAllocator(
    config.httpPortRangeStart,
    config.httpPortRangeEnd,
    hostNetwork ? config.engineHost : undefined,
  );
  const metrics = createManagerMetrics(registry, () => table.records());
  const fleet = new Fleet(
    new EngineRegistry(table),
    runtime,
    ports,
    {
      hostId: config.hostId,
      minReplicas: config.minReplicas,
      maxReplicas: config.maxReplicas,
      capacity: config.maxStreamsPerEngine,
      readyTimeoutMs: config.engineReadyTimeoutMs,
      httpPortRangeStart: config.httpPortRangeStart,
      p2pPortRangeStart: config.p2pPortRangeStart,
    },
    log,
    metrics,
  );
  await fleet.reconcile();

  const http = buildHttpApp({
    logger: log,
    registry,
    health: () => ({ ok: true, runtime: runtime.kind, engines: table.all().length }),
  });
  http.get('/api/engines', async () => ({ engines: fleet.list() }) satisfies ListReply);

  let service: Service | undefined;
  return {
    http,
    fleet,
    async serve(httpAddress) {
      service = await addMicroService(nc, {
        name: ServiceNames.engineManager,
        version: '0.1.0',
        description: 'Provisions AceStream engines on Docker and hands them out',
        httpAddress,
        instanceId: config.instanceId,
      });
      const queue = 'engine-manager';
      addJsonEndpoint(
        service,
        log,
        { name: 'acquire', subject: Subjects.engineAcquire, request: AcquireRequest, queue },
        (req) => fleet.acquire(req),
      );
      addJsonEndpoint(
        service,
        log,
        { name: 'release', subject: Subjects.engineRelease, request: ReleaseRequest, queue },
        (req) => fleet.release(req),
      );
      addJsonEndpoint(
        service,
        log,
        { name: 'list', subject: Subjects.engineList, request: Type.Object({}), queue },
        async () => ({ engines: fleet.list() }) satisfies ListReply,
      );
      void fleet.ensureMinimum();
      return service;
    },
    async close() {
      await service?.stop();
      table.stop();
      await http.close();
    },
  };
}
