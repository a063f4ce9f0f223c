import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type StreamEnded, type StreamStarted, streamEventsOf } from '@acefleet/contracts';
import {
  Player,
  dockerAvailable,
  listEngines,
  metric,
  startStack,
  storedEvents,
  waitFor,
  type Stack,
} from '@acefleet/testkit';

const run = promisify(execFile);

// Decided at load: without a Docker daemon there is no container to kill, and the test is reported as skipped.
const dockerTest = (await dockerAvailable()) ? test.serial : test.serial.skip;

const play = (stack: Stack, id: string): Promise<Player> =>
  Player.open(`${stack.proxyUrl()}/ace/getstream?id=${id}`, 0);

test.serial('proxy - with engine-manager stopped, a new stream starts from the engine cache', async (t) => {
  t.timeout(90_000);
  const stack = await startStack({ env: { manager: { MIN_REPLICAS: '2' } } });
  try {
    await waitFor(
      async () => (await listEngines(stack.nats)).filter((e) => e.state === 'ready').length === 2,
      30_000,
    );
    await stack.services.manager!.stop();
    const p = await play(stack, '1'.repeat(40));
    t.is(p.status, 200);
    await waitFor(() => p.bytes > 100_000, 10_000);
    p.close();
  } finally {
    await stack.stop();
  }
});

test.serial(
  'proxy - with NATS down, playing streams go on, new ones start from the last known engines, and stats gets every event once',
  async (t) => {
    t.timeout(120_000);
    const stack = await startStack({ env: { manager: { MIN_REPLICAS: '2' } } });
    try {
      await waitFor(
        async () => (await listEngines(stack.nats)).filter((e) => e.state === 'ready').length === 2,
        30_000,
      );
      const a = await play(stack, 'a'.repeat(40));
      await waitFor(() => a.bytes > 100_000, 10_000);

      await stack.nats.stop();
      const during = a.bytes;
      const flowing = await waitFor(() => a.bytes > during + 300_000, 15_000).then(
        () => true,
        () => false,
      );
      t.true(flowing, 'the playing stream never noticed');
      const b = await play(stack, 'b'.repeat(40));
      t.is(b.status, 200, 'a new stream started while NATS was down');
      await waitFor(() => b.bytes > 100_000, 10_000);
      a.close();
      b.close();
      // Both ends happen while NATS is still down: their events wait in the proxy for the server to return.
      await waitFor(async () => {
        const text = await (await fetch(`${stack.proxyUrl()}/metrics`)).text();
        return metric(text, 'acefleet_proxy_streams_ended_total') === 2;
      }, 10_000);

      await stack.nats.start();
      const totals = await waitFor(async () => {
        const res = await fetch(`${stack.services.stats!.url}/api/totals`);
        const body = (await res.json()) as { sessionsStarted: number; sessionsEnded: number };
        return body.sessionsEnded === 2 ? body : false;
      }, 30_000);
      t.like(totals, { sessionsStarted: 2, sessionsEnded: 2 });
      const started = await storedEvents<StreamStarted>(stack.nats, streamEventsOf('started'));
      const ended = await storedEvents<StreamEnded>(stack.nats, streamEventsOf('ended'));
      t.is(started.length, 2, 'each start stored exactly once');
      t.is(ended.length, 2, 'each end stored exactly once');
    } finally {
      await stack.stop();
    }
  },
);

dockerTest(
  'proxy - engine container killed mid-stream: players get bytes again from another engine',
  async (t) => {
    t.timeout(90_000);
    const stack = await startStack({ env: { proxy: { FAILOVER_DEADLINE_MS: '15000' } } });
    t.teardown(() => stack.stop());
    const players = await Promise.all([0, 1].map(() => play(stack, 'c'.repeat(40))));
    await waitFor(() => players.every((p) => p.bytes > 100_000), 20_000);
    const [engine] = await listEngines(stack.nats);
    const killedAt = performance.now();
    await run('docker', ['kill', engine!.containerId!]);
    const before = players.map((p) => p.bytes);
    await waitFor(() => players.every((p, i) => p.bytes > before[i]! + 200_000), 20_000);
    t.log(`bytes flowing again ${(performance.now() - killedAt).toFixed(0)} ms after docker kill`);
    t.true(players.every((p) => !p.ended));
    const now = await listEngines(stack.nats);
    t.true(
      now.some((e) => e.id !== engine!.id && e.claims.length > 0),
      'another engine carries the stream',
    );
    players.forEach((p) => p.close());
  },
);
