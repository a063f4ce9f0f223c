import test from 'ava';
import { createServer, type Server } from 'node:http';
import { NatsUsers, type EngineRecord } from '@acefleet/contracts';
import {
  listEngines,
  Player,
  putEngineRecord,
  randomContentId,
  startStack,
  waitFor,
  type Stack,
} from '@acefleet/testkit';

// Issue 22: a record written to the engines bucket with a baseUrl at another local service was never handed
// out by the manager (it checks the address), but while the manager was paused the proxy chose it for a new
// channel by itself (engine-source.ts cachedEngines), and health-monitor probed it too.

let stack: Stack;
let server: Server;
let hits = 0;
let forgedUrl = '';
test.before(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  forgedUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  stack = await startStack({
    services: ['manager', 'monitor', 'proxy'],
    env: {
      manager: { MIN_REPLICAS: '1', MAX_REPLICAS: '1', MAX_STREAMS_PER_ENGINE: '4' },
      proxy: { ACQUIRE_FALLBACK_MS: '1000', ACQUIRE_TIMEOUT_MS: '3000' },
    },
  });
});
test.after.always(async () => {
  stack?.services.manager?.child.kill('SIGCONT');
  await stack?.stop();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

test('fallback - a record at an address where no engine may be is never chosen by the proxy nor probed by the monitor', async (t) => {
  t.timeout(120_000);
  const content = randomContentId();
  const real = await waitFor(
    async () => (await listEngines(stack.nats)).find((e) => e.state === 'ready') ?? false,
    60_000,
  );
  // Forged as the manager would write it (only its user, or the operator, may): ready, of this host, and
  // already playing the content, so that the proxy's own choice would rank it first.
  const now = new Date().toISOString();
  const forged: EngineRecord = {
    id: 'forged-engine',
    hostId: stack.hostId,
    baseUrl: forgedUrl,
    state: 'ready',
    capacity: 10,
    claims: [{ claimId: 'c', contentKey: `id:${content}`, proxyId: 'someone.else', claimedAt: now }],
    createdAt: now,
    updatedAt: now,
  };
  const operator = await stack.nats.connect(NatsUsers.operator);
  t.teardown(() => operator.close());
  await putEngineRecord(operator, forged);

  const monitorLog = (): string => stack.services.monitor!.output();
  await waitFor(() => monitorLog().includes('"engineId":"forged-engine"'), 20_000);
  t.regex(monitorLog(), /engine outside ENGINE_ADDRESSES: never probed/);

  // The manager hangs: the proxy chooses an engine by itself.
  stack.services.manager!.child.kill('SIGSTOP');
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${content}`);
  t.teardown(() => player.close());
  await waitFor(() => player.bytes > 50_000, 60_000);
  const proxyLog = stack.services.proxy!.output();
  t.regex(proxyLog, /engine outside ENGINE_ADDRESSES: never chosen by the proxy/);
  t.regex(proxyLog, /"engineId":"forged-engine"/);
  const streams = (await (await fetch(`${stack.proxyUrl()}/api/streams`)).json()) as {
    streams: { engineId: string }[];
  };
  t.deepEqual(
    streams.streams.map((s) => s.engineId),
    [real.id],
    'it plays on the real engine',
  );
  t.is(hits, 0, 'nothing ever contacted the forged address');
});
