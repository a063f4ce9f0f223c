import test from 'ava';
import { RestartPolicy, type RestartRules } from '../../scripts/lib/supervisor.ts';

// npm start supervises its processes (issue 22: a kill -9 of one service stopped the whole stack).

const rules: RestartRules = {
  firstDelayMs: 1000,
  maxDelayMs: 8000,
  stableAfterMs: 60_000,
  maxDeaths: 5,
  withinMs: 120_000,
};

test('restart - a died process is started again after a backoff that doubles up to its maximum', (t) => {
  const policy = new RestartPolicy({ ...rules, maxDeaths: 100 });
  const delays = [0, 1, 2, 3, 4, 5].map((i) => policy.died(i * 10, i * 10 - 1, null));
  t.deepEqual(
    delays,
    [1000, 2000, 4000, 8000, 8000, 8000].map((restartInMs) => ({ restartInMs })),
  );
});

test('restart - a process that stayed up long enough starts the backoff afresh', (t) => {
  const policy = new RestartPolicy(rules);
  t.deepEqual(policy.died(1000, 0, 1), { restartInMs: 1000 });
  t.deepEqual(policy.died(3000, 2000, 1), { restartInMs: 2000 });
  t.deepEqual(policy.died(200_000, 100_000, null), { restartInMs: 1000 }, 'up 100 s: well again');
});

test('restart - a process that keeps dying stops the stack, as does a bad configuration at once', (t) => {
  const policy = new RestartPolicy(rules);
  for (let i = 0; i < 4; i++) t.true('restartInMs' in policy.died(i * 1000, i * 1000 - 10, 1));
  const last = policy.died(5000, 4990, 1);
  t.true('giveUp' in last && /died 5 times within 120 s/.test(last.giveUp), JSON.stringify(last));
  const spread = new RestartPolicy(rules);
  for (let i = 0; i < 10; i++)
    t.true('restartInMs' in spread.died(i * 60_000, i * 60_000 - 10, 1), 'deaths spread over time');
  t.deepEqual(new RestartPolicy(rules).died(10, 0, 2), {
    giveUp: 'its configuration is invalid (exit code 2)',
  });
});
