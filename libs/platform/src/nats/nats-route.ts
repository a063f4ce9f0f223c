/** The user nats-servers of one cluster log in as on each other's route port. */
export const NATS_ROUTE_USER = 'route';
/** The variable that carries the route password into nats-server (the config file only names it). */
export const NATS_ROUTE_PASSWORD_ENV = 'NATS_ROUTE_PASSWORD';

export interface NatsClusterOptions {
  /** This node's name; JetStream needs a distinct one per node. */
  serverName: string;
  /** The cluster's name, the same on every node. */
  name: string;
  /** `host:port` this node's route listener binds. */
  listen: string;
  /** `host:port` of every other node's route listener. */
  peers: string[];
}

const routeEnvOf = (i: number): string => `NATS_ROUTE_${i}`;

/**
 * The config lines that make a nats-server a cluster node. Routes log in: a process that can reach the
 * route port cannot join the cluster (and read every subject) without the route password. The peers' URLs
 * hold that password, so they come from the environment (natsRoutesEnv), like the users' passwords.
 */
export function natsClusterConfigLines(c: NatsClusterOptions): string[] {
  return [
    `server_name: ${JSON.stringify(c.serverName)}`,
    'cluster: {',
    `  name: ${JSON.stringify(c.name)}`,
    `  listen: ${JSON.stringify(c.listen)}`,
    `  authorization: { user: ${JSON.stringify(NATS_ROUTE_USER)}, password: $${NATS_ROUTE_PASSWORD_ENV} }`,
    `  routes: [${c.peers.map((_, i) => `$${routeEnvOf(i)}`).join(', ')}]`,
    '}',
  ];
}

/** Environment for a node configured with `peers` (in the same order): the route password and peer URLs. */
export function natsRoutesEnv(peers: string[], password: string): Record<string, string> {
  return {
    [NATS_ROUTE_PASSWORD_ENV]: password,
    ...Object.fromEntries(
      peers.map((p, i) => [routeEnvOf(i), `nats-route://${NATS_ROUTE_USER}:${password}@${p}`]),
    ),
  };
}
