import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { metric, type Stack, type StackNats } from '@acefleet/testkit';

/** What the proxy process costs while every player plays and nothing fails. */
export interface ProxyUsage {
  /** CPU time over wall time in the window, in % of one core. */
  cpuPercent: number;
  /** Resident memory at the end of the window. */
  rssMiB: number;
  windowMs: number;
}

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every common build). */
const TICKS_PER_S = 100;

async function cpuTicks(pid: number): Promise<number> {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** The proxy's CPU and memory over `windowMs`, read from /proc of its pid. */
export async function proxyUsage(stack: Stack<StackNats>, windowMs: number): Promise<ProxyUsage> {
  const pid = stack.instances.proxy[0]!.child.pid!;
  const ticks0 = await cpuTicks(pid);
  const t0 = performance.now();
  await sleep(windowMs);
  const ticks = (await cpuTicks(pid)) - ticks0;
  const wallMs = performance.now() - t0;
  return {
    cpuPercent: Math.round((ticks / TICKS_PER_S / (wallMs / 1000)) * 100),
    rssMiB: Math.round((await rssKiB(pid)) / 1024),
    windowMs: Math.round(wallMs),
  };
}

/** Hot standby sessions the proxy holds open (`acefleet_proxy_standby_sessions`). */
export async function standbySessions(stack: Stack<StackNats>): Promise<number> {
  const res = await fetch(`${stack.proxyUrl()}/metrics`, { signal: AbortSignal.timeout(5000) });
  return metric(await res.text(), 'acefleet_proxy_standby_sessions');
}
