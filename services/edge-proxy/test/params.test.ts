import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Player, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;
let relay: http.Server;
/** Every start request (`/ace/getstream` or `/ace/manifest.m3u8` with format=json) the engine received. */
const starts: URL[] = [];

/** A plain HTTP relay in front of the simulator that records the start URLs the proxy sends the engine. */
async function startRelay(target: string): Promise<string> {
  relay = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    if (url.searchParams.get('format') === 'json') starts.push(url);
    const upstream = http.request(url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
}

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  // No engine-manager: the proxy plays on its static engine, which is the recording relay.
  proxy = await startProxy({
    STATIC_ENGINES: await startRelay(url),
    STATIC_ENGINE_CAPACITY: '20',
    MAX_STREAMS_PER_CLIENT: '50',
  });
});
test.after.always(async () => {
  await proxy?.close();
  relay?.closeAllConnections();
  relay?.close();
  await sim?.close();
});

let nextId = 0x100;
/** A fresh content id per test, so tests running at once never share a stream. */
const freshId = (): string => (nextId++).toString(16).padStart(40, 'a');

async function get(
  path: string,
): Promise<{ status: number; body: { error: { code: string; message: string } } }> {
  const res = await fetch(`${proxy.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}

const refused: [string, string][] = [
  ['URL', 'parameter_not_allowed'],
  ['Direct_Url', 'parameter_not_allowed'],
  ['mAgNeT', 'parameter_not_allowed'],
  ['SID', 'pid_not_allowed'],
];

for (const path of ['/ace/getstream', '/ace/manifest.m3u8']) {
  for (const [name, code] of refused) {
    test(`proxy - ${path} refuses "${name}" with 400 ${code} naming it, and no engine session starts`, async (t) => {
      const id = freshId();
      const res = await get(`${path}?id=${id}&${name}=${encodeURIComponent('http://10.0.0.1/x')}`);
      t.is(res.status, 400);
      t.is(res.body.error.code, code);
      t.true(res.body.error.message.includes(`"${name}"`), res.body.error.message);
      t.false(
        starts.some((u) => u.searchParams.get('id') === id),
        'the engine never saw the request',
      );
    });
  }
}

test('proxy - output options reach the engine lower-cased; its own, internal and unknown ones do not', async (t) => {
  const id = freshId();
  const query = [
    `id=${id}`,
    'Transcode_Audio=1',
    'preferred_audio_language=eng',
    'format=json',
    'use_api_events=1',
    'force_session_restart=1',
    'provider=evil',
    'product_key=abc',
    'whatever=1',
  ].join('&');
  const player = await Player.open(`${proxy.url}/ace/getstream?${query}`);
  t.teardown(() => player.close());
  t.is(player.status, 200);
  const start = await waitFor(() => starts.find((u) => u.searchParams.get('id') === id) ?? false, 5000);
  const names = [...start.searchParams.keys()].sort();
  t.deepEqual(names, ['format', 'id', 'pid', 'preferred_audio_language', 'transcode_audio']);
  t.is(start.searchParams.get('transcode_audio'), '1');
  t.is(start.searchParams.get('format'), 'json', 'format is the proxy’s own');
});

test('proxy - players with different output options get separate engine sessions', async (t) => {
  const id = freshId();
  const a = await Player.open(`${proxy.url}/ace/getstream?id=${id}&transcode_audio=0`);
  const b = await Player.open(`${proxy.url}/ace/getstream?id=${id}&transcode_audio=1`);
  t.teardown(() => [a, b].forEach((p) => p.close()));
  await waitFor(() => a.bytes > 0 && b.bytes > 0, 10_000);
  const sessions = sim.stats().sessions.filter((s) => s.contentId === id && s.stoppedAt === undefined);
  t.is(sessions.length, 2);
  t.is(starts.filter((u) => u.searchParams.get('id') === id).length, 2);
});

test('proxy - the same options in another order and case share one engine session', async (t) => {
  const id = freshId();
  const a = await Player.open(
    `${proxy.url}/ace/getstream?id=${id}&transcode_audio=1&preferred_audio_language=eng`,
  );
  await waitFor(() => a.bytes > 0, 10_000);
  const b = await Player.open(
    `${proxy.url}/ace/getstream?PREFERRED_AUDIO_LANGUAGE=eng&Transcode_Audio=1&id=${id}`,
  );
  t.teardown(() => [a, b].forEach((p) => p.close()));
  await waitFor(() => b.bytes > 0, 10_000);
  t.is(starts.filter((u) => u.searchParams.get('id') === id).length, 1);
  t.is(sim.stats().sessions.filter((s) => s.contentId === id).length, 1);
  const status = await fetch(
    `${proxy.url}/ace/status?id=${id}&preferred_audio_language=eng&transcode_audio=1`,
  ).then((r) => r.json() as Promise<{ clients: number }>);
  t.is(status.clients, 2, '/ace/status finds the stream by content and options');
  t.is((await get(`/ace/status?id=${id}`)).status, 404, 'without the options it is another stream');
});

test('proxy - HLS sessions are keyed by output options too', async (t) => {
  const id = freshId();
  const manifest = (q: string): Promise<number> =>
    fetch(`${proxy.url}/ace/manifest.m3u8?id=${id}${q}`, { signal: AbortSignal.timeout(10_000) }).then(
      async (r) => (await r.text(), r.status),
    );
  t.is(await manifest('&quality=1&hlc=1'), 200);
  t.is(await manifest('&HLC=1&Quality=1'), 200);
  t.is(await manifest('&quality=2'), 200);
  t.is(starts.filter((u) => u.searchParams.get('id') === id).length, 2);
});

test('proxy - a selector given twice in different case is refused', async (t) => {
  const id = freshId();
  const res = await get(`/ace/getstream?id=${id}&ID=${id}`);
  t.is(res.status, 400);
  t.is(res.body.error.code, 'bad_request');
});

// Scraped playlists carry Acexy-era URLs with pid (acestream-scraper #64, #70, #102): they must play.
test('proxy - pid in a player URL is accepted and dropped: the engine gets the proxy’s own', async (t) => {
  const id = freshId();
  const player = await Player.open(`${proxy.url}/ace/getstream?id=${id}&pid=12345`);
  t.teardown(() => player.close());
  t.is(player.status, 200);
  await waitFor(() => player.bytes > 0, 10_000);
  const start = starts.find((u) => u.searchParams.get('id') === id)!;
  t.not(start.searchParams.get('pid'), '12345', 'the player’s pid never reaches the engine');
  t.regex(start.searchParams.get('pid') ?? '', /^[0-9a-f-]{36}$/);
});

test('proxy - an acestream:// link in id plays that id', async (t) => {
  const id = freshId();
  const player = await Player.open(`${proxy.url}/ace/getstream?id=acestream://${id}`);
  t.teardown(() => player.close());
  t.is(player.status, 200);
  await waitFor(() => starts.some((u) => u.searchParams.get('id') === id), 5000);
  const manifest = await fetch(
    `${proxy.url}/ace/manifest.m3u8?id=${encodeURIComponent(`acestream://${id}`)}`,
  );
  t.is(manifest.status, 200);
  await manifest.text();
});

test('proxy - content_id selects like id', async (t) => {
  const id = freshId();
  const player = await Player.open(`${proxy.url}/ace/getstream?content_id=${id}`);
  t.teardown(() => player.close());
  t.is(player.status, 200);
  const start = await waitFor(() => starts.find((u) => u.searchParams.get('id') === id) ?? false, 5000);
  t.false(start.searchParams.has('content_id'), 'the engine gets the canonical selector');
});
