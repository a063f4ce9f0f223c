import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Static, TSchema } from '@sinclair/typebox';
import { DrainReply, Subjects, UpgradeReply, type ListReply } from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { waitFor, type ServiceKey, type Stack, type StackNats } from '@acefleet/testkit';
import type { Hit } from './moves.ts';

const run = promisify(execFile);

export interface FaultContext<S extends Stack<StackNats> = Stack> {
  stack: S;
  /** How long SIGSTOPs and dockerd's pause last. */
  pauseMs: number;
  log: (line: string) => void;
  /** Content ids the decoders play: among engines equally busy, a fault picks one carrying them. */
  watched: string[];
}

/** What a fault reports: the engines (and their streams) it hit, a measurement, and what went wrong. */
export interface FaultOutcome {
  hit?: Hit;
  note?: string;
  error?: string;
}

/** The longest gap a fault may cost players, without and with a hot standby (unset: no limit but drops). */
export interface GapGoal {
  plain?: number;
  standby?: number;
}

export interface Fault<S extends Stack<StackNats> = Stack> {
  name: string;
  /** The fault takes the only copy of what players watch (their connection): drops are expected, gaps ≤ 15 s. */
  onlyCopy: boolean;
  /** Needs engines in Docker. */
  docker: boolean;
  /** Every stream on the engines it hits must move (`stream.moved`): the proof the fault reached them. */
  mustMove: boolean;
  gapGoalMs?: GapGoal;
  /** Inject the fault, hold it, and undo it (restart, SIGCONT, faults off); then what it hit and measured. */
  run(ctx: FaultContext<S>): Promise<FaultOutcome | void>;
}

/** How long an ace-sim fault stays on: well past the proxy's stall detector (STALL_FAILOVER_MS, 4 s by default). */
const SIM_FAULT_MS = 15_000;

export async function engines(stack: Stack<StackNats>): Promise<ListReply['engines']> {
  const nc = await stack.nats.connect();
  try {
    return (await nc.request(Subjects.engineList, '{}', { timeout: 5000 })).json<ListReply>().engines;
  } finally {
    await nc.close();
  }
}

type Engine = ListReply['engines'][number];

/** Streams an engine carries: its claims but hot standbys (a standby is a spare session, not a stream). */
const streamsOn = (e: Engine): number => e.claims.filter((c) => !c.standby).length;

const hitOf = (victims: Engine[]): Hit => ({
  engineIds: victims.map((e) => e.id),
  streams: victims.reduce((n, e) => n + streamsOn(e), 0),
});

/** Engines carrying streams, the busiest first; among equals, those carrying a watched content first. */
async function busiestEngines(stack: Stack, watched: string[]): Promise<Engine[]> {
  const carries = (e: Engine): number =>
    e.claims.filter((c) => !c.standby && watched.some((id) => c.contentKey.endsWith(id))).length;
  return (await engines(stack))
    .filter((e) => e.state === 'ready' && streamsOn(e) > 0)
    .sort((a, b) => streamsOn(b) - streamsOn(a) || carries(b) - carries(a));
}

/** The engine carrying the most streams: the fault hits as many players as one engine can. */
async function busiestEngine(stack: Stack, watched: string[]): Promise<Engine> {
  const busiest = (await busiestEngines(stack, watched))[0];
  if (!busiest) throw new Error('no engine carries a stream');
  return busiest;
}

/** Kill instance `n` of a service with -9 (`holdMs` later) restart it, with its files, at its address. */
export const kill9 = <S extends Stack<StackNats>>(key: ServiceKey, n = 0, holdMs = 0): Fault<S> => ({
  name: `kill -9 ${key}${n > 0 ? ` ${n}` : ''}, restart`,
  onlyCopy: key === 'proxy',
  docker: false,
  mustMove: false,
  async run({ stack }) {
    const svc = stack.instances[key][n]!;
    await svc.kill();
    await sleep(holdMs);
    // Restarted at the same address, as a supervisor would: players and peers keep their URLs.
    await stack.startInstance(key, n, { HTTP_PORT: new URL(svc.url).port });
  },
});

