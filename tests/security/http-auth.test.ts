import test from 'ava';
import { networkInterfaces } from 'node:os';
import type { EngineRecord } from '@acefleet/contracts';
import { Player, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { call } from './helpers.ts';

const CONTENT = 'b1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const WRONG_KEY = 'not-the-key';

let stack: Stack;
test.before(async () => {
  stack = await startStack({ services: ['manager', 'proxy'] });
});
test.after.always(async () => {
  await stack?.stop();
});

const managerUrl = (): string => stack.services.manager!.url;

async function engines(): Promise<EngineRecord[]> {
  return (await call(`${managerUrl()}/api/engines`)).json.engines as EngineRecord[];
}

async function streamIds(): Promise<string[]> {
  const body = (await call(`${stack.proxyUrl()}/api/streams`)).json as { streams: { streamId: string }[] };
  return body.streams.map((s) => s.streamId);
}

test.serial(
  'write routes answer 401 without a key and 403 with a wrong one, and change nothing',
  async (t) => {
    const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 50_000, 30_000);
    const [engine] = await engines();
    const [streamId] = await streamIds();
    t.truthy(engine, 'reads on loopback need no key');
    t.truthy(streamId);

    const writes: [string, string, unknown?][] = [
      ['POST', `${managerUrl()}/api/engines/provision`, { count: 1 }],
      ['POST', `${managerUrl()}/api/engines/${engine!.id}/drain`, {}],
      ['DELETE', `${managerUrl()}/api/engines/${engine!.id}?force=true`],
      ['DELETE', `${stack.proxyUrl()}/api/streams/${streamId}`],
    ];
    for (const [method, url, body] of writes) {
      const anonymous = await call(url, { method, body });
      t.is(anonymous.status, 401, `${method} ${url} without a key`);
      t.is(anonymous.json?.error?.code, 'unauthorized');
      t.is(anonymous.headers.get('www-authenticate'), 'Bearer');
      const wrong = await call(url, { method, body, key: WRONG_KEY });
      t.is(wrong.status, 403, `${method} ${url} with a wrong key`);
      t.is(wrong.json?.error?.code, 'forbidden');
      const otherScheme = await call(url, {
        method,
        body,
        headers: { authorization: `Basic ${stack.apiKey}` },
      });
      t.is(otherScheme.status, 401, 'the key is only taken as a Bearer token');
    }

    const after = await engines();
    t.deepEqual(
      after.map((e) => [e.id, e.state]),
      [[engine!.id, 'ready']],
      'no engine was provisioned, drained or removed',
    );
    t.deepEqual(await streamIds(), [streamId], 'the stream still plays');
    const before = player.bytes;
    await waitFor(() => player.bytes > before, 10_000);
  },
);

