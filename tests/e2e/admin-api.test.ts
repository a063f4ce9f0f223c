import test from 'ava';
import type { ClaimedStream, EngineRecord } from '@acefleet/contracts';
import { Player, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { call } from '../security/helpers.ts';

const CONTENT_A = 'a1'.repeat(20);
const CONTENT_B = 'b2'.repeat(20);

let stack: Stack;
test.before(async () => {
  stack = await startStack({ services: ['manager', 'proxy'], env: { manager: { MAX_REPLICAS: '3' } } });
});
test.after.always(async () => {
  await stack?.stop();
});

const manager = (path: string): string => `${stack.services.manager!.url}${path}`;

async function engines(query = ''): Promise<EngineRecord[]> {
  const res = await call(manager(`/api/engines${query}`));
  if (res.status !== 200) throw new Error(`GET /api/engines${query}: ${res.status} ${res.text}`);
  return res.json.engines as EngineRecord[];
}

async function streams(query = ''): Promise<ClaimedStream[]> {
  const res = await call(manager(`/api/streams${query}`));
  if (res.status !== 200) throw new Error(`GET /api/streams${query}: ${res.status} ${res.text}`);
  return res.json.streams as ClaimedStream[];
}

const usable = async (): Promise<EngineRecord[]> =>
  (await engines()).filter((e) => e.state === 'ready' || e.state === 'starting');

test.serial('admin api - new write routes answer 401 without the key and 403 with a wrong one', async (t) => {
  const writes: [string, string, unknown?][] = [
    ['POST', manager('/api/engines/scale'), { replicas: 1 }],
    ['DELETE', manager('/api/streams/some-claim')],
  ];
  for (const [method, url, body] of writes) {
    const anonymous = await call(url, { method, body });
    t.is(anonymous.status, 401, `${method} ${url} without a key`);
    t.is(anonymous.json?.error?.code, 'unauthorized');
    const wrong = await call(url, { method, body, key: 'not-the-key' });
    t.is(wrong.status, 403, `${method} ${url} with a wrong key`);
    t.is(wrong.json?.error?.code, 'forbidden');
  }
  t.deepEqual(await engines(), [], 'nothing was provisioned');
  for (const read of ['/api/engines', '/api/streams', '/api/status', '/api/vpn', '/api/openapi.json']) {
    t.is((await call(manager(read))).status, 200, `${read} is a read: open on loopback`);
  }
});

test.serial(
  'admin api - scale provisions up to N usable engines and drains the surplus down to N',
  async (t) => {
    t.timeout(120_000);
    const up = await call(manager('/api/engines/scale'), {
      method: 'POST',
      key: stack.apiKey,
      body: { replicas: 2 },
    });
    t.is(up.status, 200, up.text);
    t.is(up.json.provisioned.length, 2);
    t.true((up.json.provisioned as EngineRecord[]).every((e) => e.state === 'ready'));
    t.is((await usable()).length, 2);

    const same = await call(manager('/api/engines/scale'), {
      method: 'POST',
      key: stack.apiKey,
      body: { replicas: 2 },
    });
    t.deepEqual([same.json.provisioned, same.json.draining], [[], []], 'already at N: nothing to do');

    const down = await call(manager('/api/engines/scale'), {
      method: 'POST',
      key: stack.apiKey,
      body: { replicas: 1 },
    });
    t.is(down.status, 200, down.text);
    t.is(down.json.draining.length, 1);
    t.is(down.json.draining[0].state, 'draining');
    await waitFor(async () => (await engines()).length === 1, 20_000);
    t.is((await usable()).length, 1);
  },
);

test.serial('admin api - streams are the claims, filtered by engine, content, proxy and host', async (t) => {
  t.timeout(60_000);
  const players = await Promise.all(
    [CONTENT_A, CONTENT_B].map((id) => Player.open(`${stack.proxyUrl()}/ace/getstream?id=${id}`)),
  );
  t.teardown(() => players.forEach((p) => p.close()));
  await waitFor(() => players.every((p) => p.bytes > 50_000), 30_000);

  const all = await streams();
  t.is(all.length, 2);
  const [a] = await streams(`?content=${CONTENT_A}`);
  t.is(a?.contentKey, `id:${CONTENT_A}`);
  t.deepEqual(await streams(`?content=id:${CONTENT_A.toUpperCase()}`), [a!], 'content key, any case');
  t.deepEqual(
    await streams(`?engine=${a!.engineId}`),
    all.filter((s) => s.engineId === a!.engineId),
  );
  t.is((await streams(`?proxy=${a!.proxyId}`)).length, 2);
  t.deepEqual(await streams('?proxy=nobody'), []);
  t.is((await streams(`?host=${stack.hostId}`)).length, 2);
  t.deepEqual(await streams('?host=elsewhere'), []);

  const ready = await engines('?state=ready');
  t.true(ready.length >= 1 && ready.every((e) => e.state === 'ready'));
  t.deepEqual(await engines('?state=unhealthy'), []);
  t.is((await engines(`?host=${stack.hostId}`)).length, (await engines()).length);
  t.deepEqual(await engines('?host=elsewhere'), []);
});

test.serial(
  'admin api - DELETE /api/streams/:id stops the stream through the proxy holding it',
  async (t) => {
    t.timeout(60_000);
    const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT_A}`);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 50_000, 30_000);
    const [stream] = await streams(`?content=${CONTENT_A}`);
    const stopped = await call(manager(`/api/streams/${stream!.id}`), {
      method: 'DELETE',
      key: stack.apiKey,
    });
    t.is(stopped.status, 200, stopped.text);
    t.is(stopped.json.reason, 'stopped');
    await waitFor(() => player.ended, 10_000);
    const onProxy = (await call(`${stack.proxyUrl()}/api/streams`)).json.streams as { streamId: string }[];
    t.false(
      onProxy.some((s) => s.streamId === stopped.json.streamId),
      'the proxy no longer plays it',
    );
    await waitFor(async () => (await streams(`?content=${CONTENT_A}`)).length === 0, 10_000);

    const again = await call(manager(`/api/streams/${stream!.id}`), { method: 'DELETE', key: stack.apiKey });
    t.is(again.status, 404);
    t.is(again.json?.error?.code, 'stream_not_found');
  },
);

test.serial(
  'admin api - VPN and status: no VPN configured, provisioning possible, breaker closed',
  async (t) => {
    const vpn = await call(manager('/api/vpn'));
    t.deepEqual(vpn.json, { enabled: false });
    const status = await call(manager('/api/status'));
    t.is(status.json.canProvision, true);
    t.is(status.json.breaker.state, 'closed');
    t.is(status.json.reason, undefined);
    t.is(status.json.hostId, stack.hostId);
  },
);

test.serial('admin api - bad input answers 400 JSON', async (t) => {
  const key = stack.apiKey;
  const bad: [string, string, unknown?][] = [
    ['POST', manager('/api/engines/scale'), {}],
    ['POST', manager('/api/engines/scale'), { replicas: -1 }],
    ['POST', manager('/api/engines/scale'), { replicas: 'two' }],
    ['POST', manager('/api/engines/scale'), { replicas: 4 }],
    ['GET', manager('/api/engines?state=sleeping')],
    ['GET', manager('/api/streams?content=')],
    ['GET', manager(`/api/streams?engine=${'x'.repeat(200)}`)],
  ];
  for (const [method, url, body] of bad) {
    const res = await call(url, { method, body, key });
    t.is(res.status, 400, `${method} ${url} ${JSON.stringify(body)}`);
    t.is(res.json?.error?.code, 'bad_request');
    t.regex(res.headers.get('content-type') ?? '', /application\/json/);
  }
  const beyond = await call(manager('/api/engines/scale'), { method: 'POST', key, body: { replicas: 4 } });
  t.regex(beyond.json.error.message, /MAX_REPLICAS \(3\)/);
});
