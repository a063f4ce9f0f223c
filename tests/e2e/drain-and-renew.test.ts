import test from 'ava';
import { Subjects, type ListReply } from '@acefleet/contracts';
import { Player, startStack, waitFor, type Stack } from '@acefleet/testkit';

async function request<T>(stack: Stack, subject: string, body: unknown): Promise<T> {
  const nc = await stack.nats.connect();
  try {
    return (await nc.request(subject, JSON.stringify(body), { timeout: 10_000 })).json<T>();
  } finally {
    await nc.close();
  }
}

const engines = async (stack: Stack): Promise<ListReply['engines']> =>
  (await request<ListReply>(stack, Subjects.engineList, {})).engines;

test.serial(
  'proxy - a drained engine: players move to another engine without losing their connection',
  async (t) => {
    t.timeout(90_000);
    const stack = await startStack({ env: { manager: { MIN_REPLICAS: '2' } } });
    t.teardown(() => stack.stop());
    await waitFor(async () => (await engines(stack)).filter((e) => e.state === 'ready').length === 2, 30_000);
    const players = await Promise.all(
      [0, 1].map(() => Player.open(`${stack.proxyUrl()}/ace/getstream?id=${'d'.repeat(40)}`, 0)),
    );
    await waitFor(() => players.every((p) => p.bytes > 100_000), 20_000);
    const playing = (await engines(stack)).find((e) => e.claims.length > 0)!;
    await request(stack, Subjects.engineDrain, { engineId: playing.id, deadlineMs: 20_000 });
    const before = players.map((p) => p.bytes);
    await waitFor(async () => {
      const now = await engines(stack);
      return (
        now.some((e) => e.id !== playing.id && e.claims.length > 0) && !now.some((e) => e.id === playing.id)
      );
    }, 30_000);
    await waitFor(() => players.every((p, i) => p.bytes > before[i]! + 200_000), 10_000);
    t.true(
      players.every((p) => !p.ended),
      'players kept their connections',
    );
    players.forEach((p) => p.close());
  },
);

const CLAIM_TTL_MS = 3000;

test.serial('proxy - claims of a playing stream are renewed and outlive the lease TTL', async (t) => {
  t.timeout(60_000);
  const stack = await startStack({
    env: { manager: { CLAIM_TTL_MS: String(CLAIM_TTL_MS) }, proxy: { RENEW_INTERVAL_MS: '1000' } },
  });
  t.teardown(() => stack.stop());
  const p = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${'e'.repeat(40)}`, 0);
  await waitFor(() => p.bytes > 50_000, 20_000);
  const [claim, ...others] = (await engines(stack)).flatMap((e) => e.claims);
  t.truthy(claim);
  t.is(others.length, 0);
  // The same claim, renewed at a time when it would long have expired without renewals.
  const outlived = Date.parse(claim!.claimedAt) + 2 * CLAIM_TTL_MS;
  const renewed = await waitFor(async () => {
    const now = (await engines(stack)).flatMap((e) => e.claims).find((c) => c.claimId === claim!.claimId);
    if (!now) throw new Error('the claim is gone');
    return Date.parse(now.renewedAt ?? now.claimedAt) > outlived ? now : false;
  }, 30_000);
  t.log(
    `claim renewed ${Date.parse(renewed.renewedAt!) - Date.parse(claim!.claimedAt)} ms after it was made`,
  );
  p.close();
});
