import { connect, type ConnectionOptions } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsUsers, type NatsUser } from '@acefleet/contracts';
import { natsAuthOptions, natsServers, type NatsAuth } from '@acefleet/platform';

export interface NatsAccess {
  /** What a service process playing `user` needs: NATS_URL, NATS_USER and NATS_PASSWORD. */
  env(user: NatsUser): Record<string, string>;
  /** A client logged in as `user` (operator: every right), with that user's inbox prefix. */
  connect(user?: NatsUser, opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
}

/** How clients and service processes reach NATS at `url` (one server, or a comma list) as a given user. */
export function natsAccess(url: () => string, credentials: (user: NatsUser) => NatsAuth): NatsAccess {
  return {
    env: (user) => {
      const c = credentials(user);
      return { NATS_URL: url(), NATS_USER: c.user, NATS_PASSWORD: c.password };
    },
    connect: (user = NatsUsers.operator, more = {}) =>
      connect({ servers: natsServers(url()), ...natsAuthOptions(credentials(user)), ...more }),
  };
}
