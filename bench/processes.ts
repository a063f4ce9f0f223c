import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { repoRoot, spawnNode, waitFor, type NodeProcess } from '@acefleet/testkit';
import { serviceRuntime } from '../scripts/lib/service-runtime.ts';

export type Proc = NodeProcess;

/** Start a TypeScript entry as its own process (so its CPU and memory can be read from /proc). */
export function startTs(entry: string, args: string[], env: Record<string, string> = {}): Proc {
  return spawnNode(['--import', 'tsx', entry, ...args], { LOG_LEVEL: 'warn', ...env });
}

/** Start a bundled service from .run/dist (as `npm start` runs them). */
export function startBundle(name: string, args: string[], env: Record<string, string> = {}): Proc {
  // As `npm start` runs it; BENCH_NODE_FLAGS replaces the node flags for experiments.
  const runtime = serviceRuntime(name);
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? runtime.nodeFlags;
  return spawnNode([...flags, `.run/dist/${name}.mjs`, ...args], {
    LOG_LEVEL: 'warn',
    ...runtime.env,
    ...env,
  });
}

export async function waitHttp(url: string): Promise<void> {
  await waitFor(async () => (await fetch(url)).status < 500, 30_000);
}

const TICKS = 100; // USER_HZ

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

export interface LoadResult {
  clients: number;
  seconds: number;
  rates: number[];
  /** Each load client's time from connect to its first byte (-1: none). */
  firstByteMs: number[];
  lateFirstBytes: number[];
  closed: number;
  serverCpu: number;
  /** CPU of the simulated engine feeding the server over the same window (share of one core); 0 when not measured. */
  engineCpu: number;
  serverRssStart: number;
  serverRssEnd: number;
}

/** Run the load client against `url` while measuring the server process `serverPid` over the window. */
export async function runLoad(
  serverPid: number,
  url: string,
  opts: {
    clients: number;
    rampMs: number;
    windowMs: number;
    streams?: number;
    lateJoiners?: number;
    /** The engine process, measured over the same window. */
    enginePid?: number;
    /** Told half-way through the counting window (to sample the server's own view of the load). */
    onWindow?: () => Promise<void>;
  },
): Promise<LoadResult> {
  const rssStart = rssBytes(serverPid);
  // The load stays connected while the late joiners (50 ms apart, from their own process) are timed.
  const holdMs = (opts.lateJoiners ?? 0) * 100 + 5000;
  const args = [url, opts.clients, opts.rampMs, opts.windowMs, opts.streams ?? 1, holdMs].map(String);
  const client = startTs('bench/load-client.ts', args);
  const engineCpuNow = (): number => (opts.enginePid === undefined ? 0 : cpuSeconds(opts.enginePid));
  let cpuAtWindow = 0;
  let engineCpuAtWindow = 0;
  let windowAt = 0;
  let cpu = 0;
  let engineCpu = 0;
  let rssEnd = 0;
  let result:
    Omit<LoadResult, 'serverCpu' | 'serverRssStart' | 'serverRssEnd' | 'lateFirstBytes'> | undefined;
  let lateFirstBytes: number[] = [];
  for await (const line of createInterface({ input: client.child.stdout! })) {
    if (line === 'window') {
      cpuAtWindow = cpuSeconds(serverPid);
      engineCpuAtWindow = engineCpuNow();
      windowAt = performance.now();
      setTimeout(() => {
        const seconds = (performance.now() - windowAt) / 1000;
        cpu = (cpuSeconds(serverPid) - cpuAtWindow) / seconds;
        engineCpu = (engineCpuNow() - engineCpuAtWindow) / seconds;
        rssEnd = rssBytes(serverPid);
      }, opts.windowMs - 50);
      const { onWindow } = opts;
      if (onWindow) setTimeout(() => void onWindow().catch(() => {}), opts.windowMs / 2);
    } else if (line.startsWith('{')) {
      result = JSON.parse(line) as typeof result;
      lateFirstBytes = await lateJoiners(url.replace('{i}', '0'.repeat(40)), opts.lateJoiners ?? 0);
    }
  }
  if (!result) throw new Error(`load client printed no result:\n${client.output().slice(-4000)}`);
  return {
    ...result,
    lateFirstBytes,
    serverCpu: cpu,
    engineCpu,
    serverRssStart: rssStart,
    serverRssEnd: rssEnd,
  };
}

/** Time to first byte of `count` players joining one after another, timed by bench/late-joiner.ts. */
async function lateJoiners(url: string, count: number): Promise<number[]> {
  if (count === 0) return [];
  const out = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/late-joiner.ts', url, String(count)],
      { cwd: repoRoot },
      (_e, stdout) => resolve(stdout),
    );
  });
  return (JSON.parse(out || '[]') as number[]).filter((v) => v >= 0);
}
