import { seededRandom } from '@acefleet/testkit';
/**
 * The fuzz cases: malformed or odd requests for the edge proxy and stats, drawn from a seeded generator so a
 * run can be repeated exactly. Each case is one TCP connection; most are raw bytes, some go through node:http.
 */
import {
  hex,
  int,
  one,
  pathsOf,
  pick,
  prefixed,
  proxyPaths,
  rawRequest,
  statsPaths,
  type CaseContext,
  type FuzzCase,
  type Maker,
  type Mode,
  type Rng,
  type Target,
} from './gen.ts';
import { framingCase, halfOpenCase, headerCase } from './wire-cases.ts';

/** Content ids that are NOT a valid 40-hex id, even after percent-decoding. */
const badIds = (rng: Rng): string[] => [
  hex(rng, 39),
  hex(rng, 41),
  '',
  'g'.repeat(40),
  `${hex(rng, 38)}zz`,
  `${hex(rng, 20)}%zz${hex(rng, 17)}`,
  `${hex(rng, 39)}%00`,
  `%00${hex(rng, 39)}`,
  `${hex(rng, 20)}+${hex(rng, 19)}`,
  [...hex(rng, 39)].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''),
  '０１２３４５６７８９'.repeat(4),
  `${hex(rng, 39)}%E2%80%8B`,
  `${hex(rng, 40)}%`,
  `%E0%A4%A${hex(rng, 37)}`,
  `${hex(rng, 40)}\u00e9`.slice(1),
  'a'.repeat(int(rng, 100, 4000)),
  '-1',
  'null',
  '[object Object]',
];

/** Odd query strings; with `validId` the selection is valid and only the other parameters are odd. */
function oddQuery(rng: Rng, target: Target, validId?: string): string {
  if (target === 'stats') {
    const v = pick(rng, [
      'limit=0',
      'limit=-1',
      'limit=1e309',
      'limit=abc',
      'limit=99999999999999999999',
      'limit=1&limit=2',
      'limit[]=5',
      'before=99999999999999999999',
      'before=-5',
      'before=1.5',
      'since=2024-13-45T99:99:99Z',
      'since=%zz',
      'since=',
      'until=yesterday',
      'group=x',
      'group=content&group=day',
      'group[]=day',
      `content=${hex(rng, 39)}`,
      `content=${hex(rng, 41)}`,
      `content=${'z'.repeat(40)}`,
      `engine=${'e'.repeat(int(rng, 100, 3000))}`,
      'state=active%00',
      'state=gone',
      'kind=%E2%82',
      'stream=..%2f..%2fetc%2fpasswd',
      '__proto__[limit]=1',
      'constructor[prototype][x]=1',
      `${'a'.repeat(int(rng, 1, 5000))}=1`,
      Array.from({ length: int(rng, 50, 1500) }, (_, i) => `p${i}=${i}`).join('&'),
      '&&&==&=',
      '%',
      '+=+',
    ]);
    return v;
  }
  const idPart = validId
    ? pick(rng, [`id=${validId}`, `infohash=${validId}`, `id=${validId.toUpperCase()}`])
    : pick(rng, [
        ...badIds(rng).map((id) => `id=${id}`),
        ...badIds(rng).map((id) => `infohash=${id}`),
        `id=${hex(rng, 40)}&id=${hex(rng, 40)}`,
        `id[]=${hex(rng, 40)}`,
        `id[0]=${hex(rng, 40)}`,
        `id=${hex(rng, 40)}&infohash=${hex(rng, 40)}`,
        `id=${hex(rng, 40)}&pid=1`,
        'pid=1',
        'id',
        'id=',
        '',
        '%',
        '&&&==&=',
        `ID=${hex(rng, 40)}`,
      ]);
  const extra = pick(rng, [
    '',
    '&',
    '&x=1&x=2',
    '&format=json',
    '&__proto__=x',
    '&__proto__[polluted]=1',
    '&constructor[prototype][polluted]=1',
    '&toString=1',
    '&hasOwnProperty=1',
    `&q=${'v'.repeat(int(rng, 100, 6000))}`,
    `&${Array.from({ length: int(rng, 20, 400) }, (_, i) => `p${i}=${i}`).join('&')}`,
    '&a=%zz&b=%00&c=+&d=%2B',
    '&url=http://127.0.0.1:1/&magnet=x',
    '&transcode_audio=1&transcode_mp3=0',
  ]);
  return `${idPart}${extra}`;
}

