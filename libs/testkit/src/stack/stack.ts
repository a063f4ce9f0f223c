import { randomBytes } from 'node:crypto';
import { NatsUsers, proxyIdOf, proxyUserOf, type NatsUser } from '@acefleet/contracts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dockerAvailable, removeContainersWithLabels } from './docker.ts';
import { startNatsServer, type NatsServer } from '../nats/nats-server.ts';
import { freePort, portBlock, type PortBlock } from '../ports.ts';
import { explainTimeouts } from '../wait.ts';
import { startService, type ServiceProcess } from './processes.ts';

export const entries = {
  manager: 'services/engine-manager/src/main.ts',
  proxy: 'services/edge-proxy/src/main.ts',
  stats: 'services/stats/src/main.ts',
  monitor: 'services/health-monitor/src/main.ts',
} as const;
export type ServiceKey = keyof typeof entries;

/** The NATS user each service logs in as; instance `n` of the proxy as proxy user `n` (proxyUserOf). */
export function serviceUserOf(key: ServiceKey, n = 0): NatsUser {
  switch (key) {
    case 'manager':
      return NatsUsers.engineManager;
    case 'proxy':
      return proxyUserOf(n);
    case 'stats':
      return NatsUsers.stats;
    case 'monitor':
      return NatsUsers.healthMonitor;
  }
}

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

/**
 * What a stack needs of NATS: each service user's settings (`env(user)`: NATS_URL, a comma-separated list for
 * a cluster, NATS_USER, NATS_PASSWORD) and clients. A NatsServer is one; so is a cluster started outside.
 */
export type StackNats = Pick<NatsServer, 'env' | 'connect'>;

export interface StackOptions<N extends StackNats = NatsServer> {
  /** Which services to start (all four by default). */
  services?: ServiceKey[];
  /** How many instances of each started service (1 by default): `{ proxy: 2 }` runs two proxies. */
  instances?: Partial<Record<ServiceKey, number>>;
  env?: Partial<Record<ServiceKey, Record<string, string>>>;
  /** Prepare nats-server on a fixed port but leave it down (stack.nats.start() brings it up). */
  natsDown?: boolean;
  /** NATS started by the caller (a cluster): used as it is, and left running by stop(). */
  nats?: N;
}

/** A service process of a stack. */
export interface StackProcess extends ServiceProcess {
  key: ServiceKey;
  /** Which instance of its service: 0 is `services[key]`. Each has its own files, and a manager its host. */
  instance: number;
  /**
   * Its INSTANCE_ID, new on every start but a manager's (stable, so it takes its lease back); for a proxy, its
   * proxy id (`<its NATS user>.<INSTANCE_ID>`), the proxyId of its claims and stream events.
   */
  instanceId: string;
}

export interface Stack<N extends StackNats = NatsServer> {
  nats: N;
  /** The fleet id, and the HOST_ID of manager instance 0 (instance n > 0: `hostIdOf(n)`). */
  hostId: string;
  /** The API_KEY every service of the stack has (send it as `Authorization: Bearer <apiKey>`). */
  apiKey: string;
  runtime: 'docker' | 'process';
  /** Instance 0 of each service. */
  services: Partial<Record<ServiceKey, StackProcess>>;
  /** Every instance of each service, by instance number (the latest process of each; it may be stopped). */
  instances: Record<ServiceKey, StackProcess[]>;
  /** Start (or restart) instance 0 of a service with the stack's settings plus `env`; `until` as in startService. */
  start(key: ServiceKey, env?: Record<string, string>, until?: 'ok' | 'listening'): Promise<StackProcess>;
  /** Start (or restart, with its files, host and engine ports) instance `n` of a service. */
  startInstance(
    key: ServiceKey,
    n: number,
    env?: Record<string, string>,
    until?: 'ok' | 'listening',
  ): Promise<StackProcess>;
  /** Start one more instance of a service: a second proxy, a second manager on a host of its own. */
  add(key: ServiceKey, env?: Record<string, string>, until?: 'ok' | 'listening'): Promise<StackProcess>;
  /**
   * Start one more manager on the host of manager `n`: the same HOST_ID and engine ports, its own INSTANCE_ID
   * (`<hostId>-standby-<instance>`), plus `env` (give it manager n's DOCKER_SOCKET if that is not the default).
   */
  addStandby(n: number, env?: Record<string, string>): Promise<StackProcess>;
  /** The HOST_ID of manager instance `n`. */
  hostIdOf(n: number): string;
  /** The base URL of proxy instance `n`. */
  proxyUrl(n?: number): string;
  stop(): Promise<void>;
}

