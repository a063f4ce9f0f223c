import test from 'ava';
import { EngineCooldown } from '../src/engines/engine-cooldown.ts';

// Pure logic with a fake clock; engine-cooldown.test.ts drives the same rules through a real proxy.

function withClock(cooldownMs: number): { cooldown: EngineCooldown; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { cooldown: new EngineCooldown(cooldownMs, () => now), advance: (ms) => (now += ms) };
}

const nothing: ReadonlySet<string> = new Set();

test('cooldown - a failed engine is avoided until its cool-down has passed', (t) => {
  const { cooldown, advance } = withClock(30_000);
  t.true(cooldown.failed('engine-a', 'engine_error'));
  t.deepEqual([...cooldown.excluding(nothing)], ['engine-a']);
  advance(29_999);
  t.true(cooldown.excluding(nothing).has('engine-a'));
  advance(1);
  t.false(cooldown.excluding(nothing).has('engine-a'));
});

test('cooldown - a new failure restarts the cool-down', (t) => {
  const { cooldown, advance } = withClock(10_000);
  cooldown.failed('engine-a', 'empty_timeout');
  advance(8000);
  cooldown.failed('engine-a', 'engine_eof');
  advance(8000);
  t.true(cooldown.excluding(nothing).has('engine-a'));
});

test('cooldown - a content the network lacks does not cool the engine down', (t) => {
  const { cooldown } = withClock(30_000);
  t.false(cooldown.failed('engine-a', 'content_unavailable'));
  t.is(cooldown.excluding(nothing).size, 0);
});

test('cooldown - a cool-down of 0 turns failure avoidance off', (t) => {
  const { cooldown } = withClock(0);
  t.false(cooldown.failed('engine-a', 'bad_media'));
  t.false(cooldown.excluding(nothing).has('engine-a'));
});

test('cooldown - an unhealthy engine is avoided, however long, until reported healthy', (t) => {
  const { cooldown, advance } = withClock(30_000);
  cooldown.healthVerdict('engine-b', false);
  advance(3_600_000);
  t.true(cooldown.excluding(nothing).has('engine-b'));
  cooldown.healthVerdict('engine-b', true);
  t.false(cooldown.excluding(nothing).has('engine-b'));
});

test("cooldown - the caller's exclusions are kept and not modified", (t) => {
  const { cooldown } = withClock(30_000);
  const exclude = new Set(['engine-x']);
  t.is(cooldown.excluding(exclude), exclude, 'nothing to add: the same set');
  cooldown.failed('engine-a', 'first_byte_timeout');
  cooldown.healthVerdict('engine-b', false);
  t.deepEqual([...cooldown.excluding(exclude)].sort(), ['engine-a', 'engine-b', 'engine-x']);
  t.deepEqual([...exclude], ['engine-x']);
});
