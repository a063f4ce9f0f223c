import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ServiceNames } from '@acefleet/contracts';
import { announcedAddress, bootService, listenFront, onShutdown } from '@acefleet/platform';
import { buildStats, type StatsService } from './app.ts';
import { StatsConfig } from './config.ts';

const { config, log, link } = bootService(StatsConfig, ServiceNames.stats, process.env);
if (config.dbPath !== ':memory:') mkdirSync(path.dirname(config.dbPath), { recursive: true });
const problems = (): string[] => link.problems();
const front = await listenFront({
  host: config.httpHost,
  port: config.httpPort,
  problems,
  limits: config,
});
let stats: StatsService | undefined;
link.onConnect('stats', async (nc) => {
  stats = await buildStats(config, nc, log, problems);
  await front.mount(stats.http);
});
link.onConnect('micro service', async () => {
  await stats?.serve(
    announcedAddress(config.httpHost, Number(new URL(front.address).port), config.publicUrl),
  );
});
link.start();
log.info({ address: front.address, db: config.dbPath }, 'stats started');

onShutdown(log, [
  { name: 'close stats', run: () => stats?.close() },
  { name: 'close nats', run: () => link.close() },
  { name: 'close http', run: () => front.close() },
]);
