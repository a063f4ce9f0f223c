import test from 'ava';
import type { Logger } from '@acefleet/platform';
import { Reconciler } from '../../src/lifecycle/reconciler.ts';
import type { Drainer } from '../../src/lifecycle/drainer.ts';
import type { Provisioner } from '../../src/lifecycle/provisioner.ts';
import type { EngineRegistry } from '../../src/lifecycle/registry.ts';
import type { CircuitBreaker } from '../../src/runtime/breaker.ts';
import type { EngineRuntime, RunningEngine } from '../../src/runtime/runtime.ts';

/**
 * Pure logic with stand-ins: a pass that lists a container the provisioner is still bringing up, at the moment
 * between its creation and its start (Docker lists it as not running), must leave it alone.
 */
function reconcilerWith(
  listed: RunningEngine,
  bringingUp: boolean,
): { reconciler: Reconciler; removed: string[] } {
  const removed: string[] = [];
  const provisioner = {
    isBringingUp: () => bringingUp,
    ours: () => [],
    remove: (c: { engineId: string }, reason: string) => {
      removed.push(`${c.engineId}: ${reason}`);
      return Promise.resolve();
    },
  } as unknown as Provisioner;
  const runtime = { list: () => Promise.resolve([listed]) } as unknown as EngineRuntime;
  const registry = { table: { get: () => undefined } } as unknown as EngineRegistry;
  const breaker = { run: <T>(fn: () => Promise<T>) => fn() } as unknown as CircuitBreaker;
  const log = { info: () => {}, warn: () => {} } as unknown as Logger;
  const reconciler = new Reconciler(
    registry,
    runtime,
    provisioner,
    {} as Drainer,
    breaker,
    { hostId: 'h1', capacity: 2 },
    log,
    () => Promise.resolve(),
  );
  return { reconciler, removed };
}

const created: RunningEngine = {
  engineId: 'h1-new',
  containerId: 'c1',
  httpPort: 20_000,
  p2pPort: 10_000,
  running: false,
  current: true,
};

test('reconciler - a container the provisioner is bringing up is not taken for dead before it started', async (t) => {
  const { reconciler, removed } = reconcilerWith(created, true);
  await reconciler.reconcile();
  t.deepEqual(removed, []);
});

test('reconciler - a dead container nobody is bringing up is removed', async (t) => {
  const { reconciler, removed } = reconcilerWith(created, false);
  await reconciler.reconcile();
  t.deepEqual(removed, ['h1-new: container dead']);
});
