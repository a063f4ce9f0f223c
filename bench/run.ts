/**
 * The proxy benchmark (see bench/README.md). Each scenario runs the simulated engine, the system under test
 * and the load client as separate processes on this machine, and compares acefleet with a plain Node
 * fan-out and with iperf3 on loopback in the same run. Writes bench/results/fanout.{md,json}.
 *
 *   npm run bench            # all scenarios (about 6 minutes)
 *   BENCH_SIZES=100,1000 npm run bench
 */
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NatsUsers } from '@acefleet/contracts';
import { freePort, Player, repoRoot, startNatsServer, waitFor } from '@acefleet/testkit';
import { runLoad, startBundle, startTs, waitHttp, type LoadResult, type Proc } from './processes.ts';
import { percentile, summarize, type Row } from './summary.ts';

const RATE_BPS = 4_000_000;
const sizes = (process.env.BENCH_SIZES ?? '100,1000,2000,3000').split(',').map(Number);
const RAMP_MS = 5000;
const WINDOW_MS = 10_000;
const CONTENT = 'be11c4000000000000000000000000000000abcd';

async function startSim(): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const args = ['--http-port', String(port), '--bitrate-bps', String(RATE_BPS), '--burst-seconds', '0'];
  const proc = startTs('tools/ace-sim/src/main.ts', args);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/server/api?api_version=3&method=get_status`);
  return { proc, url };
}

async function startAcefleet(simUrl: string, env: Record<string, string> = {}) {
  const nats = await startNatsServer();
  const port = await freePort();
  const proc = startBundle('edge-proxy', [], {
    ...nats.env(NatsUsers.edgeProxy),
    HTTP_PORT: String(port),
    STATIC_ENGINES: simUrl,
    ACQUIRE_TIMEOUT_MS: '500',
    // One simulated engine and one client address stand for many: lift the per-engine and per-client limits.
    STATIC_ENGINE_CAPACITY: '10000',
    MAX_STREAMS_PER_CLIENT: '10000',
    MAX_PLAYERS: '100000',
    MAX_CONNECTIONS: '100000',
    ...(JSON.parse(process.env.BENCH_PROXY_ENV ?? '{}') as Record<string, string>),
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health`);
  return {
    proc,
    url,
    stop: async () => {
      await proc.stop();
      await nats.destroy();
    },
  };
}

async function startPlain(simUrl: string): Promise<{ proc: Proc; url: string }> {
  const start = await (await fetch(`${simUrl}/ace/getstream?id=${CONTENT}&format=json&pid=bench`)).json();
  const playback = (start as { response: { playback_url: string } }).response.playback_url;
  const port = await freePort();
  const proc = startBundle('plain-fanout', [String(port), playback]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(url, { signal: AbortSignal.timeout(200) }).catch(() => null)) !== null,
    10_000,
  ).catch(() => {});
  return { proc, url };
}

async function fanout(size: number): Promise<Row[]> {
  const rows: Row[] = [];
  console.error(`fan-out to ${size} clients: acefleet`);
  const sim = await startSim();
  try {
    const proxy = await startAcefleet(sim.url);
    const r = await runLoad(proxy.proc.child.pid!, `${proxy.url}/ace/getstream?id=${CONTENT}`, {
      clients: size,
      rampMs: RAMP_MS,
      windowMs: WINDOW_MS,
      lateJoiners: 50,
    });
    await proxy.stop();
    rows.push(summarize(`acefleet, ${size} clients`, r, RATE_BPS));
  } finally {
    await sim.proc.stop();
  }
  if (process.env.BENCH_SKIP_BASELINE === '1') return rows;
  console.error(`fan-out to ${size} clients: plain baseline`);
  const sim2 = await startSim();
  try {
    const plain = await startPlain(sim2.url);
    const r = await runLoad(plain.proc.child.pid!, plain.url, {
      clients: size,
      rampMs: RAMP_MS,
      windowMs: WINDOW_MS,
      lateJoiners: 50,
    });
    await plain.proc.stop();
    rows.push(summarize(`plain fan-out, ${size} clients`, r, RATE_BPS));
  } finally {
    await sim2.proc.stop();
  }
  return rows;
}