/** How many of a process's last warnings, and of its last lines whatever their level, a timeout shows. */
const EXPLAIN_WARNINGS = 8;
const EXPLAIN_RECENT = 4;

/** A service process in a few lines: running or its exit code, its last warnings, its last lines. */
function explainProcess(name: string, proc: ServiceProcess): string {
  const code = proc.child.exitCode;
  const lines = proc.output().split('\n').filter(Boolean);
  const warnings = lines.filter((line) => /"level":(4|5|6)0[,}]/.test(line)).slice(-EXPLAIN_WARNINGS);
  const recent = lines.slice(-EXPLAIN_RECENT).filter((line) => !warnings.includes(line));
  const shown = [...warnings, ...recent].map((line) => `    ${line.slice(0, 400)}`);
  return [`  ${name} (${code === null ? 'running' : `exited ${code}`}):`, ...shown].join('\n');
}

/** Managers whose engine ports a stack's proxies and monitors accept (more managers need ENGINE_ADDRESSES). */
const MANAGER_BLOCKS = 4;

/**
 * The whole system as real processes: a nats-server of its own (or the one given), engine containers
 * labelled with host ids of this stack's (removed at the end), each service on a free loopback port.
 */
export function startStack(opts?: StackOptions): Promise<Stack>;
export function startStack<N extends StackNats>(opts: StackOptions<N> & { nats: N }): Promise<Stack<N>>;
export async function startStack(opts: StackOptions<StackNats> = {}): Promise<Stack<StackNats>> {
  const own = opts.nats ? undefined : await startNatsServer({ launch: !opts.natsDown });
  const nats: StackNats = opts.nats ?? own!;
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-stack-'));
  const hostId = `test-${randomBytes(4).toString('hex')}`;
  const apiKey = randomBytes(24).toString('base64url');
  const runtime = (await dockerAvailable()) ? 'docker' : 'process';
  const hostIdOf = (n: number): string => (n === 0 ? hostId : `${hostId}-${n}`);
  const enginePorts = new Map<number, PortBlock>();
  const portsOf = (n: number): PortBlock => {
    const block = enginePorts.get(n) ?? portBlock();
    enginePorts.set(n, block);
    return block;
  };
  // The blocks of the first managers are fixed now, so that the proxies and monitors know where engines may be
  // (ENGINE_ADDRESSES) whenever a manager joins.
  const engineAddresses = Array.from({ length: MANAGER_BLOCKS }, (_, n) => portsOf(n))
    .map((b) => `127.0.0.1:${b.start}-${b.end}`)
    .join(',');
  const settings = (key: ServiceKey, n: number): Record<string, string> => {
    const files = path.join(dir, `${key}-${n}`);
    switch (key) {
      case 'manager': {
        const ports = portsOf(n);
        return {
          HOST_ID: hostIdOf(n),
          FLEET_ID: hostId,
          // Stable, as under an orchestrator: a restarted (even killed) manager takes its host's lease back at once.
          INSTANCE_ID: `${hostIdOf(n)}-manager`,
          ENGINE_RUNTIME: runtime,
          MIN_REPLICAS: '0',
          // Tests count engines: a warm spare (the service's default) only where a test asks for one.
          MIN_FREE_REPLICAS: '0',
          HTTP_PORT_RANGE_START: String(ports.start),
          HTTP_PORT_RANGE_END: String(ports.end),
          P2P_PORT_RANGE_START: String(ports.p2pStart),
          REMOVE_ENGINES_ON_EXIT: 'false',
        };
      }
      case 'proxy':
        return {
          ENGINE_ADDRESSES: engineAddresses,
          LINGER_MS: '0',
          OUTBOX_DIR: path.join(files, 'outbox'),
          ENGINE_CACHE_FILE: path.join(files, 'engines.json'),
          INSTANCE_FILE: path.join(files, 'instance.json'),
        };
      case 'stats':
        return { DB_PATH: path.join(dir, n === 0 ? 'stats.db' : `stats-${n}.db`) };
      case 'monitor':
        return { ENGINE_ADDRESSES: engineAddresses, HEALTH_INTERVAL_MS: '1000', PROBE_TIMEOUT_MS: '500' };
    }
  };
  const instances: Stack['instances'] = { manager: [], proxy: [], stats: [], monitor: [] };
  const services: Stack['services'] = {};
  const unexplain = explainTimeouts(() =>
    [
      `stack ${hostId} (${runtime}):`,
      ...Object.values(instances).flatMap((all) =>
        all.map((proc) => explainProcess(`${proc.key}-${proc.instance}`, proc)),
      ),
    ].join('\n'),
  );
  const startInstance = async (
    key: ServiceKey,
    n: number,
    env: Record<string, string> = {},
    until: 'ok' | 'listening' = opts.natsDown ? 'listening' : 'ok',
  ): Promise<StackProcess> => {
    const merged: Record<string, string> = {
      ...nats.env(serviceUserOf(key, n)),
      HTTP_HOST: '127.0.0.1',
      API_KEY: apiKey,
      LOG_LEVEL: 'info',
      INSTANCE_ID: `${key}-${n}-${randomBytes(4).toString('hex')}`,
      ...settings(key, n),
      ...opts.env?.[key],
      ...env,
    };
    const proc = await startAcefleetService(key, merged, until);
    const instanceId =
      key === 'proxy'
        ? proxyIdOf(merged.NATS_USER || NatsUsers.edgeProxy, merged.INSTANCE_ID!)
        : merged.INSTANCE_ID!;
    const started: StackProcess = { ...proc, key, instance: n, instanceId };
    instances[key][n] = started;
    if (n === 0) services[key] = started;
    return started;
  };
  const stack: Stack<StackNats> = {
    nats,
    hostId,
    apiKey,
    runtime,
    services,
    instances,
    start: (key, env, until) => startInstance(key, 0, env, until),
    startInstance,
    add: (key, env, until) => startInstance(key, instances[key].length, env, until),
    addStandby: (n, env = {}) => {
      const m = instances.manager.length;
      return startInstance('manager', m, {
        ...settings('manager', n),
        ...opts.env?.manager,
        INSTANCE_ID: `${hostIdOf(n)}-standby-${m}`,
        ...env,
      });
    },
    hostIdOf,
    proxyUrl: (n = 0) => instances.proxy[n]?.url ?? '',
    async stop() {
      unexplain();
      await Promise.all(Object.values(instances).flatMap((all) => all.map((s) => s.stop())));
      if (runtime === 'docker') {
        const hosts = [...enginePorts.keys()].map((n) => `io.acefleet.host=${hostIdOf(n)}`);
        const labels = [`io.acefleet.fleet=${hostId}`, ...hosts];
        await Promise.all(labels.map((label) => removeContainersWithLabels([label])));
      }
      for (const block of enginePorts.values()) block.release();
      await own?.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const key of opts.services ?? (['manager', 'stats', 'monitor', 'proxy'] as const)) {
      for (let n = 0; n < (opts.instances?.[key] ?? 1); n++) await startInstance(key, n);
    }
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