const sigstop = (key: ServiceKey): Fault => ({
  name: `SIGSTOP ${key}, SIGCONT`,
  onlyCopy: false,
  docker: false,
  mustMove: false,
  async run({ stack, pauseMs }) {
    const child = stack.services[key]!.child;
    child.kill('SIGSTOP');
    try {
      await sleep(pauseMs);
    } finally {
      child.kill('SIGCONT');
    }
  },
});

export const natsRestart: Fault = {
  name: 'nats-server killed, restarted',
  onlyCopy: false,
  docker: false,
  mustMove: false,
  async run({ stack }) {
    await stack.nats.stop();
    await sleep(5000);
    await stack.nats.start();
  },
};

/** With a hot standby ready, an engine that dies, stalls, sends noise or freezes costs players at most this. */
const STANDBY_GAP_MS = 1000;

export const dockerKill = (count: number): Fault => ({
  name: `docker kill of ${count} engine${count > 1 ? 's' : ''}`,
  onlyCopy: false,
  docker: true,
  mustMove: true,
  gapGoalMs: { standby: STANDBY_GAP_MS },
  async run({ stack, log, watched }) {
    const victims = (await busiestEngines(stack, watched)).filter((e) => e.containerId).slice(0, count);
    log(`docker kill ${victims.map((e) => `${e.id} (${streamsOn(e)} streams)`).join(', ')}`);
    if (victims.length < count) throw new Error(`only ${victims.length} engines carry streams`);
    await run('docker', ['kill', ...victims.map((e) => e.containerId!)]);
    return { hit: hitOf(victims) };
  },
});

/**
 * Docker unresponsive: dockerd is SIGSTOPped for the pause, then SIGCONTed. A stand-in for stopping it (no
 * systemd here, and a stopped dockerd would have to be restarted the way scripts/setup.sh started it): the API
 * socket stops answering while containers, which run under containerd, keep playing.
 */
const dockerdPause: Fault = {
  name: 'dockerd unresponsive (SIGSTOP), SIGCONT',
  onlyCopy: false,
  docker: true,
  mustMove: false,
  async run({ pauseMs, log }) {
    const pid = Number((await run('pgrep', ['-xo', 'dockerd'])).stdout.trim());
    if (!pid) throw new Error('no dockerd process');
    log(`SIGSTOP dockerd pid ${pid} for ${pauseMs} ms`);
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(pauseMs);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  },
};

