// Regression for issue #9: an engine answering 200 with bytes that are not MPEG-TS (an error page, noise, an
// MKV or MP4 file) used to wedge the stream in `starting` forever, its players unanswered and its claim renewed.
import { streamEventsOf } from '@acefleet/contracts';
import test from 'ava';
import http from 'node:http';
import { badBodies, buildSimulator, type BadBody, type Simulator } from '@acefleet/ace-sim';
import type { ErrorBody, StreamEnded } from '@acefleet/contracts';
import { storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

const FIRST_BYTE_TIMEOUT_MS = 3000;

let sim: Simulator;
let simUrl: string;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  simUrl = (await sim.listen()).url;
  // The only engine: after it fails there is none to retry on, so the start ends.
  // Waiting players get their error status here: their head is not sent early (waiting-start covers that).
  proxy = await startProxy({
    STATIC_ENGINES: simUrl,
    FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_TIMEOUT_MS),
    WAIT_HEAD_MS: '10000',
  });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

async function setContentFaults(id: string, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${simUrl}/__sim/faults/content/${id}`, {
    method: 'PUT',
    body: JSON.stringify(faults),
  });
  if (!res.ok) throw new Error(`fault refused: ${await res.text()}`);
}

async function streamsOf(id: string): Promise<{ state: string }[]> {
  const body = (await (await fetch(`${proxy.url}/api/streams`)).json()) as {
    streams: { content: { value: string }; state: string }[];
  };
  return body.streams.filter((s) => s.content.value === id);
}

async function endedEventOf(id: string): Promise<StreamEnded> {
  return waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, streamEventsOf('ended'));
    return events.find((e) => e.data.content.value === id)?.data ?? false;
  }, 5000);
}

badBodies.forEach((kind: BadBody, i) => {
  test(`proxy - an engine answering ${kind} gets the waiting player a 502 bad_media, stream.ended and no stream left`, async (t) => {
    const id = `${i + 1}`.repeat(40);
    await setContentFaults(id, { badBody: kind });
    const t0 = performance.now();
    const res = await fetch(`${proxy.url}/ace/getstream?id=${id}`, { signal: AbortSignal.timeout(20_000) });
    const waitedMs = performance.now() - t0;
    t.is(res.status, 502);
    const body = (await res.json()) as ErrorBody;
    t.like(body, { error: { code: 'bad_media' } });
    // Issue 19: an engine that answers HLS where MPEG-TS was asked is told apart, with what to do.
    if (kind === 'hls-playlist') t.regex(body.error.message, /HLS playlist where MPEG-TS was asked/);
    t.log(`${kind}: answered after ${waitedMs.toFixed(0)} ms`);
    t.true(waitedMs < FIRST_BYTE_TIMEOUT_MS + 5000, `answered after ${waitedMs.toFixed(0)} ms`);
    t.like(await endedEventOf(id), { reason: 'bad_media', engineId: `static:${simUrl}`, bytesOut: 0 });
    t.deepEqual(await streamsOf(id), []);
    await waitFor(
      () => sim.stats().sessions.every((s) => s.contentId !== id || s.stoppedAt !== undefined),
      5000,
    );
  });
});

test('proxy - a starting stream whose players all leave ends instead of waiting for its engine', async (t) => {
  const id = 'c'.repeat(40);
  await setContentFaults(id, { startDelayMs: 20_000 });
  const req = http.get(`${proxy.url}/ace/getstream?id=${id}`, { agent: false });
  req.on('error', () => {});
  await waitFor(async () => (await streamsOf(id))[0]?.state === 'starting', 5000);
  req.destroy();
  const t0 = performance.now();
  await waitFor(async () => (await streamsOf(id)).length === 0, 5000);
  t.log(`gone ${(performance.now() - t0).toFixed(0)} ms after the player left`);
  t.like(await endedEventOf(id), { reason: 'client_disconnected' });
});

test('proxy - noise trickling slower than the probe size ends at the first-byte timeout: its bytes do not count as media', async (t) => {
  const slow = buildSimulator({ bitrateBps: 64_000, burstSeconds: 0, faults: { badBody: 'random' } });
  const { url } = await slow.listen();
  const own = await startProxy({ STATIC_ENGINES: url, FIRST_BYTE_TIMEOUT_MS: '2000', WAIT_HEAD_MS: '10000' });
  t.teardown(async () => {
    await own.close();
    await slow.close();
  });
  const t0 = performance.now();
  const res = await fetch(`${own.url}/ace/getstream?id=${'d'.repeat(40)}`, {
    signal: AbortSignal.timeout(20_000),
  });
  const waitedMs = performance.now() - t0;
  t.is(res.status, 502);
  t.like((await res.json()) as ErrorBody, { error: { code: 'bad_media' } });
  const sent = slow.stats().sessions[0]!.bytesSent;
  t.log(`answered after ${waitedMs.toFixed(0)} ms; the engine had sent ${sent} bytes`);
  t.true(sent > 0 && sent < 64 * 1024, `${sent} bytes: below the probe size, so the timer decided`);
  t.true(waitedMs >= 1900 && waitedMs < 9000, `answered after ${waitedMs.toFixed(0)} ms`);
});