function oddPath(rng: Rng, target: Target): string {
  const base = pick(rng, pathsOf(target, rng));
  return pick(rng, [
    `/..%2f..%2f..%2fetc%2fpasswd`,
    `${base}/..%2f..%2fetc%2fpasswd`,
    `/assets/..%2f..%2fpackage.json`,
    `/assets/%2e%2e%2fapp.ts`,
    `/assets/..%5capp.js`,
    `/assets/.env`,
    `//${base.slice(1)}`,
    `${base.replace(/\//g, '//')}`,
    `${base}/`,
    `${base}//`,
    `${base}/${'x'.repeat(int(rng, 200, 9000))}`,
    `/${'a/'.repeat(int(rng, 100, 2000))}`,
    `${base}/%C3%A9%E2%82%AC%F0%9F%98%80`,
    `${base}%00`,
    `${base}%00.js`,
    `${base}%`,
    `${base}%zz`,
    `${base}%E0%A4%A`,
    `${base}%C0%AF`,
    `/api/streams/${'%ff'.repeat(int(rng, 1, 60))}`,
    `/api/streams/%2e%2e`,
    `/api/streams/${'s'.repeat(int(rng, 120, 140))}`,
    `/ace/hls/%00/%00`,
    `/ace/hls/${hex(rng, 16)}/..%2f..%2fmetrics`,
    `/ace/c/${'%'.repeat(int(rng, 1, 3))}`,
    `${base.toUpperCase()}`,
    `${base};jsessionid=1`,
    `${base}#frag`,
    `${base}?`,
    `${base}??`,
    `http://127.0.0.1${base}`,
    `*`,
    `${base}\t`,
  ]);
}

const oddMethods = [
  'get',
  'Get',
  'GeT',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'MKCOL',
  'PURGE',
  'BREW',
  'FOO',
  'G E T',
  'GET\u0000',
  '',
  '-',
  '\u00e9',
];

const makers: [weight: number, make: Maker][] = [
  [
    14,
    (rng, target) => {
      const method = pick(rng, [...oddMethods, 'X'.repeat(int(rng, 100, 20_000))]);
      return one('method', target, rawRequest(method, pick(rng, pathsOf(target, rng))));
    },
  ],
  [18, (rng, target) => one('path', target, rawRequest(pick(rng, ['GET', 'HEAD']), oddPath(rng, target)))],
  [
    22,
    (rng, target) => {
      const path = target === 'proxy' ? pick(rng, proxyPaths(rng).slice(0, 4)) : pick(rng, statsPaths(rng));
      return one(
        'query',
        target,
        rawRequest(pick(rng, ['GET', 'HEAD']), prefixed(path, oddQuery(rng, target))),
      );
    },
  ],
  [
    12,
    (rng, target) => {
      const path = prefixed(pick(rng, pathsOf(target, rng)), target === 'proxy' ? `id=${hex(rng, 39)}` : '');
      return {
        category: 'node:http',
        target,
        mode: 'request',
        http: {
          method: pick(rng, ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'FOO', 'M-SEARCH']),
          path:
            rng() < 0.5 ? path : prefixed(pick(rng, pathsOf(target, rng)), encodeURI(oddQuery(rng, target))),
          headers: {
            accept: pick(rng, [
              '*/*',
              'text/event-stream',
              'application/json;q=0',
              '\u00e9'.normalize('NFD'),
            ]),
            'x-forwarded-for': pick(rng, ['127.0.0.1', '::1, 10.0.0.1', 'x'.repeat(1000)]),
            range: pick(rng, ['bytes=0-', 'bytes=-1', 'bytes=99999999999999999999-', 'lines=1']),
          },
        },
        expect: 1,
        holdMs: 0,
      };
    },
  ],
  [12, headerCase],
  [14, framingCase],
  [8, halfOpenCase],
];
const totalWeight = makers.reduce((n, [w]) => n + w, 0);

/**
 * `count` cases, alternating proxy and stats; every `playEvery`-th case uses a valid id (a real play through an
 * engine), so plays stay rare and never exceed the fleet's capacity.
 */
export function* generateCases(
  count: number,
  seed: number,
  ctx: CaseContext,
  playEvery: number,
): Generator<FuzzCase> {
  const rng = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const target: Target = i % 2 === 0 ? 'proxy' : 'stats';
    if (i % playEvery === playEvery - 1) {
      yield playCase(rng, ctx, i / playEvery);
      continue;
    }
    let r = rng() * totalWeight;
    const [, make] = makers.find(([w]) => (r -= w) < 0) ?? makers[0]!;
    yield make(rng, target, ctx);
  }
}

/** A valid selection: TS or HLS, plain, with odd extra parameters, or read slowly. */
function playCase(rng: Rng, ctx: CaseContext, n: number): FuzzCase {
  const id = ctx.validIds[Math.floor(n) % ctx.validIds.length]!;
  const path = pick(rng, ['/ace/getstream', '/ace/getstream', '/ace/manifest.m3u8']);
  const query = rng() < 0.5 ? `id=${id}` : oddQuery(rng, 'proxy', id);
  const mode: Mode = rng() < 0.3 ? 'slow-read' : 'play';
  const c = one('valid-id play', 'proxy', rawRequest('GET', prefixed(path, query)), mode, 2000);
  return { ...c, answerTimeoutMs: 30_000 };
}
