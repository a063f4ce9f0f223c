import test from 'ava';
import { FlushClock, type Flushable } from '../../src/fanout/flush-clock.ts';
import { ScriptedLoop } from './scripted-loop.ts';

/** A stream whose flush costs `costMs` of the loop's time; it logs when, and in which turn, it was flushed. */
function stream(loop: ScriptedLoop, log: string[], name: string, costMs = 0): Flushable {
  return {
    flush: (now) => {
      log.push(`${name}@${now}#${loop.turns}`);
      loop.time += costMs;
      return true;
    },
  };
}

const WINDOW_MS = 100;

test('flush clock - a round that outlasts the slice is split into turns, every due stream served once', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const streams = Array.from({ length: 20 }, (_, i) => stream(loop, log, `s${i}`, 3));
  for (const s of streams) clock.mark(s);
  loop.run();
  t.is(log.length, 20, 'each stream flushed exactly once');
  t.deepEqual(
    log.map((l) => l.split('@')[0]),
    streams.map((_, i) => `s${i}`),
    'in the order they were marked',
  );
  // 3 ms each against a 10 ms slice: 4 streams per turn (0, 3, 6, 9 ms), so 20 streams take 5 turns.
  const turnOf = log.map((l) => Number(l.split('#')[1]));
  t.deepEqual([...new Set(turnOf)], [0, 1, 2, 3, 4]);
  for (const turn of [0, 1, 2, 3, 4]) t.is(turnOf.filter((x) => x === turn).length, 4);
});

test('flush clock - a stream slower than the slice still lets the round go on in the next turn', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  clock.mark(stream(loop, log, 'big', 50));
  clock.mark(stream(loop, log, 'small', 1));
  loop.run();
  t.deepEqual(log, ['big@0#0', 'small@50#1']);
});

test('flush clock - a stream marked again while it waits for its turn is flushed once in that round', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const late = stream(loop, log, 'late');
  const first: Flushable = {
    flush: (now) => {
      log.push(`first@${now}`);
      loop.time += 20;
      // New bytes for `late` arrive (between turns, in the proxy) before its turn comes.
      clock.mark(late);
      return true;
    },
  };
  clock.mark(first);
  clock.mark(late);
  loop.run();
  t.deepEqual(log, ['first@0', 'late@20#1'], 'no second round for bytes its own turn wrote');
});

test('flush clock - a stream marked after its turn waits for the next round, one window after this one began', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const a = stream(loop, log, 'a', 4);
  const b: Flushable = {
    flush: (now) => {
      log.push(`b@${now}`);
      loop.time += 4;
      clock.mark(a);
      return true;
    },
  };
  clock.mark(a);
  clock.mark(b);
  loop.run();
  t.deepEqual(log, ['a@0#0', 'b@4', 'a@100#0']);
});

test('flush clock - rounds keep their order across windows, so no stream is flushed twice while another waits', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  // Each stream gets new bytes as soon as it was flushed (a saturated proxy: each flush costs 5 ms).
  const streams = names.map((name) => {
    const s: Flushable = {
      flush: (now) => {
        log.push(`${name}@${now}`);
        loop.time += 5;
        clock.mark(s);
        return true;
      },
    };
    return s;
  });
  for (const s of streams) clock.mark(s);
  loop.run(350);
  clock.stop();
  loop.run();
  const order = log.map((l) => l.split('@')[0]);
  t.deepEqual(order, [...names, ...names, ...names, ...names], 'four rounds, each in the same order');
  const times = (name: string) =>
    log.filter((l) => l.startsWith(`${name}@`)).map((l) => Number(l.split('@')[1]));
  for (const name of names) {
    const at = times(name);
    const gaps = at.slice(1).map((x, i) => x - at[i]!);
    t.true(
      gaps.every((g) => g === WINDOW_MS),
      `${name} flushed once per window (${at.join(', ')})`,
    );
  }
});