async function manyStreams(streams: number, perStream: number): Promise<Row> {
  const sim = await startSim();
  try {
    const proxy = await startAcefleet(sim.url);
    const r: LoadResult = await runLoad(proxy.proc.child.pid!, `${proxy.url}/ace/getstream?id={i}`, {
      clients: streams * perStream,
      rampMs: RAMP_MS,
      windowMs: WINDOW_MS,
      streams,
    });
    await proxy.stop();
    return summarize(`acefleet, ${streams} streams × ${perStream} clients`, r, RATE_BPS);
  } finally {
    await sim.proc.stop();
  }
}

/** Time to first byte when switching to a channel the proxy still lingers on. */
async function channelSwitch(trials: number): Promise<{ p50: number; p99: number }> {
  const sim = await startSim();
  try {
    const proxy = await startAcefleet(sim.url, { LINGER_MS: '30000' });
    const ids = ['c1', 'c2'].map((c) => c.padEnd(40, '0'));
    for (const id of ids) {
      const p = await Player.open(`${proxy.url}/ace/getstream?id=${id}`, 0);
      await waitFor(() => p.bytes > 0, 10_000);
      p.close();
    }
    const times: number[] = [];
    let current: Player | undefined;
    for (let i = 0; i < trials; i++) {
      current?.close();
      const next = await Player.open(`${proxy.url}/ace/getstream?id=${ids[i % 2]!}`, 0);
      await waitFor(() => next.bytes > 0, 5000, 1);
      times.push(next.timeToFirstByteMs!);
      current = next;
      await sleep(100);
    }
    current?.close();
    await proxy.stop();
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    await sim.proc.stop();
  }
}

/** iperf3 over loopback with `parallel` streams: the ceiling of what this machine can move. */
async function iperf(parallel: number): Promise<number> {
  const port = await freePort();
  const server = spawn('iperf3', ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  await sleep(500);
  try {
    const out = execFileSync(
      'iperf3',
      ['-c', '127.0.0.1', '-p', String(port), '-P', String(parallel), '-t', '5', '-J'],
      {
        encoding: 'utf8',
      },
    );
    return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received
      .bits_per_second;
  } finally {
    server.kill();
  }
}

execFileSync('bash', ['scripts/build-services.sh'], { cwd: repoRoot, stdio: 'inherit' });
execFileSync(
  'node_modules/.bin/esbuild',
  [
    'bench/plain-fanout.ts',
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--outfile=.run/dist/plain-fanout.mjs',
  ],
  { cwd: repoRoot, stdio: 'inherit' },
);
const rows: Row[] = [];
for (const size of sizes) {
  rows.push(...(await fanout(size)));
  console.log(
    rows
      .slice(-2)
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
}
if (process.env.BENCH_SKIP_MANY !== '1') rows.push(await manyStreams(50, 20));
console.log(JSON.stringify(rows.at(-1)));
const switchTimes = await channelSwitch(40);
const ceiling = await iperf(128);

const md = [
  `Run ${new Date().toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, Node ${process.version}. One ${RATE_BPS / 1e6} Mbit/s stream from the simulated engine; clients ramped over ${RAMP_MS / 1000} s, counted over ${WINDOW_MS / 1000} s.`,
  '',
  '| scenario | clients at ≥99 % rate | min rate | median rate | server CPU (% of a core) | server RSS | RSS per added client | first byte of a late joiner p50 / p99 |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.full} / ${r.clients} | ${r.minMbps} Mbit/s | ${r.medianMbps} Mbit/s | ${r.cpuPercent} % | ${r.rssMiB} MiB | ${r.rssPerClientKiB} KiB | ${r.lateP50} / ${r.lateP99} ms |`,
  ),
  '',
  `Channel switch to a stream inside its linger, time to first byte over ${40} switches: p50 ${switchTimes.p50.toFixed(1)} ms, p99 ${switchTimes.p99.toFixed(1)} ms.`,
  '',
  `Ceiling: iperf3 -P 128 on loopback moved ${(ceiling / 1e9).toFixed(1)} Gbit/s (≈ ${Math.floor(ceiling / RATE_BPS)} clients at ${RATE_BPS / 1e6} Mbit/s).`,
  '',
].join('\n');
const dir = path.join(repoRoot, 'bench', 'results');
writeFileSync(path.join(dir, 'fanout.md'), md);
writeFileSync(path.join(dir, 'fanout.json'), `${JSON.stringify({ rows, switchTimes, ceiling }, null, 2)}\n`);
console.log(`\n${md}`);
process.exit(0);
