import test from 'ava';
import { waitFor } from '@acefleet/testkit';
import { CONTENT_ID, getJson, post, readBody, start, startSim, type Ace, type Stat } from './helpers.ts';
import type { SessionStats } from '../src/index.ts';

test('stop ends the playback body and later stat answers unknown playback session id', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=p`);
  const stat = await getJson<Ace<Stat>>(r.stat_url);
  t.like(stat, { error: null, response: { playback_session_id: r.playback_session_id, peers: 8 } });
  const body = await readBody(r.playback_url, 5000, async () => {
    await waitFor(() => sim.stats().playbackReaders === 1, 5000);
    t.deepEqual(await getJson(`${r.command_url}?method=stop`), { response: 'ok', error: null });
  });
  t.is(body.ended, 'end');
  t.true(body.bytes.length > 0);
  t.deepEqual(await getJson(r.stat_url), { response: null, error: 'unknown playback session id' });
  t.deepEqual(await getJson(`${r.command_url}?method=stop`), {
    response: null,
    error: 'unknown playback session id',
  });
  t.like(sim.stats(), { sessionsStarted: 1, activeSessions: 0, stopsReceived: 2, playbackReaders: 0 });
  t.like(sim.stats().sessions[0], { id: r.playback_session_id, endReason: 'stopped', pid: 'p' });
});

test('a second start with the same pid cuts off the first reader', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const first = await start(url, `id=${CONTENT_ID}&pid=same`);
  const body = await readBody(first.playback_url, 5000, async () => {
    await waitFor(() => sim.stats().playbackReaders === 1, 5000);
    await start(url, `id=${CONTENT_ID}&pid=same`);
  });
  t.is(body.ended, 'end');
  t.like(await getJson(first.stat_url), { error: 'unknown playback session id' });
  t.like(sim.stats(), { sessionsStarted: 2, activeSessions: 1 });
  t.is(sim.stats().sessions[0]!.endReason, 'replaced');
});

test('starts with different pids run side by side', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const a = await start(url, `id=${CONTENT_ID}&pid=a`);
  await start(url, `id=${CONTENT_ID}&pid=b`);
  t.like(await getJson(a.stat_url), { error: null });
  t.is(sim.stats().activeSessions, 2);
});

test('a session nobody reads expires by itself after the idle timeout, a read one does not', async (t) => {
  const { sim, url } = await startSim({ idleTimeoutMs: 400 });
  t.teardown(() => sim.close());
  const idle = await start(url, `id=${CONTENT_ID}&pid=idle`);
  const read = await start(url, `id=${CONTENT_ID}&pid=read`);
  const body = await readBody(read.playback_url, 1200);
  t.is(body.ended, 'timeout');
  t.like(await getJson(idle.stat_url), { error: 'unknown playback session id' });
  t.like(await getJson(read.stat_url), { error: null });
  const expired = await waitFor(
    async () => (await getJson<Ace<Stat>>(read.stat_url)).error === 'unknown playback session id',
    5000,
  ).then(
    () => true,
    () => false,
  );
  t.true(expired, 'idle once the reader left');
});

test('POST /__sim/sessions/<id>/expire ends one session and its readers', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}&pid=x`);
  const body = await readBody(r.playback_url, 5000, async () => {
    await waitFor(() => sim.stats().playbackReaders === 1, 5000);
    t.deepEqual(await post(`${url}/__sim/sessions/${r.playback_session_id}/expire`), { ok: true });
  });
  t.is(body.ended, 'end');
  t.like(await getJson(r.stat_url), { error: 'unknown playback session id' });
  const stats = await getJson<SessionStats>(`${url}/__sim/stats`);
  t.like(stats.sessions[0], { endReason: 'expired', readers: 0 });
  t.true(stats.sessions[0]!.bytesSent > 0);
  t.like(await post(`${url}/__sim/sessions/${r.playback_session_id}/expire`), {
    error: { code: 'NO_SESSION' },
  });
});
