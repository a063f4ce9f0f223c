import test from 'ava';
import http from 'node:http';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { ImportReport } from '@acefleet/contracts';
import {
  channelId,
  ffprobe,
  scrapedPlaylist,
  startStack,
  startWebServer,
  waitFor,
  type WebServer,
} from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

const API_KEY = 'playlist-test-key-0123456789';
let sim: Simulator;
let proxy: ProxyUnderTest;
let web: WebServer;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  web = await startWebServer();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    API_KEY,
    SOURCE_TIMEOUT_MS: '1500',
    PLAYLIST_MAX_BYTES: String(4 * 1024 * 1024),
  });
});
test.after.always(async () => {
  await proxy?.close();
  await web?.close();
  await sim?.close();
});

interface Answer {
  status: number;
  type: string;
  text: string;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${proxy.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...init.headers },
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function upload(
  name: string,
  playlist: string,
): Promise<{ status: number; body: ImportReport & { error?: { code: string; message: string } } }> {
  const res = await call('/api/channels/import', {
    method: 'POST',
    body: JSON.stringify({ name, playlist }),
  });
  return { status: res.status, body: JSON.parse(res.text) };
}

/** The entries of an M3U: each #EXTINF line with the URL under it. */
function entries(m3u: string): { extinf: string; url: string }[] {
  const lines = m3u.trim().split('\n');
  const out: { extinf: string; url: string }[] = [];
  lines.forEach((line, i) => {
    if (line.startsWith('#EXTINF')) out.push({ extinf: line, url: lines[i + 1]! });
  });
  return out;
}

/** GET with a Host header of our choosing (fetch does not let one set it). */
function getWithHost(path: string, host: string): Promise<{ status: number; text: string }> {
  const { port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

test.serial(
  'playlist - a scraped M3U imported through the admin API is served with names, tvg-id, logos, groups and URLs back at the proxy',
  async (t) => {
    const imported = await upload('scraped-a', scrapedPlaylist({ tag: 'a', count: 8 }));
    t.is(imported.status, 200, JSON.stringify(imported.body));
    t.like(imported.body, { source: 'upload:scraped-a', added: 8, skipped: [] });

    const served = await waitFor(async () => {
      const res = await call('/playlist.m3u');
      return entries(res.text).filter((e) => e.extinf.includes('a Channel')).length === 8 && res;
    }, 10_000);
    t.is(served.status, 200);
    t.regex(served.type, /^audio\/x-mpegurl/);
    t.true(served.text.startsWith(`#EXTM3U url-tvg="${proxy.url}/epg.xml" x-tvg-url="${proxy.url}/epg.xml"`));
    const ours = entries(served.text).filter((e) => e.extinf.includes('a Channel'));
    const third = ours.find((e) => e.extinf.endsWith(',a Channel 3'))!;
    t.regex(third.extinf, /tvg-id="a\.ch3"/);
    t.regex(third.extinf, /tvg-logo="http:\/\/logos\.example\/3\.png"/);
    t.regex(third.extinf, /group-title="Sports"/);
    t.regex(third.extinf, /tvg-chno="\d+"/);
    t.is(
      third.url,
      `${proxy.url}/ace/getstream?infohash=${channelId('a', 3)}`,
      'the infohash entry keeps its kind',
    );
    const first = ours.find((e) => e.extinf.endsWith(',a Channel 1'))!;
    t.is(
      first.url,
      `${proxy.url}/ace/getstream?id=${channelId('a', 1)}`,
      'pid and the engine address are gone',
    );

    const probe = await ffprobe(first.url);
    t.is(probe.formatName, 'mpegts');
    t.true(probe.streams.some((s) => s.codec_type === 'video'));
  },
);

test.serial(
  'playlist - ?format=hls gives HLS URLs, ?group= one group, and a re-import updates without duplicates',
  async (t) => {
    const hls = await call('/playlist.m3u?format=hls&group=news');
    const news = entries(hls.text);
    t.true(news.length > 0);
    t.true(news.every((e) => e.extinf.includes('group-title="News"')));
    t.true(news.every((e) => e.url.startsWith(`${proxy.url}/ace/manifest.m3u8?`)));

    const again = await upload('scraped-a', scrapedPlaylist({ tag: 'a', count: 8 }));
    t.like(again.body, { added: 0, updated: 0, unchanged: 8, removed: 0 });
    const all = await call('/playlist.m3u');
    t.is(entries(all.text).filter((e) => e.extinf.includes('a Channel')).length, 8);
  },
);

test.serial(
  'playlist - URLs follow the Host a player used; a Host that is no host name is refused',
  async (t) => {
    const res = await getWithHost('/playlist.m3u', 'tv.example.lan:8080');
    t.is(res.status, 200);
    t.true(entries(res.text).every((e) => e.url.startsWith('http://tv.example.lan:8080/ace/')));
    const bad = await getWithHost('/playlist.m3u', 'evil.example/"><script>');
    t.is(bad.status, 400);
    t.regex(bad.text, /PUBLIC_URL/);
  },
);

test('playlist - PUBLIC_URL names the proxy in every URL, whatever the Host', async (t) => {
  const other = await startProxy({
    STATIC_ENGINES: 'http://127.0.0.1:1',
    PUBLIC_URL: 'https://tv.example.com/',
  });
  t.teardown(() => other.close());
  const kvProxy = await fetch(`${other.url}/playlist.m3u`).then((r) => r.text());
  t.true(kvProxy.startsWith('#EXTM3U url-tvg="https://tv.example.com/epg.xml"'), kvProxy.slice(0, 80));
});

test('playlist - bad playlists and sources are refused with what and where, and nothing imported is lost', async (t) => {
  t.like(await upload('keep-b', scrapedPlaylist({ tag: 'b', count: 3 })), { status: 200 });
  const html = await upload('keep-b', '\n<!DOCTYPE html><html>Just a moment...</html>');
  t.is(html.status, 422);
  t.like(html.body, { error: { code: 'invalid_playlist' } });
  t.regex(html.body.error!.message, /line 2: it is an HTML page/);
  const nothing = await upload('keep-b', '#EXTM3U\n#EXTINF:-1,Broken\nacestream://123\n');
  t.is(nothing.status, 422);
  t.regex(nothing.body.error!.message, /line 3: acestream:\/\/ id must be 40 hex characters/);

  web.serve('/hangs.m3u', { hang: true });
  web.serve('/page.m3u', { body: '<html><body>blocked</body></html>', type: 'text/html' });
  web.serve('/endless.m3u', { endless: true });
  web.serve('/gone.m3u', { body: 'no', status: 404 });
  const fromSource = async (path: string): Promise<{ status: number; code: string; message: string }> => {
    const res = await call('/api/channels/import', {
      method: 'POST',
      body: JSON.stringify({ source: `${web.url}${path}` }),
    });
    const body = JSON.parse(res.text) as { error: { code: string; message: string } };
    return { status: res.status, ...body.error };
  };
  t.like(await fromSource('/hangs.m3u'), {
    status: 502,
    code: 'source_unavailable',
    message: `${web.url}/hangs.m3u: timed out after 1500 ms`,
  });
  t.like(await fromSource('/page.m3u'), {
    status: 422,
    code: 'invalid_playlist',
    message: 'line 1: it is an HTML page',
  });
  t.like(await fromSource('/endless.m3u'), { status: 413, code: 'source_too_large' });
  t.like(await fromSource('/gone.m3u'), {
    status: 502,
    code: 'source_unavailable',
    message: `${web.url}/gone.m3u answered HTTP 404`,
  });
  const big = await call('/api/channels/import', {
    method: 'POST',
    body: JSON.stringify({ name: 'too-big', playlist: `#EXTM3U\n${'#'.repeat(4 * 1024 * 1024 + 10)}` }),
  });
  t.is(big.status, 413);

  const left = await call('/api/channels');
  const kept = (JSON.parse(left.text) as { channels: { source: string }[] }).channels.filter(
    (c) => c.source === 'upload:keep-b',
  );
  t.is(kept.length, 3, 'the earlier import of the source is intact');
});

/** GET the whole body as bytes (no decoding): how long until the last byte, and how many entries it lists. */
function timedGet(url: string): Promise<{ ms: number; entries: number }> {
  const at = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let urls = 0;
        res.on('data', (chunk: Buffer) => {
          for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) urls++;
        });
        res.on('end', () => resolve({ ms: performance.now() - at, entries: (urls - 1) / 2 }));
      })
      .on('error', reject);
  });
}

