import Docker from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { fleetIdOf, ServiceNames } from '@acefleet/contracts';
import {
  buildHttpApp,
  ConfigError,
  createRegistry,
  EventPublisher,
  openEnginesKv,
  openLeadersKv,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { EngineTable } from '@acefleet/engine-records';
import { adminOperations } from './api/admin.ts';
import { adminRoutes } from './api/admin-routes.ts';
import { Autoscaler } from './lifecycle/autoscaler.ts';
import { EngineRecycler, recycleRulesOf } from './lifecycle/engine-recycler.ts';
import { CircuitBreaker } from './runtime/breaker.ts';
import { engineEnvOf, type ManagerConfig } from './config.ts';
import { limitsOf } from './runtime/confinement.ts';
import { DockerRuntime, NOT_PUBLISHED } from './runtime/docker-runtime.ts';
import { Drainer } from './lifecycle/drainer.ts';
import { ownEngineFilter } from './runtime/engine-address.ts';
import { ClaimUpkeep } from './claims/claim-upkeep.ts';
import { Fleet } from './claims/fleet.ts';
import { ProxyRules } from './claims/proxy-rules.ts';
import { fleetRoutes } from './api/fleet-routes.ts';
import { HealthReplacer } from './lifecycle/health-replacer.ts';
import { leaderDuties } from './leadership/leader-duties.ts';
import { LeaderLease } from './leadership/leader-lease.ts';
import { sweepExpiredClaims } from './claims/expiry-sweeper.ts';
import { ProvisionLimiter } from './runtime/limiter.ts';
import { createManagerMetrics } from './metrics.ts';
import { PortAllocator, type PortProbe } from './runtime/ports.ts';
import { loggableEngineEnv, presets } from './runtime/presets.ts';
import { ProcessRuntime } from './runtime/process-runtime.ts';
import { Provisioner } from './lifecycle/provisioner.ts';
import { Reconciler } from './lifecycle/reconciler.ts';
import { EngineRegistry } from './lifecycle/registry.ts';
import { claimRoomOn } from './claims/room.ts';
import { EngineUpgrader } from './lifecycle/upgrader.ts';
import type { EngineRuntime } from './runtime/runtime.ts';
import { statusOf } from './api/status.ts';
import { VpnWatcher } from './runtime/vpn.ts';

export interface EngineManager {
  http: FastifyInstance;
  fleet: Fleet;
  upkeep: ClaimUpkeep;
  provisioner: Provisioner;
  drainer: Drainer;
  reconciler: Reconciler;
  runtime: EngineRuntime;
  lease: LeaderLease;
  /**
   * Contend for this host's leader lease (call once HTTP listens); the leader adopts the containers, registers
   * the micro service and runs the control loops, a standby waits to take over.
   */
  serve(httpAddress: string): Promise<void>;
  /**
   * Remove every engine of this host (npm start on Ctrl-C; never on a plain restart), only if this manager
   * led it when closed: a standby's host keeps its engines.
   */
  removeAll(): Promise<void>;
  close(): Promise<void>;
}

function createRuntime(config: ManagerConfig, log: Logger): EngineRuntime {
  const preset = presets[config.enginePreset];
  const engineEnv = engineEnvOf(config);
  if (config.engineRuntime === 'process') {
    log.info(
      { command: config.engineProcessCommand, engineEnv: loggableEngineEnv(engineEnv) },
      'engine processes',
    );
    return new ProcessRuntime(config.engineProcessCommand, preset, config.engineHost, engineEnv);
  }
  const image = config.engineImage || preset.image;
  if (!image) {
    throw new ConfigError(`ENGINE_PRESET ${config.enginePreset} needs ENGINE_IMAGE: ${preset.imageNote}`);
  }
  const fleetId = config.fleetId || fleetIdOf(config.stateDir);
  const limits = limitsOf(config);
  log.info({ image, fleetId, limits, engineEnv: loggableEngineEnv(engineEnv) }, 'engine containers');
  return new DockerRuntime({
    docker: new Docker({ socketPath: config.dockerSocket }),
    presetName: config.enginePreset,
    preset,
    image,
    hostId: config.hostId,
    fleetId,
    limits,
    networkMode: config.networkMode,
    engineHttpBind: config.engineHttpBind,
    engineHost: config.engineHost,
    engineEnv,
  });
}

/**
 * Where an engine takes ports of this host, so the allocator checks they are free: its HTTP port on the host's
 * network (host mode, local processes) or on the address bridge engines publish it on, and its P2P port on
 * every address (bound in host mode, published by a bridge). Undefined: the engine has a network of its own
 * (reached by container name, or a VPN container's namespace, where the VPN's forwarded port is its P2P port).
 */
function portProbeOf(config: ManagerConfig): PortProbe | undefined {
  if (config.networkMode === 'host' || config.engineRuntime === 'process') {
    return { http: config.engineHost, p2p: true };
  }
  if (config.networkMode === 'none' || config.networkMode.startsWith('container:')) return undefined;
  return { ...(config.engineHttpBind !== NOT_PUBLISHED ? { http: config.engineHttpBind } : {}), p2p: true };
}

/** How long the proxy holding a stream has to answer DELETE /api/streams/:id. */
const PROXY_STOP_TIMEOUT_MS = 5000;
/** How long another host's manager has to answer a forwarded release or renewal (well within a proxy's wait). */
const HOST_CALL_TIMEOUT_MS = 3000;

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
  const registry = new EngineRegistry(table, config.hostId, log);
  const ports = new PortAllocator(config.httpPortRangeStart, config.httpPortRangeEnd, portProbeOf(config));
  const breaker = new CircuitBreaker(
    { failureThreshold: config.breakerFailureThreshold, recoveryMs: config.breakerRecoveryMs },
    Date.now,
    (state) => log.warn({ breaker: state }, 'docker circuit breaker changed'),
  );
  const ours = () => table.records().filter((r) => r.hostId === config.hostId);
  const lease = new LeaderLease(
    await openLeadersKv(nc, config.jsReplicas, config.kvMaxBytes),
    { hostId: config.hostId, instanceId: config.instanceId, ttlMs: config.leaderLeaseTtlMs },
    log,
  );
  const metrics = createManagerMetrics(
    promRegistry,
    ours,
    () => breaker.state,
    () => lease.role,
  );
  const events = new EventPublisher(nc, log, {
    ...(config.outboxDir && { durable: { dir: config.outboxDir, name: ServiceNames.engineManager } }),
  });
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
  const claimRoom = claimRoomOn(registry, ownEngineFilter({ ...config, runtime }, log), log);
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
  const rules = new ProxyRules(() => table.records(), config.maxClaimsPerProxy, log);
  const upkeep = new ClaimUpkeep(
    registry,
    rules,
    nc,
    { hostId: config.hostId, claimTtlMs: config.claimTtlMs, hostCallTimeoutMs: HOST_CALL_TIMEOUT_MS },
    log,
  );
  const fleet = new Fleet(
    registry,
    provisioner,
    claimRoom,
    upkeep,
    rules,
    nc,
    { hostId: config.hostId, forwardTimeoutMs: config.engineReadyTimeoutMs },
    log,
    metrics,
  );
  const autoscaler = new Autoscaler(provisioner, drainer, config, log);
  // A drained engine goes at the drainer's next pass after its last stream moved, or after its deadline.
  const removalGraceMs = 5 * config.maintenanceIntervalMs + 10_000;
  const upgrader = new EngineUpgrader(
    registry,
    runtime,
    provisioner,
    drainer,
    { hostId: config.hostId, drainTimeoutMs: config.drainTimeoutMs, removalGraceMs },
    log,
  );
  const recycler = new EngineRecycler(provisioner, drainer, runtime, recycleRulesOf(config), log);
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
    if (!lease.leading()) return;
    const holder = ours().find((r) => r.p2pPort === previous && r.state !== 'draining');
    if (!holder) return;
    void drainer
      .drain(holder.id, 'vpn_port_changed')
      .then(() => provisioner.provision())
      .catch((err: unknown) => log.warn({ err }, 'forwarded-port engine not replaced'));
  };

  await vpn?.start();

  const status = () =>
    statusOf(provisioner, breaker, vpn, {
      hostId: config.hostId,
      instanceId: config.instanceId,
      role: lease.role,
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
    health: () => ({
      ok: true,
      role: lease.role,
      runtime: runtime.kind,
      engines: ours().length,
      breaker: breaker.state,
    }),
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
    upgrader,
    upgradeStepMs:
      config.engineReadyTimeoutMs + config.drainTimeoutMs + removalGraceMs + HOST_CALL_TIMEOUT_MS,
  });
  fleetRoutes(http, {
    records: () => fleet.list(),
    status,
    vpn: () => (vpn ? { enabled: true, ...vpn.state } : { enabled: false }),
  });
  // Writes change this host: only its leader makes them (reads answer from the shared bucket on any manager).
  http.addHook('preHandler', async (req) => {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) lease.assertLeading();
  });
  adminRoutes(http, admin);

  const maintenance = async (ledSince: number): Promise<void> => {
    if (breaker.state === 'half_open') {
      await reconciler
        .reconcile()
        .catch((err: unknown) => log.warn({ err }, 'breaker trial (resync) failed: the breaker stays open'));
    }
    await sweepExpiredClaims(registry, provisioner, config.claimTtlMs, log, metrics, ledSince);
    await drainer.tick();
    await health.tick();
    await recycler.tick();
    await autoscaler.tick();
  };
  let ledUntilClose = false;
  return {
    http,
    fleet,
    upkeep,
    provisioner,
    drainer,
    reconciler,
    runtime,
    lease,
    async serve(httpAddress) {
      const assertLeading = () => lease.assertLeading();
      await lease.start(
        leaderDuties({
          nc,
          config,
          log,
          httpAddress,
          reconciler,
          health,
          endpoints: { hostId: config.hostId, fleet, upkeep, admin, status, assertLeading },
          maintenance,
          leading: () => lease.leading(),
        }),
      );
    },
    async removeAll() {
      if (!ledUntilClose) return;
      // What the runtime runs is the truth: once NATS is gone too (npm start's death stops both), the table
      // may be stale or empty. All at once: each removal ends with a bucket write that waits out that NATS, and
      // one engine's wait must not keep the next container running.
      const running = await runtime.list().catch((err: unknown) => {
        log.warn({ err }, 'engines not listed on exit: removing those the table knows');
        return [];
      });
      const containers = new Map(running.map((e) => [e.engineId, e.containerId]));
      for (const r of ours()) if (r.containerId && !containers.has(r.id)) containers.set(r.id, r.containerId);
      await Promise.all(
        [...containers].map(([engineId, containerId]) =>
          provisioner
            .remove({ engineId, containerId }, 'exit')
            .catch((err: unknown) => log.warn({ err, engineId }, 'engine not removed on exit')),
        ),
      );
    },
    async close() {
      // Its NATS may be stopping too (npm start's death): a leader that stood by for that still owns its engines.
      ledUntilClose = lease.role === 'leader' || lease.heldNow();
      await lease.stop();
      vpn?.stop();
      table.stop();
      await http.close();
      await events.drain(2000);
      events.close();
    },
  };
}
