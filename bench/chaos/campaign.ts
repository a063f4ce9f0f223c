import { createHash } from 'node:crypto';
import { Subjects, type ListReply } from '@acefleet/contracts';
import { startStack, waitFor, type Stack, type StackNats } from '@acefleet/testkit';
import { audit, type Audit } from './audit.ts';
import { Decoders, type DecoderLevel, type DecoderReport } from './decoders.ts';
import type { Fault, FaultOutcome } from './faults.ts';
import { proxyUsage, standbySessions, type ProxyUsage } from './proxy-usage.ts';
import { DECODER_LINES_ALLOWED, missedGoals } from './goals.ts';
import { ServiceLogs } from './service-logs.ts';
import { changesSince, type Changes } from './moves.ts';
import { Audience, type WindowReport } from './viewers.ts';

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
  /** Every channel keeps a hot standby (the proxy's HOT_STANDBY_VIEWERS=1), on engines enough for both. */
  standby?: boolean;
  /** Engines send their first bytes this late (ACE_SIM_FAULT_FIRST_BYTE_DELAY_MS), as real ones warm up. */
  engineDelayMs?: number;
  /** Players that are real decoders (ffmpeg), on channels spread over the streams; 0 or unset: none. */
  decoders?: number;
  decoderLevel?: DecoderLevel;
}

export interface ScenarioResult
  extends Partial<WindowReport>, Partial<Omit<Audit, 'detail'>>, Partial<Changes>, Partial<DecoderReport> {
  name: string;
  onlyCopy: boolean;
  /** The longest gap the fault may cost in this run (with or without standby), if it has such a goal. */
  gapGoalMs?: number;
  /** With standby: the hot standby sessions open when the fault was injected. */
  standbysOpen?: number;
  /** The most decoder lines the fault may cost (engine faults with standby). */
  decoderGoal?: number;
  /** Streams on the engines the fault hit (engine faults), each of which must move when `mustMove`. */
  hitStreams?: number;
  mustMove: boolean;
  players: number;
  detail: string;
  /** Why it did not run, or what went wrong running it. */
  skipped?: string;
  error?: string;
  met: boolean;
  /** The goals it missed, told short (`longest gap 1200 ms > 1000 ms`). */
  missed?: string[];
}

export interface ChaosResult {
  runtime: Stack['runtime'];
  standby: boolean;
  engines: number;
  /** Engines ready before the first fault, and the proxy's cost then (over a quiet window). */
  enginesAtStart: number;
  proxy?: ProxyUsage;
  standbysOpen?: number;
  startupMs: number;
  scenarios: ScenarioResult[];
}

/** Four streams per engine: 50 streams fit on 13 engines, with spares for the moves a fault forces. */
export const STREAMS_PER_ENGINE = 4;
export const CLAIM_TTL_MS = 30_000;

/**
 * Engines a testkit stack's host can run: its engine ports are a block of 40 (libs/testkit portBlock), two per
 * engine. The stack needs its engines, three spares (MAX_REPLICAS) and one an upgrade surges over them.
 */
const STACK_ENGINE_ROOM = 20;

/** Engines the stack needs ready: one slot per stream, and one per standby. */
export const enginesNeeded = (opts: Pick<ChaosOptions, 'streams' | 'standby'>): number =>
  Math.ceil((opts.streams * (opts.standby ? 2 : 1)) / STREAMS_PER_ENGINE);

