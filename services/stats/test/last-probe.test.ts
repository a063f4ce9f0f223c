import test from 'ava';
import { startStack, waitFor } from '@acefleet/testkit';

// Issue 21: the dashboard's "Last probe" column showed the last verdict change, not the last probe: an engine
// healthy for a month showed a probe a month old.

interface EngineView {
  id: string;
  health: { status: string; at: string } | null;
  lastProbe: { at: string; ok: boolean } | null;
}

test('stats - every probe moves an engine’s last probe time, verdict changed or not', async (t) => {
  t.timeout(120_000);
  const stack = await startStack({
    services: ['manager', 'monitor', 'stats'],
    env: { manager: { MIN_REPLICAS: '1' } },
  });
  t.teardown(() => stack.stop());
  const engines = async (): Promise<EngineView[]> =>
    ((await (await fetch(`${stack.services.stats!.url}/api/engines`)).json()) as { engines: EngineView[] })
      .engines;
  const first = await waitFor(async () => {
    const [e] = await engines();
    return e?.lastProbe?.ok && e.health?.status === 'healthy' ? e : false;
  }, 60_000);
  // The monitor probes every second here (HEALTH_INTERVAL_MS 1000): later probes, the same verdict.
  const later = await waitFor(async () => {
    const e = (await engines()).find((x) => x.id === first.id);
    return e?.lastProbe && Date.parse(e.lastProbe.at) >= Date.parse(first.lastProbe!.at) + 2000 ? e : false;
  }, 30_000);
  t.is(later.health?.at, first.health?.at, 'no verdict changed');
  t.true(later.lastProbe!.ok);
});
