/**
 * The scale run (issue 12): S streams × P players over two proxies, two engine-managers on hosts of their own
 * (a second dockerd when one can run here) plus a standby, on a 3-node NATS cluster; one part killed at a
 * time. Writes bench/results/scale.md.
 *
 *   npm run test:scale
 *   SCALE_STREAMS=4 SCALE_PLAYERS=2 SCALE_FAULTS=NATS npm run test:scale
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@acefleet/testkit';
import { runScale, type ScaleOptions } from './scale/campaign.ts';
import { scaleReport } from './scale/report.ts';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const opts: ScaleOptions = {
  streams: num('SCALE_STREAMS', 20),
  playersPerStream: num('SCALE_PLAYERS', 5),
  proxies: 2,
  managers: 2,
  natsNodes: 3,
  leaseTtlMs: 10_000,
  pauseMs: num('SCALE_PAUSE_MS', 10_000),
  observeMs: 20_000,
  settleTimeoutMs: 60_000,
  auditTimeoutMs: 45_000,
  only: process.env.SCALE_FAULTS?.split(',').filter(Boolean),
};
const startedAt = new Date();
const result = await runScale(opts, (line) => console.log(line));
const minutes = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1);
const header = `Run ${startedAt.toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (shared with other work), Node ${process.version}, ${minutes} min.`;
const md = scaleReport(opts, result, header);
writeFileSync(path.join(repoRoot, 'bench', 'results', 'scale.md'), md);
console.log(`\n${md}`);
const goals = result.scenarios.every((s) => s.met) && result.capacity.versionsOverCapacity === 0;
process.exit(goals && result.auditOverCapacity === 0 ? 0 : 1);
