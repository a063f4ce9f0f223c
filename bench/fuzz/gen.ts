/** Shared pieces of the fuzz cases: their shape, a seeded random source, the routes, raw request bytes. */
export type Target = 'proxy' | 'stats';

/**
 * What the client does on its connection:
 * - `request`: send everything, read the answer(s);
 * - `silent`: connect, send nothing, hang up after `holdMs`;
 * - `stall`: send the first half, hang up after `holdMs`;
 * - `abort`: send the first half, then reset the connection;
 * - `slow-read`: send everything, read nothing for `holdMs`, then read;
 * - `play`: a valid content id: read the status and some media, then hang up.
 */
export type Mode = 'request' | 'silent' | 'stall' | 'abort' | 'slow-read' | 'play';

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export interface FuzzCase {
  category: string;
  target: Target;
  mode: Mode;
  /** Raw bytes to write (raw transport), or a request for node:http. */
  raw?: Buffer;
  http?: HttpRequest;
  /** Answers expected on this connection (pipelining sends several requests). */
  expect: number;
  holdMs: number;
  /** Overrides the run's answer timeout (a play may wait for an engine to start). */
  answerTimeoutMs?: number;
}

export type Rng = () => number;
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
export const hex = (rng: Rng, n: number): string =>
  Array.from({ length: n }, () => '0123456789abcdef'[int(rng, 0, 15)]).join('');

export const proxyPaths = (rng: Rng): string[] => [
  '/ace/getstream',
  '/ace/getstream/',
  '/ace/manifest.m3u8',
  '/ace/status',
  `/ace/c/${hex(rng, 32)}/${int(rng, 0, 99)}.ts`,
  `/ace/hls/${hex(rng, 16)}/seg-${int(rng, 0, 9)}.ts`,
  '/api/streams',
  '/health',
  '/metrics',
];
export const statsPaths = (rng: Rng): string[] => [
  '/',
  '/api/overview',
  '/api/engines',
  '/api/streams',
  `/api/streams/${hex(rng, 12)}`,
  '/api/sessions',
  '/api/usage',
  '/api/events',
  '/api/totals',
  '/api/live',
  `/assets/${pick(rng, ['app.js', 'style.css', 'index.html', 'x.svg', 'A.JS'])}`,
  '/health',
  '/metrics',
];
export const pathsOf = (target: Target, rng: Rng): string[] =>
  target === 'proxy' ? proxyPaths(rng) : statsPaths(rng);

/** One raw HTTP/1.1 request; `Connection: close` so every answer ends with the connection. */
export function rawRequest(
  method: string,
  path: string,
  headers: [string, string][] = [],
  body?: Buffer | string,
  version = 'HTTP/1.1',
  keepAlive = false,
): Buffer {
  const lines = [`${method} ${path} ${version}`, 'Host: 127.0.0.1'];
  if (!keepAlive) lines.push('Connection: close');
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body === undefined ? head : Buffer.concat([head, Buffer.from(body)]);
}

export const prefixed = (path: string, query: string): string => (query ? `${path}?${query}` : path);

export interface CaseContext {
  /** Valid 40-hex content ids: a case drawing one of these really plays through an engine. */
  validIds: readonly string[];
}

export type Maker = (rng: Rng, target: Target, ctx: CaseContext) => FuzzCase;
export const one = (
  category: string,
  target: Target,
  raw: Buffer,
  mode: Mode = 'request',
  holdMs = 0,
): FuzzCase => ({
  category,
  target,
  mode,
  raw,
  expect: 1,
  holdMs,
});
