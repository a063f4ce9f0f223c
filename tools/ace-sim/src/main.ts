// Entry: read config, wait out the simulated boot, listen, close cleanly on SIGTERM/SIGINT.
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, parseConfig } from './config.ts';
import { jsonLineLogger } from './log.ts';
import { MediaError } from './media.ts';
import { ProfileError } from './profile.ts';
import { buildSimulator } from './server.ts';

const log = jsonLineLogger(process.stdout);

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2), process.env);
  const sim = buildSimulator({ ...config.sim, log });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log({ signal }, 'shutting down');
    void sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (config.startupDelayMs > 0) {
    log({ startupDelayMs: config.startupDelayMs }, 'booting');
    await sleep(config.startupDelayMs);
  }
  if (stopping) return;
  await sim.listen(config.httpPort, config.host);
  const { bitrateBps, profile, seed, clockOffsetMs } = sim.settings;
  log({ p2pPort: config.sim.p2pPort, bitrateBps, profile, seed, clockOffsetMs }, 'engine ready');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof MediaError || err instanceof ProfileError) {
    process.stderr.write(`ace-sim: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`ace-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
