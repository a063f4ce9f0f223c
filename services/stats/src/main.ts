import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ServiceNames } from '@acefleet/contracts';
import {
  connectNats,
  createLogger,
  ensureEventsStream,
  loadConfigOrExit,
  onShutdown,
} from '@acefleet/platform';
import { buildStats } from './app.ts';
import { StatsConfig } from './config.ts';

const config = loadConfigOrExit(StatsConfig, process.env);
const instanceId = config.instanceId || randomUUID();
const log = createLogger(ServiceNames.stats, config.logLevel);
if (config.dbPath !== ':memory:') mkdirSync(path.dirname(config.dbPath), { recursive: true });
const nc = await connectNats(config.natsUrl, ServiceNames.stats, log);
await ensureEventsStream(nc);
const stats = await buildStats({ ...config, instanceId }, nc, log);
const address = await stats.http.listen({ host: config.httpHost, port: config.httpPort });
await stats.serve(address);
log.info({ address, db: config.dbPath }, 'stats started');

onShutdown(log, [
  { name: 'close stats', run: () => stats.close() },
  { name: 'drain nats', run: () => nc.drain() },
]);
