import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ServiceNames } from '@acefleet/contracts';
import { bootService, onShutdown } from '@acefleet/platform';
import { buildStats } from './app.ts';
import { StatsConfig } from './config.ts';

const { config, log, nc } = await bootService(StatsConfig, ServiceNames.stats, process.env);
if (config.dbPath !== ':memory:') mkdirSync(path.dirname(config.dbPath), { recursive: true });
const stats = await buildStats(config, nc, log);
const address = await stats.http.listen({ host: config.httpHost, port: config.httpPort });
await stats.serve(address);
log.info({ address, db: config.dbPath }, 'stats started');

onShutdown(log, [
  { name: 'close stats', run: () => stats.close() },
  { name: 'drain nats', run: () => nc.drain() },
]);
