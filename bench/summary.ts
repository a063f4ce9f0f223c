import type { LoadResult } from './processes.ts';

export interface Row {
  scenario: string;
  /** Streams (channels) the clients were spread over. */
  streams: number;
  clients: number;
  full: number;
  minMbps: string;
  medianMbps: string;
  cpuPercent: string;
  /** The simulated engine's CPU over the same window: what feeding the server costs the bench machine. */
  engineCpuPercent: string;
  rssMiB: string;
  rssPerClientKiB: string;
  /** RSS added by the load, divided by the streams: what a channel costs with its players. */
  rssPerStreamMiB: string;
  /** Time to first byte of the load's own clients (all joining during the ramp). */
  firstP50: string;
  firstP99: string;
  lateP50: string;
  lateP99: string;
  closed: number;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** One table row from a load run: how many clients got the full rate, and what the server paid for it. */
export function summarize(scenario: string, r: LoadResult, rateBps: number, streams = 1): Row {
  const mbps = (v: number): string => (v / 1e6).toFixed(2);
  const late = r.lateFirstBytes;
  const first = r.firstByteMs.filter((v) => v >= 0);
  const added = r.serverRssEnd - r.serverRssStart;
  return {
    scenario,
    streams,
    clients: r.clients,
    full: r.rates.filter((v) => v >= rateBps * 0.99).length,
    minMbps: mbps(Math.min(...r.rates)),
    medianMbps: mbps(percentile(r.rates, 0.5)),
    cpuPercent: (r.serverCpu * 100).toFixed(0),
    engineCpuPercent: (r.engineCpu * 100).toFixed(0),
    rssMiB: (r.serverRssEnd / 2 ** 20).toFixed(0),
    rssPerClientKiB: (added / r.clients / 1024).toFixed(1),
    rssPerStreamMiB: (added / streams / 2 ** 20).toFixed(2),
    firstP50: first.length ? percentile(first, 0.5).toFixed(1) : '–',
    firstP99: first.length ? percentile(first, 0.99).toFixed(1) : '–',
    lateP50: late.length ? percentile(late, 0.5).toFixed(1) : '–',
    lateP99: late.length ? percentile(late, 0.99).toFixed(1) : '–',
    closed: r.closed,
  };
}
