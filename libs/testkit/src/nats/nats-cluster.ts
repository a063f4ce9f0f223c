import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers, natsUsersFor, type NatsUser } from '@acefleet/contracts';
import {
  natsPasswordsEnv,
  natsRoutesEnv,
  natsServerConfig,
  newNatsPassword,
  newNatsPasswords,
  type NatsAuth,
} from '@acefleet/platform';
import { TEST_PROXY_USERS } from './nats-server.ts';
import { natsAccess, type NatsAccess } from './nats-access.ts';
import { natsProcess } from './nats-process.ts';
import { freePort } from '../ports.ts';
import { waitFor } from '../wait.ts';

export interface NatsClusterNode {
  /** Its server_name, the name JetStream gives a stream's leader: `nats-1`, `nats-2`, … */
  name: string;
  /** This node alone (`nats://127.0.0.1:<port>`); the port stays the same across stop() and start(). */
  url: string;
  /** nats-server's log. */
  logFile: string;
  running(): boolean;
  /** Kill it (SIGKILL) without losing its store, to simulate a node dying. */
  stop(): Promise<void>;
  /** Start it again on the same ports and store; it rejoins the cluster by itself. */
  start(): Promise<void>;
}

export interface NatsCluster extends NatsAccess {
  /** Every node, as the comma list NATS_URL takes (stopped nodes included: clients skip them). */
  url: string;
  nodes: NatsClusterNode[];
  /** The user and password a client playing `user` logs in with (the same on every node). */
  credentials(user: NatsUser): NatsAuth;
  /** The node leading `stream` now (rejects while it has none, e.g. during an election). */
  leaderOf(stream: string): Promise<NatsClusterNode>;
  /** Wait until every running node answers JetStream requests (it sees a meta leader). */
  ready(timeoutMs?: number): Promise<void>;
  /** Stop every node and remove their stores. */
  destroy(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Number of nodes (default 3: the smallest cluster that survives losing one). */
  size?: number;
  /** Edge proxies that can log in, each as its own user (proxyUserOf(n)); TEST_PROXY_USERS by default. */
  proxies?: number;
}

/**
 * A real nats-server cluster on loopback: `size` nodes routed to each other, each with its own port, store
 * and JetStream, all with acefleet's generated users and permissions (libs/platform natsServerConfig) and
 * fresh passwords. Routes log in with a generated route password. Resolves once JetStream answers on every
 * node.
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-nats-cluster-'));
  const users = natsUsersFor(opts.proxies ?? TEST_PROXY_USERS);
  const passwords = newNatsPasswords(users);
  const routePassword = newNatsPassword();
  const specs: { name: string; port: number; route: number }[] = [];
  for (let i = 1; i <= size; i++)
    specs.push({ name: `nats-${i}`, port: await freePort(), route: await freePort() });
  const routeOf = (s: { route: number }): string => `127.0.0.1:${s.route}`;

  const nodes = await Promise.all(
    specs.map(async (spec): Promise<NatsClusterNode> => {
      const nodeDir = path.join(dir, spec.name);
      await mkdir(nodeDir);
      const configFile = path.join(nodeDir, 'nats.conf');
      const logFile = path.join(nodeDir, 'nats.log');
      const peers = specs.filter((s) => s !== spec).map(routeOf);
      const cluster = { serverName: spec.name, name: 'acefleet', listen: routeOf(spec), peers };
      await writeFile(
        configFile,
        natsServerConfig({
          listen: `127.0.0.1:${spec.port}`,
          storeDir: path.join(nodeDir, 'store'),
          cluster,
          users,
        }),
      );
      const server = natsProcess({
        dir: nodeDir,
        logFile,
        env: { ...natsPasswordsEnv(passwords), ...natsRoutesEnv(peers, routePassword) },
        args: () => ['-c', configFile],
      });
      let up = false;
      return {
        name: spec.name,
        url: `nats://127.0.0.1:${spec.port}`,
        logFile,
        running: () => up,
        stop: async () => {
          await server.stop();
          up = false;
        },
        start: async () => {
          await server.launch();
          up = true;
        },
      };
    }),
  );

  const url = nodes.map((n) => n.url).join(',');
  const credentials = (user: NatsUser): NatsAuth => ({ user, password: passwords[user] ?? '' });
  const access = natsAccess(() => url, credentials);
  const asOperator = async <T>(servers: string, use: (nc: NatsConnection) => Promise<T>): Promise<T> => {
    const nc = await access.connect(NatsUsers.operator, { servers: servers.split(','), timeout: 2000 });
    try {
      return await use(nc);
    } finally {
      await nc.close();
    }
  };
  const ready = async (timeoutMs = 30_000): Promise<void> => {
    const answers = (node: NatsClusterNode): Promise<unknown> =>
      asOperator(node.url, async (nc) => (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo());
    await waitFor(
      async () => {
        await Promise.all(nodes.filter((n) => n.running()).map(answers));
        return true;
      },
      timeoutMs,
      250,
    );
  };

  const cluster: NatsCluster = {
    url,
    nodes,
    credentials,
    ...access,
    leaderOf: (stream) =>
      asOperator(url, async (nc) => {
        const info = await (await jetstreamManager(nc)).streams.info(stream);
        const node = nodes.find((n) => n.name === info.cluster?.leader);
        if (!node) throw new Error(`${stream} has no leader now`);
        return node;
      }),
    ready,
    destroy: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await ready();
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
