import test from 'ava';
import { waitFor } from '@acefleet/testkit';
import { badBodies } from '../src/index.ts';
import { parseConfig } from '../src/config.ts';
import { CONTENT_ID, putJson, readBody, start, startSim } from './helpers.ts';

const TS_PACKET = 188;

/** Does `bytes` hold MPEG-TS from some offset: a sync byte at the start of each of its first 20 packets? */
function looksLikeTs(bytes: Buffer): boolean {
  for (let at = 0; at < TS_PACKET; at++) {
    let n = 0;
    while (n < 20 && bytes[at + n * TS_PACKET] === 0x47) n++;
    if (n === 20) return true;
  }
  return false;
}

test('badBody html and json-error answer 200 with an error page, then end the body', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  for (const [kind, type, text] of [
    ['html', 'text/html', '<!DOCTYPE html>'],
    ['json-error', 'application/json', '{"response":null,"error":"failed to load content"}'],
  ] as const) {
    await putJson(`${url}/__sim/faults`, { badBody: kind });
    const r = await start(url, `id=${CONTENT_ID}`);
    const body = await readBody(r.playback_url, 3000);
    t.is(body.status, 200, kind);
    t.true(String(body.headers['content-type']).startsWith(type), kind);
    t.true(body.bytes.toString().startsWith(text), kind);
    t.is(body.ended, 'end', kind);
  }
});

test('badBody random, mkv and mp4 stream non-TS bytes labelled video/mp2t, with the container header first', async (t) => {
  const { sim, url } = await startSim({ burstSeconds: 1 });
  t.teardown(() => sim.close());
  const headers = { random: undefined, mkv: '1a45dfa3', mp4: undefined } as const;
  for (const kind of ['random', 'mkv', 'mp4'] as const) {
    await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { badBody: kind });
    const r = await start(url, `id=${CONTENT_ID}`);
    const body = await readBody(r.playback_url, 800);
    t.is(body.status, 200, kind);
    t.is(body.headers['content-type'], 'video/mp2t', kind);
    t.is(body.ended, 'timeout', `${kind}: the body stays open`);
    t.true(body.bytes.length > 50_000, `${kind}: ${body.bytes.length} bytes`);
    t.false(looksLikeTs(body.bytes), kind);
    if (headers[kind]) t.is(body.bytes.subarray(0, 4).toString('hex'), headers[kind], kind);
    if (kind === 'mkv') t.true(body.bytes.subarray(0, 64).includes('matroska'));
    if (kind === 'mp4') t.is(body.bytes.subarray(4, 8).toString(), 'ftyp');
  }
});

test('badBody switched on mid-stream turns a playing TS body into noise', async (t) => {
  const { sim, url } = await startSim({ burstSeconds: 0 });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  let switchedAt = 0;
  const body = await readBody(r.playback_url, 1500, async () => {
    await waitFor(() => sim.stats().sessions[0]!.bytesSent > 40 * TS_PACKET, 10_000);
    await putJson(`${url}/__sim/faults`, { badBody: 'random' });
    // Every byte the simulator writes after it answered the switch is noise.
    switchedAt = sim.stats().sessions[0]!.bytesSent;
  });
  t.true(switchedAt > 20 * TS_PACKET, `${switchedAt} bytes before the switch`);
  t.true(looksLikeTs(body.bytes.subarray(0, 20 * TS_PACKET)), 'TS before the switch');
  const after = body.bytes.subarray(switchedAt);
  t.true(after.length > 20 * TS_PACKET, `${after.length} bytes after`);
  t.false(looksLikeTs(after), 'noise after the switch');
});

test('badBody accepts only its kinds, from the admin API and from --fault', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  t.like(await putJson(`${url}/__sim/faults`, { badBody: 'avi' }), { error: { code: 'BAD_FAULT' } });
  t.like(await putJson(`${url}/__sim/faults`, { badBody: 'mkv' }), { global: { badBody: 'mkv' } });
  t.like(await putJson(`${url}/__sim/faults`, { badBody: null }), { global: { badBody: null } });
  t.deepEqual([...badBodies], ['html', 'json-error', 'random', 'mkv', 'mp4', 'hls-playlist']);
  t.like(parseConfig(['--fault', 'badBody=json-error'], {}).sim.faults, { badBody: 'json-error' });
  t.like(parseConfig([], { ACE_SIM_FAULT_BAD_BODY: 'random' }).sim.faults, { badBody: 'random' });
  t.throws(() => parseConfig(['--fault', 'badBody=avi'], {}), { message: /badBody must be one of/ });
});
