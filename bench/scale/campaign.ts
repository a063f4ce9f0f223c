import { EVENTS_STREAM } from '@acefleet/contracts';
import { listEngines, startNatsCluster, startStack, waitFor } from '@acefleet/testkit';
import { chaosEnv, contentId, runScenario, settledAudit, type ScenarioResult } from '../chaos/campaign.ts';
import { Audience } from '../chaos/viewers.ts';
import { CapacityWatch, type CapacitySample } from './capacity-watch.ts';
import { scaleFaults, type Measures, type ScaleFault, type ScaleStack } from './faults.ts';
import { startSecondDocker, type SecondDocker } from './second-docker.ts';

export interface ScaleOptions {
  streams: number;
  playersPerStream: number;
  /** Proxies, and engine-managers on hosts of their own (manager 0 also gets a standby). */
  proxies: number;
  managers: number;
  /** NATS nodes (JS_REPLICAS is the same, at most 3). */
  natsNodes: number;
  /** LEADER_LEASE_TTL_MS of the managers. */
  leaseTtlMs: number;
  /** How long a killed NATS node or proxy stays down, and a dockerd stays stopped. */
  pauseMs: number;
  observeMs: number;
  settleTimeoutMs: number;
  auditTimeoutMs: number;
  /** Only the faults whose name contains one of these (all when empty). */
  only?: string[];
}

export interface ScaleScenario extends ScenarioResult {
  /** Every version of every engine record written during the scenario, checked against its capacity. */
  capacity: CapacitySample;
  takeoverMs?: number;
  electionMs?: number;
}

export interface ScaleResult {
  runtime: ScaleStack['runtime'];
  /** Whether manager 1 ran on a second dockerd (else both hosts share the default daemon). */
  secondDockerd: boolean;
  startupMs: number;
  scenarios: ScaleScenario[];
  /** Over the whole run, from start-up on. */
  capacity: CapacitySample;
  /** Claims over capacity at any audit (start-up and after each fault). */
  auditOverCapacity: number;
  /** Ready engines per host at the start. */
  enginesPerHost: Record<string, number>;
}

/** The services' settings: the chaos stack's, plus the cluster's replica count and the lease TTL. */
export function scaleEnv(opts: ScaleOptions): NonNullable<Parameters<typeof startStack>[0]>['env'] {
  const base = chaosEnv({ streams: Math.ceil(opts.streams / opts.managers) }) ?? {};
  const replicas = { JS_REPLICAS: String(Math.min(3, opts.natsNodes)) };
  return {
    manager: { ...base.manager, ...replicas, LEADER_LEASE_TTL_MS: String(opts.leaseTtlMs) },
    proxy: { ...base.proxy, ...replicas },
    stats: { ...base.stats, ...replicas },
    monitor: { ...base.monitor, ...replicas },
  };
}

/** The address a player of `stream` connects to: its own proxy, or the next one running (a load balancer). */
function proxyFor(stack: ScaleStack, stream: number): string {
  const all = stack.instances.proxy;
  for (let i = 0; i < all.length; i++) {
    const p = all[(stream + i) % all.length]!;
    if (p.child.exitCode === null && p.child.signalCode === null) return p.url;
  }
  return stack.proxyUrl();
}

const ok = (r: ScaleScenario, ttlMs: number): boolean =>
  r.met && r.capacity.versionsOverCapacity === 0 && (r.takeoverMs === undefined || r.takeoverMs <= ttlMs);

/**
 * A NATS cluster, managers on hosts of their own (the second on a second dockerd when one can run here),
 * a standby for manager 0, several proxies; S streams × P players spread over the proxies; then each fault
 * of scaleFaults, one at a time.
 */
export async function runScale(opts: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const t0 = performance.now();
  const second: SecondDocker | undefined = await startSecondDocker().catch((err: unknown) => {
    log(`no second dockerd (${String(err)}): every manager uses the default daemon`);
    return undefined;
  });
  const nats = await startNatsCluster({ size: opts.natsNodes });
  const stack: ScaleStack = await startStack({
    nats,
    instances: { proxy: opts.proxies, manager: 1 },
    env: scaleEnv(opts),
  });
  let audience: Audience | undefined;
  let watch: CapacityWatch | undefined;
  try {
    for (let n = 1; n < opts.managers; n++) {
      // The second daemon has no bridge (bench/scale/second-docker.ts): its engines use the host's network.
      await stack.add(
        'manager',
        n === 1 && second ? { DOCKER_SOCKET: second.socket, NETWORK_MODE: 'host' } : {},
      );
    }
    await stack.addStandby(0);
    watch = await CapacityWatch.start(nats);
    const hosts = Array.from({ length: opts.managers }, (_, n) => stack.hostIdOf(n));
    const readyPerHost = async (): Promise<Record<string, number>> => {
      const ready = (await listEngines(nats)).filter((e) => e.state === 'ready');
      return Object.fromEntries(hosts.map((h) => [h, ready.filter((e) => e.hostId === h).length]));
    };
    await waitFor(async () => Object.values(await readyPerHost()).every((n) => n > 0), 180_000, 1000);
    log(
      `NATS ${nats.nodes.length} nodes (${EVENTS_STREAM} led by ${(await nats.leaderOf(EVENTS_STREAM)).name})`,
    );
    audience = new Audience(
      (s) => `${proxyFor(stack, s)}/ace/getstream?id=${contentId(s)}`,
      opts.streams,
      opts.playersPerStream,
    );
    await waitFor(() => audience!.allReceiving(), 120_000, 500);
    const startupMs = Math.round(performance.now() - t0);
    const enginesPerHost = await readyPerHost();
    const warmup = await settledAudit(stack, opts.auditTimeoutMs);
    let auditOverCapacity = warmup.claimsOverCapacity;
    log(`${opts.streams}×${opts.playersPerStream} playing after ${startupMs} ms: ${JSON.stringify(warmup)}`);

    const measures: Measures = {};
    const faults = scaleFaults({ ...opts, ttlMs: opts.leaseTtlMs, second, measures }).filter(
      (f: ScaleFault) => !opts.only?.length || opts.only.some((o) => f.name.includes(o)),
    );
    const scenarios: ScaleScenario[] = [];
    for (const fault of faults) {
      watch.take();
      delete measures.takeoverMs;
      delete measures.electionMs;
      const result = await runScenario(stack, { audience, watched: [] }, fault, { ...opts, faults: [] }, log);
      auditOverCapacity += result.claimsOverCapacity ?? 0;
      const scenario: ScaleScenario = { ...result, ...measures, capacity: watch.take() };
      scenarios.push({ ...scenario, met: ok(scenario, opts.leaseTtlMs) });
      log(`  capacity ${JSON.stringify(scenario.capacity)} ${JSON.stringify(measures)}`);
    }
    return {
      runtime: stack.runtime,
      secondDockerd: second !== undefined,
      startupMs,
      scenarios,
      capacity: watch.overall,
      auditOverCapacity,
      enginesPerHost,
    };
  } finally {
    await audience?.stop();
    await watch?.stop();
    await stack.stop();
    await second?.removeFleet(stack.hostId);
    await nats.destroy();
  }
}
