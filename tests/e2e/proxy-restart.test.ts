import test from 'ava';
import { Player, listEngines, startStack, waitFor, type NatsServer, type Stack } from '@acefleet/testkit';

// Regression for chaos finding 1 (bench/results/chaos.md): a proxy killed with -9 and restarted left its
// claims on the engines until the lease TTL, so its players waited 30-90 s for room.

const CLAIM_TTL_MS = 60_000;

const heldBy = async (nats: Pick<NatsServer, 'connect'>, proxyId: string): Promise<boolean> =>
  (await listEngines(nats)).some((e) => e.claims.some((c) => c.proxyId === proxyId));

/** Start a stack whose engine takes exactly one stream, play one, and kill the proxy with -9. */
async function killedWhilePlaying(id: string): Promise<{ stack: Stack; predecessor: string; port: string }> {
  const stack = await startStack({
    services: ['manager', 'proxy'],
    env: {
      manager: {
        MIN_REPLICAS: '1',
        MAX_REPLICAS: '1',
        MAX_STREAMS_PER_ENGINE: '1',
        CLAIM_TTL_MS: String(CLAIM_TTL_MS),
      },
    },
  });
  await waitFor(async () => (await listEngines(stack.nats)).some((e) => e.state === 'ready'), 60_000);
  const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${id}`);
  const [held] = (await listEngines(stack.nats)).flatMap((e) => e.claims);
  await stack.services.proxy!.kill();
  p.close();
  return { stack, predecessor: held!.proxyId, port: new URL(stack.proxyUrl()).port };
}

test.serial(
  "proxy restart - a proxy killed with -9 releases its predecessor's claims at once and its player plays again",
  async (t) => {
    t.timeout(180_000);
    const id = 'e'.repeat(40);
    const { stack, predecessor, port } = await killedWhilePlaying(id);
    try {
      const restarted = Date.now();
      await stack.start('proxy', { HTTP_PORT: port });
      await waitFor(async () => !(await heldBy(stack.nats, predecessor)), 20_000);
      const ms = Date.now() - restarted;
      t.log(`predecessor's claims released ${ms} ms after the restart (lease TTL ${CLAIM_TTL_MS} ms)`);
      t.true(ms < CLAIM_TTL_MS / 3);
      const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${id}`);
      t.true(p.bytes > 50_000, 'the reconnecting player plays on the only engine');
      p.close();
      t.regex(stack.services.manager!.output(), /released every claim of a proxy/);
    } finally {
      await stack.stop();
    }
  },
);

test.serial(
  "proxy restart - with the manager down at the restart, the predecessor's claims are released once it is back",
  async (t) => {
    t.timeout(180_000);
    const id = 'f'.repeat(40);
    const { stack, predecessor, port } = await killedWhilePlaying(id);
    try {
      await stack.services.manager!.kill();
      const proxy = await stack.start('proxy', { HTTP_PORT: port });
      await waitFor(() => proxy.output().includes('release deferred'), 60_000);
      await stack.start('manager');
      await waitFor(async () => !(await heldBy(stack.nats, predecessor)), 20_000);
      // The proxy logs the release once the reply arrives, which can be after the bucket shows it.
      await waitFor(() => proxy.output().includes("previous instance's claims released"), 10_000);
      const p = await Player.playing(`${stack.proxyUrl()}/ace/getstream?id=${id}`);
      t.true(p.bytes > 50_000, 'the reconnecting player plays on the only engine');
      p.close();
    } finally {
      await stack.stop();
    }
  },
);
