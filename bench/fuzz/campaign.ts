/**
 * A whole fuzz run against a real stack (nats-server, the four services, engines from the simulated image):
 * warm up, take the RSS baseline, send the cases, then check that nothing crashed, no session is left after
 * the linger and memory came back.
 */
import { proxyUserOf } from '@acefleet/contracts';
import { listEngines, seededRandom, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { rssBytes } from '../processes.ts';
import { generateBusCases } from './bus-cases.ts';
import { runBusCases, type BusTally } from './bus-runner.ts';
import { generateCases } from './cases.ts';
import { runCases, type Tally } from './runner.ts';

export interface CampaignOptions {
  requests: number;
  /** Messages to the NATS bus endpoints (bus-cases.ts), after the HTTP requests. */
  busCases: number;
  seed: number;
  /** One case in this many uses a valid content id and really plays. */
  playEvery: number;
  concurrency: number;
  deadlineMs: number;
  /** How long to wait for sessions to end and for RSS to come back. */
  settleTimeoutMs: number;
  /** RSS counts as back when it is at most this fraction above the baseline (0.1 in the full run). */
  rssTolerance: number;
}

export interface Memory {
  startMiB: number;
  baselineMiB: number;
  maxMiB: number;
  afterMiB: number;
}

export interface CampaignResult {
  tally: Tally;
  bus: BusTally;
  /** The engines (ids and states) and the proxy's streams, the same before and after the bus cases. */
  fleetUnchanged: boolean;
  /** engine-manager and health-monitor alive after the run (the proxy and stats are in `alive`). */
  busServicesAlive: boolean;
  warmup: Tally;
  alive: Record<'proxy' | 'stats', boolean>;
  sessionsLeft: { proxyStreams: number; proxyHls: number; statusStreams: number; statsActive: number };
  memory: Record<'proxy' | 'stats', Memory>;
  /** Whether both RSS figures came within `rssTolerance` of the baseline before the settle timeout. */
  memoryBack: boolean;
  settleMs: number;
  runtime: Stack['runtime'];
}

const LINGER_MS = 2000;
const VALID_IDS = ['f0220000000000000000000000000000000000a1', 'f0220000000000000000000000000000000000b2'];
const MiB = (n: number) => Math.round((n / 1048576) * 10) / 10;

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as T;
}

async function sessionsLeft(stack: Stack): Promise<CampaignResult['sessionsLeft']> {
  const proxy = stack.services.proxy!.url;
  const api = await json<{ streams: unknown[]; hls: unknown[] }>(`${proxy}/api/streams`);
  const status = await json<{ streams: number }>(`${proxy}/ace/status`);
  const stats = await json<{ streams: unknown[] }>(`${stack.services.stats!.url}/api/streams`);
  return {
    proxyStreams: api.streams.length,
    proxyHls: api.hls.length,
    statusStreams: status.streams,
    statsActive: stats.streams.length,
  };
}

