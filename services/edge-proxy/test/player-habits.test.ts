import test from 'ava';
import http from 'node:http';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import {
  NatsUsers,
  playerEventsOf,
  type PlayerSessionEnded,
  type PlayerSessionStarted,
} from '@acefleet/contracts';
import { channelId, collectEvents, waitFor, type EventCollector } from '@acefleet/testkit';
import { PROXY_UNDER_TEST, startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let engineUrl: string;
let proxy: ProxyUnderTest;
let operator: NatsConnection;
let started: EventCollector<PlayerSessionStarted>;
let ended: EventCollector<PlayerSessionEnded>;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  engineUrl = (await sim.listen()).url;
  proxy = await startProxy({ STATIC_ENGINES: engineUrl, HLS_IDLE_MS: '3000' });
  operator = await proxy.nats.connect(NatsUsers.operator);
  started = await collectEvents(operator, playerEventsOf('started'));
  ended = await collectEvents(operator, playerEventsOf('ended'));
});
test.after.always(async () => {
  await started?.stop();
  await ended?.stop();
  await operator?.close();
  await proxy?.close();
  await sim?.close();
});

let nextId = 0x100;
const freshId = (): string => channelId('7', nextId++);

interface Head {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with `headers`; a stream's body is read for `streamMs`, an error's whole. */
function send(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; streamMs?: number; base?: string } = {},
): Promise<Head & { bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${opts.base ?? proxy.url}${path}`,
      { method: opts.method ?? 'GET', agent: false, headers: opts.headers },
      (res) => {
        let body = '';
        let bytes = 0;
        const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, bytes });
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (res.headers['content-type'] !== 'video/mp2t') body += c.toString('utf8');
        });
        if (res.headers['content-type'] === 'video/mp2t' && opts.method !== 'HEAD') {
          setTimeout(() => {
            res.destroy();
            done();
          }, opts.streamMs ?? 1500);
        } else res.on('end', done);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const sessionsOf = (content: string): number =>
  sim.stats().sessions.filter((s) => s.contentId === content).length;

test('habits - HEAD answers the headers and opens no engine session', async (t) => {
  const content = freshId();
  const head = await send(`/ace/getstream?id=${content}&pid=1`, {
    method: 'HEAD',
    headers: { 'user-agent': 'Jellyfin-Server/10.10.7' },
  });
  t.is(head.status, 200);
  t.is(head.headers['content-type'], 'video/mp2t');
  t.is(sessionsOf(content), 0, 'ace-sim saw no session');
  t.is(proxy.proxy.hub.all().length, 0);
});

test('habits - Range: bytes=0- plays live (200), any other range is 416', async (t) => {
  const content = freshId();
  const live = await send(`/ace/getstream?id=${content}`, {
    headers: { range: 'bytes=0-', 'user-agent': 'VLC/3.0.20 LibVLC/3.0.20' },
  });
  t.is(live.status, 200);
  t.is(live.headers['content-range'], undefined);
  t.true(live.bytes > 0);
  for (const range of ['bytes=100-', 'bytes=0-99', 'bytes=-500', 'items=0-']) {
    const refused = await send(`/ace/getstream?id=${freshId()}`, { headers: { range } });
    t.is(refused.status, 416, range);
    t.is((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'range_not_satisfiable');
  }
  t.is(
    (await send(`/ace/getstream?id=${content}`, { method: 'HEAD', headers: { range: 'bytes=5-' } })).status,
    416,
  );
});

test('habits - url, direct_url, magnet and sid stay refused', async (t) => {
  const refused: [string, string][] = [
    ['url', 'parameter_not_allowed'],
    ['direct_url', 'parameter_not_allowed'],
    ['magnet', 'parameter_not_allowed'],
    ['sid', 'pid_not_allowed'],
  ];
  for (const [name, code] of refused) {
    const res = await send(`/ace/getstream?id=${freshId()}&${name}=x`);
    t.is(res.status, 400, name);
    t.is((JSON.parse(res.body) as { error: { code: string } }).error.code, code, name);
  }
});

test('habits - every player session says who (address, user agent), what, since when and how many bytes', async (t) => {
  const content = freshId();
  await send(`/ace/getstream?id=${content}&pid=77`, {
    headers: { 'user-agent': 'TiviMate/5.1.6 (Android 11)' },
    streamMs: 1500,
  });
  const start = await waitFor(
    () => started.events.find((e) => e.data.content.value === content) ?? false,
    5000,
  );
  t.like(start.data, {
    kind: 'ts',
    proxyId: PROXY_UNDER_TEST,
    player: { address: '127.0.0.1', userAgent: 'TiviMate/5.1.6 (Android 11)' },
  });
  t.is(start.data.player.token, undefined);
  const end = await waitFor(
    () => ended.events.find((e) => e.data.playerId === start.data.playerId) ?? false,
    5000,
  );
  t.true(end.data.bytesOut > 100_000, String(end.data.bytesOut));
  t.true(Date.parse(end.data.endedAt) >= Date.parse(end.data.startedAt));
});

test('habits - an HLS player is one session across its polls, ended after the idle window', async (t) => {
  const content = freshId();
  const headers = { 'user-agent': 'Kodi/20.1' };
  const manifest = await send(`/ace/manifest.m3u8?id=${content}`, { headers });
  t.is(manifest.status, 200);
  // An engine slow to give its first playlist (WAIT_HEAD_MS) is answered with a master playlist first.
  const first = manifest.body.split('\n').find((l) => l.startsWith('/ace/hls/'))!;
  const live = first.endsWith('/live.m3u8') ? (await send(first, { headers })).body : manifest.body;
  const segment = live.split('\n').find((l) => l.startsWith('/ace/hls/'))!;
  t.regex(segment, /\.ts$/);
  await send(segment, { headers });
  await send(`/ace/manifest.m3u8?id=${content}`, { headers });
  const mine = started.events.filter((e) => e.data.content.value === content);
  t.is(mine.length, 1);
  t.is(mine[0]!.data.kind, 'hls');
  const end = await waitFor(
    () => ended.events.find((e) => e.data.playerId === mine[0]!.data.playerId) ?? false,
    10_000,
  );
  t.true(end.data.bytesOut > 1000);
});

test('habits - X-Forwarded-For names the client only when it comes from TRUSTED_PROXIES', async (t) => {
  const behind = await startProxy({
    STATIC_ENGINES: engineUrl,
    TRUSTED_PROXIES: '127.0.0.1',
    MAX_STREAMS_PER_CLIENT: '1',
  });
  t.teardown(() => behind.close());
  const forwarded = {
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'tv.example.com',
  };
  const playlist = await fetch(`${behind.url}/playlist.m3u`, { headers: forwarded }).then((r) => r.text());
  t.true(playlist.startsWith('#EXTM3U url-tvg="https://tv.example.com/epg.xml"'), playlist.slice(0, 60));
  const direct = await fetch(`${proxy.url}/playlist.m3u`, { headers: forwarded }).then((r) => r.text());
  t.true(
    direct.startsWith(`#EXTM3U url-tvg="${proxy.url}/epg.xml"`),
    'an untrusted peer’s X-Forwarded-* are ignored',
  );

  // Two households behind one reverse proxy: each forwarded address has its own limit (1 stream here).
  const play = (address: string) =>
    send(`/ace/getstream?id=${freshId()}`, {
      base: behind.url,
      headers: { 'x-forwarded-for': address },
      streamMs: 3000,
    });
  const [first, second, third] = await Promise.all([
    play('198.51.100.1'),
    play('198.51.100.2'),
    play('198.51.100.1'),
  ]);
  t.deepEqual([first.status, second.status, third.status].sort(), [200, 200, 429]);
});
