import test from 'ava';
import net from 'node:net';
import { listEngines, rawHttp, startStack, waitFor, type Stack } from '@acefleet/testkit';
import { call } from './helpers.ts';

// Issue 22, the smaller holes: loopback read routes answered any Host (DNS rebinding); stats and
// health-monitor had no request or header timeouts (a partial request head was held 82 s) nor a connection
// cap; non-finite numbers in JSON bodies passed schema maxima ({"count":"1e309"} provisioned up to
// MAX_REPLICAS, a drain deadline of 1e309 gave 500); the Bearer scheme was matched loosely.

const REQUEST_TIMEOUT_MS = 1000;

let stack: Stack;
test.before(async () => {
  const hygiene = { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) };
  stack = await startStack({
    services: ['manager', 'stats', 'monitor', 'proxy'],
    env: { manager: hygiene, stats: hygiene, monitor: hygiene, proxy: hygiene },
  });
});
test.after.always(async () => stack?.stop());

/** One read route of each service. */
function reads(): string[] {
  return [
    `${stack.services.manager!.url}/api/engines`,
    `${stack.services.stats!.url}/api/overview`,
    `${stack.services.monitor!.url}/api/health`,
    `${stack.proxyUrl()}/api/streams`,
  ];
}

function get(url: string, host: string, extra = ''): Promise<{ status: number; text: string }> {
  const { pathname } = new URL(url);
  return rawHttp(url, `GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
}

test.serial(
  'http - a read route refuses a Host that is not the configured host, an IP literal or localhost',
  async (t) => {
    for (const url of reads()) {
      const { port } = new URL(url);
      const rebound = await get(url, `attacker.example:${port}`);
      t.is(rebound.status, 421, `${url} for attacker.example`);
      t.regex(rebound.text, /"code":"host_not_allowed"/);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, '127.0.0.1'])
        t.is((await get(url, host)).status, 200, `${url} for ${host}`);
    }
    // Routes open to anyone keep answering whatever the Host (players and probes use their own names).
    const health = await get(`${stack.services.monitor!.url}/health`, 'attacker.example');
    t.is(health.status, 200);
    const status = await get(`${stack.proxyUrl()}/ace/status`, 'tv.lan:8080');
    t.is(status.status, 200);

    await stack.services.monitor!.stop();
    const named = await stack.start('monitor', { HTTP_ALLOWED_HOSTS: 'fleet.lan, monitor.fleet.lan' });
    t.is((await get(`${named.url}/api/health`, 'monitor.fleet.lan')).status, 200, 'a configured name');
    t.is((await get(`${named.url}/api/health`, 'fleet.lan.attacker.example')).status, 421);
  },
);

test.serial(
  'http - stats, health-monitor, engine-manager and the proxy end a stalled request head after REQUEST_TIMEOUT_MS',
  async (t) => {
    for (const url of reads()) {
      const answer = await rawHttp(url, `GET ${new URL(url).pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      t.is(answer.status, 408, `${url}: ${answer.text.slice(0, 80)}`);
      t.true(answer.ms < REQUEST_TIMEOUT_MS + 3000, `${url} held the half head ${Math.round(answer.ms)} ms`);
    }
  },
);

test.serial(
  'http - every service caps its connections: over MAX_CONNECTIONS a request gets 503 and the connection closes',
  async (t) => {
    await stack.services.stats!.stop();
    const stats = await stack.start('stats', { MAX_CONNECTIONS: '4' });
    const { port } = new URL(stats.url);
    const held: net.Socket[] = [];
    t.teardown(() => held.forEach((s) => s.destroy()));
    for (let i = 0; i < 4; i++) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      held.push(socket);
    }
    const over = await get(`${stats.url}/api/overview`, '127.0.0.1');
    t.is(over.status, 503);
    t.regex(over.text, /"code":"too_many_connections"/);
    held.forEach((s) => s.destroy());
    await waitFor(async () => (await get(`${stats.url}/api/overview`, '127.0.0.1')).status === 200, 10_000);
  },
);

test.serial(
  'http - non-finite numbers in JSON bodies get 400, and nothing is provisioned or drained',
  async (t) => {
    const manager = stack.services.manager!.url;
    const before = await listEngines(stack.nats);
    const post = (path: string, body: string) =>
      fetch(`${manager}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
        body,
      });
    for (const body of ['{"count":"1e309"}', '{"count":1e309}', '{"count":"Infinity"}', '{"count":-1e309}']) {
      const res = await post('/api/engines/provision', body);
      t.is(res.status, 400, `provision ${body}`);
      t.is(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
    }
    // The body is checked before the engine is looked up: a drain of an unknown one shows the check.
    for (const body of ['{"deadlineMs":1e309}', '{"deadlineMs":"1e309"}']) {
      const res = await post('/api/engines/none/drain', body);
      t.is(res.status, 400, `drain ${body}`);
    }
    const after = await listEngines(stack.nats);
    t.is(after.length, before.length, 'nothing was provisioned');
    t.false(
      after.some((e) => e.state === 'draining'),
      'nothing was drained',
    );
  },
);

test.serial('http - the Bearer scheme is matched as RFC 9110 and RFC 6750 say', async (t) => {
  const url = `${stack.services.manager!.url}/api/engines/nope/drain`;
  const as = (authorization: string) =>
    call(url, { method: 'POST', body: {}, headers: { authorization } }).then((r) => r.status);
  // The scheme is a case-insensitive token (RFC 9110 11.1): these reach the route, which answers 404.
  for (const scheme of ['Bearer', 'bearer', 'BEARER'])
    t.is(await as(`${scheme} ${stack.apiKey}`), 404, scheme);
  t.is(await as(`Bearer   ${stack.apiKey}`), 404, 'one or more spaces (1*SP)');
  // Anything else is no Bearer credential at all: 401.
  for (const malformed of [
    `Bearer\t${stack.apiKey}`,
    `Bearer ${stack.apiKey} extra`,
    `Bearer "${stack.apiKey}"`,
    `Bearer ${stack.apiKey},x=y`,
    `Bearer${stack.apiKey}`,
    `Bearer`,
    `Basic ${stack.apiKey}`,
  ])
    t.is(await as(malformed), 401, JSON.stringify(malformed));
});
