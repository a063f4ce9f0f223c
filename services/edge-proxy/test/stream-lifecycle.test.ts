import test from 'ava';
import {
  canMove,
  IllegalMoveError,
  mayRetry,
  move,
  StreamStates,
  whenEmpty,
  type LossContext,
  type StreamState,
} from '../src/session/stream-lifecycle.ts';

// Pure logic: the table and the decisions the stream (stream.ts) acts on. The real-parts tests (failover,
// linger, start-retry, bad-media, control-link) drive the same machine through a proxy and a simulator.

const states = Object.values(StreamStates);
const allowed: [StreamState, StreamState][] = [
  ['starting', 'playing'],
  ['starting', 'ended'],
  ['playing', 'moving'],
  ['playing', 'lingering'],
  ['playing', 'ended'],
  ['moving', 'playing'],
  ['moving', 'ended'],
  ['lingering', 'playing'],
  ['lingering', 'ended'],
];

test('lifecycle - exactly the moves of the table are allowed', (t) => {
  for (const from of states) {
    for (const to of states) {
      const expected = allowed.some(([f, x]) => f === from && x === to);
      t.is(canMove(from, to), expected, `${from} → ${to}`);
    }
  }
});

test('lifecycle - ended is final and a forbidden move throws naming both states', (t) => {
  for (const to of states) t.false(canMove('ended', to));
  const err = t.throws(() => move('starting', 'lingering'), { instanceOf: IllegalMoveError });
  t.is(err?.from, 'starting');
  t.is(err?.to, 'lingering');
  t.is(move('lingering', 'playing'), 'playing');
});

test('lifecycle - a stream reaches ended from every live state', (t) => {
  for (const from of states.filter((s) => s !== 'ended')) t.true(canMove(from, 'ended'), from);
});

const starting: LossContext = {
  state: 'starting',
  contentUnavailable: false,
  engineFailed: true,
  waiters: 1,
  viewers: 0,
  startRetriesUsed: 0,
  startRetries: 2,
  waitedMs: 1000,
  startPatienceMs: 30_000,
  recoverLeftMs: 0,
};

test('lifecycle - a failed start is retried while an engine failed it, players wait and retries and patience last', (t) => {
  t.true(mayRetry(starting));
  t.false(mayRetry({ ...starting, engineFailed: false }), 'no engine could be had: asking again only waits');
  t.false(mayRetry({ ...starting, waiters: 0 }), 'nobody waits');
  t.false(mayRetry({ ...starting, startRetriesUsed: 2 }), 'retries used up');
  t.false(mayRetry({ ...starting, waitedMs: 30_000 }), 'patience over');
  t.false(mayRetry({ ...starting, contentUnavailable: true }), 'no engine has the content');
});

test('lifecycle - a moving stream fails over while it has players and time left', (t) => {
  const moving: LossContext = {
    ...starting,
    state: 'moving',
    waiters: 0,
    viewers: 3,
    recoverLeftMs: 5000,
  };
  t.true(mayRetry(moving));
  t.false(mayRetry({ ...moving, viewers: 0 }), 'nobody watches');
  t.false(mayRetry({ ...moving, recoverLeftMs: 0 }), 'failover deadline passed');
  t.false(mayRetry({ ...moving, contentUnavailable: true }));
  t.false(mayRetry({ ...moving, state: 'lingering' }), 'a lingering stream that loses its engine ends');
});

test('lifecycle - when the last player goes, a playing stream lingers, a start stops and linger off ends', (t) => {
  t.is(whenEmpty('playing', 30_000), 'linger');
  t.is(whenEmpty('playing', 0), 'end');
  t.is(whenEmpty('starting', 30_000), 'end');
  t.is(whenEmpty('moving', 30_000), 'stay', 'decided when bytes flow again');
  t.is(whenEmpty('moving', 0), 'end');
  t.is(whenEmpty('lingering', 30_000), 'stay');
  t.is(whenEmpty('ended', 30_000), 'stay');
});
