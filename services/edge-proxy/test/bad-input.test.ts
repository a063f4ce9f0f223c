import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { rawHttp } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

const ID = '0123456789abcdef0123456789abcdef01234567';
let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator();
  const { url } = await sim.listen();
  // No engine-manager runs here: the proxy falls back to its statically configured engine.
  proxy = await startProxy({ STATIC_ENGINES: url });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

async function get(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${proxy.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const cases: [string, string, number, string][] = [
  ['missing id', '/ace/getstream', 400, 'missing_id'],
  ['both id and infohash', `/ace/getstream?id=${ID}&infohash=${ID}`, 400, 'ambiguous_id'],
  ['malformed id', '/ace/getstream?id=xyz', 400, 'invalid_id'],
  ['id of 41 hex characters', `/ace/getstream?id=${ID}a`, 400, 'invalid_id'],
  ['non-hex infohash', `/ace/getstream?infohash=${'g'.repeat(40)}`, 400, 'invalid_id'],
  [
    'sid given (it takes over engine sessions; pid is accepted)',
    `/ace/getstream?id=${ID}&sid=123`,
    400,
    'pid_not_allowed',
  ],
  ['id given twice', `/ace/getstream?id=${ID}&id=${ID}`, 400, 'bad_request'],
  ['unknown path', '/ace/nothing-here', 404, 'not_found'],
  ['status of a stream nobody plays', `/ace/status?id=${ID}`, 404, 'stream_not_found'],
];

for (const [what, path, status, code] of cases) {
  test(`proxy - ${what} answers ${status} ${code}`, async (t) => {
    const res = await get(path);
    t.is(res.status, status);
    t.like(res.body, { error: { code } });
    t.is(typeof (res.body as { error: { message: unknown } }).error.message, 'string');
  });
}

test('proxy - wrong method answers 405 method_not_allowed with Allow', async (t) => {
  const res = await get(`/ace/getstream?id=${ID}`, { method: 'POST' });
  t.is(res.status, 405);
  t.like(res.body, { error: { code: 'method_not_allowed' } });
  t.is(res.headers.get('allow'), 'GET, HEAD');
});

// Pins a review finding: node hands CONNECT to the server, not to fastify, and closed it without a word.
test('proxy - CONNECT answers 405 method_not_allowed as JSON instead of closing silently', async (t) => {
  const res = await rawHttp(proxy.url, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
  t.is(res.status, 405);
  t.regex(res.text, /\r\nconnection: close\r\n/i);
  const body = JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)) as unknown;
  t.like(body, { error: { code: 'method_not_allowed' } });
});

test('proxy - content the engine cannot load answers 404 content_unavailable', async (t) => {
  const offline = 'ffffffffffffffffffffffffffffffffffffffff';
  sim.faults.setContent(offline, { offline: true });
  const res = await get(`/ace/getstream?id=${offline}`);
  t.is(res.status, 404);
  t.like(res.body, { error: { code: 'content_unavailable' } });
  t.is(proxy.proxy.hub.all().length, 0, 'no stream left behind');
});

test.serial('proxy - global status counts streams (Acexy shape)', async (t) => {
  const res = await get('/ace/status');
  t.is(res.status, 200);
  t.like(res.body, { streams: 0 });
});

test('proxy - no engine and none can be made answers 503 no_engine_available with Retry-After', async (t) => {
  const lonely = await startProxy();
  try {
    const res = await fetch(`${lonely.url}/ace/getstream?id=${ID}`, { signal: AbortSignal.timeout(10_000) });
    t.is(res.status, 503);
    t.truthy(res.headers.get('retry-after'));
    t.like(await res.json(), { error: { code: 'no_engine_available' } });
  } finally {
    await lonely.close();
  }
});
