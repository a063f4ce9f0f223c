import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsUsersFor, type NatsUser } from '@acefleet/contracts';
import { natsPasswordsEnv, natsServerConfig, newNatsPasswords, type NatsAuth } from '@acefleet/platform';
import { natsAccess, type NatsAccess } from './nats-access.ts';
import { natsProcess } from './nats-process.ts';
import { freePort } from '../ports.ts';

export interface NatsServer extends NatsAccess {
  url: string;
  port: number;
  /** Whether clients must log in (the generated acefleet config); false only with `{ auth: false }`. */
  auth: boolean;
  /** nats-server's log (permission violations show up here). */
  logFile: string;
  /** The user and password a client playing `user` logs in with. */
  credentials(user: NatsUser): NatsAuth;
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
  /** Edge proxies that can log in, each as its own user (proxyUserOf(n)); TEST_PROXY_USERS by default. */
  proxies?: number;
}

/** How many proxy users a test server has: enough for every stack of the suite (two proxies at most). */
export const TEST_PROXY_USERS = 4;

/**
 * A real nats-server with JetStream on a loopback port and a store of its own, by default with acefleet's
 * access rules (libs/platform natsServerConfig) and fresh passwords: anonymous clients are refused.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const auth = opts.auth ?? true;
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-nats-'));
  const users = natsUsersFor(opts.proxies ?? TEST_PROXY_USERS);
  const passwords = newNatsPasswords(users);
  const configFile = path.join(dir, 'nats.conf');
  const store = path.join(dir, 'store');
  const logFile = path.join(dir, 'nats.log');
  await writeFile(configFile, natsServerConfig({ storeDir: store, users }));
  let port = opts.port ?? (opts.launch === false ? await freePort() : -1);
  const server = natsProcess({
    dir,
    logFile,
    env: natsPasswordsEnv(passwords),
    args: () => {
      const where = ['-a', '127.0.0.1', '-p', String(port)];
      return auth ? ['-c', configFile, ...where] : ['-js', ...where, '-sd', store];
    },
  });
  const launch = async (): Promise<void> => {
    port = await server.launch();
  };

  const url = (): string => `nats://127.0.0.1:${port}`;
  const credentials = (user: NatsUser): NatsAuth =>
    auth ? { user, password: passwords[user] ?? '' } : { user: '', password: '' };

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
    ...natsAccess(url, credentials),
    stop: server.stop,
    start: launch,
    destroy: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
