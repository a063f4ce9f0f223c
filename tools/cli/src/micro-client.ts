import { NoRespondersError, type NatsConnection, type QueuedIterator } from '@nats-io/nats-core';
import { Svcm, type ServiceIdentity, type ServiceInfo, type ServiceStats } from '@nats-io/services';
import { ServiceNames } from '@acefleet/contracts';

export type Verb = 'ping' | 'info' | 'stats';
interface Replies {
  ping: ServiceIdentity;
  info: ServiceInfo;
  stats: ServiceStats;
}

const known = new Set<string>(Object.values(ServiceNames));

/** `edge-proxy` means `acefleet-edge-proxy`; any other name is taken as written. */
export function serviceName(name: string | undefined): string | undefined {
  return name && !known.has(name) && known.has(`acefleet-${name}`) ? `acefleet-${name}` : name;
}

/**
 * Ask every micro service (or those named `name`) over $SRV.PING|INFO|STATS and collect the replies that
 * arrive within `waitMs`, sorted by name then id. Nobody answering is an empty list, not an error.
 */
export async function collectServices<V extends Verb>(
  nc: NatsConnection,
  verb: V,
  waitMs: number,
  name?: string,
): Promise<Replies[V][]> {
  const client = new Svcm(nc).client({ strategy: 'timer', maxWait: waitMs });
  const replies: Replies[V][] = [];
  try {
    const it = (await client[verb](serviceName(name))) as QueuedIterator<Replies[V]>;
    for await (const reply of it) replies.push(reply);
  } catch (err) {
    if (!(err instanceof NoRespondersError)) throw err;
  }
  return replies.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}
