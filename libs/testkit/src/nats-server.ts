import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type ConnectionOptions } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers, natsUsers, type NatsUser } from '@acefleet/contracts';
import {
  natsAuthOptions,
  natsPasswordsEnv,
  natsServerConfig,
  newNatsPassword,
  type NatsAuth,
  type NatsPasswords,
} from '@acefleet/platform';
import { freePort } from './ports.ts';
import { waitFor } from './wait.ts';

export interface NatsServer {
  url: string;
  port: number;
  /** Whether clients must log in (the generated acefleet config); false only with `{ auth: false }`. */
  auth: boolean;
  /** nats-server's log (permission violations show up here). */
  logFile: string;
  /** The user and password a client playing `user` logs in with. */
  credentials(user: NatsUser): NatsAuth;
  /** What a service process playing `user` needs: NATS_URL, NATS_USER and NATS_PASSWORD. */
  env(user: NatsUser): Record<string, string>;
  /** A client logged in as `user` (operator: every right), with that user's inbox prefix. */
  connect(user?: NatsUser, opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** Kill the server (SIGKILL) without losing its store, to simulate an outage. */
  stop(): Promise<void>;
  /** Start it again on the same port and store. */
  start(): Promise<void>;
  /** Stop it and remove its store. */
  destroy(): Promise<void>;
}

export interface NatsServerOptions {
  /** Run with the generated per-service users and permissions (default), or open to anonymous clients. */
  auth?: boolean;
  /** A fixed port (a random one by default). */
  port?: number;
  /** false: only prepare it (on a fixed port, taken from `port` or picked now); start() launches it. */
  launch?: boolean;
}

/**
 * A real nats-server with JetStream on a loopback port and a store of its own, by default with acefleet's
 * access rules (libs/platform natsServerConfig) and fresh passwords: anonymous clients are refused.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const auth = opts.auth ?? true;
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-nats-'));
  const passwords = Object.fromEntries(natsUsers.map((u) => [u, newNatsPassword()])) as NatsPasswords;
  const configFile = path.join(dir, 'nats.conf');
  const store = path.join(dir, 'store');
  const logFile = path.join(dir, 'nats.log');
  await writeFile(configFile, natsServerConfig({ storeDir: store }));
  let proc: ChildProcess | undefined;
  let port = opts.port ?? (opts.launch === false ? await freePort() : -1);

  const launch = async (): Promise<void> => {
    const portsDir = path.join(dir, 'ports');
    await rm(portsDir, { recursive: true, force: true });
    await mkdir(portsDir, { recursive: true });
    const where = ['-a', '127.0.0.1', '-p', String(port)];
    const args = auth ? ['-c', configFile, ...where] : ['-js', ...where, '-sd', store];
    proc = spawn('nats-server', [...args, '-l', logFile, '--ports_file_dir', portsDir], {
      stdio: 'ignore',
      env: { ...process.env, ...natsPasswordsEnv(passwords) },
    });
    const child = proc;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      const files = await readdir(portsDir).catch(() => []);
      const file = files.find((f) => f.endsWith('.ports'));
      if (!file) return false;
      const ports = JSON.parse(await readFile(path.join(portsDir, file), 'utf8')) as { nats: string[] };
      port = Number(new URL(ports.nats[0]!).port);
      return true;
    }, 10_000);
  };

  const stop = async (): Promise<void> => {
    const child = proc;
    // A killed process has a signalCode and no exitCode: it must not be waited for a second time.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  const url = (): string => `nats://127.0.0.1:${port}`;
  const credentials = (user: NatsUser): NatsAuth =>
    auth ? { user, password: passwords[user] } : { user: '', password: '' };

  if (opts.launch !== false) await launch();
  return {
    get url() {
      return url();
    },
    get port() {
      return port;
    },
    auth,
    logFile,
    credentials,
    env: (user) => {
      const c = credentials(user);
      return { NATS_URL: url(), NATS_USER: c.user, NATS_PASSWORD: c.password };
    },
    connect: (user = NatsUsers.operator, more = {}) =>
      connect({ servers: url(), ...natsAuthOptions(credentials(user)), ...more }),
    stop,
    start: launch,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