test.serial(
  'with the key, the admin routes stop a stream and drain, remove and provision engines',
  async (t) => {
    const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${CONTENT}`);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 50_000, 30_000);
    const [streamId] = await streamIds();
    const stopped = await call(`${stack.proxyUrl()}/api/streams/${streamId}`, {
      method: 'DELETE',
      key: stack.apiKey,
    });
    t.is(stopped.status, 200);
    t.deepEqual(stopped.json, { streamId, reason: 'stopped' });
    await waitFor(() => player.ended, 10_000);
    t.deepEqual(await streamIds(), []);
    const ended = await call(`${stack.proxyUrl()}/metrics`);
    t.regex(ended.text, /acefleet_proxy_streams_ended_total\{reason="stopped"[^}]*\} 1/);

    const [engine] = await engines();
    const drained = await call(`${managerUrl()}/api/engines/${engine!.id}/drain`, {
      method: 'POST',
      key: stack.apiKey,
      body: { deadlineMs: 600_000 },
    });
    t.is(drained.status, 200);
    t.is(drained.json.engine.state, 'draining');
    t.is((await engines()).find((e) => e.id === engine!.id)?.state, 'draining');

    const removed = await call(`${managerUrl()}/api/engines/${engine!.id}?force=true`, {
      method: 'DELETE',
      key: stack.apiKey,
    });
    t.is(removed.status, 200);
    await waitFor(async () => (await engines()).every((e) => e.id !== engine!.id), 20_000);

    const provisioned = await call(`${managerUrl()}/api/engines/provision`, {
      method: 'POST',
      key: stack.apiKey,
      body: { count: 1 },
    });
    t.is(provisioned.status, 201);
    const [fresh] = provisioned.json.engines as EngineRecord[];
    t.is(fresh?.state, 'ready');
    t.true(
      (await engines()).some((e) => e.id === fresh!.id),
      'the new engine is in the fleet',
    );
  },
);

test.serial('admin routes answer bad input with 400 JSON and unknown targets with 404', async (t) => {
  const key = stack.apiKey;
  const bad: [string, string, unknown?][] = [
    ['POST', `${managerUrl()}/api/engines/provision`, { count: 0 }],
    ['POST', `${managerUrl()}/api/engines/provision`, { count: 'many' }],
    ['POST', `${managerUrl()}/api/engines/provision`, [1]],
    ['POST', `${managerUrl()}/api/engines/some-engine/drain`, { deadlineMs: -1 }],
    ['DELETE', `${managerUrl()}/api/engines/some-engine?force=maybe`],
  ];
  for (const [method, url, body] of bad) {
    const res = await call(url, { method, body, key });
    t.is(res.status, 400, `${method} ${url} ${JSON.stringify(body)}`);
    t.is(res.json?.error?.code, 'bad_request');
  }
  const noEngine = await call(`${managerUrl()}/api/engines/no-such-engine/drain`, { method: 'POST', key });
  t.is(noEngine.status, 404);
  t.is(noEngine.json?.error?.code, 'not_found');
  const noStream = await call(`${stack.proxyUrl()}/api/streams/no-such-stream`, { method: 'DELETE', key });
  t.is(noStream.status, 404);
  t.is(noStream.json?.error?.code, 'stream_not_found');
});

test.serial('without CORS_ORIGIN no answer carries a CORS header', async (t) => {
  const origin = 'https://ops.example.org';
  const read = await call(`${managerUrl()}/api/engines`, { headers: { origin } });
  t.is(read.status, 200);
  t.is(read.headers.get('access-control-allow-origin'), null);
  const preflight = await call(`${managerUrl()}/api/engines/provision`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST' },
  });
  t.not(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), null);
});

/**
 * An address of this machine that is not loopback: a request to a service bound to 0.0.0.0 through it comes
 * from that address, as one from the network would (issue 22: reads need the key whenever the request does not
 * come from loopback, whatever HTTP_HOST is).
 */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === 'IPv4' && !a.internal)?.address;
/** `url` reached through the machine's non-loopback address. */
const viaLan = (url: string): string => url.replace('127.0.0.1', lanAddress ?? '127.0.0.1');

(lanAddress ? test.serial : test.serial.skip)(
  'reads from anywhere but loopback need the key unless PUBLIC_READ; /health stays open, /ace/* wants a player token; CORS when set',
  async (t) => {
    const exposed = { HTTP_HOST: '0.0.0.0' };
    const open = await startStack({
      services: ['monitor', 'proxy'],
      env: { monitor: exposed, proxy: exposed },
    });
    t.teardown(() => open.stop());
    const monitor = (): string => viaLan(open.services.monitor!.url);
    const reads = (): string[] => [
      `${monitor()}/api/health`,
      `${monitor()}/api/services`,
      `${monitor()}/metrics`,
      `${viaLan(open.proxyUrl())}/api/streams`,
      `${viaLan(open.proxyUrl())}/metrics`,
    ];
    for (const url of reads()) {
      t.is((await call(url)).status, 401, `${url} without a key`);
      t.is((await call(url, { key: WRONG_KEY })).status, 403, `${url} with a wrong key`);
      t.is((await call(url, { key: open.apiKey })).status, 200, `${url} with the key`);
      t.is((await call(url.replace(lanAddress!, '127.0.0.1'))).status, 200, `${url} from loopback, no key`);
    }
    t.is((await call(`${monitor()}/health`)).status, 200, 'orchestrators probe /health without a key');
    // Player routes take no API key: off loopback they want a player token (PLAYER_AUTH=auto, docs/players.md).
    const playerStatus = await call(`${viaLan(open.proxyUrl())}/ace/status`);
    t.is(playerStatus.status, 401, "the proxy's player routes want a player token");

    await open.services.monitor!.stop();
    const origin = 'https://ops.example.org';
    await open.start('monitor', { ...exposed, PUBLIC_READ: 'true', CORS_ORIGIN: origin });
    const publicRead = await call(`${monitor()}/api/health`, { headers: { origin } });
    t.is(publicRead.status, 200, 'PUBLIC_READ opens reads');
    t.is(publicRead.headers.get('access-control-allow-origin'), origin);
    t.is((await call(`${monitor()}/metrics`)).status, 200);
    const stranger = await call(`${monitor()}/api/health`, { headers: { origin: 'https://evil.example' } });
    t.is(stranger.headers.get('access-control-allow-origin'), null, 'other origins get no CORS header');
    const preflight = await call(`${monitor()}/api/health`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'GET' },
    });
    t.is(preflight.status, 204);
    t.is(preflight.headers.get('access-control-allow-origin'), origin);
    t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
  },
);

test.serial('without API_KEY write routes are disabled (403) and exposed reads are refused', async (t) => {
  const keyless = await startStack({
    services: [],
    env: { manager: { API_KEY: '' }, monitor: { API_KEY: '' } },
  });
  t.teardown(() => keyless.stop());
  const manager = await keyless.start('manager');
  for (const key of [undefined, '', 'anything']) {
    const res = await call(`${manager.url}/api/engines/provision`, {
      method: 'POST',
      key,
      body: { count: 1 },
    });
    t.is(res.status, 403);
    t.is(res.json?.error?.code, 'forbidden');
    t.regex(res.json?.error?.message ?? '', /disabled.*no API_KEY/);
  }
  t.is((await call(`${manager.url}/api/engines`)).status, 200, 'reads on loopback stay open');
  t.deepEqual((await call(`${manager.url}/api/engines`)).json, { engines: [] }, 'nothing was provisioned');

  if (!lanAddress) return;
  const monitor = await keyless.start('monitor', { HTTP_HOST: '0.0.0.0' });
  const read = await call(`${viaLan(monitor.url)}/api/health`);
  t.is(read.status, 403);
  t.regex(read.json?.error?.message ?? '', /PUBLIC_READ/);
  t.is((await call(`${viaLan(monitor.url)}/health`)).status, 200);
});