/** An ace-sim fault switched on mid-stream on the busiest engine, and off again after SIM_FAULT_MS. */
const simFault = (
  name: string,
  faults: Record<string, unknown>,
  { mustMove = true, gapGoalMs }: { mustMove?: boolean; gapGoalMs?: GapGoal } = {},
): Fault => ({
  name: `ace-sim ${name} on one engine`,
  onlyCopy: false,
  docker: false,
  mustMove,
  ...(gapGoalMs ? { gapGoalMs } : {}),
  async run({ stack, log, watched }) {
    const engine = await busiestEngine(stack, watched);
    log(`${name} on ${engine.id} (${streamsOn(engine)} streams)`);
    const put = (body: unknown, query = ''): Promise<Response> =>
      fetch(`${engine.baseUrl}/__sim/faults${query}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
    const res = await put(faults);
    if (!res.ok) throw new Error(`ace-sim refused ${JSON.stringify(faults)}: ${res.status}`);
    await sleep(SIM_FAULT_MS);
    // The engine may be gone by now (replaced as unhealthy): nothing left to switch off then.
    await put({}, '?mode=replace').catch(() => undefined);
    return { hit: hitOf([engine]) };
  },
});

const stall = simFault('stall', { stallAfterMs: 1 }, { gapGoalMs: { standby: STANDBY_GAP_MS } });

/** How long a drained engine may take to empty (every stream moved, each onto an engine that warms up). */
const DRAIN_WAIT_MS = 120_000;
/** A rolling upgrade replaces one engine at a time: generous, whatever the fleet's size. */
const UPGRADE_TIMEOUT_MS = 30 * 60_000;

async function request<T extends TSchema>(
  stack: Stack,
  subject: string,
  body: unknown,
  reply: T,
  timeoutMs: number,
): Promise<Static<T>> {
  const nc = await stack.nats.connect();
  try {
    return await requestJson(nc, subject, body, reply, timeoutMs);
  } finally {
    await nc.close();
  }
}

/** The manager drains the busiest engine (a planned move): its streams move make-before-break; then it goes. */
const drainBusiest: Fault = {
  name: 'drain of the busiest engine',
  onlyCopy: false,
  docker: false,
  mustMove: true,
  gapGoalMs: { plain: 300, standby: 300 },
  async run({ stack, log, watched }) {
    const engine = await busiestEngine(stack, watched);
    log(`drain ${engine.id} (${streamsOn(engine)} streams)`);
    const t0 = performance.now();
    await request(stack, Subjects.engineDrain, { engineId: engine.id }, DrainReply, 10_000);
    await waitFor(async () => !(await engines(stack)).some((e) => e.id === engine.id), DRAIN_WAIT_MS, 500);
    return { hit: hitOf([engine]), note: `drained and removed in ${Math.round(performance.now() - t0)} ms` };
  },
};

/**
 * `acefleet engines upgrade` without an image: a rolling restart, every engine replaced one at a time,
 * make-before-break. Met only if the reply has no error and every engine of the fleet before it was replaced.
 */
const rollingUpgrade: Fault = {
  name: 'rolling upgrade of every engine',
  onlyCopy: false,
  docker: false,
  mustMove: true,
  gapGoalMs: { plain: 500, standby: 500 },
  async run({ stack, log }) {
    const before = await engines(stack);
    log(`upgrade of ${before.length} engines`);
    const reply = await request(stack, Subjects.engineUpgrade, {}, UpgradeReply, UPGRADE_TIMEOUT_MS);
    const replaced = new Set(reply.replaced.map((r) => r.from));
    const left = before.filter((e) => !replaced.has(e.id)).map((e) => e.id);
    const note = `${reply.replaced.length} of ${before.length} engines replaced in ${(reply.tookMs / 1000).toFixed(1)} s`;
    const error = reply.error
      ? `upgrade stopped: ${reply.error.code}: ${reply.error.message}`
      : left.length > 0
        ? `not replaced: ${left.join(', ')}`
        : undefined;
    return { hit: hitOf(before), note, ...(error ? { error } : {}) };
  },
};

/** Every fault of the full run, in order. */
export const allFaults: Fault[] = [
  kill9('proxy'),
  kill9('manager'),
  kill9('stats'),
  kill9('monitor'),
  natsRestart,
  dockerKill(1),
  dockerKill(2),
  dockerdPause,
  sigstop('stats'),
  sigstop('monitor'),
  stall,
  simFault('EOF', { eofAfterMs: 1 }),
  simFault('bad body (random bytes)', { badBody: 'random' }, { gapGoalMs: { standby: STANDBY_GAP_MS } }),
  simFault('frozen video', { frozenVideo: true }, { gapGoalMs: { standby: STANDBY_GAP_MS } }),
  simFault('expired sessions', { expireSessions: true }),
  // Streams still flow from an engine whose health calls hang: nothing has to move.
  simFault('hung health', { hangHealth: true }, { mustMove: false }),
  drainBusiest,
  rollingUpgrade,
];

/** The short run's representative subset (inside `npm test`). */
export const shortFaults: Fault[] = [
  kill9('proxy'),
  kill9('manager'),
  natsRestart,
  dockerKill(1),
  stall,
  drainBusiest,
];
