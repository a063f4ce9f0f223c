import { startAcefleetService, type NatsServer, type ServiceProcess } from '@acefleet/testkit';

/** Stats as a real process on a free port, with its database at `dbPath`. */
export function startStats(
  nats: NatsServer,
  dbPath: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startAcefleetService('stats', { NATS_URL: nats.url, DB_PATH: dbPath, ...env });
}
