import test from 'ava';
import { proxyCallSubject, Subjects, type AcquireRequest, type ListReply } from '@acefleet/contracts';
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

test.serial(
  'proxy - an HLS-only channel whose claim the manager lost is claimed again (issue 19)',
  async (t) => {
    t.timeout(90_000);
    // Renewals come after the claim has expired: the manager answers `lost`, and the proxy claims again.
    const stack = await startStack({
      env: { manager: { CLAIM_TTL_MS: '2000' }, proxy: { RENEW_INTERVAL_MS: '5000' } },
    });
    t.teardown(() => stack.stop());
    const nc = await stack.nats.connect();
    t.teardown(() => nc.close());
    const acquires: AcquireRequest[] = [];
    // A plain subscriber sees every acquire the proxy sends, beside the manager's queue group.
    nc.subscribe(proxyCallSubject('acquire', '*'), {
      callback: (_err, msg) => void acquires.push(msg.json<AcquireRequest>()),
    });
    const manifest = `${stack.proxyUrl()}/ace/manifest.m3u8?id=${'f'.repeat(40)}`;
    /** The stream id the playlist names (its segments are under /ace/hls/<stream id>/). */
    const poll = async (): Promise<string | undefined> => {
      const res = await fetch(manifest, { signal: AbortSignal.timeout(30_000) });
      return res.ok ? /\/ace\/hls\/([^/]+)\//.exec(await res.text())?.[1] : undefined;
    };
    const streamId = await poll();
    t.truthy(streamId);
    const claimsNow = async (): Promise<string[]> =>
      (await engines(stack)).flatMap((e) => e.claims.map((c) => c.claimId));
    const engineOf = async (claimId: string): Promise<string | undefined> =>
      (await engines(stack)).find((e) => e.claims.some((c) => c.claimId === claimId))?.id;
    const first = await waitFor(async () => (await poll()) && (await claimsNow())[0], 20_000, 500);
    const playedOn = await engineOf(first);
    const again = await waitFor(
      async () => {
        if ((await poll()) !== streamId) throw new Error('the HLS stream failed or started again');
        const claims = await claimsNow();
        return claims.length === 1 && claims[0] !== first ? claims[0] : false;
      },
      40_000,
      1000,
    );
    t.not(again, first, 'a new claim holds the engine for the HLS player');
    t.is(await poll(), streamId, 'the same stream plays on');
    const reclaim = acquires.find((a) => a.preferEngineId !== undefined);
    t.is(reclaim?.preferEngineId, playedOn, 'the re-claim asked for the engine the stream plays from');
    t.is(await engineOf(again), playedOn, 'and got it: the stream did not move');
  },
);
