/**
 * The scale run (issue 12): S streams × P players over several proxies and managers on one fleet, one part
 * killed at a time. Writes bench/results/scale.md. A skeleton: one nats-server until libs/testkit
 * startNatsCluster lands (startStack takes it as `nats`).
 *
 *   npm run test:scale
 *   SCALE_STREAMS=4 SCALE_PLAYERS=2 npm run test:scale
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@acefleet/testkit';
import { scenarioRow, tableHead } from './chaos/report.ts';
import { runScale, type ScaleOptions } from './scale/campaign.ts';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const opts: ScaleOptions = {
  streams: num('SCALE_STREAMS', 20),
  playersPerStream: num('SCALE_PLAYERS', 5),
  proxies: 2,
  managers: 2,
  pauseMs: num('SCALE_PAUSE_MS', 10_000),
  observeMs: 20_000,
  settleTimeoutMs: 60_000,
  auditTimeoutMs: 40_000,
};
const startedAt = new Date();
const result = await runScale(opts, (line) => console.log(line));
const minutes = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1);
const md = [
  '# Scale run',
  '',
  `Run ${startedAt.toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, Node ${process.version}, ${minutes} min.`,
  '',
  `${opts.streams} streams × ${opts.playersPerStream} players over ${opts.proxies} proxies and ${opts.managers} engine-managers (${result.runtime} engines), one nats-server; all playing ${(result.startupMs / 1000).toFixed(1)} s after start.`,
  '',
  ...tableHead,
  ...result.scenarios.map(scenarioRow),
  '',
  `Claims over capacity at any audit: ${result.claimsOverCapacity}.`,
  '',
].join('\n');
writeFileSync(path.join(repoRoot, 'bench', 'results', 'scale.md'), md);
console.log(`\n${md}`);
process.exit(result.scenarios.every((s) => s.met) && result.claimsOverCapacity === 0 ? 0 : 1);
