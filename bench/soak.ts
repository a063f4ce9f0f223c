/**
 * `npm run soak`: an accelerated month unattended (issue 21). `npm start` runs with every interval scaled
 * down (a month of 30 days in SOAK_MINUTES); players join and leave 50 channels; engines die and wedge; NATS
 * and the manager are killed and come back. Each process's memory, fds and event-loop delay, and the disk of
 * the logs, JetStream, SQLite and the engines are sampled; bench/results/soak.md gets the plots and the
 * verdict: flat memory and fds, disk within its bounds, no ghost session and no leaked claim at the end.
 *
 *   npm run soak                      # 30 min
 *   SOAK_MINUTES=3 npm run soak       # a short look (SOAK_OUT=/tmp/soak to keep bench/results as it is)
 *   SOAK_PLAYERS=24 npm run soak      # players at once (16)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ListReply, ProxyStreamsReply } from '@acefleet/contracts';
import { repoRoot, waitFor } from '@acefleet/testkit';
import { soakReport, type EndAudit, type SoakRun } from './soak/report.ts';
import { sample, type Sample } from './soak/sampler.ts';
import { engineFault, kill9, soakEnv, startSoakStack, type SoakStack } from './soak/stack.ts';
import { ViewerChurn } from './soak/viewers.ts';

const num = (name: string, dflt: number): number => {
  const value = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const minutes = num('SOAK_MINUTES', 30);
const players = num('SOAK_PLAYERS', 16);
const sampleMs = num('SOAK_SAMPLE_MS', Math.min(15_000, (minutes * 60_000) / 40));
const outDir = process.env.SOAK_OUT
  ? path.resolve(process.env.SOAK_OUT)
  : path.join(repoRoot, 'bench/results');
const dayMs = (minutes * 60_000) / 30;
const say = (line: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** Once everyone left and the linger passed: what the proxy, stats and the manager still hold. */
async function endAudit(stack: SoakStack): Promise<EndAudit> {
  const base = (port: number) => `http://127.0.0.1:${port}`;
  const read = async (): Promise<EndAudit> => {
    const { streams } = await json<ProxyStreamsReply>(`${base(stack.ports.proxy)}/api/streams`);
    const totals = await json<{ activeStreams: number }>(`${base(stack.ports.stats)}/api/totals`);
    const { engines } = await json<ListReply>(`${base(stack.ports.manager)}/api/engines`);
    const claims = engines.reduce((a, e) => a + e.claims.length, 0);
    return {
      proxyStreams: streams.length,
      ghostSessions: Math.max(0, totals.activeStreams - streams.length),
      leakedClaims: Math.max(0, claims - streams.length),
    };
  };
  // Ends and releases travel through NATS (a restart may have just happened): give them time to land.
  return waitFor(
    async () => {
      const a = await read();
      return a.proxyStreams + a.ghostSessions + a.leakedClaims === 0 ? a : false;
    },
    120_000,
    1000,
  ).catch(() => read());
}

/** The faults of a month, in turn: one every `everyMs`; NATS and the manager each about every sixth. */
const faultPlan = [
  'engine kill',
  'engine wedge',
  'nats restart',
  'engine kill',
  'manager restart',
  'engine wedge',
];

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  say(`starting npm start for ${minutes} min (a soak day is ${(dayMs / 1000).toFixed(0)} s)`);
  const stack = await startSoakStack(dayMs, say);
  const t0 = Date.now();
  const churn = new ViewerChurn(`http://127.0.0.1:${stack.ports.proxy}`, {
    channels: 50,
    players,
    stayMs: [20_000, 120_000],
    tickMs: 2000,
  });
  churn.start();
  const samples: Sample[] = [];
  const faults: SoakRun['faults'] = [];
  const endAt = t0 + minutes * 60_000;
  const faultEveryMs = Math.max(60_000, (minutes * 60_000) / 16);
  let nextFault = t0 + faultEveryMs;
  let nextSample = t0;
  let faultIndex = 0;
  while (Date.now() < endAt) {
    if (Date.now() >= nextSample) {
      nextSample += sampleMs;
      const s = await sample(stack, t0, churn.playing).catch((err: unknown) => {
        say(`sample failed: ${String(err)}`);
        return undefined;
      });
      if (s) samples.push(s);
      if (s && samples.length % 8 === 0) {
        const p = s.processes['edge-proxy'];
        say(
          `${(s.t / 60).toFixed(1)} min: ${s.players} players, ${s.engines} engines, proxy ${p?.rssMb.toFixed(0)} MiB, logs ${(s.disk.logsBytes / 1e6).toFixed(2)} MB, JetStream ${(s.disk.jetstreamBytes / 1e6).toFixed(2)} MB, SQLite ${(s.disk.sqliteBytes / 1e6).toFixed(2)} MB`,
        );
      }
    }
    if (Date.now() >= nextFault) {
      nextFault += faultEveryMs;
      const kind = faultPlan[faultIndex++ % faultPlan.length]!;
      let what = kind;
      if (kind === 'nats restart') what += kill9(stack, 'nats-server') ? '' : ' (not running)';
      else if (kind === 'manager restart') what += kill9(stack, 'engine-manager') ? '' : ' (not running)';
      else
        what += ` ${(await engineFault(stack, kind === 'engine kill' ? 'kill' : 'pause', 20_000)) ?? '(none)'}`;
      faults.push({ at: (Date.now() - t0) / 1000, what });
      say(`fault: ${what}`);
    }
    await sleep(500);
  }
  say('players leave; auditing');
  churn.stop();
  const audit = await endAudit(stack);
  samples.push(await sample(stack, t0, 0));
  await stack.stop();
  const env = soakEnv(dayMs);
  const run: SoakRun = {
    startedAt,
    minutes,
    dayMs,
    samples,
    faults,
    viewers: churn.stats,
    audit,
    bounds: {
      logFileBytes: Number(env.LOG_FILE_MAX_BYTES),
      logFiles: Number(env.LOG_FILES),
      jetstreamBytes:
        1.1 * (Number(env.EVENTS_MAX_BYTES) + Number(env.SAMPLES_MAX_BYTES) + 4 * Number(env.KV_MAX_BYTES)),
      sqliteBytes: 64 * 1024 * 1024,
      engineDiskBytes: 1024 * 1024 * 1024 * Math.max(1, ...samples.map((s) => s.engines)),
    },
    machine: `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (the soak's own stack included)`,
  };
  const { markdown, charts, ok } = soakReport(run);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'soak.md'), markdown);
  for (const [file, svg] of Object.entries(charts)) writeFileSync(path.join(outDir, file), svg);
  writeFileSync(path.join(outDir, 'soak.json'), `${JSON.stringify({ ...run, samples }, null, 1)}\n`);
  rmSync(stack.stateDir, { recursive: true, force: true });
  say(`${ok ? 'PASS' : 'FAIL'}: ${path.relative(repoRoot, path.join(outDir, 'soak.md'))}`);
  process.exitCode = ok ? 0 : 1;
}

await main();
