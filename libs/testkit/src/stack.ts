import { randomBytes } from 'node:crypto';
import { NatsUsers, type NatsUser } from '@acefleet/contracts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dockerAvailable, removeContainersWithLabels } from './docker.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';
import { freePort, portBlock } from './ports.ts';
import { startService, type ServiceProcess } from './processes.ts';

export const entries = {
  manager: 'services/engine-manager/src/main.ts',
  proxy: 'services/edge-proxy/src/main.ts',
  stats: 'services/stats/src/main.ts',
  monitor: 'services/health-monitor/src/main.ts',
} as const;
export type ServiceKey = keyof typeof entries;

/** The NATS user each service logs in as. */
export const serviceUsers: Record<ServiceKey, NatsUser> = {
  manager: NatsUsers.engineManager,
  proxy: NatsUsers.edgeProxy,
  stats: NatsUsers.stats,
  monitor: NatsUsers.healthMonitor,
};

/**
 * One acefleet service as a real process on a loopback port, with `env` (NATS_URL, ...) as its settings: the
 * port `env.HTTP_PORT` names (a restart at the same address), else a free one.
 */
export async function startAcefleetService(
  key: ServiceKey,
  env: Record<string, string>,
  until: 'ok' | 'listening' = 'ok',
): Promise<ServiceProcess> {
  const port = env.HTTP_PORT ? Number(env.HTTP_PORT) : await freePort();
  return startService(key, {
    entry: entries[key],
    port,
    until,
    env: { HTTP_HOST: '127.0.0.1', ...env, HTTP_PORT: String(port) },
  });
}

export interface StackOptions {
  /** Which services to start (all four by default). */
  services?: ServiceKey[];
  env?: Partial<Record<ServiceKey, Record<string, string>>>;
  /** Prepare nats-server on a fixed port but leave it down (stack.nats.start() brings it up). */
  natsDown?: boolean;
}

export interface Stack {
  nats: NatsServer;
  hostId: string;
  /** The API_KEY every service of the stack has (send it as `Authorization: Bearer <apiKey>`). */
  apiKey: string;
  runtime: 'docker' | 'process';
  services: Partial<Record<ServiceKey, ServiceProcess>>;
  /** Start (or restart) one service with the stack's settings plus `env`; `until` as in startService. */
  start(key: ServiceKey, env?: Record<string, string>, until?: 'ok' | 'listening'): Promise<ServiceProcess>;
  proxyUrl(): string;
  stop(): Promise<void>;
}

/**
 * The whole system as real processes: a nats-server of its own, engine containers labelled with a host id
 * of this stack's (removed at the end), each service on a free loopback port.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const nats = await startNatsServer({ launch: !opts.natsDown });
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-stack-'));
  const hostId = `test-${randomBytes(4).toString('hex')}`;
  const apiKey = randomBytes(24).toString('base64url');
  const runtime = (await dockerAvailable()) ? 'docker' : 'process';
  const ports = portBlock();
  const base = (key: ServiceKey): Record<string, string> => ({
    ...nats.env(serviceUsers[key]),
    HTTP_HOST: '127.0.0.1',
    API_KEY: apiKey,
    LOG_LEVEL: 'info',
  });
  const defaults: Record<ServiceKey, Record<string, string>> = {
    manager: {
      HOST_ID: hostId,
      FLEET_ID: hostId,
      // Stable, as under an orchestrator: a restarted (even killed) manager takes its host's lease back at once.
      INSTANCE_ID: `${hostId}-manager`,
      ENGINE_RUNTIME: runtime,
      MIN_REPLICAS: '0',
      HTTP_PORT_RANGE_START: String(ports.start),
      HTTP_PORT_RANGE_END: String(ports.end),
      P2P_PORT_RANGE_START: String(ports.start + 12_000),
      REMOVE_ENGINES_ON_EXIT: 'false',
    },
    proxy: {
      LINGER_MS: '0',
      OUTBOX_DIR: path.join(dir, 'outbox'),
      ENGINE_CACHE_FILE: path.join(dir, 'proxy-engines.json'),
      INSTANCE_FILE: path.join(dir, 'proxy-instance.json'),
    },
    stats: { DB_PATH: path.join(dir, 'stats.db') },
    monitor: { HEALTH_INTERVAL_MS: '1000', PROBE_TIMEOUT_MS: '500' },
  };
  const services: Stack['services'] = {};
  const start = async (
    key: ServiceKey,
    env: Record<string, string> = {},
    until: 'ok' | 'listening' = opts.natsDown ? 'listening' : 'ok',
  ): Promise<ServiceProcess> => {
    const proc = await startAcefleetService(
      key,
      { ...base(key), ...defaults[key], ...opts.env?.[key], ...env },
      until,
    );
    services[key] = proc;
    return proc;
  };
  const stack: Stack = {
    nats,
    hostId,
    apiKey,
    runtime,
    services,
    start,
    proxyUrl: () => services.proxy?.url ?? '',
    async stop() {
      await Promise.all(Object.values(services).map((s) => s.stop()));
      if (runtime === 'docker') {
        await removeContainersWithLabels([`io.acefleet.host=${hostId}`, `io.acefleet.fleet=${hostId}`]);
      }
      await nats.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const key of opts.services ?? (['manager', 'stats', 'monitor', 'proxy'] as const)) await start(key);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
