import test from 'ava';
import { Subjects, type EngineHealth } from '@acefleet/contracts';
import { collectEvents, putEngineRecord, readyEngine, waitFor } from '@acefleet/testkit';
import { healthSnapshot, meanProbeGap, startMonitorWorld, type MonitorWorld } from './helpers.ts';

const INTERVAL_MS = 500;
// Longer than the interval: a wedged engine's probe spans several ticks, which must not hold up the others.
const PROBE_TIMEOUT_MS = 1200;

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
  const before = await healthSnapshot(world.monitor.url);

  const verdict = await waitFor(
    () =>
      health.events.find((e) => e.data.engineId === 'engine-0' && e.data.status === 'unhealthy')?.data ??
      false,
    30_000,
  );
  // Watch the healthy engines for at least ten probes each while engine-0 stays wedged.
  const healthy = ['engine-1', 'engine-2'];
  const after = await waitFor(async () => {
    const snap = await healthSnapshot(world.monitor.url);
    return healthy.every((id) => (snap.engines[id]?.probes ?? 0) - (before.engines[id]?.probes ?? 0) >= 10)
      ? snap
      : false;
  }, 60_000);
  await health.stop();

  t.is(verdict.consecutiveFailures, 3);
  t.is(verdict.previous, 'healthy');
  t.regex(verdict.detail, /no answer in 1200 ms/);
  const verdictAfterMs = Date.parse(verdict.at) - wedgedAt;
  t.log(`unhealthy verdict ${verdictAfterMs} ms after the wedge`);
  // Three probes that each waited out the whole timeout, the first starting at the next tick at the latest.
  t.true(verdictAfterMs >= 2 * INTERVAL_MS + PROBE_TIMEOUT_MS, `verdict after ${verdictAfterMs} ms`);
  t.is(
    health.events.filter((e) => e.data.engineId !== 'engine-0' && e.data.status === 'unhealthy').length,
    0,
    'no healthy engine was blamed',
  );

  for (const id of healthy) {
    const { gaps, meanMs } = meanProbeGap(before, after, id);
    t.log(`${id}: ${gaps} probes while engine-0 was wedged, one every ${meanMs.toFixed(0)} ms`);
    // Held up by the wedged probe, a healthy engine would be probed once per PROBE_TIMEOUT_MS (1200 ms)
    // at best; on its own cadence, every INTERVAL_MS (500 ms) plus whatever a loaded machine adds.
    t.true(
      meanMs >= INTERVAL_MS * 0.9,
      `${id} probed every ${meanMs.toFixed(0)} ms: faster than its cadence`,
    );
    t.true(
      meanMs < 2 * INTERVAL_MS,
      `${id} probed every ${meanMs.toFixed(0)} ms: held up by the wedged engine`,
    );
  }
  t.is(after.engines['engine-0']?.status, 'unhealthy');
  t.is(after.engines['engine-1']?.status, 'healthy');
});
