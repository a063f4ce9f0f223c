import test from 'ava';
import {
  listEngines,
  Player,
  randomContentId,
  startStack,
  waitFor,
  type Stack,
  type StackProcess,
} from '@acefleet/testkit';

// Issue 22: with the defaults (8 streams per address, 4 engines x 2), a client that opened 10 channels and
// dropped them left 8 lingering streams holding the whole fleet for LINGER_MS: every other client got 503
// capacity_exhausted meanwhile, and repeating it kept the fleet full.

/** Other loopback addresses are other clients to the proxy. */
const CLIENT_A = '127.0.0.2';
const CLIENT_B = '127.0.0.3';
const CLIENT_C = '127.0.0.4';
const LINGER_MS = 120_000;

let stack: Stack;
test.before(async () => {
  stack = await startStack({
    services: ['manager', 'proxy'],
    env: {
      manager: { MIN_REPLICAS: '4', MAX_REPLICAS: '4', MAX_STREAMS_PER_ENGINE: '2' },
      proxy: { LINGER_MS: String(LINGER_MS), MAX_STREAMS_PER_CLIENT: '8' },
    },
  });
});
test.after.always(async () => stack?.stop());

interface ProxyStream {
  streamId: string;
  content: { value: string };
  state: string;
}

async function streamsOf(proxy: StackProcess): Promise<ProxyStream[]> {
  const body = (await (await fetch(`${proxy.url}/api/streams`)).json()) as { streams: ProxyStream[] };
  return body.streams;
}

function play(proxy: StackProcess, content: string, from: string): Promise<Player> {
  return Player.open(`${proxy.url}/ace/getstream?id=${content}`, 0, from);
}

/** End every stream of `proxy` (admin route), so the next test finds the fleet free. */
async function stopAll(proxy: StackProcess): Promise<void> {
  for (const s of await streamsOf(proxy)) {
    const res = await fetch(`${proxy.url}/api/streams/${s.streamId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    if (res.status >= 300 && res.status !== 404) throw new Error(`stop ${s.streamId}: ${res.status}`);
  }
  const held = async (): Promise<number> =>
    (await listEngines(stack.nats)).flatMap((e) => e.claims).filter((c) => c.proxyId === proxy.instanceId)
      .length;
  await waitFor(async () => (await held()) === 0, 20_000);
}

test.serial(
  'fair share - one address never holds more than its share, players and lingering streams together',
  async (t) => {
    t.timeout(180_000);
    const proxy = await stack.add('proxy', { LINGER_MS: String(LINGER_MS), MAX_STREAMS_PER_CLIENT: '3' });
    t.teardown(() => stopAll(proxy).then(() => proxy.stop()));
    const first = [randomContentId(), randomContentId(), randomContentId()];
    const players = await Promise.all(first.map((c) => play(proxy, c, CLIENT_C)));
    await waitFor(() => players.every((p) => p.bytes > 50_000), 60_000);
    for (const p of players) p.close();
    await waitFor(
      async () => (await streamsOf(proxy)).filter((s) => s.state === 'lingering').length === 3,
      20_000,
    );

    // Three new channels: each takes the place of the client's own oldest lingering stream.
    let most = 0;
    const again: Player[] = [];
    for (const content of [randomContentId(), randomContentId(), randomContentId()]) {
      const player = await play(proxy, content, CLIENT_C);
      again.push(player);
      t.is(player.status, 200, 'admitted: its own lingering stream gave way');
      most = Math.max(most, (await streamsOf(proxy)).length);
    }
    t.teardown(() => again.forEach((p) => p.close()));
    await waitFor(() => again.every((p) => p.bytes > 50_000), 60_000);
    const held = await streamsOf(proxy);
    most = Math.max(most, held.length);
    t.true(most <= 3, `at most 3 streams held at any time, saw ${most}`);
    t.false(
      held.some((s) => first.includes(s.content.value)),
      'the lingering ones gave way, oldest first',
    );
    const fourth = await play(proxy, randomContentId(), CLIENT_C);
    t.is(fourth.status, 429, 'three playing: a fourth is over the share');
    fourth.close();
  },
);

test.serial(
  'fair share - after one client opens and drops 10 channels, another client plays at once',
  async (t) => {
    t.timeout(180_000);
    const proxy = stack.services.proxy!;
    t.teardown(() => stopAll(proxy));
    const contents = Array.from({ length: 10 }, () => randomContentId());
    const players: Player[] = [];
    for (const content of contents) players.push(await play(proxy, content, CLIENT_A));
    const admitted = players.filter((p) => p.status === 200);
    t.is(admitted.length, 8, `MAX_STREAMS_PER_CLIENT: ${players.map((p) => p.status).join(' ')}`);
    await waitFor(() => admitted.every((p) => p.bytes > 50_000), 90_000);
    // Dropped one after the other (each seen lingering before the next): the first dropped lingers longest.
    for (const [i, p] of admitted.entries()) {
      p.close();
      await waitFor(
        async () => (await streamsOf(proxy)).filter((s) => s.state === 'lingering').length === i + 1,
        20_000,
      );
    }
    for (const p of players) p.close();

    const other = await play(proxy, randomContentId(), CLIENT_B);
    t.teardown(() => other.close());
    t.is(other.status, 200, 'the fleet is full of lingering streams: one gives its engine up');
    await waitFor(() => other.bytes > 50_000, 30_000);
    const left = (await streamsOf(proxy)).map((s) => s.content.value);
    t.false(left.includes(contents[0]!), 'the oldest lingering stream gave way');
    t.true(left.includes(contents[7]!), 'the youngest still lingers');
    t.regex(proxy.output(), /linger_reclaimed/);
  },
);
