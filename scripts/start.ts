/**
 * `npm start` after set-up: the whole stack in the foreground. A local nats-server with JetStream (unless
 * NATS_URL names one), engine-manager with simulated engines (Docker containers, or local processes where no
 * Docker engine runs), health-monitor, stats and the edge proxy. A process that dies is started again (see
 * scripts/lib/supervisor.ts); Ctrl-C, or a process that keeps dying, stops everything it started, engine
 * containers included. Service logs go to .run/logs/, their pids to .run/pids/.
 *
 * The local nats-server runs with acefleet's access rules: each service logs in as its own NATS user with a
 * password made at the first start and kept in .run/nats/ (0600); the operator's URL, password included, is
 * written to .run/operator.nats-url for people and the nats CLI. With NATS_URL set, NATS_USER and
 * NATS_PASSWORD (if given) pass through to every service.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetIdOf, NatsUsers, type NatsUser } from '@acefleet/contracts';
import {
  loadConfigOrExit,
  loadOrCreateNatsPasswords,
  natsPasswordsEnv,
  natsServerConfig,
  natsServers,
  type NatsPasswords,
} from '@acefleet/platform';
import { serviceRuntime } from './lib/service-runtime.ts';
import { StartConfig } from './lib/start-config.ts';
import { Supervisor } from './lib/supervisor.ts';

const env = process.env;
const settings = loadConfigOrExit(StartConfig, env);
const root = path.resolve(import.meta.dirname, '..');
const runDir = path.join(root, '.run');
/**
 * What one running stack keeps: logs, NATS credentials and store, the API key, the operator's URL, the stats
 * database, the outbox. `.run` by default; ACEFLEET_STATE_DIR gives a second stack (a test) its own.
 */
const stateDir = env.ACEFLEET_STATE_DIR ? path.resolve(env.ACEFLEET_STATE_DIR) : runDir;
const shown = (file: string): string => path.relative(root, file);
const logDir = path.join(stateDir, 'logs');
mkdirSync(logDir, { recursive: true });

const host = '127.0.0.1';
const ports = {
  proxy: Number(env.PROXY_PORT ?? 8080),
  stats: Number(env.STATS_PORT ?? 8081),
  monitor: Number(env.MONITOR_PORT ?? 8082),
  manager: Number(env.MANAGER_PORT ?? 8083),
  nats: Number(env.NATS_PORT ?? 4222),
};
const runtimeFile = path.join(runDir, 'engine-runtime');
const runtime =
  env.ENGINE_RUNTIME ?? (existsSync(runtimeFile) ? readFileSync(runtimeFile, 'utf8').trim() : 'process');
const hostId = env.HOST_ID ?? 'local';
// This checkout's stack: its engines and no other stack's on the same Docker daemon.
const fleetId = env.FLEET_ID ?? fleetIdOf(stateDir);
const supervisor = new Supervisor({
  cwd: root,
  logDir,
  pidDir: path.join(stateDir, 'pids'),
  logRotation: { maxBytes: settings.logFileMaxBytes, files: settings.logFiles },
  say: (line) => console.log(line),
  onGiveUp: (name, why) => {
    console.error(`${why}; see ${shown(logDir)}/${name}.log. Stopping.`);
    void stop(1);
  },
});
let started = false;
const apiKeyFile = path.join(stateDir, 'api-key');

