import test from 'ava';
import type { EngineState } from '@acefleet/contracts';
import { readyEngine } from '@acefleet/testkit';
import { assertEntry, canMove, IllegalEngineMove, moved } from '../../src/lifecycle/transitions.ts';

const AT = '2026-01-01T00:00:00.000Z';
const engineIn = (state: EngineState) => ({ ...readyEngine('e1', 'http://127.0.0.1:1/e1'), state });

test('lifecycle - provisioning leads to ready, ready to draining, anything to removed', (t) => {
  t.true(canMove('starting', 'ready'));
  t.true(canMove('ready', 'draining'));
  t.true(canMove('unhealthy', 'ready'));
  for (const from of ['starting', 'ready', 'unhealthy', 'draining'] as const)
    t.true(canMove(from, 'removed'));
});

test('lifecycle - nothing brings a draining engine back, and nothing goes back to provisioning', (t) => {
  for (const to of ['ready', 'unhealthy', 'starting'] as const) t.false(canMove('draining', to));
  for (const from of ['ready', 'unhealthy'] as const) t.false(canMove(from, 'starting'));
  const err = t.throws(() => moved(engineIn('draining'), { to: 'ready', from: ['draining'] }), {
    instanceOf: IllegalEngineMove,
  });
  t.is(err?.from, 'draining');
  t.is(err?.to, 'ready');
});

test('lifecycle - an illegal request throws even while the record is in another state', (t) => {
  t.throws(() => moved(engineIn('ready'), { to: 'ready', from: ['unhealthy', 'draining'] }), {
    instanceOf: IllegalEngineMove,
  });
});

test('lifecycle - a record that moved on meanwhile is left alone', (t) => {
  t.is(moved(engineIn('draining'), { to: 'unhealthy', from: ['ready', 'starting'] }), undefined);
  t.is(moved(engineIn('ready'), { to: 'draining', from: ['ready'], when: () => false }), undefined);
});

test('lifecycle - draining keeps its reason and deadline, ready clears them', (t) => {
  const draining = moved(engineIn('ready'), {
    to: 'draining',
    from: ['ready'],
    reason: 'admin',
    drainDeadline: AT,
  });
  t.like(draining, { state: 'draining', stateReason: 'admin', drainDeadline: AT });
  const sick = moved(engineIn('ready'), { to: 'unhealthy', from: ['ready'], reason: 'x'.repeat(300) });
  t.is(sick?.stateReason?.length, 200);
  const back = moved(sick!, { to: 'ready', from: ['unhealthy'] });
  t.is(back?.state, 'ready');
  t.false(back && 'stateReason' in back);
});

test('lifecycle - records are created provisioning, or adopted ready or unhealthy, never draining', (t) => {
  for (const state of ['starting', 'ready', 'unhealthy'] as const)
    t.notThrows(() => assertEntry(engineIn(state)));
  t.throws(() => assertEntry(engineIn('draining')), { instanceOf: IllegalEngineMove });
});