// The proxy runs as its own process here, as in production: the timings are its own, not shared with this test.
test('playlist - a 10 000-channel playlist imports in under 10 s and /playlist.m3u answers it in under 200 ms', async (t) => {
  const stack = await startStack({ services: ['proxy'] });
  t.teardown(() => stack.stop());
  const text = scrapedPlaylist({ tag: 'c', count: 10_000 });
  const started = performance.now();
  const res = await fetch(`${stack.proxyUrl()}/api/channels/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'big-c', playlist: text }),
  });
  const importMs = performance.now() - started;
  t.is(res.status, 200);
  t.is(((await res.json()) as ImportReport).added, 10_000);
  t.log(`import: ${Math.round(importMs)} ms for ${(text.length / 1e6).toFixed(1)} MB`);
  t.true(importMs < 10_000, `${importMs} ms`);
  await waitFor(async () => (await timedGet(`${stack.proxyUrl()}/playlist.m3u`)).entries === 10_000, 20_000);
  // Players poll the playlist they loaded: its first answer after a change is rendered on the request (logged),
  // the next come from what the proxy keeps and refreshes ahead (asserted).
  const queries = ['', '?format=hls', '?group=news'];
  const first: number[] = [];
  for (const query of queries) first.push((await timedGet(`${stack.proxyUrl()}/playlist.m3u${query}`)).ms);
  const times: number[] = [];
  for (const query of [...queries, ...queries]) {
    const answer = await timedGet(`${stack.proxyUrl()}/playlist.m3u${query}`);
    times.push(answer.ms);
    t.true(answer.entries >= 3333);
  }
  const ms = (all: number[]): string => all.map((v) => `${Math.round(v)} ms`).join(', ');
  t.log(`/playlist.m3u (ts, hls, one group): first answers ${ms(first)}; then ${ms(times)}`);
  t.true(Math.max(...times) < 200, times.join(', '));
});

test('playlist - PLAYLIST_SOURCES are imported at start and re-read; a source that breaks keeps its channels', async (t) => {
  web.serve('/sourced.m3u', { body: scrapedPlaylist({ tag: 'd', count: 2 }) });
  const sourced = await startProxy({
    STATIC_ENGINES: 'http://127.0.0.1:1',
    PLAYLIST_SOURCES: `${web.url}/sourced.m3u, ${web.url}/missing.m3u`,
    PLAYLIST_REFRESH_MS: '1000',
  });
  t.teardown(() => sourced.close());
  const names = async (): Promise<string[]> =>
    entries(await fetch(`${sourced.url}/playlist.m3u`).then((r) => r.text())).map((e) =>
      e.extinf.split(',').pop()!,
    );
  t.deepEqual(await waitFor(async () => ((await names()).length === 2 ? names() : false), 15_000), [
    'd Channel 0',
    'd Channel 1',
  ]);
  web.serve('/sourced.m3u', { body: scrapedPlaylist({ tag: 'd', count: 3 }) });
  await waitFor(async () => (await names()).includes('d Channel 2'), 15_000);
  web.serve('/sourced.m3u', { body: '<html>down for maintenance</html>', type: 'text/html' });
  const readsBefore = web.requests('/sourced.m3u').count;
  await waitFor(() => web.requests('/sourced.m3u').count >= readsBefore + 2, 15_000);
  t.is((await names()).length, 3, 'a broken read changes nothing');
});

test('playlist - the admin API of channels and tokens is in the proxy’s OpenAPI document, writes behind the key', async (t) => {
  const doc = (await (await fetch(`${proxy.url}/api/openapi.json`)).json()) as {
    openapi: string;
    paths: Record<string, Record<string, { security: unknown[] }>>;
  };
  t.is(doc.openapi, '3.1.0');
  for (const [path, method] of [
    ['/api/channels', 'get'],
    ['/api/channels/import', 'post'],
    ['/api/channels/{channel}', 'delete'],
    ['/api/tokens', 'post'],
    ['/api/tokens/{name}', 'delete'],
    ['/api/players', 'get'],
    ['/playlist.m3u', 'get'],
    ['/epg.xml', 'get'],
    ['/discover.json', 'get'],
  ] as const) {
    t.truthy(doc.paths[path]?.[method], `${method} ${path}`);
  }
  t.deepEqual(doc.paths['/api/tokens']!.post!.security, [{ bearer: [] }], 'making a token needs the key');
  t.deepEqual(
    doc.paths['/playlist.m3u']!.get!.security,
    [],
    'the playlist takes no key (player tokens guard it)',
  );
  const anonymous = await fetch(`${proxy.url}/api/tokens`, { method: 'POST', body: '{"name":"x"}' });
  t.is(anonymous.status, 401);
});
