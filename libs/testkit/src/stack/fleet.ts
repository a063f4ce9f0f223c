import { Subjects, type ListReply } from '@acefleet/contracts';
import type { NatsServer } from '../nats/nats-server.ts';

export type EngineList = ListReply['engines'];

/** Every engine record with its claims, as engine-manager answers `acefleet.engines.list`. */
export async function listEngines(nats: Pick<NatsServer, 'connect'>): Promise<EngineList> {
  const nc = await nats.connect();
  try {
    return (await nc.request(Subjects.engineList, '{}', { timeout: 5000 })).json<ListReply>().engines;
  } finally {
    await nc.close();
  }
}
