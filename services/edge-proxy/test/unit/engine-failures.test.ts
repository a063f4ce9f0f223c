import test from 'ava';
import { EngineFailures, FAILURE_MEMORY_MS } from '../../src/session/engine-failures.ts';
import type { EngineFailure } from '../../src/engines/engine-source.ts';

test('engine failures - an engine that failed a stream is excluded for it, then forgotten', (t) => {
  let now = 1_000_000;
  const reported: EngineFailure[] = [];
  const failures = new EngineFailures(
    (f) => reported.push(f),
    () => now,
  );
  failures.record('a', 'engine_eof');
  now += FAILURE_MEMORY_MS / 2;
  failures.record('b', 'empty_timeout');
  t.deepEqual([...failures.excluded].sort(), ['a', 'b']);
  t.deepEqual(failures.last, { engineId: 'b', reason: 'empty_timeout' });
  now += FAILURE_MEMORY_MS / 2 + 1;
  t.deepEqual([...failures.excluded], ['b'], 'a failed longer ago than the memory: it may be tried again');
  now += FAILURE_MEMORY_MS;
  t.deepEqual([...failures.excluded], []);
  t.is(reported.length, 2, 'each failure reported to the proxy-wide cool-down');
});
