import test from 'ava';
import { infohashOfContentId } from '../src/index.ts';
import { CONTENT_ID, getJson, start, startSim, type Ace, type Started } from './helpers.ts';

test('getstream format=json answers the engine envelope with urls on the host the caller used', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=a`);
  const host = new URL(url).host;
  t.regex(r.playback_url, new RegExp(`^http://${host}/ace/r/${r.infohash}/[0-9a-f]{32}$`));
  t.is(r.stat_url, r.playback_url.replace('/ace/r/', '/ace/stat/'));
  t.is(r.command_url, r.playback_url.replace('/ace/r/', '/ace/cmd/'));
  t.regex(r.playback_session_id, /^[0-9a-f]{40}$/);
  t.false(r.playback_url.includes(r.playback_session_id));
  t.like(r, { is_live: 1, is_encrypted: 0, client_session_id: -1 });
  t.true(r.bitrate > 0);
});

test('the infohash of a content id is deterministic and content_id is an alias of id', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const a = await start(url, `id=${CONTENT_ID}`);
  const b = await start(url, `content_id=${CONTENT_ID.toUpperCase()}`);
  t.is(a.infohash, infohashOfContentId(CONTENT_ID));
  t.is(b.infohash, a.infohash);
  t.not(a.playback_session_id, b.playback_session_id);
});

test('infohash and magnet selectors keep the given infohash; url gets a derived one', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const hash = 'ABCDEF0123456789ABCDEF0123456789ABCDEF01';
  t.is((await start(url, `infohash=${hash}`)).infohash, hash.toLowerCase());
  t.is(
    (await start(url, `magnet=${encodeURIComponent(`magnet:?xt=urn:btih:${hash}&dn=x`)}`)).infohash,
    hash.toLowerCase(),
  );
  t.regex(
    (await start(url, `url=${encodeURIComponent('http://example.test/a.torrent')}`)).infohash,
    /^[0-9a-f]{40}$/,
  );
});

test('getstream without a selector, with two, or with a malformed id answers an error envelope', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const ask = (q: string) => getJson<Ace<Started>>(`${url}/ace/getstream?${q}&format=json`);
  t.deepEqual(await ask('pid=x'), { response: null, error: 'missing content id' });
  t.like(await ask(`id=${CONTENT_ID}&infohash=${CONTENT_ID}`), { response: null });
  t.deepEqual(await ask('id=nothex'), { response: null, error: 'failed to load content' });
});

test('getstream without format=json redirects to the playback url', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const res = await fetch(`${url}/ace/getstream?id=${CONTENT_ID}`, { redirect: 'manual' });
  t.is(res.status, 302);
  t.regex(res.headers.get('location') ?? '', /\/ace\/r\/[0-9a-f]{40}\/[0-9a-f]{32}$/);
  t.is(sim.stats().sessionsStarted, 1);
});

test('health and identity endpoints answer the result envelope', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  t.deepEqual(await getJson(`${url}/webui/api/service?method=get_version`), {
    result: { code: 3017000, platform: 'linux', version: '3.1.70' },
    error: null,
  });
  t.like(await getJson(`${url}/server/api?api_version=3&method=get_status`), {
    result: { playlist_loaded: true, version: { version: '3.1.70' } },
    error: null,
  });
  t.deepEqual(await getJson(`${url}/server/api?api_version=3&method=get_network_connection_status`), {
    result: { connected: true },
    error: null,
  });
});
