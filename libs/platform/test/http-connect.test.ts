import test, { type ExecutionContext } from 'ava';
import { buildHttpApp, createLogger, createRegistry, listenFront, type HttpFront } from '@acefleet/platform';
import { rawHttp, type RawHttpAnswer } from '@acefleet/testkit';

// Pins a review finding: node hands CONNECT to the server's `connect` listeners, not to the request
// handler, and with none it closed the connection without an answer.
const CONNECT = 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n';

const app = () =>
  buildHttpApp({
    logger: createLogger('test', 'silent'),
    registry: createRegistry('test'),
    access: { apiKey: '', publicRead: false, httpHost: '127.0.0.1', httpAllowedHosts: '', corsOrigin: '' },
  });

function assertRefused(t: ExecutionContext, { text, status }: RawHttpAnswer): void {
  t.is(status, 405);
  t.regex(text, /\r\nallow: \r\n/i, 'an empty Allow: the tunnel allows no method');
  t.regex(text, /\r\nconnection: close\r\n/i);
  t.regex(text, /\r\ncontent-type: application\/json/i);
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown;
  t.like(body, { error: { code: 'method_not_allowed' } });
}

test('http - CONNECT to an app that listens itself answers 405 method_not_allowed as JSON', async (t) => {
  const http = app();
  t.teardown(() => http.close());
  const address = await http.listen({ host: '127.0.0.1', port: 0 });
  assertRefused(t, await rawHttp(address, CONNECT));
});

test('http - CONNECT to a front answers 405 method_not_allowed before and after the app is mounted', async (t) => {
  const limits = {
    maxHeaderBytes: 16_384,
    requestTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5000,
    maxConnections: 64,
  };
  const front: HttpFront = await listenFront({ host: '127.0.0.1', port: 0, problems: () => [], limits });
  const http = app();
  t.teardown(async () => {
    await front.close();
    await http.close();
  });
  assertRefused(t, await rawHttp(front.address, CONNECT));
  await front.mount(http);
  assertRefused(t, await rawHttp(front.address, CONNECT));
  t.is(
    (await rawHttp(front.address, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status,
    200,
  );
});
