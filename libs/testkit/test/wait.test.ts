import test from 'ava';
import { explainTimeouts, startStack, waitFor } from '@acefleet/testkit';

test('waitFor - undefined is "not yet": a find that found nothing keeps it polling', async (t) => {
  const items: string[] = [];
  setTimeout(() => items.push('late'), 30);
  const found = await waitFor(() => items.find((i) => i === 'late'), 5000, 5);
  t.is(found, 'late');
});

test('waitFor - false and undefined until the deadline fail with the last error as cause', async (t) => {
  let calls = 0;
  const err = await t.throwsAsync(
    waitFor(
      () => {
        calls++;
        if (calls === 1) throw new Error('first look failed');
        return undefined;
      },
      40,
      5,
    ),
  );
  t.regex(err?.message ?? '', /not met in 40 ms/);
  t.is((err?.cause as Error | undefined)?.message, 'first look failed');
});

test('waitFor - null and 0 are values, returned at once', async (t) => {
  t.is(await waitFor(() => null, 1000), null);
  t.is(await waitFor(() => 0, 1000), 0);
});

test('waitFor - a timeout ends with what the registered explainers say, and only while they are registered', async (t) => {
  const unexplain = explainTimeouts(() => 'the fixture says: engine failed to start');
  const during = await t.throwsAsync(waitFor(() => false, 20, 5));
  t.regex(during?.message ?? '', /not met in 20 ms\nthe fixture says: engine failed to start$/);
  unexplain();
  const after = await t.throwsAsync(waitFor(() => false, 20, 5));
  t.is(after?.message, 'condition not met in 20 ms');
});

test('waitFor - while a stack runs, a timeout names its services and their last lines', async (t) => {
  const stack = await startStack({ services: ['manager'] });
  try {
    const err = await t.throwsAsync(waitFor(() => false, 20, 5));
    t.regex(
      err?.message ?? '',
      new RegExp(`stack ${stack.hostId} \\((docker|process)\\):\\n  manager-0 \\(running\\):\\n    \\{`),
    );
  } finally {
    await stack.stop();
  }
  const after = await t.throwsAsync(waitFor(() => false, 20, 5));
  t.notRegex(after?.message ?? '', new RegExp(stack.hostId));
});
