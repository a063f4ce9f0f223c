import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINES_KV_STREAM, EVENTS_STREAM, type StatusReply } from '@acefleet/contracts';
import { waitFor, type NatsCluster, type NatsClusterNode, type Stack } from '@acefleet/testkit';
import { engines, kill9, type Fault } from '../chaos/faults.ts';
import { killContainer, pauseDockerd, type SecondDocker } from './second-docker.ts';

export type ScaleStack = Stack<NatsCluster>;
export type ScaleFault = Fault<ScaleStack>;

/** What the faults measured beyond what players and audits see. */
export interface Measures {
  /** From kill -9 of the leading manager to its standby answering as leader. */
  takeoverMs?: number;
  /** From kill -9 of the NATS node to both streams it led having a new leader. */
  electionMs?: number;
}

/** How often a leader is moved to get one node leading both streams before it is killed. */
const STEPDOWN_TRIES = 8;

const leaderOf = (nats: NatsCluster, stream: string): Promise<NatsClusterNode> =>
  waitFor(() => nats.leaderOf(stream).catch(() => false as const), 30_000, 250);

/**
 * Ask the KV stream's leader to step down until the node leading the events stream leads it too (each
 * stepdown elects a new leader among the replicas), so that one kill takes both. Resolves to that node, or to
 * the events leader when it never lined up.
 */
async function lineUpLeaders(nats: NatsCluster, log: (line: string) => void): Promise<NatsClusterNode> {
  const nc = await nats.connect();
  try {
    const events = await leaderOf(nats, EVENTS_STREAM);
    for (let i = 0; i < STEPDOWN_TRIES; i++) {
      const kv = await leaderOf(nats, ENGINES_KV_STREAM);
      if (kv === events) return events;
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${ENGINES_KV_STREAM}`, '', { timeout: 5000 });
      await waitFor(async () => (await nats.leaderOf(ENGINES_KV_STREAM).catch(() => kv)) !== kv, 15_000, 250);
    }
    log(`  ${ENGINES_KV_STREAM} not led by ${events.name} after ${STEPDOWN_TRIES} stepdowns`);
    return events;
  } finally {
    await nc.close();
  }
}

/** kill -9 of the NATS node leading the events stream and the engines bucket; held down, then restarted. */
export const natsLeaderKill = (measures: Measures): ScaleFault => ({
  name: `kill -9 NATS node leading ${EVENTS_STREAM} and ${ENGINES_KV_STREAM}, restart`,
  onlyCopy: false,
  docker: false,
  mustMove: false,
  async run({ stack, pauseMs, log }) {
    const victim = await lineUpLeaders(stack.nats, log);
    const kvLeader = await leaderOf(stack.nats, ENGINES_KV_STREAM);
    log(`  killing ${victim.name} (leads ${EVENTS_STREAM}; ${ENGINES_KV_STREAM} led by ${kvLeader.name})`);
    const killedAt = performance.now();
    await victim.stop();
    const moved = async (stream: string): Promise<boolean> =>
      (await stack.nats.leaderOf(stream).catch(() => victim)) !== victim;
    await waitFor(async () => (await moved(EVENTS_STREAM)) && (await moved(ENGINES_KV_STREAM)), 60_000, 100);
    measures.electionMs = Math.round(performance.now() - killedAt);
    await sleep(Math.max(0, pauseMs - (performance.now() - killedAt)));
    await victim.start();
    await stack.nats.ready();
    return {
      note: `${victim.name} killed; new leaders elected in ${measures.electionMs} ms; down ${Math.round(performance.now() - killedAt)} ms`,
    };
  },
});

async function roleOf(url: string): Promise<StatusReply['role']> {
  const res = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as StatusReply).role;
}

/**
 * kill -9 of manager 0, the leader of its host; its standby (the last manager instance) takes the lease over.
 * The killed one is restarted afterwards and stands by.
 */
export const leaderKill = (measures: Measures, ttlMs: number): ScaleFault => ({
  name: 'kill -9 leading manager (standby takes over), restart',
  onlyCopy: false,
  docker: false,
  mustMove: false,
  async run({ stack }) {
    const leader = stack.instances.manager[0]!;
    const standby = stack.instances.manager.at(-1)!;
    if ((await roleOf(leader.url)) !== 'leader') throw new Error('manager 0 does not lead its host');
    const killedAt = performance.now();
    await leader.kill();
    await waitFor(
      () =>
        roleOf(standby.url).then(
          (r) => r === 'leader',
          () => false,
        ),
      ttlMs + 60_000,
      50,
    );
    measures.takeoverMs = Math.round(performance.now() - killedAt);
    await stack.startInstance('manager', 0, { HTTP_PORT: new URL(leader.url).port });
    const restartedRole = await roleOf(stack.instances.manager[0]!.url);
    return {
      note: `standby leads ${measures.takeoverMs} ms after the kill (lease TTL ${ttlMs} ms); restarted manager: ${restartedRole}`,
    };
  },
});

/** The second Docker daemon (manager 1's host) paused for the pause, then resumed. */
export const secondDockerdPause = (second: SecondDocker): ScaleFault => ({
  name: "second host's dockerd unresponsive (SIGSTOP), SIGCONT",
  onlyCopy: false,
  docker: true,
  mustMove: false,
  async run({ pauseMs }) {
    const pid = await second.pid();
    await pauseDockerd(pid, pauseMs);
    return { note: `dockerd pid ${pid} stopped for ${pauseMs} ms` };
  },
});

/** docker kill of the busiest engine, on whichever daemon runs it. */
export const engineKill = (second: SecondDocker | undefined): ScaleFault => ({
  name: 'docker kill of the busiest engine',
  onlyCopy: false,
  docker: true,
  mustMove: false,
  async run({ stack }) {
    const victim = (await engines(stack))
      .filter((e) => e.containerId && e.claims.length > 0)
      .sort((a, b) => b.claims.length - a.claims.length)[0];
    if (!victim) throw new Error('no engine carries a stream');
    await killContainer(victim.containerId!, second !== undefined && victim.hostId === stack.hostIdOf(1));
    return { note: `killed ${victim.id} (${victim.claims.length} streams)` };
  },
});

/** Every fault of the scale run, one at a time. The proxy killed is the last one; instance 0 stays up. */
export function scaleFaults(opts: {
  proxies: number;
  pauseMs: number;
  ttlMs: number;
  second: SecondDocker | undefined;
  measures: Measures;
}): ScaleFault[] {
  return [
    natsLeaderKill(opts.measures),
    leaderKill(opts.measures, opts.ttlMs),
    // Held down long enough that its players reconnect to another proxy, as behind a load balancer.
    kill9<ScaleStack>('proxy', opts.proxies - 1, opts.pauseMs),
    ...(opts.second ? [secondDockerdPause(opts.second)] : []),
    engineKill(opts.second),
  ];
}
