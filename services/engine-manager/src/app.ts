import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { fleetIdOf, ServiceNames, Subjects } from '@acefleet/contracts';
import {
  addMicroService,
  buildHttpApp,
  ConfigError,
  createRegistry,
  EngineTable,
  EventPublisher,
  openEnginesKv,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { adminOperations } from './admin.ts';
import { adminRoutes } from './admin-routes.ts';
import { Autoscaler } from './autoscaler.ts';
import { CircuitBreaker } from './breaker.ts';
import type { ManagerConfig } from './config.ts';
import { limitsOf } from './confinement.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { Drainer } from './drainer.ts';
import { ownEngineFilter } from './engine-address.ts';
import { registerEndpoints } from './endpoints.ts';
import { Fleet } from './fleet.ts';
import { fleetRoutes } from './fleet-routes.ts';
import { HealthReplacer } from './health-replacer.ts';
import { sweepExpiredClaims } from './lease-sweeper.ts';
import { ProvisionLimiter } from './limiter.ts';
import { createManagerMetrics } from './metrics.ts';
import { PortAllocator } from './ports.ts';
import { presets } from './presets.ts';
import { ProcessRuntime } from './process-runtime.ts';
import { Provisioner } from './provisioner.ts';
import { Reconciler } from './reconciler.ts';
import { EngineRegistry } from './registry.ts';
import { claimRoomOn } from './room.ts';
import type { EngineRuntime } from './runtime.ts';
import { statusOf } from './status.ts';
import { VpnWatcher } from './vpn.ts';

export interface EngineManager {
  http: FastifyInstance;
  fleet: Fleet;
  provisioner: Provisioner;
  reconciler: Reconciler;
  runtime: EngineRuntime;
  /** Register the micro service and start the control loops (call once HTTP listens). */
  serve(httpAddress: string): Promise<Service>;
  /** Remove every engine of this host (npm start on Ctrl-C; never on a plain restart). */
  removeAll(): Promise<void>;
  close(): Promise<void>;
}

function createRuntime(config: ManagerConfig, log: Logger): EngineRuntime {
  const preset = presets[config.enginePreset];
  if (config.engineRuntime === 'process') {
    return new ProcessRuntime(config.engineProcessCommand, preset, config.engineHost);
  }
  const image = config.engineImage || preset.image;
  if (!image) {
    throw new ConfigError(`ENGINE_PRESET ${config.enginePreset} needs ENGINE_IMAGE: ${preset.imageNote}`);
  }
  const fleetId = config.fleetId || fleetIdOf(config.stateDir);
  const limits = limitsOf(config);
  log.info({ image, fleetId, limits }, 'engine containers');
  return new DockerRuntime({
    docker: new Docker({ socketPath: config.dockerSocket }),
    presetName: config.enginePreset,
    preset,
    image,
    hostId: config.hostId,
    fleetId,
    limits,
    networkMode: config.networkMode,
    engineHost: config.engineHost,
  });
}

/** How long the proxy holding a stream has to answer DELETE /api/streams/:id. */
const PROXY_STOP_TIMEOUT_MS = 5000;

/** Run `step` every `ms`, never two at once; returns the stopper. */
function every(ms: number, step: () => Promise<void>, log: Logger, name: string): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    await step().catch((err: unknown) => log.warn({ err, loop: name }, 'control loop step failed'));
    if (!stopped) timer = setTimeout(() => void run(), ms);
  };
  timer = setTimeout(() => void run(), ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Build the engine manager from its config and an open NATS connection; `problems` feed /health. `runtime`:
 * where engines run, made from the config unless given (a property test's in-memory runtime).
 */
export async function buildEngineManager(
  config: ManagerConfig,
  nc: NatsConnection,
  log: Logger,
  problems: () => string[] = () => [],
  runtime: EngineRuntime = createRuntime(config, log),
): Promise<EngineManager> {
  const promRegistry = createRegistry(ServiceNames.engineManager);
  const table = new EngineTable(await openEnginesKv(nc), log);
  await table.start();
  const registry = new EngineRegistry(table);
  const hostNetwork = config.networkMode === 'host' || config.engineRuntime === 'process';
  const ports = new PortAllocator(
    config.httpPortRangeStart,
    config.httpPortRangeEnd,
    hostNetwork ? config.engineHost : undefined,
  );
  const breaker = new CircuitBreaker(
    { failureThreshold: config.breakerFailureThreshold, recoveryMs: config.breakerRecoveryMs },
    Date.now,
    (state) => log.warn({ breaker: state }, 'docker circuit breaker changed'),
  );
  const ours = () => table.records().filter((r) => r.hostId === config.hostId);
  const metrics = createManagerMetrics(promRegistry, ours, () => breaker.state);
  const events = new EventPublisher(nc, log);
  const vpnContainer = config.networkMode.startsWith('container:') ? config.networkMode.slice(10) : undefined;
  let onPortChange: (previous: number) => void = () => {};
  const vpn = config.gluetunControlUrl
    ? new VpnWatcher(
        {
          controlUrl: config.gluetunControlUrl,
          apiKey: config.gluetunApiKey,
          pollIntervalMs: config.gluetunPollIntervalMs,
          ...(vpnContainer ? { containerHealth: () => runtime.healthOf(vpnContainer) } : {}),
        },
        log,
        (previous) => onPortChange(previous),
      )
    : undefined;
  const ownEngine = ownEngineFilter({ ...config, runtime }, log);
  const claimRoom = claimRoomOn(registry, ownEngine);
  const provisioner = new Provisioner(
    {
      registry,
      runtime,
      ports,
      breaker,
      limiter: new ProvisionLimiter({
        concurrency: config.provisionConcurrency,
        ratePerMinute: config.provisionRatePerMinute,
        burst: config.provisionBurst,
      }),
      vpn,
      claimRoom,
      metrics,
      log,
    },
    {
      hostId: config.hostId,
      maxReplicas: config.maxReplicas,
      fleetMaxReplicas: config.fleetMaxReplicas,
      capacity: config.maxStreamsPerEngine,
      readyTimeoutMs: config.engineReadyTimeoutMs,
      httpPortRangeStart: config.httpPortRangeStart,
      p2pPortRangeStart: config.p2pPortRangeStart,
    },
  );
  const drainer = new Drainer(registry, provisioner, events, config, log, metrics);
  const fleet = new Fleet(
    registry,
    provisioner,
    claimRoom,
    nc,
    {
      hostId: config.hostId,
      claimTtlMs: config.claimTtlMs,
      forwardTimeoutMs: config.engineReadyTimeoutMs,
      ownEngine,
    },
    log,
    metrics,
  );
  const autoscaler = new Autoscaler(provisioner, drainer, config, log);
  const health = new HealthReplacer(
    registry,
    provisioner,
    drainer,
    {
      hostId: config.hostId,
      cooldownMs: config.unhealthyReplaceCooldownMs,
      minHealthy: Math.max(1, config.minReplicas),
    },
    log,
  );
  const reconciler = new Reconciler(
    registry,
    runtime,
    provisioner,
    drainer,
    breaker,
    { hostId: config.hostId, capacity: config.maxStreamsPerEngine },
    log,
    (id, healthy, detail) => health.verdict(id, healthy, detail),
  );
  /** The engine holding the old forwarded port is replaced: drained, and a new one takes the new port. */
  onPortChange = (previous) => {
    const holder = ours().find((r) => r.p2pPort === previous && r.state !== 'draining');
    if (!holder) return;
    void drainer
      .drain(holder.id, 'vpn_port_changed')
      .then(() => provisioner.provision())
      .catch((err: unknown) => log.warn({ err }, 'forwarded-port engine not replaced'));
  };

  await vpn?.start();
  await reconciler.reconcile().catch((err: unknown) => log.error({ err }, 'start-up reconciliation failed'));

  const status = () =>
    statusOf(provisioner, breaker, vpn, {
      hostId: config.hostId,
      instanceId: config.instanceId,
      limits: {
        minReplicas: config.minReplicas,
        minFreeReplicas: config.minFreeReplicas,
        maxReplicas: config.maxReplicas,
        maxStreamsPerEngine: config.maxStreamsPerEngine,
        claimTtlMs: config.claimTtlMs,
      },
    });
  const http = buildHttpApp({
    logger: log,
    registry: promRegistry,
    access: config,
    problems,
    health: () => ({ ok: true, runtime: runtime.kind, engines: ours().length, breaker: breaker.state }),
    openApi: { title: 'acefleet engine manager', version: '0.2.0', description: 'The fleet admin API' },
  });
  const admin = adminOperations({
    hostId: config.hostId,
    provisioner,
    drainer,
    nc,
    records: () => fleet.list(),
    limits: config,
    proxyTimeoutMs: PROXY_STOP_TIMEOUT_MS,
  });
  fleetRoutes(http, {
    records: () => fleet.list(),
    status,
    vpn: () => (vpn ? { enabled: true, ...vpn.state } : { enabled: false }),
  });
  adminRoutes(http, admin);

  const maintenance = async (): Promise<void> => {
    if (breaker.state === 'half_open') await reconciler.reconcile().catch(() => {});
    await sweepExpiredClaims(registry, provisioner, config.claimTtlMs, log, metrics);
    await drainer.tick();
    await health.tick();
    await autoscaler.tick();
  };
  const stoppers: (() => void)[] = [];
  let service: Service | undefined;
  return {
    http,
    fleet,
    provisioner,
    reconciler,
    runtime,
    async serve(httpAddress) {
      service = await addMicroService(nc, {
        name: ServiceNames.engineManager,
        version: '0.2.0',
        description: 'Provisions AceStream engines on Docker and hands them out',
        httpAddress,
        instanceId: config.instanceId,
      });
      registerEndpoints(service, log, { hostId: config.hostId, fleet, admin, status });
      const watching = new AbortController();
      void reconciler.follow(watching.signal);
      const healthEvents = health.follow(nc, Subjects.engineHealth);
      stoppers.push(
        () => watching.abort(),
        () => void healthEvents.stop(),
        every(config.maintenanceIntervalMs, maintenance, log, 'maintenance'),
        every(config.resyncIntervalMs, () => reconciler.reconcile(), log, 'resync'),
      );
      void maintenance().catch(() => {});
      return service;
    },
    async removeAll() {
      for (const r of ours()) {
        await provisioner.remove({ engineId: r.id, containerId: r.containerId }, 'exit').catch(() => {});
      }
    },
    async close() {
      for (const stop of stoppers) stop();
      vpn?.stop();
      await service?.stop();
      table.stop();
      await http.close();
      await events.drain(2000);
    },
  };
}
