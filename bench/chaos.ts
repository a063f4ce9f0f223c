/**
 * The chaos run (see bench/results/chaos.md): S streams × P players through the real stack, every fault in
 * turn, in a stack without hot standby and in one with (every channel keeps one). Writes bench/results/chaos.md.
 *
 *   npm run chaos                                  # 30 × 5, every fault but dockerd, without and with standby
 *   CHAOS_STANDBY=off CHAOS_STREAMS=50 npm run chaos  # 50 × 5 without standby only (a stack holds 20 engines:
 *                                                  # 50 streams with standby need 29)
 *   CHAOS_DOCKERD=1 npm run chaos                  # also pauses dockerd for CHAOS_PAUSE_MS (a shared machine!)
 *   CHAOS_STREAMS=6 CHAOS_PLAYERS=2 CHAOS_PAUSE_MS=10000 npm run chaos
 *   CHAOS_FAULTS=stall,'bad body' npm run chaos    # only faults whose name contains one of these
 *   CHAOS_LOG_DIR=/tmp/chaos-logs npm run chaos    # keep every stack process's whole output there
 *   CHAOS_ENGINE_DELAY_MS=4000 npm run chaos       # engines send their first bytes 4 s late, as real ones warm up
 *   CHAOS_STANDBY=on npm run chaos                 # only the run with hot standby (off: only without; default both)
 *   CHAOS_DECODERS=3 CHAOS_DECODER_LEVEL=warning   # decoding players (ffmpeg), and what they print (default warning)
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@acefleet/testkit';
import { runChaos, type ChaosOptions, type ChaosResult } from './chaos/campaign.ts';
import { allFaults } from './chaos/faults.ts';
import { chaosReport } from './chaos/report.ts';

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const withDockerd = process.env.CHAOS_DOCKERD === '1';
/** Substrings of fault names to run (comma separated); unset: every fault. */
const only = (process.env.CHAOS_FAULTS ?? '')
  .split(',')
  .map((f) => f.trim().toLowerCase())
  .filter(Boolean);
const picked = (name: string): boolean =>
  only.length === 0 || only.some((f) => name.toLowerCase().includes(f));
const opts: ChaosOptions = {
  streams: num('CHAOS_STREAMS', 30),
  playersPerStream: num('CHAOS_PLAYERS', 5),
  faults: allFaults.filter((f) => (withDockerd || !f.name.startsWith('dockerd')) && picked(f.name)),
  pauseMs: num('CHAOS_PAUSE_MS', 60_000),
  observeMs: 20_000,
  settleTimeoutMs: 60_000,
  auditTimeoutMs: 40_000,
  ...(process.env.CHAOS_LOG_DIR ? { logDir: process.env.CHAOS_LOG_DIR } : {}),
  engineDelayMs: num('CHAOS_ENGINE_DELAY_MS', 0),
  decoders: num('CHAOS_DECODERS', 3),
  decoderLevel: process.env.CHAOS_DECODER_LEVEL === 'error' ? 'error' : 'warning',
};
const standby = process.env.CHAOS_STANDBY ?? 'both';
const variants = [...(standby === 'on' ? [] : [false]), ...(standby === 'off' ? [] : [true])];
const startedAt = new Date();
const loadBefore = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' })
  .split(' ')
  .slice(0, 3)
  .join(' ');
const results: ChaosResult[] = [];
/** A run that could not finish (its stack never played): told in the report, the other run kept. */
const failures: string[] = [];
for (const withStandby of variants) {
  console.log(`=== ${withStandby ? 'with' : 'without'} standby`);
  try {
    results.push(await runChaos({ ...opts, standby: withStandby }, (line) => console.log(line)));
  } catch (err) {
    console.error(err);
    failures.push(`The run ${withStandby ? 'with' : 'without'} standby failed: ${String(err)}.`);
  }
}
const loadAfter = execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' })
  .split(' ')
  .slice(0, 3)
  .join(' ');
const header = `Run ${startedAt.toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (shared with other work), Node ${process.version}, ${((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)} min.${withDockerd ? '' : ' dockerd pause not run (CHAOS_DOCKERD unset).'} Load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after.${failures.map((f) => ` ${f}`).join('')}`;
const md = chaosReport(opts, results, header);
writeFileSync(path.join(repoRoot, 'bench', 'results', 'chaos.md'), md);
console.log(`\n${md}`);
process.exit(failures.length === 0 && results.every((r) => r.scenarios.every((s) => s.met)) ? 0 : 1);
