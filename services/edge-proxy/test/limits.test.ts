import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Player, rawHttp, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let engineUrl: string;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  engineUrl = (await sim.listen()).url;
});
test.after.always(async () => {
  await sim?.close();
});

/** A proxy on the simulator with `env`, closed when the test ends. */
async function proxyWith(t: { teardown(fn: () => Promise<void>): void }, env: Record<string, string>) {
  const proxy: ProxyUnderTest = await startProxy({
    STATIC_ENGINES: engineUrl,
    STATIC_ENGINE_CAPACITY: '50',
    ...env,
  });
  t.teardown(() => proxy.close());
  return proxy;
}

let nextId = 0x100;
const freshId = (): string => (nextId++).toString(16).padStart(40, 'b');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: { code: string; message: string } };
}

/** GET over a fresh connection, optionally from another loopback address (another client). */
function get(url: string, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress: opts.from, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
      );
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const bodyOf = (text: string): Answer['body'] =>
  JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Answer['body'];

/** The status of a stream request from `from`; the player is closed at once. */
async function playStatus(url: string, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) =>
    http
      .get(url, { agent: false, localAddress: from }, (res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      })
      .on('error', reject),
  );
}

test('proxy - a client over its distinct-stream limit gets 429 with Retry-After; other clients are not affected', async (t) => {
  const proxy = await proxyWith(t, { MAX_STREAMS_PER_CLIENT: '2' });
  const [a, b, c] = [freshId(), freshId(), freshId()];
  const players = await Promise.all([a, b].map((id) => Player.open(`${proxy.url}/ace/getstream?id=${id}`)));
  t.teardown(() => players.forEach((p) => p.close()));
  t.deepEqual(
    players.map((p) => p.status),
    [200, 200],
  );

  const third = await get(`${proxy.url}/ace/getstream?id=${c}`);
  t.is(third.status, 429);
  t.is(third.body.error?.code, 'too_many_client_streams');
  t.is(third.headers['retry-after'], '5');

  t.is(
    await playStatus(`${proxy.url}/ace/getstream?id=${a}`),
    200,
    'a stream it already plays is no new one',
  );
  t.is(
    await playStatus(`${proxy.url}/ace/getstream?id=${c}`, '127.0.0.2'),
    200,
    'another address has its own',
  );

  players[1]!.close();
  const freed = await waitFor(
    async () => (await playStatus(`${proxy.url}/ace/getstream?id=${c}`)) === 200,
    10_000,
  );
  t.true(freed, 'leaving a stream frees the slot');
});

test('proxy - over the stream limit a new stream gets 503 too_many_streams with Retry-After; joining still works', async (t) => {
  const proxy = await proxyWith(t, { MAX_STREAMS: '2' });
  const [a, b] = [freshId(), freshId()];
  const players = await Promise.all([a, b].map((id) => Player.open(`${proxy.url}/ace/getstream?id=${id}`)));
  t.teardown(() => players.forEach((p) => p.close()));
  for (const path of [`/ace/getstream?id=${freshId()}`, `/ace/manifest.m3u8?id=${freshId()}`]) {
    const res = await get(`${proxy.url}${path}`, { from: '127.0.0.3' });
    t.is(res.status, 503, path);
    t.is(res.body.error?.code, 'too_many_streams');
    t.is(res.headers['retry-after'], '5');
  }
  t.is(await playStatus(`${proxy.url}/ace/getstream?id=${a}`, '127.0.0.3'), 200);
});

test('proxy - over the player limit a player gets 503 too_many_players with Retry-After', async (t) => {
  const proxy = await proxyWith(t, { MAX_PLAYERS: '2' });
  const id = freshId();
  const players = await Promise.all([0, 1].map(() => Player.open(`${proxy.url}/ace/getstream?id=${id}`)));
  t.teardown(() => players.forEach((p) => p.close()));
  const res = await get(`${proxy.url}/ace/getstream?id=${id}`);
  t.is(res.status, 503);
  t.is(res.body.error?.code, 'too_many_players');
  t.is(res.headers['retry-after'], '5');
});

test('proxy - a URL over the length limit gets 414 url_too_long; headers over the size limit get 431', async (t) => {
  const proxy = await proxyWith(t, { MAX_URL_LENGTH: '512', MAX_HEADER_BYTES: '4096' });
  const long = await get(`${proxy.url}/ace/getstream?id=${freshId()}&quality=${'x'.repeat(600)}`);
  t.is(long.status, 414);
  t.is(long.body.error?.code, 'url_too_long');

  const fat = await rawHttp(
    proxy.url,
    `GET /ace/status HTTP/1.1\r\nHost: x\r\nX-Fill: ${'y'.repeat(5000)}\r\n\r\n`,
  );
  t.is(fat.status, 431);
  t.is(bodyOf(fat.text).error?.code, 'headers_too_large');

  const huge = await rawHttp(
    proxy.url,
    `GET /ace/getstream?id=${'z'.repeat(5000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  );
  t.is(huge.status, 431, 'a URL larger than the header limit is refused by the parser');
  t.is((await get(`${proxy.url}/ace/status`)).status, 200, 'the proxy still serves');
});

test('proxy - a request head that never completes gets 408 request_timeout; a long stream is not cut', async (t) => {
  const proxy = await proxyWith(t, { REQUEST_TIMEOUT_MS: '1000' });
  const player = await Player.open(`${proxy.url}/ace/getstream?id=${freshId()}`);
  t.teardown(() => player.close());

  const slow = await rawHttp(proxy.url, 'GET /ace/status HTTP/1.1\r\nHost: x\r\n');
  t.is(slow.status, 408);
  t.is(bodyOf(slow.text).error?.code, 'request_timeout');
  t.true(slow.ms < 5000, `closed after ${Math.round(slow.ms)} ms`);

  // The stream has now been open for several request timeouts: it still flows.
  await waitFor(() => performance.now() - player.openedAt > 3000, 10_000);
  const before = player.bytes;
  await waitFor(() => player.bytes > before + 10_000, 5000);
  t.false(player.ended);
});

test('proxy - connections over the cap get 503 too_many_connections with Retry-After and are closed', async (t) => {
  const proxy = await proxyWith(t, { MAX_CONNECTIONS: '2' });
  const { hostname, port } = new URL(proxy.url);
  const held = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(Number(port), hostname, () => resolve(s));
        }),
    ),
  );
  t.teardown(() => held.forEach((s) => s.destroy()));
  await waitFor(
    async () => (await rawHttp(proxy.url, 'GET /ace/status HTTP/1.1\r\nHost: x\r\n\r\n')).status === 503,
    5000,
  );
  const over = await rawHttp(proxy.url, 'GET /ace/status HTTP/1.1\r\nHost: x\r\n\r\n');
  t.is(over.status, 503);
  t.is(bodyOf(over.text).error?.code, 'too_many_connections');
  t.regex(over.text, /\r\nretry-after: 5\r\n/i);
  t.regex(over.text, /\r\nconnection: close\r\n/i);

  held.forEach((s) => s.destroy());
  const served = await waitFor(
    async () => (await get(`${proxy.url}/ace/status`).catch(() => undefined))?.status === 200,
    5000,
  );
  t.true(served, 'once connections close, requests are served again');
});

test('proxy - an idle keep-alive connection is closed after the keep-alive timeout', async (t) => {
  const proxy = await proxyWith(t, { KEEP_ALIVE_TIMEOUT_MS: '500' });
  const res = await rawHttp(
    proxy.url,
    'GET /ace/status HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
  );
  t.is(res.status, 200);
  t.true(res.ms < 4000, `closed after ${Math.round(res.ms)} ms`);
});
