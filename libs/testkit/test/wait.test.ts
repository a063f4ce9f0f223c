import test from 'ava';
import { waitFor } from '@acefleet/testkit';

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
