import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects, type EngineHealth } from '@acefleet/contracts';
import { collectEvents, putEngineRecord, readyEngine, waitFor } from '@acefleet/testkit';
import { startMonitorWorld, type MonitorWorld } from './helpers.ts';

const INTERVAL_MS = 500;
// Longer than the interval: a wedged engine's probe spans several ticks, which must not hold up the others.
const PROBE_TIMEOUT_MS = 1200;

interface Snapshot {
  engines: Record<string, { status: string; probes: number; lastProbeStartedAt: string | null }>;
}

let world: MonitorWorld;
test.before(async () => {
  world = await startMonitorWorld(3, {
    HEALTH_INTERVAL_MS: String(INTERVAL_MS),
    PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
    FAILURE_THRESHOLD: '3',
  });
});
test.after.always(async () => {
  await world?.close();
});

async function snapshot(): Promise<Snapshot> {
  return (await (await fetch(`${world.monitor.url}/api/health`)).json()) as Snapshot;
}

test('health-monitor - a wedged engine is marked unhealthy after 3 probes while the others keep their cadence', async (t) => {
  const ids = world.sims.map((_, i) => `engine-${i}`);
  await Promise.all(world.sims.map((s, i) => putEngineRecord(world.nc, readyEngine(ids[i]!, s.url))));
  const health = await collectEvents<EngineHealth>(world.nc, Subjects.engineHealth);
  await waitFor(() => health.events.filter((e) => e.data.status === 'healthy').length === 3, 10_000);

  // Wedge engine-0: its port accepts, get_status never answers.
  const wedgedAt = Date.now();
  const res = await fetch(`${world.sims[0]!.url}/__sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hangHealth: true }),
  });
  t.is(res.status, 200);

  // Watch every probe start of the healthy engines while the wedged one fails.
  const starts = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
  let verdict: EngineHealth | undefined;
  while (Date.now() - wedgedAt < 8000) {
    const snap = await snapshot();
    for (const id of ids) {
      const at = snap.engines[id]?.lastProbeStartedAt;
      if (at) starts.get(id)!.add(at);
    }
    verdict ??= health.events.find(
      (e) => e.data.engineId === 'engine-0' && e.data.status === 'unhealthy',
    )?.data;
    if (verdict && Date.now() - wedgedAt > 6000) break;
    await sleep(20);
  }
  await health.stop();

  t.truthy(verdict, 'an unhealthy verdict was published for engine-0');
  t.is(verdict!.consecutiveFailures, 3);
  t.is(verdict!.previous, 'healthy');
  t.regex(verdict!.detail, /no answer in 1200 ms/);
  const verdictAfterMs = Date.parse(verdict!.at) - wedgedAt;
  // Three probes of 1200 ms each, started on the 500 ms cadence: at least 3 timeouts, well under 3 s more.
  t.true(verdictAfterMs >= 2 * INTERVAL_MS + PROBE_TIMEOUT_MS, `verdict after ${verdictAfterMs} ms`);
  t.true(
    verdictAfterMs < 3 * PROBE_TIMEOUT_MS + 2 * INTERVAL_MS + 1000,
    `verdict after ${verdictAfterMs} ms`,
  );
  t.is(
    health.events.filter((e) => e.data.engineId !== 'engine-0' && e.data.status === 'unhealthy').length,
    0,
    'no healthy engine was blamed',
  );

  for (const id of ['engine-1', 'engine-2']) {
    const times = [...starts.get(id)!].map((s) => Date.parse(s)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((v, i) => v - times[i]!);
    const jitter = Math.max(...gaps.map((g) => Math.abs(g - INTERVAL_MS)));
    t.log(`${id}: ${gaps.length} probe gaps while engine-0 was wedged, max jitter ${jitter} ms`);
    t.true(gaps.length >= 10, `${id} kept being probed (${gaps.length} gaps)`);
    t.true(jitter <= 100, `${id} probe gaps ${gaps.join(',')}`);
  }
  const snap = await snapshot();
  t.is(snap.engines['engine-0']?.status, 'unhealthy');
  t.is(snap.engines['engine-1']?.status, 'healthy');
});
