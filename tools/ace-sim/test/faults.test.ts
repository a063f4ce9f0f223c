import test from 'ava';
import { infohashOfContentId, type FaultSnapshot } from '../src/index.ts';
import {
  CONTENT_ID,
  getJson,
  post,
  putJson,
  readBody,
  start,
  startSim,
  type Ace,
  type Stat,
  type Started,
} from './helpers.ts';

const OTHER_ID = 'fedcba9876543210fedcba9876543210fedcba98';

test('startDelayMs slows the format=json answer', async (t) => {
  const { sim, url } = await startSim({ faults: { startDelayMs: 600 } });
  t.teardown(() => sim.close());
  const t0 = performance.now();
  await start(url, `id=${CONTENT_ID}`);
  t.true(performance.now() - t0 >= 550);
});

test('firstByteDelayMs holds the playback response back', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  await putJson(`${url}/__sim/faults`, { firstByteDelayMs: 700 });
  const r = await start(url, `id=${CONTENT_ID}`);
  const body = await readBody(r.playback_url, 1500);
  t.true((body.firstByteMs ?? 0) >= 650, `first byte after ${body.firstByteMs}`);
});

test('offline content answers failed to load content, per content id while others play', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { offline: true });
  t.deepEqual(await getJson(`${url}/ace/getstream?id=${CONTENT_ID}&format=json`), {
    response: null,
    error: 'failed to load content',
  });
  await t.notThrowsAsync(start(url, `id=${OTHER_ID}`));
  await putJson(`${url}/__sim/faults/content/${infohashOfContentId(OTHER_ID)}`, { offline: true });
  t.like(await getJson(`${url}/ace/getstream?id=${OTHER_ID}&format=json`), {
    error: 'failed to load content',
  });
  await fetch(`${url}/__sim/faults/content/${CONTENT_ID}`, { method: 'DELETE' });
  await t.notThrowsAsync(start(url, `id=${CONTENT_ID}`));
});

test('stallAfterMs makes the body go silent without closing it', async (t) => {
  const { sim, url } = await startSim({ faults: { stallAfterMs: 300 }, burstSeconds: 0 });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  const body = await readBody(r.playback_url, 1500);
  t.is(body.ended, 'timeout', 'still open');
  const perSecond = sim.settings.bitrateBps / 8;
  t.true(body.bytes.length > 0 && body.bytes.length < perSecond * 0.6, `${body.bytes.length} bytes`);
});

test('eofAfterMs ends the body early', async (t) => {
  const { sim, url } = await startSim({ faults: { eofAfterMs: 300 } });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  const body = await readBody(r.playback_url, 3000);
  t.is(body.ended, 'end');
  t.true(body.bytes.length > 0);
});

test('expireSessions makes stat and stop answer unknown playback session id', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  await putJson(`${url}/__sim/faults`, { expireSessions: true });
  t.deepEqual(await getJson(r.stat_url), { response: null, error: 'unknown playback session id' });
  t.deepEqual(await getJson(`${r.command_url}?method=stop`), {
    response: null,
    error: 'unknown playback session id',
  });
});

test('hangHealth leaves get_status and get_version unanswered while the port stays up', async (t) => {
  const { sim, url } = await startSim({ faults: { hangHealth: true } });
  t.teardown(() => sim.close());
  for (const path of [
    '/server/api?api_version=3&method=get_status',
    '/webui/api/service?method=get_version',
  ]) {
    const answer = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(500) }).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    t.is(answer, 'TimeoutError', path);
  }
  await t.notThrowsAsync(start(url, `id=${CONTENT_ID}`), 'the port is up');
});

test('starved makes stat report zero peers and zero speed; peers and speedDownKbps set the values', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  await putJson(`${url}/__sim/faults`, { peers: 3, speedDownKbps: 99 });
  t.like(await getJson<Ace<Stat>>(r.stat_url), { response: { peers: 3, speed_down: 99 } });
  await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { starved: true });
  t.like(await getJson<Ace<Stat>>(r.stat_url), { response: { peers: 0, speed_down: 0 } });
});

test('PUT /__sim/faults merges, mode=replace replaces, reset restores the process defaults', async (t) => {
  const { sim, url } = await startSim({ faults: { peers: 2 } });
  t.teardown(() => sim.close());
  await start(url, `id=${CONTENT_ID}`);
  const merged = await putJson<FaultSnapshot>(`${url}/__sim/faults`, { offline: true });
  t.like(merged.global, { peers: 2, offline: true });
  const replaced = await putJson<FaultSnapshot>(`${url}/__sim/faults?mode=replace`, { starved: true });
  t.like(replaced.global, { peers: 8, offline: false, starved: true });
  await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { eofAfterMs: 5 });
  t.deepEqual(await post(`${url}/__sim/reset`), { ok: true });
  const after = await getJson<FaultSnapshot>(`${url}/__sim/faults`);
  t.like(after.global, { peers: 2, starved: false });
  t.deepEqual(after.content, {});
  t.like(sim.stats(), { sessionsStarted: 0, activeSessions: 0, sessions: [] });
});

test('a bad fault body is refused with a coded 400', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const res = await fetch(`${url}/__sim/faults`, { method: 'PUT', body: '{"offline":"yes"}' });
  t.is(res.status, 400);
  t.like(await res.json(), { error: { code: 'BAD_FAULT' } });
  t.like(await putJson(`${url}/__sim/faults`, { nope: 1 }), { error: { code: 'BAD_KEY' } });
  t.like(await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { frozen: true }), {
    error: { code: 'BAD_KEY', message: 'unknown fault frozen' },
  });
  t.like(await putJson(`${url}/__sim/faults/content/xyz`, {}), { error: { code: 'BAD_KEY' } });
  t.like(await getJson<Ace<Started>>(`${url}/__sim/faults`), { global: { offline: false } });
});

test('networkDisconnected makes get_network_connection_status answer connected false', async (t) => {
  const { sim, url } = await startSim({ faults: { networkDisconnected: true } });
  t.teardown(() => sim.close());
  t.deepEqual(await getJson(`${url}/server/api?api_version=3&method=get_network_connection_status`), {
    result: { connected: false },
    error: null,
  });
});
