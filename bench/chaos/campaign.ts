import { createHash } from 'node:crypto';
import { Subjects, type ListReply } from '@acefleet/contracts';
import { startStack, waitFor, type Stack, type StackNats } from '@acefleet/testkit';
import { audit, type Audit } from './audit.ts';
import type { Fault, FaultOutcome } from './faults.ts';
import { ServiceLogs } from './service-logs.ts';
import { changesSince, type Changes } from './moves.ts';
import { Audience, DROP_SILENCE_MS, type WindowReport } from './viewers.ts';

export interface ChaosOptions<S extends Stack<StackNats> = Stack> {
  streams: number;
  playersPerStream: number;
  faults: Fault<S>[];
  /** How long SIGSTOPs (and dockerd's pause) last. */
  pauseMs: number;
  /** Players are watched at least this long after a fault began. */
  observeMs: number;
  /** After that, at most this long for every player to receive again. */
  settleTimeoutMs: number;
  /** Then at most this long for events and claims to agree (claims of a killed proxy expire with CLAIM_TTL_MS). */
  auditTimeoutMs: number;
  /** Where to keep every stack process's whole output (bench/chaos/service-logs.ts); unset: nowhere. */
  logDir?: string;
}

export interface ScenarioResult
  extends Partial<WindowReport>, Partial<Omit<Audit, 'detail'>>, Partial<Changes> {
  name: string;
  onlyCopy: boolean;
  /** Streams on the engines the fault hit (engine faults), each of which must move when `mustMove`. */
  hitStreams?: number;
  mustMove: boolean;
  players: number;
  detail: string;
  /** Why it did not run, or what went wrong running it. */
  skipped?: string;
  error?: string;
  met: boolean;
}

export interface ChaosResult {
  runtime: Stack['runtime'];
  engines: number;
  startupMs: number;
  scenarios: ScenarioResult[];
}

/** Four streams per engine: 50 streams fit on 13 engines, with spares for the moves a fault forces. */
export const STREAMS_PER_ENGINE = 4;
export const CLAIM_TTL_MS = 30_000;

/** The settings the chaos stack runs with (also listed in the report's method). */
export function chaosEnv(streams: number): NonNullable<Parameters<typeof startStack>[0]>['env'] {
  const needed = Math.ceil(streams / STREAMS_PER_ENGINE);
  return {
    manager: {
      MAX_STREAMS_PER_ENGINE: String(STREAMS_PER_ENGINE),
      MIN_REPLICAS: String(needed + 1),
      MIN_FREE_REPLICAS: '1',
      MAX_REPLICAS: String(needed + 3),
      ENGINE_MEMORY_MB: '192',
      PROVISION_BURST: String(needed + 3),
      PROVISION_CONCURRENCY: '4',
      CLAIM_TTL_MS: String(CLAIM_TTL_MS),
    },
    proxy: {
      // Every player comes from 127.0.0.1: the per-client limit would stop the run, not a client.
      MAX_STREAMS_PER_CLIENT: '10000',
      MAX_STREAMS: '10000',
      MAX_PLAYERS: '100000',
      MAX_CONNECTIONS: '100000',
      LINGER_MS: '1000',
      RENEW_INTERVAL_MS: String(CLAIM_TTL_MS / 3),
    },
    stats: { PROXY_LOST_AFTER_MS: '15000' },
  };
}

export const contentId = (stream: number): string =>
  createHash('sha1').update(`chaos-${stream}`).digest('hex');

async function readyEngines(stack: Stack): Promise<number> {
  const nc = await stack.nats.connect();
  try {
    const reply = (await nc.request(Subjects.engineList, '{}', { timeout: 5000 })).json<ListReply>();
    return reply.engines.filter((e) => e.state === 'ready').length;
  } finally {
    await nc.close();
  }
}

/** Poll the audit until events and claims agree or the time is up; the last one counts. */
export async function settledAudit(stack: Stack<StackNats>, timeoutMs: number): Promise<Audit> {
  let last: Audit | undefined;
  let failure: unknown;
  await waitFor(
    async () => {
      try {
        last = await audit(stack);
      } catch (err) {
        failure = err;
        return false;
      }
      return last.eventsLost === 0 && last.claimsLeftOver === 0 && last.claimsMissing === 0;
    },
    timeoutMs,
    1000,
  ).catch(() => undefined);
  if (!last) throw new Error('no audit answered', { cause: failure });
  return last;
}

