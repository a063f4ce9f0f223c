import http from 'node:http';
import type net from 'node:net';
import test from 'ava';
import { buildSimulator } from '@acefleet/ace-sim';
import { AcefleetError } from '@acefleet/contracts';
import { freePort, waitFor } from '@acefleet/testkit';
import { probeStatus, startSession, stopSession } from '../src/index.ts';

/** A real HTTP server on 127.0.0.1 answering every request with `handler`; it tells which sockets closed. */
async function serve(
  t: { teardown(fn: () => Promise<void>): void },
  handler: http.RequestListener,
): Promise<{ url: string; closedSockets: () => number }> {
  const server = http.createServer(handler);
  let closed = 0;
  server.on('connection', (socket: net.Socket) => socket.on('close', () => closed++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, closedSockets: () => closed };
}

async function probeError(url: string, timeoutMs: number): Promise<AcefleetError> {
  const err = await probeStatus(url, timeoutMs).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof AcefleetError)) throw new Error(`expected an AcefleetError, got ${String(err)}`);
  return err;
}

test('getJson - a JSON answer is parsed, over one kept-alive connection', async (t) => {
  const ports = new Set<number>();
  const { url } = await serve(t, (req, res) => {
    ports.add(req.socket.remotePort!);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ result: { status: 'ok' }, error: null }));
  });
  await probeStatus(url, 2000);
  await probeStatus(url, 2000);
  t.is(ports.size, 1);
});

test('getJson - an engine that never answers gives engine_timeout in about the timeout, and the request is closed', async (t) => {
  const { url, closedSockets } = await serve(t, () => undefined);
  const started = performance.now();
  const err = await probeError(url, 300);
  const elapsed = performance.now() - started;
  t.is(err.code, 'engine_timeout');
  t.is(err.message, 'get_status: no answer in 300 ms');
  t.true(elapsed >= 280 && elapsed < 2000, `${elapsed} ms`);
  await waitFor(() => closedSockets() === 1, 5000);
});

test('getJson - a body that stops coming gives engine_timeout', async (t) => {
  const { url } = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"result":');
  });
  t.is((await probeError(url, 300)).code, 'engine_timeout');
});

test('getJson - a refused connection gives engine_error "engine unreachable"', async (t) => {
  const err = await probeError(`http://127.0.0.1:${await freePort()}`, 2000);
  t.is(err.code, 'engine_error');
  t.is(err.message, 'get_status: engine unreachable');
});

test('getJson - an answer that is not JSON gives engine_error with the HTTP status', async (t) => {
  const { url } = await serve(t, (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  });
  const err = await probeError(url, 2000);
  t.is(err.code, 'engine_error');
  t.is(err.message, 'get_status: engine answered HTTP 502 without JSON');
});

test('getJson - an answer over 1 MiB gives engine_error and the connection is closed', async (t) => {
  const { url, closedSockets } = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"result":"${'x'.repeat(2 * 1024 * 1024)}"}`);
  });
  const err = await probeError(url, 5000);
  t.is(err.code, 'engine_error');
  t.regex(err.message, /^get_status: engine answered more than \d+ bytes$/);
  await waitFor(() => closedSockets() === 1, 5000);
});

test('getJson - a session starts and stops on a real ace-sim', async (t) => {
  const sim = buildSimulator({ burstSeconds: 0 });
  const { url } = await sim.listen();
  t.teardown(() => sim.close());
  const session = await startSession(url, { kind: 'id', value: 'a'.repeat(40) }, { timeoutMs: 5000 });
  t.true(session.playbackUrl.startsWith(`${url}/`));
  t.is(sim.stats().activeSessions, 1);
  await stopSession(session, 5000);
  t.is(sim.stats().stopsReceived, 1);
  t.is(sim.stats().activeSessions, 0);
});