test('flush clock - rounds that outlast the window follow each other at once', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const streams = Array.from({ length: 30 }, (_, i) => {
    const s: Flushable = {
      flush: (now) => {
        log.push(`s${i}@${now}`);
        loop.time += 5;
        clock.mark(s);
        return true;
      },
    };
    return s;
  });
  for (const s of streams) clock.mark(s);
  loop.run(400);
  clock.stop();
  // 30 × 5 ms = 150 ms a round against a 100 ms window: the next round starts as the last one ends.
  const firstOf = (round: number) => Number(log[round * 30]!.split('@')[1]);
  t.deepEqual([0, 1, 2].map(firstOf), [0, 150, 300]);
  t.is(log.filter((l) => l.startsWith('s29@')).length, 3, 'the last stream is served in every round');
});

test('flush clock - a forgotten stream is not flushed, even in the round under way', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const gone = stream(loop, log, 'gone');
  const first: Flushable = {
    flush: () => {
      log.push('first');
      loop.time += 20;
      clock.forget(gone);
      return true;
    },
  };
  clock.mark(first);
  clock.mark(gone);
  loop.run();
  t.deepEqual(log, ['first']);
});

test('flush clock - stopped during a round, the rest of the round is not flushed', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const first: Flushable = {
    flush: () => {
      log.push('first');
      // The proxy shuts down while writing.
      clock.stop();
      return true;
    },
  };
  clock.mark(first);
  clock.mark(stream(loop, log, 'second'));
  loop.run();
  t.deepEqual(log, ['first']);
});

/**
 * A stream of `players` players, each write costing `costMs`: it stops when its turn is spent and goes on
 * from there in its next call. It logs each call (`name#turn`, `+` when the call finished the stream).
 */
function manyPlayers(loop: ScriptedLoop, log: string[], name: string, players: number, costMs: number) {
  let next = 0;
  const served: number[] = [];
  const s: Flushable = {
    flush: (_now, timeUp) => {
      while (next < players) {
        loop.time += costMs;
        served.push(next++);
        if (timeUp()) break;
      }
      const done = next === players;
      if (done) next = 0;
      log.push(`${name}#${loop.turns}${done ? '+' : ''}`);
      return done;
    },
  };
  return { stream: s, served };
}

test('flush clock - a stream whose players outlast the slice is finished in the next turns, before the streams after it', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  // 10 players at 4 ms against a 10 ms slice: 3 a turn.
  const big = manyPlayers(loop, log, 'big', 10, 4);
  const later = stream(loop, log, 'later', 1);
  clock.mark(big.stream);
  clock.mark(stream(loop, log, 'after', 1));
  loop.beforeTurn = () => clock.mark(later);
  loop.run();
  t.deepEqual(log.slice(0, 5), ['big#0', 'big#1', 'big#2', 'big#3+', 'after@40#3']);
  t.deepEqual(big.served, [...Array(10).keys()], 'every player once, in order');
  t.deepEqual(log.slice(5), ['later@100#3'], 'a stream marked meanwhile waits for the next round');
  t.true(loop.longestTurnMs <= 12, `no turn held the loop past the slice (${loop.longestTurnMs} ms)`);
});

test('flush clock - a stream marked while its flush is under way is flushed once more, in the next round', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const big = manyPlayers(loop, log, 'big', 10, 4);
  clock.mark(big.stream);
  // New bytes arrive before every turn of the first round: players it served already lack them.
  loop.beforeTurn = () => {
    if (loop.time < WINDOW_MS) clock.mark(big.stream);
  };
  loop.run();
  t.deepEqual(log, ['big#0', 'big#1', 'big#2', 'big#3+', 'big#3', 'big#4', 'big#5', 'big#6+']);
  t.deepEqual(big.served, [...Array(10).keys(), ...Array(10).keys()], 'two whole flushes, none restarted');
});

test('flush clock - a stream forgotten during its flush is not flushed any further', (t) => {
  const loop = new ScriptedLoop();
  const clock = new FlushClock(() => WINDOW_MS, loop, 10);
  const log: string[] = [];
  const big = manyPlayers(loop, log, 'big', 10, 4);
  clock.mark(big.stream);
  clock.mark(stream(loop, log, 'next', 1));
  loop.beforeTurn = () => clock.forget(big.stream);
  loop.run();
  t.deepEqual(log, ['big#0', 'next@12#1']);
  t.is(big.served.length, 3);
});
