import test from 'ava';
import { Subjects, type EngineDraining, type ListReply } from '@acefleet/contracts';
import { collectEvents, Player, startStack, waitFor, type Stack } from '@acefleet/testkit';

// Issue 21: engines lived forever (Acexy turns unhealthy after a day) and there was no warm engine by
// default, so every channel beyond the busy engines waited for an engine to boot.

async function engines(stack: Stack): Promise<ListReply['engines']> {
  const nc = await stack.nats.connect();
  try {
    const reply = await nc.request(Subjects.engineList, '{}', { timeout: 10_000 });
    return reply.json<ListReply>().engines;
  } finally {
    await nc.close();
  }
}

const ready = async (stack: Stack) => (await engines(stack)).filter((e) => e.state === 'ready');

test.serial(
  'fresh engines - with one engine busy, a new channel plays its first byte within 1 s: the warm engine is there',
  async (t) => {
    t.timeout(120_000);
    const stack = await startStack({
      services: ['manager', 'proxy'],
      env: {
        manager: {
          MIN_REPLICAS: '1',
          MIN_FREE_REPLICAS: '1',
          MAX_STREAMS_PER_ENGINE: '1',
          // Engines take 3 s to answer, as a real container start does (more, with P2P warm-up): a channel
          // that had to wait for one could not play within 1 s.
          ENGINE_ENV: 'ACE_SIM_STARTUP_DELAY_MS=3000',
        },
      },
    });
    t.teardown(() => stack.stop());
    await waitFor(async () => (await ready(stack)).length >= 1, 60_000);
    const first = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'a1'.repeat(20)}`);
    t.teardown(() => first.close());
    // The busy engine is full (one stream an engine): the manager keeps another one warm beside it.
    await waitFor(async () => (await ready(stack)).some((e) => e.claims.length === 0), 60_000);
    const second = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${'b2'.repeat(20)}`, 0);
    t.teardown(() => second.close());
    await waitFor(() => second.timeToFirstMediaMs !== undefined, 20_000);
    t.log(`second channel's first media byte after ${second.timeToFirstMediaMs} ms`);
    t.true(second.timeToFirstMediaMs! <= 1000, `${second.timeToFirstMediaMs} ms`);
  },
);

test.serial(
  'fresh engines - with ENGINE_MAX_AGE_MS every engine is replaced while a channel plays on',
  async (t) => {
    t.timeout(180_000);
    // The goal of issue 21: with ENGINE_MAX_AGE_MS=60000, every engine is replaced within 100 s.
    const maxAgeMs = 60_000;
    const stack = await startStack({
      services: ['manager', 'proxy'],
      env: {
        manager: {
          MIN_REPLICAS: '1',
          MIN_FREE_REPLICAS: '1',
          ENGINE_MAX_AGE_MS: String(maxAgeMs),
          DRAIN_TIMEOUT_MS: '10000',
        },
      },
    });
    t.teardown(() => stack.stop());
    await waitFor(async () => (await ready(stack)).length >= 2, 60_000);
    const player = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${'c3'.repeat(20)}`);
    t.teardown(() => player.close());
    const original = new Set((await engines(stack)).map((e) => e.id));
    const startedAt = Date.now();
    // Within 100 s none of the engines of the start is left.
    await waitFor(async () => !(await engines(stack)).some((e) => original.has(e.id)), 100_000, 500);
    const tookMs = Date.now() - startedAt;
    t.log(`every engine replaced ${tookMs} ms after play began (max age ${maxAgeMs} ms)`);
    t.true(tookMs <= 100_000);
    const now = await engines(stack);
    t.true(
      now.some((e) => e.claims.length > 0),
      'the channel plays on a new engine',
    );
    const bytes = player.bytes;
    await waitFor(() => player.bytes > bytes + 200_000, 20_000);
    t.false(player.ended, 'the player kept its connection');
  },
);

test.serial(
  'fresh engines - an engine whose memory stays over ENGINE_RECYCLE_MEMORY_MB is recycled',
  async (t) => {
    t.timeout(120_000);
    const stack = await startStack({
      services: ['manager'],
      // Every engine uses more than 1 MiB: each is found over its bound three checks in a row, then replaced.
      env: { manager: { MIN_REPLICAS: '1', ENGINE_RECYCLE_MEMORY_MB: '1', ENGINE_USAGE_CHECK_MS: '500' } },
    });
    t.teardown(() => stack.stop());
    const draining = await collectEvents<EngineDraining>(await stack.nats.connect(), Subjects.engineDraining);
    t.teardown(() => draining.stop());
    await waitFor(() => draining.events.some((e) => e.data.reason === 'memory'), 60_000);
    const first = draining.events.find((e) => e.data.reason === 'memory')!.data.engineId;
    await waitFor(async () => {
      const now = await ready(stack);
      return now.length >= 1 && !now.some((e) => e.id === first);
    }, 60_000);
    t.pass('recycled for its memory, and replaced');
  },
);
