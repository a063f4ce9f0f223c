import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NatsUsers } from '@acefleet/contracts';
import { freePort, startNatsServer, waitFor } from '@acefleet/testkit';
import { startBundle } from './processes.ts';
import { RATE_BPS, startAcefleet, startSim } from './servers.ts';
import { percentile } from './summary.ts';

export interface StormResult {
  channels: number;
  served: number;
  /** Read off the proxy's acquire histogram (interpolated in its buckets), in ms. */
  acquireP50: number;
  acquireP99: number;
  firstP50: number;
  firstP99: number;
  /** The engine's start call to its first packet as the proxy saw it during the storm (its histogram), in ms. */
  engineInStormP50: number;
  engineInStormP99: number;
  /** The engine's own time from the start request to its first media byte, without the proxy. */
  engineP50: number;
  engineP99: number;
}

/** Time from a GET to its first body byte (-1: none within 20 s); the response is then dropped. */
function firstByte(url: string): Promise<number> {
  const opened = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.once('data', () => {
        resolve(performance.now() - opened);
        req.destroy();
      });
    });
    req.setTimeout(20_000, () => req.destroy());
    req.on('error', () => resolve(-1));
    req.on('close', () => resolve(-1));
  });
}

/** The engine alone: start a session over its HTTP API and read the first byte of its media. */
async function engineStart(simUrl: string, id: string): Promise<number> {
  const t0 = performance.now();
  const answer = (await (await fetch(`${simUrl}/ace/getstream?id=${id}&format=json&pid=bench`)).json()) as {
    response: { playback_url: string };
  };
  const ms = await firstByte(answer.response.playback_url);
  return ms < 0 ? -1 : performance.now() - t0;
}

/**
 * Quantile `q` of a prometheus histogram's observations (of the series whose labels hold `labels`), in ms,
 * interpolated linearly inside the bucket that holds it (as PromQL's histogram_quantile does): within a few ms
 * where the buckets are fine.
 */
function histogramQuantile(metrics: string, name: string, q: number, labels = ''): number {
  const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))]
    .filter((m) => m[1]!.includes(labels))
    .map((m) => ({
      le: Number(/le="([^"]+)"/.exec(m[1]!)![1]!.replace('+Inf', 'Infinity')),
      count: Number(m[2]),
    }));
  const rank = q * (buckets.at(-1)?.count ?? 0);
  const i = buckets.findIndex((b) => b.count >= rank);
  if (i < 0) return NaN;
  const lower = i === 0 ? { le: 0, count: 0 } : buckets[i - 1]!;
  const upper = buckets[i]!;
  if (upper.le === Infinity) return lower.le * 1000;
  const share = upper.count === lower.count ? 1 : (rank - lower.count) / (upper.count - lower.count);
  return (lower.le + (upper.le - lower.le) * share) * 1000;
}

/**
 * 200 new channels within 5 s through a proxy whose acquires go over NATS to a real engine-manager running
 * engines as local processes (ace-sim), so every start pays the claim round trip.
 */
export async function startStorm(channels = 200, withinMs = 5000): Promise<StormResult> {
  const nats = await startNatsServer();
  const state = mkdtempSync(path.join(os.tmpdir(), 'acefleet-storm-'));
  const range = 20_000 + Math.floor(Math.random() * 5000);
  const manager = startBundle('engine-manager', [], {
    ...nats.env(NatsUsers.engineManager),
    HTTP_PORT: String(await freePort()),
    HOST_ID: 'bench',
    FLEET_ID: 'bench',
    STATE_DIR: state,
    ENGINE_RUNTIME: 'process',
    ENGINE_PROCESS_COMMAND: `node --import tsx tools/ace-sim/src/main.ts --bitrate-bps ${RATE_BPS} --burst-seconds 0`,
    MIN_REPLICAS: '2',
    MAX_REPLICAS: '2',
    MAX_STREAMS_PER_ENGINE: String(channels),
    HTTP_PORT_RANGE_START: String(range),
    HTTP_PORT_RANGE_END: String(range + 20),
    P2P_PORT_RANGE_START: String(range + 100),
    REMOVE_ENGINES_ON_EXIT: 'true',
  });
  const proxy = await startAcefleet('', {}, nats.env(NatsUsers.edgeProxy));
  const sim = await startSim();
  try {
    // Warm: both engines up and claimable before the storm starts.
    await waitFor(
      async () => (await firstByte(`${proxy.url}/ace/getstream?id=${'a'.repeat(40)}`)) > 0,
      60_000,
    );
    const engineTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const ms = await engineStart(sim.url, (i + 1).toString(16).padStart(40, 'e'));
      if (ms >= 0) engineTimes.push(ms);
    }
    const starts: Promise<number>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < channels; i++) {
      starts.push(firstByte(`${proxy.url}/ace/getstream?id=${(i + 1).toString(16).padStart(40, 'd')}`));
      const wait = t0 + ((i + 1) * withinMs) / channels - performance.now();
      if (wait > 1) await sleep(wait);
    }
    const times = (await Promise.all(starts)).filter((v) => v >= 0);
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    const acquire = 'acefleet_proxy_engine_acquire_seconds';
    const engine = 'acefleet_proxy_engine_start_seconds';
    return {
      channels,
      served: times.length,
      acquireP50: histogramQuantile(metrics, acquire, 0.5, 'result="ok"'),
      acquireP99: histogramQuantile(metrics, acquire, 0.99, 'result="ok"'),
      engineInStormP50: histogramQuantile(metrics, engine, 0.5),
      engineInStormP99: histogramQuantile(metrics, engine, 0.99),
      firstP50: percentile(times, 0.5),
      firstP99: percentile(times, 0.99),
      engineP50: percentile(engineTimes, 0.5),
      engineP99: percentile(engineTimes, 0.99),
    };
  } finally {
    await sim.proc.stop();
    await proxy.stop();
    await manager.stop();
    await nats.destroy();
    rmSync(state, { recursive: true, force: true });
  }
}