/** The services' API key: API_KEY when set, else the one generated at the first start (mode 0600). */
function apiKey(): string {
  if (env.API_KEY) return env.API_KEY;
  if (!existsSync(apiKeyFile)) {
    writeFileSync(apiKeyFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(apiKeyFile, 0o600);
  return readFileSync(apiKeyFile, 'utf8').trim();
}

function launch(
  name: string,
  cmd: string,
  args: string[],
  extraEnv: Record<string, string>,
  orphanSignal?: 'TERM' | 'KILL',
): void {
  started = true;
  supervisor.start({ name, cmd, args, env: { ...env, ...extraEnv }, orphanSignal });
}

function portOpen(port: number, at = host): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, at);
    socket.setTimeout(3000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Fail early, in one line, when none of NATS_URL's servers accepts connections (credentials left out). */
async function checkNatsReachable(natsUrl: string): Promise<void> {
  const servers = natsServers(natsUrl).map((s) => new URL(s.includes('://') ? s : `nats://${s}`));
  for (const url of servers) {
    if (await portOpen(Number(url.port || 4222), url.hostname)) return;
  }
  const shown = servers.map((u) => `${u.protocol}//${u.host}`).join(',');
  throw new Error(`NATS at ${shown} is unreachable: start it or fix NATS_URL`);
}

/** Wait until /health says ok: connected to NATS and set up, not only listening (degraded answers 200 too). */
async function waitHealthy(name: string, port: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const ok = await fetch(`http://${host}:${port}/health`).then(
      async (r) => r.ok && ((await r.json()) as { status?: string }).status === 'ok',
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${name} did not become healthy; see ${shown(logDir)}/${name}.log`);
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  if (started) console.log('\nstopping…');
  const order = ['edge-proxy', 'health-monitor', 'stats', 'engine-manager', 'nats-server'];
  await supervisor.stopAll(order, (name) => console.log(`  ${name} stopped`));
  if (runtime === 'docker') {
    // Belt and braces: whatever engine containers of this host are left (e.g. a manager that was killed).
    const labels = [`io.acefleet.host=${hostId}`, `io.acefleet.fleet=${fleetId}`];
    const ids = execFileSync('docker', ['ps', '-aq', ...labels.flatMap((l) => ['--filter', `label=${l}`])], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
    if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  }
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

/**
 * A local nats-server with the generated access rules (its config names the password variables, so the file
 * holds no secret). Returns the passwords, made at the first start and reused afterwards.
 */
async function startLocalNats(): Promise<NatsPasswords> {
  if (await portOpen(ports.nats))
    throw new Error(`port ${ports.nats} is taken: stop what uses it or set NATS_URL`);
  const passwords = loadOrCreateNatsPasswords(path.join(stateDir, 'nats'));
  const config = path.join(stateDir, 'nats', `nats-${ports.nats}.conf`);
  const storeDir = path.join(stateDir, `nats-${ports.nats}`);
  writeFileSync(config, natsServerConfig({ listen: `${host}:${ports.nats}`, storeDir }), { mode: 0o600 });
  launch('nats-server', 'nats-server', ['-c', config], natsPasswordsEnv(passwords));
  for (let i = 0; i < 40 && !(await portOpen(ports.nats)); i++) await sleep(250);
  const operatorUrl = `nats://${NatsUsers.operator}:${passwords.operator}@${host}:${ports.nats}`;
  writeFileSync(operatorFile, `${operatorUrl}\n`, { mode: 0o600 });
  chmodSync(operatorFile, 0o600);
  return passwords;
}
const operatorFile = path.join(stateDir, 'operator.nats-url');

/**
 * Where the proxy and health-monitor may find engines (ENGINE_ADDRESSES): where engine-manager puts them,
 * when its port range or engine host is set in the environment and ENGINE_ADDRESSES is not (the defaults of
 * both agree).
 */
function engineAddresses(): Record<string, string> {
  const { ENGINE_ADDRESSES, ENGINE_HOST, HTTP_PORT_RANGE_START, HTTP_PORT_RANGE_END } = env;
  if (ENGINE_ADDRESSES || !(ENGINE_HOST || HTTP_PORT_RANGE_START || HTTP_PORT_RANGE_END)) return {};
  const range = `${HTTP_PORT_RANGE_START ?? '19000'}-${HTTP_PORT_RANGE_END ?? '19499'}`;
  return { ENGINE_ADDRESSES: `${ENGINE_HOST ?? '127.0.0.1'}:${range}` };
}

async function main(): Promise<void> {
  if (env.NATS_URL) await checkNatsReachable(env.NATS_URL);
  const passwords = env.NATS_URL ? undefined : await startLocalNats();
  const natsUrl = env.NATS_URL ?? `nats://${host}:${ports.nats}`;
  /** Local server: each service its own user. External one: NATS_USER/NATS_PASSWORD of the environment. */
  const natsLogin = (user: NatsUser): Record<string, string> =>
    passwords ? { NATS_USER: user, NATS_PASSWORD: passwords[user] ?? '' } : {};
  if (runtime !== 'docker')
    console.log('No Docker engine available: running simulated engines as local processes.');
  // The services run bundled (faster start, half the memory of tsx); rebuilding takes about 2 s.
  execFileSync('bash', ['scripts/build-services.sh'], { cwd: root, stdio: 'inherit' });
  const common = { NATS_URL: natsUrl, HTTP_HOST: host, API_KEY: apiKey(), ...engineAddresses() };
  const services: [NatsUser, string, number, Record<string, string>][] = [
    [
      NatsUsers.engineManager,
      '.run/dist/engine-manager.mjs',
      ports.manager,
      {
        ENGINE_RUNTIME: runtime,
        HOST_ID: hostId,
        FLEET_ID: fleetId,
        // Stable: a manager restarted after a crash takes its host's leader lease back at once.
        INSTANCE_ID: `${hostId}-manager`,
        MIN_REPLICAS: env.MIN_REPLICAS ?? '1',
        MIN_FREE_REPLICAS: env.MIN_FREE_REPLICAS ?? '1',
        REMOVE_ENGINES_ON_EXIT: 'true',
        OUTBOX_DIR: path.join(stateDir, `outbox-${ports.manager}`),
      },
    ],
    [
      NatsUsers.healthMonitor,
      '.run/dist/health-monitor.mjs',
      ports.monitor,
      { OUTBOX_DIR: path.join(stateDir, `outbox-${ports.monitor}`) },
    ],
    [
      NatsUsers.stats,
      '.run/dist/stats.mjs',
      ports.stats,
      {
        DB_PATH: path.join(stateDir, `stats-${ports.stats}.db`),
        DASHBOARD_DIR: path.join(root, 'services/stats/public'),
        OUTBOX_DIR: path.join(stateDir, `outbox-${ports.stats}`),
      },
    ],
    [
      NatsUsers.edgeProxy,
      '.run/dist/edge-proxy.mjs',
      ports.proxy,
      {
        OUTBOX_DIR: path.join(stateDir, `outbox-${ports.proxy}`),
        INSTANCE_FILE: path.join(stateDir, `proxy-instance-${ports.proxy}.json`),
      },
    ],
  ];
  for (const [name, entry, port, extra] of services) {
    const run = serviceRuntime(name);
    // Orphaned by npm start's death, only the manager has work to do (removing its engines); the others
    // lose nothing to a KILL (the proxy's outbox is on disk, stats' SQLite is transactional).
    launch(
      name,
      process.execPath,
      [...run.nodeFlags, entry],
      { ...common, ...run.env, ...natsLogin(name), ...extra, HTTP_PORT: String(port) },
      name === NatsUsers.engineManager ? 'TERM' : 'KILL',
    );
  }
  await Promise.all(services.map(([name, , port]) => waitHealthy(name, port)));
  const id = 'dd1e67078381739d14beca697356ab76d49d1a2d';
  console.log(`
acefleet is running (engines: ${runtime}, NATS: ${natsUrl.replace(/\/\/[^@/]*@/g, '//')})

  play:       http://${host}:${ports.proxy}/ace/getstream?id=${id}
              (any 40-hex id plays the simulator's test pattern: ffplay, mpv, vlc or ffprobe the URL)
  status:     http://${host}:${ports.proxy}/ace/status    streams: http://${host}:${ports.proxy}/api/streams
  dashboard:  http://${host}:${ports.stats}/          (live; API under /api)
  metrics:    http://${host}:${ports.proxy}/metrics (proxy), :${ports.stats}, :${ports.monitor}, :${ports.manager}
  logs:       ${shown(logDir)}/${passwords ? `\n  operator:   NATS URL with the operator's password in ${shown(operatorFile)} (0600)` : ''}
  API key:    ${env.API_KEY ? 'API_KEY, from the environment' : shown(apiKeyFile)} (the admin routes need it, e.g.
              curl -X POST -H "Authorization: Bearer ${env.API_KEY ? '$API_KEY' : `$(cat ${shown(apiKeyFile)})`}" \\
                http://${host}:${ports.manager}/api/engines/provision)

Ctrl-C stops everything.`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  void stop(1);
});