const goalMet = (r: Omit<ScenarioResult, 'met'>): boolean =>
  !r.error &&
  (r.onlyCopy ? (r.maxGapMs ?? Infinity) <= DROP_SILENCE_MS : r.dropped === 0) &&
  r.eventsLost === 0 &&
  r.duplicates === 0 &&
  r.claimsLeftOver === 0 &&
  r.claimsMissing === 0 &&
  r.falseStale === 0 &&
  (!r.mustMove || (r.hitStreams !== undefined && (r.movedOffHit ?? 0) >= r.hitStreams));

/** One fault: open a window, inject it, watch the players recover, then audit events and claims. */
export async function runScenario<S extends Stack<StackNats>>(
  stack: S,
  audience: Audience,
  fault: Fault<S>,
  opts: ChaosOptions<S>,
  log: (line: string) => void,
  logs?: ServiceLogs,
): Promise<ScenarioResult> {
  const base = {
    name: fault.name,
    onlyCopy: fault.onlyCopy,
    mustMove: fault.mustMove,
    players: audience.size,
    detail: '',
  };
  if (fault.docker && stack.runtime !== 'docker') return { ...base, skipped: 'no Docker', met: true };
  audience.openWindow();
  const since = new Date();
  const startedAt = performance.now();
  let error: string | undefined;
  let outcome: FaultOutcome | void = undefined;
  try {
    outcome = await fault.run({ stack, pauseMs: opts.pauseMs, log });
  } catch (err) {
    error = String(err);
  }
  logs?.follow(stack);
  const settled = await waitFor(
    () => performance.now() - startedAt >= opts.observeMs && audience.allReceiving(),
    opts.observeMs + opts.settleTimeoutMs,
    200,
  ).then(
    () => true,
    () => false,
  );
  const seen = audience.report();
  const checked = await settledAudit(stack, opts.auditTimeoutMs).catch((err: unknown) => {
    error ??= String(err);
    return undefined;
  });
  if (!settled) error ??= 'players were not all receiving again before the settle deadline';
  const hit = outcome?.hit;
  const changes = await changesSince(stack, since, hit);
  const result = {
    ...base,
    ...(hit ? { hitStreams: hit.streams } : {}),
    ...seen,
    ...checked,
    ...changes,
    detail: [outcome?.note, checked?.detail].filter(Boolean).join('; '),
    ...(error ? { error } : {}),
  };
  log(`  ${JSON.stringify(result)}`);
  return { ...result, met: goalMet(result) };
}

/** S streams × P players through the real stack, then each fault in turn, each followed by recovery. */
export async function runChaos(opts: ChaosOptions, log: (line: string) => void): Promise<ChaosResult> {
  const t0 = performance.now();
  const stack = await startStack({ env: chaosEnv(opts.streams) });
  const logs = opts.logDir === undefined ? undefined : new ServiceLogs(opts.logDir);
  logs?.follow(stack);
  let audience: Audience | undefined;
  try {
    const needed = Math.ceil(opts.streams / STREAMS_PER_ENGINE);
    await waitFor(async () => (await readyEngines(stack)) >= needed, 180_000, 1000);
    audience = new Audience(
      (s) => `${stack.proxyUrl()}/ace/getstream?id=${contentId(s)}`,
      opts.streams,
      opts.playersPerStream,
    );
    await waitFor(() => audience!.allReceiving(), 120_000, 500);
    const startupMs = Math.round(performance.now() - t0);
    log(`${opts.streams}×${opts.playersPerStream} playing after ${startupMs} ms (${stack.runtime} engines)`);
    const warmup = await settledAudit(stack, opts.auditTimeoutMs);
    log(`before the faults: ${JSON.stringify(warmup)}`);
    const scenarios: ScenarioResult[] = [];
    for (const fault of opts.faults) {
      log(`${new Date().toISOString()} fault: ${fault.name}`);
      scenarios.push(await runScenario(stack, audience, fault, opts, log, logs));
    }
    return { runtime: stack.runtime, engines: await readyEngines(stack), startupMs, scenarios };
  } finally {
    await audience?.stop();
    await stack.stop();
    await logs?.close();
  }
}
