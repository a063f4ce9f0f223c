/**
 * The proxy benchmark (see bench/README.md). Each scenario runs the simulated engine, the system under test
 * and the load client as separate processes on this machine, and compares acefleet with a plain Node
 * fan-out (and iperf3 on loopback) in the same run. Writes bench/results/fanout.{md,json}.
 *
 *   npm run bench                                 # every scenario
 *   npm run bench -- --scenario 200x5             # a subset: 1x1000,1x3000,50x20,200x5,500x2,storm,switch,ceiling
 */
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freePort, repoRoot } from '@acefleet/testkit';
import { verdicts } from './goals.ts';
import { RATE_BPS } from './servers.ts';
import { hlsLoad, type HlsResult } from './hls-load.ts';
import { startBurst, type BurstRow } from './start-burst.ts';
import { channelSwitch, method, shape } from './shapes.ts';
import { startStorm, type StormResult } from './start-storm.ts';
import type { Row } from './summary.ts';

const SHAPES = ['1x1000', '1x3000', '50x20', '200x5', '500x2'];
const ALL = [...SHAPES, 'hls1x500', 'burst', 'storm', 'switch', 'ceiling'];

const { values } = parseArgs({ options: { scenario: { type: 'string', default: ALL.join(',') } } });
const chosen = values.scenario.split(',').filter(Boolean);
const unknown = chosen.filter((s) => !ALL.includes(s));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${ALL.join(', ')})`);

/** iperf3 over loopback with `parallel` streams: the ceiling of what this machine can move. */
async function iperf(parallel: number): Promise<number> {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await sleep(500);
  try {
    const args = ['-c', '127.0.0.1', '-p', String(port), '-P', String(parallel), '-t', '5', '-J'];
    const out = execFileSync('iperf3', args, { encoding: 'utf8' });
    return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
      .bits_per_second;
  } finally {
    server.kill();
  }
}

execFileSync('bash', ['scripts/build-services.sh'], { cwd: repoRoot, stdio: 'inherit' });
const esbuild = ['bench/plain-fanout.ts', '--bundle', '--platform=node', '--format=esm'];
execFileSync('node_modules/.bin/esbuild', [...esbuild, '--outfile=.run/dist/plain-fanout.mjs'], {
  cwd: repoRoot,
  stdio: 'inherit',
});

const rows: Row[] = [];
for (const name of SHAPES.filter((s) => chosen.includes(s))) {
  const [streams, players] = name.split('x').map(Number) as [number, number];
  rows.push(...(await shape(streams, players)));
}
const hls: HlsResult | undefined = chosen.includes('hls1x500')
  ? await hlsLoad(500, method.rampMs, method.windowMs)
  : undefined;
if (hls) console.log(JSON.stringify(hls));
const burst: BurstRow[] | undefined = chosen.includes('burst') ? await startBurst(150) : undefined;
const storm: StormResult | undefined = chosen.includes('storm') ? await startStorm() : undefined;
const switchTimes = chosen.includes('switch') ? await channelSwitch(40) : undefined;
const ceiling = chosen.includes('ceiling') ? await iperf(128) : undefined;

const goals = verdicts(rows, storm);
const ms = (v: number): string => v.toFixed(1);
const md = [
  `Run ${new Date().toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, Node ${process.version}, scenarios ${chosen.join(', ')}. ${RATE_BPS / 1e6} Mbit/s channels from one simulated engine process per run; clients ramped over ${method.rampMs / 1000} s, counted over ${method.windowMs / 1000} s.`,
  '',
  '| scenario | clients at ≥99 % rate | min rate | median rate | server CPU (% of a core) | engine CPU | server RSS | RSS per added client | RSS per stream | first byte during the ramp p50 / p99 | first byte of a late joiner p50 / p99 |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.full} / ${r.clients} | ${r.minMbps} Mbit/s | ${r.medianMbps} Mbit/s | ${r.cpuPercent} % | ${r.engineCpuPercent} % | ${r.rssMiB} MiB | ${r.rssPerClientKiB} KiB | ${r.rssPerStreamMiB} MiB | ${r.firstP50} / ${r.firstP99} ms | ${r.lateP50} / ${r.lateP99} ms |`,
  ),
  '',
  ...(hls
    ? [
        `HLS cut by the proxy, 1 channel × ${hls.players} HLS players (playlist polled about every second, each new segment fetched once, in order; ramped over ${method.rampMs / 1000} s, counted over ${hls.seconds.toFixed(1)} s): ${hls.fetched} segments fetched, ${hls.missed} missed (slid out of the playlist before the player got it, or not answered 200), ${hls.failedPolls} playlist polls failed, ${hls.complete} / ${hls.players} players missed none; proxy CPU ${hls.serverCpuPercent} % of a core, RSS ${hls.serverRssMiB} MiB; the channel's segment cache ${hls.segmentCacheMiB} MiB (7 segments; the simulator plays its 1.5 Mbit/s clip at ${RATE_BPS / 1e6} Mbit/s, 2.67 times real time, so the proxy cuts at HLS_SEGMENT_SECONDS=5 of its timestamps: segments of about 1.9 s of wall time and 0.9 MiB, as a real ${RATE_BPS / 1e6} Mbit/s channel's 2 s segments); engine sessions for the channel: ${hls.engineSessions}.`,
        '',
      ]
    : []),
  ...(burst
    ? [
        "Start burst, measured by curl (`--parallel --parallel-immediate`, 150 new channels × 2 transfers at once, `%{time_starttransfer}`; the proxy with `WAIT_HEAD_MS=10000` so its first byte is media, like the plain fan-out's), with no channel playing and with 150 channels already flowing (one player each):",
        '',
        '| server | channels already flowing | transfers with a first byte | first byte p50 / p99 |',
        '| --- | --- | --- | --- |',
        ...burst.map(
          (b) =>
            `| ${b.server} | ${b.flowing} | ${b.served} / ${b.transfers} | ${b.p50Ms.toFixed(0)} / ${b.p99Ms.toFixed(0)} ms |`,
        ),
        '',
      ]
    : []),
  ...(storm
    ? [
        `Start storm: ${storm.channels} new channels within 5 s through a real engine-manager (process runtime, acquire over NATS): ${storm.served} served, acquire p50 ${ms(storm.acquireP50)} ms, p99 ${ms(storm.acquireP99)} ms (the proxy's histogram, interpolated in its buckets); first byte p50 ${ms(storm.firstP50)} ms, p99 ${ms(storm.firstP99)} ms; the engine alone p50 ${ms(storm.engineP50)} ms, p99 ${ms(storm.engineP99)} ms; the engines' start call to first packet as the proxy saw it during the storm p50 ${ms(storm.engineInStormP50)} ms, p99 ${ms(storm.engineInStormP99)} ms.`,
        '',
      ]
    : []),
  ...(switchTimes
    ? [
        `Channel switch to a stream inside its linger, time to first byte over 40 switches: p50 ${ms(switchTimes.p50)} ms, p99 ${ms(switchTimes.p99)} ms.`,
        '',
      ]
    : []),
  ...(ceiling
    ? [
        `Ceiling: iperf3 -P 128 on loopback moved ${(ceiling / 1e9).toFixed(1)} Gbit/s (≈ ${Math.floor(ceiling / RATE_BPS)} clients at ${RATE_BPS / 1e6} Mbit/s).`,
        '',
      ]
    : []),
  '### Against the goals (issue 11)',
  '',
  '| goal | measured | result |',
  '| --- | --- | --- |',
  ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? 'met' : '**missed**'} |`),
  '',
].join('\n');
const dir = path.join(repoRoot, 'bench', 'results');
writeFileSync(path.join(dir, 'fanout.md'), md);
writeFileSync(
  path.join(dir, 'fanout.json'),
  `${JSON.stringify({ rows, hls, burst, storm, switchTimes, ceiling, goals }, null, 2)}\n`,
);
console.log(`\n${md}`);
process.exit(0);
