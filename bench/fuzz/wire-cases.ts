/** Fuzz cases below the routes: header sizes, HTTP framing, pipelining and half-open connections. */
import {
  hex,
  int,
  one,
  pathsOf,
  pick,
  rawRequest,
  type FuzzCase,
  type Maker,
  type Rng,
  type Target,
} from './gen.ts';

const path = (rng: Rng, target: Target): string => {
  const p = pick(rng, pathsOf(target, rng));
  return p.startsWith('/ace/') ? `${p}?id=${hex(rng, 41)}` : p;
};

export const headerCase: Maker = (rng, target) => {
  type Headers = [string, string][];
  const headers = pick<() => Headers>(rng, [
    () => [['X-Big', 'x'.repeat(int(rng, 8_000, 70_000))]],
    () => Array.from({ length: int(rng, 100, 3000) }, (_, i): [string, string] => [`X-H${i}`, String(i)]),
    () => Array.from({ length: int(rng, 50, 200) }, (): [string, string] => ['Cookie', 'a=b'.repeat(20)]),
    () => [
      ['Host', 'a'],
      ['Host', 'b'],
    ],
    () => [['Content-Length', '-1']],
    () => [['Content-Length', '99999999999999999999999']],
    () => [
      ['Content-Length', '0'],
      ['Content-Length', '5'],
    ],
    () => [['Transfer-Encoding', 'gzip, chunked, identity']],
    () => [['Expect', '100-continue']],
    () => [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', 'x'],
    ],
    () => [
      ['Upgrade', 'h2c'],
      ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'],
    ],
    () => [['Accept-Encoding', 'gzip, br, zstd, ' + 'x;q=0.1, '.repeat(300)]],
    () => [['X-Bin', '\u0001\u0002\u007f\u00ff']],
    () => [['Bad Name', 'v']],
    () => [['X-NoColon\r\nX-Line', 'v']],
    () => [['X-Fold', 'a\r\n continued']],
    () => [['Range', `bytes=${'0-1,'.repeat(2000)}0-1`]],
    () => [
      ['If-None-Match', '*'],
      ['If-Modified-Since', 'not a date'],
    ],
    () => [['Authorization', `Bearer ${'t'.repeat(int(rng, 10, 6000))}`]],
    () => [
      ['Accept', 'text/event-stream'],
      ['Last-Event-ID', '-1'],
    ],
  ])();
  return one('headers', target, rawRequest('GET', path(rng, target), headers));
};

/** Chunked bodies that break the grammar (sizes, terminators, extensions). */
const badChunked = [
  'zz\r\nhello\r\n0\r\n\r\n',
  '5\r\nhello0\r\n\r\n',
  'ffffffffffffffffff\r\nx\r\n',
  '-1\r\nx\r\n0\r\n\r\n',
  '5;ext="\r\nhello\r\n0\r\n\r\n',
  '5\nhello\n0\n\n',
  '3\r\nabc\r\n',
  '0\r\nTrailer: x\r\n',
];

export const framingCase: Maker = (rng, target) => {
  const p = path(rng, target);
  const make = pick(rng, [
    () =>
      one('framing', target, Buffer.from(Array.from({ length: int(rng, 1, 4096) }, () => int(rng, 0, 255)))),
    () => one('framing', target, Buffer.from(`GET ${p}\r\n\r\n`)),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/0.9\r\n\r\n`)),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/2.0\r\nHost: x\r\n\r\n`)),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/1.1\r\n\r\n`)),
    () => one('framing', target, Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/1.1\nHost: x\nConnection: close\n\n`)),
    () => one('framing', target, Buffer.from(`GET  ${p}  HTTP/1.1\r\nHost: x\r\n\r\n`)),
    () =>
      one(
        'framing',
        target,
        Buffer.from(`\r\n\r\nGET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      ),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\nX: \u0000\r\n\r\n`)),
    () => one('framing', target, Buffer.from(`GET ${p} HTTP/9.9\r\nHost: x\r\n\r\n`)),
    () => one('framing', target, Buffer.from(`GET ${p} FTP/1.1\r\nHost: x\r\n\r\n`)),
    () =>
      one(
        'framing',
        target,
        rawRequest('POST', p, [['Transfer-Encoding', 'chunked']], pick(rng, badChunked)),
        'request',
      ),
    () => one('framing', target, rawRequest('POST', p, [['Content-Length', '3']], 'abcdefghij')),
    () => one('framing', target, rawRequest('GET', p, [['Content-Length', '5']], 'hello')),
    () =>
      one(
        'framing',
        target,
        rawRequest(
          'POST',
          p,
          [
            ['Content-Length', '4'],
            ['Transfer-Encoding', 'chunked'],
          ],
          '0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n',
        ),
      ),
    () =>
      one(
        'framing',
        target,
        rawRequest('POST', p, [['Content-Length', String(int(rng, 100, 5000))]], 'short'),
        'stall',
        int(rng, 300, 1500),
      ),
    () => pipelined(rng, target),
  ]);
  return make();
};

/** Several requests in one write; the last one closes the connection. */
function pipelined(rng: Rng, target: Target): FuzzCase {
  const n = int(rng, 2, 8);
  const parts = Array.from({ length: n }, (_, i) =>
    rawRequest(
      pick(rng, ['GET', 'HEAD', 'OPTIONS']),
      path(rng, target),
      [],
      undefined,
      'HTTP/1.1',
      i < n - 1,
    ),
  );
  return { ...one('pipelining', target, Buffer.concat(parts)), expect: n };
}

export const halfOpenCase: Maker = (rng, target) => {
  const holdMs = int(rng, 200, 3000);
  const req = rawRequest('GET', path(rng, target));
  return pick(rng, [
    () => one('half-open', target, req, 'silent', holdMs),
    () => one('half-open', target, req, 'stall', holdMs),
    () => one('half-open', target, req, 'abort'),
    () =>
      one('slow-read', target, rawRequest('GET', pick(rng, ['/metrics', '/health'])), 'slow-read', holdMs),
  ])();
};
