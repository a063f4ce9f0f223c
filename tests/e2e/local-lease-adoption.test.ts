import test, { type ExecutionContext } from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { EngineRecord, decodeMessage, type Claim } from '@acefleet/contracts';
import { openEnginesKv } from '@acefleet/platform';
import { Player, startStack, waitFor, type Stack } from '@acefleet/testkit';

// Regression for chaos finding 1 (bench/results/chaos.md, "claims missing 4" in every scenario): a stream the
// proxy placed by itself while the manager did not answer played on with no claim at the manager, for good,
// so the manager saw its engine freer than it was.

const PROXY_ID = 'proxy-adopting';
const LINGER_MS = 1500;
/** Adoption must follow within one renewal; the margin is for a loaded 2-core machine. */
const MARGIN_MS = 10_000;

/** A stack with one engine, whose manager is then stopped (SIGSTOP: it hangs, its engine plays on). */
async function stackWithHungManager(
  t: ExecutionContext,
  renewIntervalMs: number,
  proxyEnv: Record<string, string> = { ACQUIRE_TIMEOUT_MS: '3000' },
): Promise<Stack> {
  const stack = await startStack({
    services: ['manager', 'proxy'],
    env: {
      manager: { MIN_REPLICAS: '1', MAX_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '4' },
      proxy: {
        INSTANCE_ID: PROXY_ID,
        RENEW_INTERVAL_MS: String(renewIntervalMs),
        LINGER_MS: String(LINGER_MS),
        ...proxyEnv,
      },
    },
  });
  const manager = stack.services.manager!;
  t.teardown(async () => {
    manager.child.kill('SIGCONT');
    await stack.stop();
  });
  const nc = await stack.nats.connect();
  t.teardown(() => nc.close());
  await waitFor(async () => (await records(nc)).some((e) => e.state === 'ready'), 60_000);
  manager.child.kill('SIGSTOP');
  return stack;
}

/** The engine records as stored in the engines bucket. */
async function records(nc: NatsConnection): Promise<EngineRecord[]> {
  const kv = await openEnginesKv(nc);
  const out: EngineRecord[] = [];
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') out.push(decodeMessage(EngineRecord, entry.value, 'engine record'));
  }
  return out;
}

async function claimsOf(stack: Stack, contentId: string): Promise<Claim[]> {
  const nc = await stack.nats.connect();
  try {
    return (await records(nc)).flatMap((e) => e.claims).filter((c) => c.contentKey === `id:${contentId}`);
  } finally {
    await nc.close();
  }
}

/** Wait until the stream's only claim is the proxy's own lease, adopted; how long that took. */
async function adopted(stack: Stack, contentId: string, since: number, withinMs: number): Promise<number> {
  const [claim] = await waitFor(
    async () => {
      const claims = await claimsOf(stack, contentId);
      return claims.length === 1 ? claims : false;
    },
    withinMs,
    250,
  );
  if (claim?.proxyId !== PROXY_ID || !claim.claimId.startsWith('local-')) {
    throw new Error(`not the proxy's adopted lease: ${JSON.stringify(claim)}`);
  }
  return Date.now() - since;
}

test.serial(
  'proxy - a stream placed while the manager hung is adopted by it within a renewal, and released at its end',
  async (t) => {
    t.timeout(180_000);
    const renewIntervalMs = 3000;
    const stack = await stackWithHungManager(t, renewIntervalMs);
    const content = 'a1'.repeat(20);
    const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${content}`);
    t.deepEqual(await claimsOf(stack, content), [], 'placed by the proxy itself: no claim yet');

    const resumed = Date.now();
    stack.services.manager!.child.kill('SIGCONT');
    const ms = await adopted(stack, content, resumed, renewIntervalMs + MARGIN_MS);
    t.log(`adopted ${ms} ms after the manager resumed (renewal every ${renewIntervalMs} ms)`);
    t.true(p.bytes > 50_000 && !p.ended, 'the stream played on');

    p.close();
    const closed = Date.now();
    await waitFor(async () => (await claimsOf(stack, content)).length === 0, LINGER_MS + MARGIN_MS, 250);
    t.log(`claim released ${Date.now() - closed} ms after the player left (linger ${LINGER_MS} ms)`);
  },
);

test.serial(
  'proxy - the first acquire the manager answers again triggers adoption at once, not at the next renewal',
  async (t) => {
    t.timeout(180_000);
    const renewIntervalMs = 120_000;
    const stack = await stackWithHungManager(t, renewIntervalMs);
    const local = 'b1'.repeat(20);
    const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${local}`);

    stack.services.manager!.child.kill('SIGCONT');
    const q = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'b2'.repeat(20)}`);
    const answered = Date.now();
    const ms = await adopted(stack, local, answered, MARGIN_MS);
    t.log(`adopted ${ms} ms after the manager answered an acquire (renewal every ${renewIntervalMs} ms)`);
    t.true(ms < renewIntervalMs / 4);
    p.close();
    q.close();
  },
);

test.serial(
  'proxy - a hung manager costs ACQUIRE_FALLBACK_MS, not ACQUIRE_TIMEOUT_MS, and its late grant is given back',
  async (t) => {
    t.timeout(180_000);
    const acquireTimeoutMs = 20_000;
    const stack = await stackWithHungManager(t, 3000, {
      ACQUIRE_TIMEOUT_MS: String(acquireTimeoutMs),
      ACQUIRE_FALLBACK_MS: '2000',
    });
    const content = 'c1'.repeat(20);
    // The proxy sends its head and null packets while it waits: the first media packet is what counts.
    const p = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${content}`, 0);
    const firstMediaMs = await waitFor(() => p.timeToFirstMediaMs ?? false, acquireTimeoutMs);
    t.log(
      `first media ${Math.round(firstMediaMs)} ms after the request, the manager hung (fallback 2000 ms)`,
    );
    t.true(firstMediaMs < acquireTimeoutMs / 2, `${firstMediaMs} ms`);

    // Resumed inside the acquire's deadline, the manager grants the queued acquire: the proxy gives it back,
    // and the stream's one claim is its own lease, adopted.
    stack.services.manager!.child.kill('SIGCONT');
    const proxy = stack.services.proxy!;
    await waitFor(
      () => proxy.output().includes('engine granted after the proxy stopped waiting: releasing it'),
      MARGIN_MS,
    );
    await adopted(stack, content, Date.now(), MARGIN_MS);
    const claims = await waitFor(
      async () => {
        const held = await claimsOf(stack, content);
        return held.every((c) => c.claimId.startsWith('local-')) ? held : false;
      },
      MARGIN_MS,
      250,
    );
    t.is(claims.length, 1, 'the late grant was given back; the lease placed here is the one claim');
    p.close();
  },
);
