import test from 'ava';
import { judge } from '../../bench/soak/report.ts';

// The soak's verdict on memory (issue 21): a process the soak restarts is judged by its longest lifetime,
// never by a line fitted across its restarts.

/** Samples every 15 s from `from` to `to` seconds of one process lifetime, its RSS given by `rss(t)`. */
const lifetime = (pid: number, from: number, to: number, rss: (t: number) => number) =>
  Array.from({ length: Math.floor((to - from) / 15) + 1 }, (_, i) => {
    const t = from + i * 15;
    return { t, pid, rssMb: rss(t), fds: 30 + (i % 2) };
  });
const wobble = (t: number): number => Math.sin(t / 40) * 0.5;

test('soak judge - a process never restarted is judged over the run after its first quarter', (t) => {
  const flat = judge(
    lifetime(1, 0, 3600, (x) => 80 + wobble(x)),
    900,
  );
  t.is(flat.lifetime, undefined);
  t.true(flat.rss.flat && flat.fds.flat);
  const leaking = judge(
    lifetime(1, 0, 3600, (x) => 80 + x / 60),
    900,
  );
  t.false(leaking.rss.flat, `+${leaking.rss.growth.toFixed(1)} MiB over 45 min is growth`);
});

test('soak judge - restarts are not growth: a flat longest lifetime passes, a growing one fails', (t) => {
  // Each restart starts at 20 MiB and levels at 40 within 3 minutes: fitted across lifetimes, that would slope.
  const levels = (from: number) => (x: number) => 20 + Math.min(20, (x - from) / 9) + wobble(x);
  const restarted = [
    ...lifetime(1, 0, 600, levels(0)),
    ...lifetime(2, 615, 3000, levels(615)),
    ...lifetime(3, 3015, 3600, levels(3015)),
  ];
  const judged = judge(restarted, 900);
  t.deepEqual(judged.lifetime, { count: 3, minutes: (3000 - 615) / 60 });
  t.false(judged.tooShort);
  t.true(judged.rss.flat, `growth ${judged.rss.growth.toFixed(1)} MiB`);
  const leaking = judge(
    [...lifetime(1, 0, 600, levels(0)), ...lifetime(2, 615, 3600, (x) => 30 + (x - 615) / 60)],
    900,
  );
  t.false(leaking.rss.flat, 'a lifetime that keeps growing after its warm-up grows');
});

test('soak judge - lifetimes too short to judge say so', (t) => {
  const judged = judge([...lifetime(1, 0, 120, () => 40), ...lifetime(2, 135, 240, () => 40)], 60);
  t.true(judged.tooShort);
});
