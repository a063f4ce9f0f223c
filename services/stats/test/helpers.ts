import { NatsUsers } from '@acefleet/contracts';
import { startAcefleetService, type NatsServer, type ServiceProcess } from '@acefleet/testkit';

/** Stats as a real process on a free port, with its database at `dbPath`. */
export function startStats(
  nats: NatsServer,
  dbPath: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startAcefleetService('stats', { ...nats.env(NatsUsers.stats), DB_PATH: dbPath, ...env });
}