/** The settings the chaos stack runs with (also listed in the report's method). */
export function chaosEnv(
  opts: Pick<ChaosOptions, 'streams' | 'standby' | 'engineDelayMs'>,
): NonNullable<Parameters<typeof startStack>[0]>['env'] {
  const needed = enginesNeeded(opts);
  return {
    manager: {
      ...(opts.engineDelayMs
        ? { ENGINE_ENV: `ACE_SIM_FAULT_FIRST_BYTE_DELAY_MS=${opts.engineDelayMs}` }
        : {}),
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
      ...(opts.standby ? { HOT_STANDBY_VIEWERS: '1' } : {}),
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

/** With standby, how long a fault waits for every channel's standby to be open (they reopen after a switch). */
const STANDBY_WAIT_MS = 30_000;

/** What watches the players of a run: every player's bytes, and a few decoders. */
export interface Watchers {
  audience: Audience;
  decoders?: Decoders;
  /** Content ids the decoders play. */
  watched: string[];
}

/** One fault: open a window, inject it, watch the players recover, then audit events and claims. */
export async function runScenario<S extends Stack<StackNats>>(
  stack: S,
  { audience, decoders, watched }: Watchers,
  fault: Fault<S>,
  opts: ChaosOptions<S>,
  log: (line: string) => void,
  logs?: ServiceLogs,
): Promise<ScenarioResult> {
  const gapGoalMs = opts.standby ? fault.gapGoalMs?.standby : fault.gapGoalMs?.plain;
  const base = {
    name: fault.name,
    onlyCopy: fault.onlyCopy,
    mustMove: fault.mustMove,
    players: audience.size,
    detail: '',
    ...(gapGoalMs === undefined ? {} : { gapGoalMs }),
    ...(opts.standby && fault.mustMove && decoders ? { decoderGoal: DECODER_LINES_ALLOWED } : {}),
  };
  if (fault.docker && stack.runtime !== 'docker') return { ...base, skipped: 'no Docker', met: true };
  let standbysOpen: number | undefined;
  if (opts.standby) {
    await waitFor(
      async () => (standbysOpen = await standbySessions(stack)) >= opts.streams,
      STANDBY_WAIT_MS,
      500,
    ).catch(() => log(`  only ${standbysOpen} standbys open of ${opts.streams}`));
  }
  audience.openWindow();
  decoders?.openWindow();
  const since = new Date();
  const startedAt = performance.now();
  let error: string | undefined;
  let outcome: FaultOutcome | void = undefined;
  try {
    outcome = await fault.run({ stack, pauseMs: opts.pauseMs, log, watched });
    error = outcome?.error;
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
  const decoded = decoders?.report();
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
    ...(standbysOpen === undefined ? {} : { standbysOpen }),
    ...seen,
    ...decoded,
    ...checked,
    ...changes,
    detail: [outcome?.note, checked?.detail].filter(Boolean).join('; '),
    ...(error ? { error } : {}),
  };
  log(`  ${JSON.stringify(result)}`);
  const missed = missedGoals(result);
  return { ...result, met: missed.length === 0, ...(missed.length > 0 ? { missed } : {}) };
}

/** The channels decoders play: `count` of them spread over the streams (so over engines too). */
const decodedStreams = (count: number, streams: number): number[] => [
  ...new Set(Array.from({ length: count }, (_, i) => Math.floor((i * streams) / count))),
];

/** How long the proxy's cost is read while everything plays, before the first fault. */
const USAGE_WINDOW_MS = 15_000;

/** S streams × P players through the real stack, then each fault in turn, each followed by recovery. */
export async function runChaos(opts: ChaosOptions, log: (line: string) => void): Promise<ChaosResult> {
  const room = enginesNeeded(opts) + 4;
  if (room > STACK_ENGINE_ROOM) {
    throw new Error(
      `${opts.streams} streams${opts.standby ? ' with standby' : ''} need room for ${room} engines; a stack has ${STACK_ENGINE_ROOM}`,
    );
  }
  const t0 = performance.now();
  const stack = await startStack({ env: chaosEnv(opts) });
  const logs = opts.logDir === undefined ? undefined : new ServiceLogs(opts.logDir);
  logs?.follow(stack);
  let watchers: Watchers | undefined;
  try {
    const needed = enginesNeeded(opts);
    await waitFor(async () => (await readyEngines(stack)) >= needed, 180_000, 1000);
    const url = (s: number): string => `${stack.proxyUrl()}/ace/getstream?id=${contentId(s)}`;
    const decoded = decodedStreams(opts.decoders ?? 0, opts.streams);
    watchers = {
      audience: new Audience(url, opts.streams, opts.playersPerStream),
      ...(decoded.length > 0 ? { decoders: new Decoders(url, decoded, opts.decoderLevel ?? 'warning') } : {}),
      watched: decoded.map(contentId),
    };
    const { audience } = watchers;
    await waitFor(() => audience.allReceiving(), 120_000, 500);
    const startupMs = Math.round(performance.now() - t0);
    log(`${opts.streams}×${opts.playersPerStream} playing after ${startupMs} ms (${stack.runtime} engines)`);
    const warmup = await settledAudit(stack, opts.auditTimeoutMs);
    log(`before the faults: ${JSON.stringify(warmup)}`);
    const standbysOpen = opts.standby
      ? await waitFor(async () => (await standbySessions(stack)) >= opts.streams, STANDBY_WAIT_MS, 1000)
          .catch(() => undefined)
          .then(() => standbySessions(stack))
      : undefined;
    const enginesAtStart = await readyEngines(stack);
    const proxy = await proxyUsage(stack, USAGE_WINDOW_MS);
    log(`engines ${enginesAtStart}, standbys ${standbysOpen ?? '–'}, proxy ${JSON.stringify(proxy)}`);
    const scenarios: ScenarioResult[] = [];
    for (const fault of opts.faults) {
      log(`${new Date().toISOString()} fault: ${fault.name}`);
      scenarios.push(await runScenario(stack, watchers, fault, opts, log, logs));
    }
    return {
      runtime: stack.runtime,
      standby: opts.standby ?? false,
      engines: await readyEngines(stack),
      enginesAtStart,
      proxy,
      ...(standbysOpen === undefined ? {} : { standbysOpen }),
      startupMs,
      scenarios,
    };
  } finally {
    await watchers?.audience.stop();
    await watchers?.decoders?.stop();
    await stack.stop();
    await logs?.close();
  }
}
