import test from 'ava';
import http from 'node:http';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { importPlaylist, openChannelsKv, parseM3u } from '@acefleet/channels';
import { NatsUsers, playerEventsOf, type PlayerSessionEnded } from '@acefleet/contracts';
import { addToken, openTokensKv, revokeToken } from '@acefleet/player-tokens';
import { channelId, collectEvents, Player, scrapedPlaylist, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

const API_KEY = 'tokens-test-key-0123456789';
let sim: Simulator;
let proxy: ProxyUnderTest;
let operator: NatsConnection;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    STATIC_ENGINE_CAPACITY: '100',
    PLAYER_AUTH: 'required',
    API_KEY,
    MAX_STREAMS_PER_CLIENT: '8',
  });
  operator = await proxy.nats.connect(NatsUsers.operator);
  await openChannelsKv(operator);
  await importPlaylist(operator, '/lists/tokens.m3u', parseM3u(scrapedPlaylist({ tag: 'f', count: 3 })));
});
test.after.always(async () => {
  await operator?.close();
  await proxy?.close();
  await sim?.close();
});

let names = 0;
/** A new token, once the proxy knows it (its copy of the bucket looks for changes every 250 ms). */
async function newToken(maxStreams?: number): Promise<{ name: string; token: string }> {
  const name = `viewer-${names++}`;
  const made = await addToken(await openTokensKv(operator), { name, ...(maxStreams ? { maxStreams } : {}) });
  await waitFor(
    async () => (await request(`/lineup_status.json?token=${made.token}`)).status === 200,
    5000,
    20,
  );
  return made;
}

const id = (n: number): string => channelId('f', n);
let nextId = 0x100;
const freshId = (): string => channelId('9', nextId++);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request whose body is read only when it is not a stream (a stream is closed after its head). */
function request(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(`${proxy.url}${path}`, { agent: false, headers }, (res) => {
        if (res.headers['content-type'] === 'video/mp2t') {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' });
          res.destroy();
          return;
        }
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      })
      .on('error', reject);
  });
}

test('tokens - without a token every player route answers 401 with WWW-Authenticate', async (t) => {
  for (const path of [
    `/ace/getstream?id=${id(0)}`,
    `/ace/manifest.m3u8?id=${id(0)}`,
    '/playlist.m3u',
    '/epg.xml',
    '/discover.json',
    '/lineup.json',
  ]) {
    const res = await request(path);
    t.is(res.status, 401, path);
    t.regex(String(res.headers['www-authenticate']), /^Bearer/, path);
    t.is((JSON.parse(res.text) as { error: { code: string } }).error.code, 'unauthorized', path);
  }
  t.is(sim.stats().sessions.filter((s) => s.contentId === id(0)).length, 0, 'no engine session was opened');
});

test('tokens - a token plays as ?token= and as Authorization: Bearer; the playlist it fetches carries it', async (t) => {
  const { token } = await newToken();
  const byQuery = await Player.open(`${proxy.url}/ace/getstream?id=${freshId()}&token=${token}`);
  t.teardown(() => byQuery.close());
  t.is(byQuery.status, 200);
  t.is((await request(`/ace/getstream?id=${freshId()}`, { authorization: `Bearer ${token}` })).status, 200);

  const playlist = await request(`/playlist.m3u?token=${token}`);
  t.is(playlist.status, 200);
  const urls = playlist.text.split('\n').filter((l) => l.startsWith('http'));
  t.true(urls.length >= 3);
  t.true(urls.every((u) => u.endsWith(`&token=${token}`)));
  t.true(playlist.text.startsWith(`#EXTM3U url-tvg="${proxy.url}/epg.xml?token=${token}"`));
  const played = await request(urls[0]!.slice(proxy.url.length));
  t.is(played.status, 200, 'a URL from the playlist plays as it is');
});

