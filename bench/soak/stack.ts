/**
 * The stack a soak runs: `npm start` itself (scripts/start.ts, its supervisor, rotation and all), in a state
 * directory of its own, on free ports, with every interval scaled down so that a month of churn fits in
 * SOAK_MINUTES. Faults are what a month brings: engines dying or wedging, NATS and the manager restarting
 * (killed with -9; the supervisor starts them again).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, portBlock, repoRoot, waitFor } from '@acefleet/testkit';

const run = promisify(execFile);

export interface SoakStack {
  stateDir: string;
  fleetId: string;
  ports: { proxy: number; stats: number; monitor: number; manager: number; nats: number };
  apiKey: string;
  operatorUrl: string;
  /** The pid of one of the stack's processes now (a restarted one has a new pid). */
  pidOf(name: string): number | undefined;
  /** `docker ps` ids of this stack's engine containers. */
  engineContainers(): Promise<string[]>;
  stop(): Promise<void>;
}

export const SERVICES = ['edge-proxy', 'engine-manager', 'health-monitor', 'stats', 'nats-server'] as const;

/**
 * The scaled settings: `day` is how long a soak day lasts (a month of 30 days in SOAK_MINUTES). Ages scale
 * with it (engines live a day); byte bounds are small, so that reaching them is seen within the run.
 */
export function soakEnv(dayMs: number): Record<string, string> {
  return {
    LOG_FILE_MAX_BYTES: '200000',
    LOG_FILES: '3',
    // Debug lines: traffic enough for the logs to reach their bound and rotate within the run.
    LOG_LEVEL: 'debug',
    // Every player comes from this one address: the per-client fair share would refuse all but four channels.
    MAX_STREAMS_PER_CLIENT: '1000',
    MIN_REPLICAS: '2',
    MIN_FREE_REPLICAS: '1',
    MAX_REPLICAS: '8',
    MAX_STREAMS_PER_ENGINE: '3',
    ENGINE_MAX_AGE_MS: String(Math.max(60_000, dayMs)),
    ENGINE_USAGE_CHECK_MS: '5000',
    ENGINE_CACHE_MB: '64',
    IDLE_GRACE_MS: '20000',
    DRAIN_TIMEOUT_MS: '15000',
    HEALTH_INTERVAL_MS: '2000',
    FAILURE_THRESHOLD: '2',
    STAT_INTERVAL_MS: '1000',
    LINGER_MS: '5000',
    // JetStream: the samples a (scaled) few hours, every store small enough to fill within the run.
    SAMPLES_MAX_AGE_MS: String(Math.max(60_000, dayMs / 4)),
    SAMPLES_MAX_BYTES: String(4 * 1024 * 1024),
    EVENTS_MAX_BYTES: String(16 * 1024 * 1024),
    KV_MAX_BYTES: String(2 * 1024 * 1024),
    // stats: samples a (scaled) day, the events feed a week; sessions stay STATS_RETENTION_DAYS (1, its least).
    SAMPLE_RETENTION_MS: String(Math.max(60_000, dayMs)),
    EVENT_RETENTION_MS: String(Math.max(60_000, 7 * dayMs)),
    STATS_RETENTION_DAYS: '1',
    PRUNE_INTERVAL_MS: '10000',
    COMPACT_INTERVAL_MS: String(Math.max(60_000, dayMs)),
    PROXY_LOST_AFTER_MS: '20000',
    LOG_REPEAT_WINDOW_MS: '60000',
  };
}

export async function startSoakStack(dayMs: number, say: (line: string) => void): Promise<SoakStack> {
  const stateDir = path.join(repoRoot, '.run', `soak-${randomBytes(3).toString('hex')}`);
  mkdirSync(stateDir, { recursive: true });
  const ports = {
    proxy: await freePort(),
    stats: await freePort(),
    monitor: await freePort(),
    manager: await freePort(),
    nats: await freePort(),
  };
  const engines = portBlock(80);
  const fleetId = `soak-${randomBytes(3).toString('hex')}`;
  const env = {
    ...process.env,
    ...soakEnv(dayMs),
    ACEFLEET_STATE_DIR: stateDir,
    PROXY_PORT: String(ports.proxy),
    STATS_PORT: String(ports.stats),
    MONITOR_PORT: String(ports.monitor),
    MANAGER_PORT: String(ports.manager),
    NATS_PORT: String(ports.nats),
    ENGINE_RUNTIME: 'docker',
    HOST_ID: fleetId,
    FLEET_ID: fleetId,
    HTTP_PORT_RANGE_START: String(engines.start),
    HTTP_PORT_RANGE_END: String(engines.end),
    P2P_PORT_RANGE_START: String(engines.p2pStart),
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n'))
      if (/exited|Stopping|error/i.test(line)) say(`  npm start: ${line}`);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output.slice(-3000)}`);
      return output.includes('acefleet is running');
    },
    180_000,
    250,
  );
  const read = (file: string): string => readFileSync(path.join(stateDir, file), 'utf8').trim();
  const pidOf = (name: string): number | undefined => {
    const file = path.join(stateDir, 'pids', `${name}.pid`);
    return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
  };
  return {
    stateDir,
    fleetId,
    ports,
    apiKey: read('api-key'),
    operatorUrl: read('operator.nats-url'),
    pidOf,
    async engineContainers() {
      const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=io.acefleet.fleet=${fleetId}`]);
      return stdout.split('\n').filter(Boolean);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Kill one of the stack's processes with -9: the supervisor starts it again (a crash, an OOM kill). */
export function kill9(stack: SoakStack, name: string): boolean {
  const pid = stack.pidOf(name);
  if (pid === undefined) return false;
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** An engine dies (docker kill), or wedges for `pauseMs` (docker pause: its port open, nothing answering). */
export async function engineFault(
  stack: SoakStack,
  kind: 'kill' | 'pause',
  pauseMs: number,
): Promise<string | undefined> {
  const ids = await stack.engineContainers();
  const id = ids[Math.floor(Math.random() * ids.length)];
  if (!id) return undefined;
  if (kind === 'kill') {
    await run('docker', ['kill', id]).catch(() => undefined);
  } else {
    await run('docker', ['pause', id]).catch(() => undefined);
    setTimeout(() => void run('docker', ['unpause', id]).catch(() => undefined), pauseMs).unref();
  }
  return id.slice(0, 12);
}