async function alive(stack: Stack, key: 'proxy' | 'stats' | 'manager' | 'monitor'): Promise<boolean> {
  const svc = stack.services[key]!;
  if (svc.child.exitCode !== null) return false;
  const res = await fetch(`${svc.url}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  return res?.status === 200;
}

export async function runCampaign(o: CampaignOptions, log: (line: string) => void): Promise<CampaignResult> {
  const stack = await startStack({
    env: {
      proxy: { LINGER_MS: String(LINGER_MS), HLS_IDLE_MS: String(Math.max(1000, LINGER_MS)) },
      manager: { MIN_REPLICAS: '1' },
    },
  });
  try {
    const pids = { proxy: stack.services.proxy!.child.pid!, stats: stack.services.stats!.child.pid! };
    const rss = () => ({ proxy: rssBytes(pids.proxy), stats: rssBytes(pids.stats) });
    const start = rss();
    const ports = {
      proxy: Number(new URL(stack.services.proxy!.url).port),
      stats: Number(new URL(stack.services.stats!.url).port),
    };
    const send = { ports, concurrency: o.concurrency, answerTimeoutMs: 5000, bodyGraceMs: 1000 };
    const warmCount = Math.min(400, Math.ceil(o.requests / 5));
    log(`warm-up: ${warmCount} cases (one play)`);
    const warmup = await runCases(generateCases(warmCount, o.seed + 1, { validIds: VALID_IDS }, warmCount), {
      ...send,
      deadlineMs: o.deadlineMs,
    });
    await waitFor(
      async () => Object.values(await sessionsLeft(stack)).every((n) => n === 0),
      o.settleTimeoutMs,
    );
    const baseline = rss();
    const max = { ...baseline };
    const sampler = setInterval(() => {
      const now = rss();
      max.proxy = Math.max(max.proxy, now.proxy);
      max.stats = Math.max(max.stats, now.stats);
    }, 200);
    log(`fuzz: ${o.requests} cases, concurrency ${o.concurrency}`);
    const tally = await runCases(generateCases(o.requests, o.seed, { validIds: VALID_IDS }, o.playEvery), {
      ...send,
      deadlineMs: o.deadlineMs,
    }).finally(() => clearInterval(sampler));
    log(`sent ${tally.requests} requests in ${tally.durationMs} ms`);

    const settleStart = Date.now();
    const isAlive = { proxy: await alive(stack, 'proxy'), stats: await alive(stack, 'stats') };
    let left = await sessionsLeft(stack).catch(() => undefined);
    await waitFor(async () => {
      left = await sessionsLeft(stack);
      return Object.values(left).every((n) => n === 0);
    }, LINGER_MS + o.settleTimeoutMs).catch(() => undefined);
    // The bus cases run once the HTTP run's sessions are gone: then nothing else changes the fleet.
    const fleet = async (): Promise<string> =>
      JSON.stringify({
        engines: (await listEngines(stack.nats)).map((e) => [e.id, e.state]).sort(),
        streams: (await json<{ streams: { streamId: string }[] }>(`${stack.services.proxy!.url}/api/streams`))
          .streams.length,
      });
    const fleetBefore = await fleet();
    log(`bus: ${o.busCases} messages to the NATS endpoints`);
    const bus = await runBusCases(
      generateBusCases(o.busCases, seededRandom(o.seed + 7), {
        proxyUser: proxyUserOf(0),
        proxyId: stack.services.proxy!.instanceId,
        otherProxyUser: proxyUserOf(1),
        hostId: stack.hostId,
      }),
      { connect: (user) => stack.nats.connect(user), concurrency: 8, timeoutMs: 5000 },
    );
    const fleetAfter = await fleet();
    const fleetUnchanged = fleetAfter === fleetBefore;
    if (!fleetUnchanged) log(`bus: the fleet changed from ${fleetBefore} to ${fleetAfter}`);
    const busServicesAlive = (await alive(stack, 'manager')) && (await alive(stack, 'monitor'));
    log(`bus: ${bus.cases} messages in ${bus.durationMs} ms`);
    const within = (now: ReturnType<typeof rss>) =>
      now.proxy <= baseline.proxy * (1 + o.rssTolerance) &&
      now.stats <= baseline.stats * (1 + o.rssTolerance);
    const memoryBack = await waitFor(() => within(rss()), o.settleTimeoutMs, 500).then(
      () => true,
      () => false,
    );
    const after = rss();
    const memory = (k: 'proxy' | 'stats'): Memory => ({
      startMiB: MiB(start[k]),
      baselineMiB: MiB(baseline[k]),
      maxMiB: MiB(max[k]),
      afterMiB: MiB(after[k]),
    });
    return {
      tally,
      bus,
      fleetUnchanged,
      busServicesAlive,
      warmup,
      alive: isAlive,
      sessionsLeft: left ?? { proxyStreams: -1, proxyHls: -1, statusStreams: -1, statsActive: -1 },
      memory: { proxy: memory('proxy'), stats: memory('stats') },
      memoryBack,
      settleMs: Date.now() - settleStart,
      runtime: stack.runtime,
    };
  } finally {
    await stack.stop();
  }
}
