import test from 'ava';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  ENGINES_BUCKET,
  EngineRecord,
  Subjects,
  decodeMessage,
  type EngineHealth,
} from '@acefleet/contracts';
import { collectEvents, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { healthSnapshot, meanProbeGap } from './helpers.ts';

const INTERVAL_MS = 1000;

let stack: Stack;
let nc: NatsConnection;
test.before(async () => {
  stack = await startStack({
    services: ['manager', 'monitor'],
    env: {
      manager: { MIN_REPLICAS: '2', UNHEALTHY_REPLACE_COOLDOWN_MS: '0' },
      monitor: { HEALTH_INTERVAL_MS: String(INTERVAL_MS), PROBE_TIMEOUT_MS: '500' },
    },
  });
  nc = await stack.nats.connect();
});
test.after.always(async () => {
  await nc?.close();
  await stack?.stop();
});

async function engines(): Promise<EngineRecord[]> {
  const kv = await new Kvm(nc).open(ENGINES_BUCKET);
  const out: EngineRecord[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') out.push(decodeMessage(EngineRecord, entry.value, 'engine record'));
  }
  return out;
}

test('stack - a wedged engine is marked unhealthy by health-monitor and replaced by engine-manager', async (t) => {
  const [wedged, other] = await waitFor(async () => {
    const ready = (await engines()).filter((e) => e.state === 'ready');
    return ready.length >= 2 ? ready : false;
  }, 60_000);
  const health = await collectEvents<EngineHealth>(nc, Subjects.engineHealth);
  await fetch(`${wedged!.baseUrl}/__sim/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hangHealth: true }),
  });

  const before = await healthSnapshot(stack.services.monitor!.url);
  const verdict = await waitFor(
    () =>
      health.events.find((e) => e.data.engineId === wedged!.id && e.data.status === 'unhealthy')?.data ??
      false,
    30_000,
  );
  t.is(verdict.consecutiveFailures, 3);
  t.false(health.events.some((e) => e.data.engineId === other!.id && e.data.status === 'unhealthy'));
  const probedSince = await waitFor(async () => {
    const snap = await healthSnapshot(stack.services.monitor!.url);
    return (snap.engines[other!.id]?.probes ?? 0) - (before.engines[other!.id]?.probes ?? 0) >= 3
      ? snap
      : false;
  }, 30_000);
  const { gaps, meanMs } = meanProbeGap(before, probedSince, other!.id);
  t.log(`healthy engine: ${gaps} probes since the other was wedged, one every ${meanMs.toFixed(0)} ms`);
  // On its own cadence; a loaded machine may add to it, never halve or double it.
  t.true(meanMs >= INTERVAL_MS * 0.9 && meanMs < 2 * INTERVAL_MS, `one probe every ${meanMs.toFixed(0)} ms`);

  // engine-manager consumes the verdict: the wedged engine leaves service and a healthy one takes its place.
  const after = await waitFor(
    async () => {
      const all = await engines();
      const stillServing = all.some((e) => e.id === wedged!.id && e.state === 'ready');
      const ready = all.filter((e) => e.state === 'ready' && e.id !== wedged!.id);
      return !stillServing && ready.length >= 2 ? all : false;
    },
    60_000,
    250,
  );
  t.log(`engines after replacement: ${after.map((e) => `${e.id}=${e.state}`).join(', ')}`);
  await health.stop();
});
