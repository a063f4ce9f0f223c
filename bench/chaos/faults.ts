import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Subjects, type ListReply } from '@acefleet/contracts';
import type { ServiceKey, Stack, StackNats } from '@acefleet/testkit';
import type { Hit } from './moves.ts';

const run = promisify(execFile);

export interface FaultContext<S extends Stack<StackNats> = Stack> {
  stack: S;
  /** How long SIGSTOPs and dockerd's pause last. */
  pauseMs: number;
  log: (line: string) => void;
}

/** What a fault reports: the engines (and their streams) it hit, and a measurement for the report. */
export interface FaultOutcome {
  hit?: Hit;
  note?: string;
}

export interface Fault<S extends Stack<StackNats> = Stack> {
  name: string;
  /** The fault takes the only copy of what players watch (their connection): drops are expected, gaps ≤ 15 s. */
  onlyCopy: boolean;
  /** Needs engines in Docker. */
  docker: boolean;
  /** Every stream on the engines it hits must move (`stream.moved`): the proof the fault reached them. */
  mustMove: boolean;
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

const hitOf = (victims: ListReply['engines']): Hit => ({
  engineIds: victims.map((e) => e.id),
  streams: victims.reduce((n, e) => n + e.claims.length, 0),
});

/** The engine carrying the most streams: the fault hits as many players as one engine can. */
async function busiestEngine(stack: Stack): Promise<ListReply['engines'][number]> {
  const all = await engines(stack);
  const busiest = all.sort((a, b) => b.claims.length - a.claims.length)[0];
  if (!busiest || busiest.claims.length === 0) throw new Error('no engine carries a stream');
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

export const dockerKill = (count: number): Fault => ({
  name: `docker kill of ${count} engine${count > 1 ? 's' : ''}`,
  onlyCopy: false,
  docker: true,
  mustMove: true,
  async run({ stack, log }) {
    const victims = (await engines(stack))
      .filter((e) => e.containerId && e.claims.length > 0)
      .sort((a, b) => b.claims.length - a.claims.length)
      .slice(0, count);
    log(`docker kill ${victims.map((e) => `${e.id} (${e.claims.length} streams)`).join(', ')}`);
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
const simFault = (name: string, faults: Record<string, unknown>, mustMove = true): Fault => ({
  name: `ace-sim ${name} on one engine`,
  onlyCopy: false,
  docker: false,
  mustMove,
  async run({ stack, log }) {
    const engine = await busiestEngine(stack);
    log(`${name} on ${engine.id} (${engine.claims.length} streams)`);
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
  simFault('stall', { stallAfterMs: 1 }),
  simFault('EOF', { eofAfterMs: 1 }),
  simFault('bad body (random bytes)', { badBody: 'random' }),
  simFault('expired sessions', { expireSessions: true }),
  // Streams still flow from an engine whose health calls hang: nothing has to move.
  simFault('hung health', { hangHealth: true }, false),
];

/** The short run's representative subset (inside `npm test`). */
export const shortFaults: Fault[] = [
  kill9('proxy'),
  kill9('manager'),
  natsRestart,
  dockerKill(1),
  simFault('stall', { stallAfterMs: 1 }),
];