test('tokens - malformed and unknown tokens are refused without being repeated', async (t) => {
  const cases: [string, RegExp][] = [
    ['x'.repeat(129), /longer than 128 characters/],
    ['q1w2e3', /shorter than 16 characters/],
    ['aft_<script>alert(1)</script>aaaaaaaa', /characters other than/],
    ['aft_unknown-but-well-formed-token-000000000000', /unknown or revoked token/],
  ];
  for (const [token, message] of cases) {
    const res = await request(`/playlist.m3u?token=${encodeURIComponent(token)}`);
    t.is(res.status, 401, token);
    const body = JSON.parse(res.text) as { error: { code: string; message: string } };
    t.is(body.error.code, 'invalid_token');
    t.regex(body.error.message, message);
    t.false(res.text.includes(token), 'the token is not echoed');
  }
});

test('tokens - one token plays 10 channels at once from one address; its own limit applies, not the per-address one', async (t) => {
  const { token } = await newToken(20);
  const ids = Array.from({ length: 10 }, freshId);
  const players = await Promise.all(
    ids.map((c) => Player.open(`${proxy.url}/ace/getstream?id=${c}&token=${token}`)),
  );
  t.teardown(() => players.forEach((p) => p.close()));
  t.deepEqual(
    players.map((p) => p.status),
    Array(10).fill(200),
  );
  await waitFor(() => players.every((p) => p.bytes > 0), 20_000);

  const small = await newToken(2);
  const two = await Promise.all(
    [freshId(), freshId()].map((c) => Player.open(`${proxy.url}/ace/getstream?id=${c}&token=${small.token}`)),
  );
  t.teardown(() => two.forEach((p) => p.close()));
  const third = await request(`/ace/getstream?id=${freshId()}&token=${small.token}`);
  t.is(third.status, 429);
  t.regex(third.text, /this token already plays 2 streams \(at most 2\)/);
});

test('tokens - a revoked token is refused within 2 s, its players are cut off, and sessions name it, never the token', async (t) => {
  const ended = await collectEvents<PlayerSessionEnded>(operator, playerEventsOf('ended'));
  t.teardown(() => ended.stop());
  const { name, token } = await newToken();
  const content = freshId();
  const player = await Player.open(`${proxy.url}/ace/getstream?id=${content}&token=${token}`);
  await waitFor(() => player.bytes > 0, 10_000);
  const sessions = await fetch(`${proxy.url}/api/players`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  }).then(
    (r) => r.json() as Promise<{ players: { player: { token?: string }; content: { value: string } }[] }>,
  );
  const mine = sessions.players.find((p) => p.content.value === content);
  t.is(mine?.player.token, name);
  t.false(JSON.stringify(sessions).includes(token));

  const revokedAt = performance.now();
  await revokeToken(await openTokensKv(operator), name);
  await waitFor(async () => (await request(`/playlist.m3u?token=${token}`)).status === 401, 2000, 20);
  t.log(`refused ${Math.round(performance.now() - revokedAt)} ms after the revocation`);
  await player.closed; // REVOKE_ENDS_PLAYBACK (default true) cut the player off

  const event = await waitFor(
    () => ended.events.find((e) => e.data.content.value === content) ?? false,
    5000,
  );
  t.is(event.data.player.token, name);
  t.true(event.data.bytesOut > 0);
  t.false(JSON.stringify(ended.events).includes(token));
});

test('tokens - a duplicate name is refused, and so is a name with odd characters', async (t) => {
  const post = (body: unknown): Promise<Response> =>
    fetch(`${proxy.url}/api/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const made = await post({ name: 'kitchen', maxStreams: 3 });
  t.is(made.status, 201);
  const reply = (await made.json()) as { name: string; token: string; maxStreams: number };
  t.like(reply, { name: 'kitchen', maxStreams: 3 });
  t.regex(reply.token, /^aft_[A-Za-z0-9_-]{43}$/);
  const twice = await post({ name: 'kitchen' });
  t.is(twice.status, 409);
  t.is(((await twice.json()) as { error: { code: string } }).error.code, 'token_exists');
  const odd = await post({ name: 'kitchen tv/../x' });
  t.is(odd.status, 400);
  const listed = await fetch(`${proxy.url}/api/tokens`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  }).then((r) => r.text());
  t.true(listed.includes('"kitchen"'));
  t.false(listed.includes(reply.token), 'a listing never shows a token');
});
