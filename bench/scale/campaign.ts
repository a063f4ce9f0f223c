import { listEngines, startNatsServer, startStack, waitFor, type Stack } from '@acefleet/testkit';
import {
  chaosEnv,
  contentId,
  runScenario,
  settledAudit,
  type ChaosOptions,
  type ScenarioResult,
} from '../chaos/campaign.ts';
import { dockerKill, kill9, natsRestart, type Fault } from '../chaos/faults.ts';
import { Audience } from '../chaos/viewers.ts';

export interface ScaleOptions extends Omit<ChaosOptions, 'faults'> {
  proxies: number;
  managers: number;
}

export interface ScaleResult {
  runtime: Stack['runtime'];
  startupMs: number;
  scenarios: ScenarioResult[];
  /** Claims over capacity seen by any audit (after start-up and after each fault). */
  claimsOverCapacity: number;
}

/**
 * One part killed at a time. The last proxy and manager are the ones killed, so instance 0 of each stays up.
 * Until libs/testkit startNatsCluster and the manager standby exist, NATS is a single node restarted in place
 * and a killed manager is restarted by the harness, not taken over.
 */
export function scaleFaults(opts: ScaleOptions): Fault[] {
  return [
    natsRestart,
    kill9('manager', opts.managers - 1),
    // Held down long enough that its players reconnect to another proxy, as behind a load balancer.
    kill9('proxy', opts.proxies - 1, opts.pauseMs),
    dockerKill(1),
  ];
}

/** The address a player of `stream` connects to: its own proxy, or the next one that is running. */
function proxyFor(stack: Stack, stream: number): string {
  const all = stack.instances.proxy;
  for (let i = 0; i < all.length; i++) {
    const p = all[(stream + i) % all.length]!;
    if (p.child.exitCode === null && p.child.signalCode === null) return p.url;
  }
  return stack.proxyUrl();
}

/** S streams × P players spread over several proxies and managers, then each fault of scaleFaults in turn. */
export async function runScale(opts: ScaleOptions, log: (line: string) => void): Promise<ScaleResult> {
  const t0 = performance.now();
  const nats = await startNatsServer();
  const stack = await startStack({
    nats,
    instances: { proxy: opts.proxies, manager: opts.managers },
    env: chaosEnv(Math.ceil(opts.streams / opts.managers)),
  });
  let audience: Audience | undefined;
  let claimsOverCapacity = 0;
  try {
    await waitFor(async () => (await listEngines(nats)).some((e) => e.state === 'ready'), 180_000, 1000);
    log(
      `${stack.instances.manager.length} managers, ${stack.instances.proxy.length} proxies, ${stack.runtime} engines`,
    );
    audience = new Audience(
      (s) => `${proxyFor(stack, s)}/ace/getstream?id=${contentId(s)}`,
      opts.streams,
      opts.playersPerStream,
    );
    await waitFor(() => audience!.allReceiving(), 120_000, 500);
    const startupMs = Math.round(performance.now() - t0);
    const warmup = await settledAudit(stack, opts.auditTimeoutMs);
    claimsOverCapacity += warmup.claimsOverCapacity;
    log(`${opts.streams}×${opts.playersPerStream} playing after ${startupMs} ms: ${JSON.stringify(warmup)}`);
    const scenarios: ScenarioResult[] = [];
    for (const fault of scaleFaults(opts)) {
      const result = await runScenario(stack, audience, fault, { ...opts, faults: [] }, log);
      claimsOverCapacity += result.claimsOverCapacity ?? 0;
      scenarios.push(result);
    }
    return { runtime: stack.runtime, startupMs, scenarios, claimsOverCapacity };
  } finally {
    await audience?.stop();
    await stack.stop();
    await nats.destroy();
  }
}
