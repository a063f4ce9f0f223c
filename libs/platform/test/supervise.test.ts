import test from 'ava';
import { getEventListeners } from 'node:events';
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
  const task = supervise(
    'forever',
    log,
    async (signal) => {
      runs++;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      ended = true;
      // A loop that fails as it is stopped: with a 1 ms backoff, a supervisor that restarted it would have.
      throw new Error('stopped');
    },
    { minBackoffMs: 1 },
  );
  await waitFor(() => runs === 1, 5000);
  // stop() resolves once the supervisor itself has ended: nothing is left that could start another run.
  await task.stop();
  t.true(ended);
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

// Soak finding: every run got the task's one signal, so each run's abort listener (closing its subscription)
// stayed on it after the run ended, holding that closed subscription for the life of the task.
test("supervise - a run's abort listeners end with the run", async (t) => {
  const signals: AbortSignal[] = [];
  const task = supervise(
    'resubscribing',
    log,
    async (signal) => {
      signals.push(signal);
      signal.addEventListener('abort', () => {}, { once: true });
      if (signals.length < 3) throw new Error('subscription reset');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
    { minBackoffMs: 1 },
  );
  await waitFor(() => signals.length === 3, 5000);
  t.is(
    getEventListeners(signals[2]!, 'abort').length,
    2,
    "the running run's own two, none of the ended ones'",
  );
  await task.stop();
  t.true(signals[2]!.aborted, 'stop() aborts the running one');
});
