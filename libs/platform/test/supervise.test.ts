import test from 'ava';
import { createLogger, supervise } from '@acefleet/platform';
import { waitFor } from '@acefleet/testkit';

const log = createLogger('supervise-test', 'silent');

test('supervise - a loop that throws is run again after its backoff', async (t) => {
  let runs = 0;
  const task = supervise(
    'flaky',
    log,
    async () => {
      runs++;
      if (runs < 3) throw new Error(`failure ${runs}`);
    },
    { minBackoffMs: 10, maxBackoffMs: 40 },
  );
  await waitFor(() => runs === 3, 5000);
  await task.stop();
  t.is(runs, 3, 'a run that returns is not restarted');
});

test('supervise - stop() aborts the running loop and waits for it to end; no restart follows', async (t) => {
  let runs = 0;
  let ended = false;
  const task = supervise('forever', log, async (signal) => {
    runs++;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    ended = true;
  });
  await waitFor(() => runs === 1, 5000);
  await task.stop();
  t.true(ended);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(runs, 1);
});

test('supervise - stop() during the pause after a failure ends the task without another run', async (t) => {
  let runs = 0;
  const task = supervise(
    'failing',
    log,
    async () => {
      runs++;
      throw new Error('always');
    },
    { minBackoffMs: 60_000 },
  );
  await waitFor(() => runs === 1, 5000);
  const stoppedAt = Date.now();
  await task.stop();
  t.true(Date.now() - stoppedAt < 1000, 'stop does not wait out the backoff');
  t.is(runs, 1);
});
