import type { LoadResult } from './processes.ts';

export interface Row {
  scenario: string;
  clients: number;
  full: number;
  minMbps: string;
  medianMbps: string;
  cpuPercent: string;
  rssMiB: string;
  rssPerClientKiB: string;
  lateP50: string;
  lateP99: string;
  closed: number;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** One table row from a load run: how many clients got the full rate, and what the server paid for it. */
export function summarize(scenario: string, r: LoadResult, rateBps: number): Row {
  const mbps = (v: number): string => (v / 1e6).toFixed(2);
  const late = r.lateFirstBytes;
  return {
    scenario,
    clients: r.clients,
    full: r.rates.filter((v) => v >= rateBps * 0.99).length,
    minMbps: mbps(Math.min(...r.rates)),
    medianMbps: mbps(percentile(r.rates, 0.5)),
    cpuPercent: (r.serverCpu * 100).toFixed(0),
    rssMiB: (r.serverRssEnd / 2 ** 20).toFixed(0),
    rssPerClientKiB: ((r.serverRssEnd - r.serverRssStart) / r.clients / 1024).toFixed(1),
    lateP50: late.length ? percentile(late, 0.5).toFixed(1) : '–',
    lateP99: late.length ? percentile(late, 0.99).toFixed(1) : '–',
    closed: r.closed,
  };
}
