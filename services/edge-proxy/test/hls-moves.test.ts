import { subjectMatches } from '@acefleet/platform';
import test from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { type StreamEnded, type StreamMoved, type StreamViewers, streamEventsOf } from '@acefleet/contracts';
import { announceDraining, collectEvents, waitFor, type EventCollector } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest, PROXY_UNDER_TEST } from './helpers.ts';

let sims: { sim: Simulator; url: string }[];
let proxy: ProxyUnderTest;
let nc: NatsConnection;
let events: EventCollector;

test.before(async () => {
  sims = await Promise.all(
    [0, 1].map(async () => {
      const sim = buildSimulator({ segmentSeconds: 1 });
      return { sim, url: (await sim.listen()).url };
    }),
  );
  proxy = await startProxy({
    STATIC_ENGINES: sims.map((s) => s.url).join(','),
    FAILOVER_DEADLINE_MS: '20000',
    HLS_IDLE_MS: '3000',
  });
  nc = await proxy.nats.connect();
  events = await collectEvents(nc, 'acefleet.events.stream.>');
});
test.after.always(async () => {
  await events?.stop();
  await nc?.close();
  await proxy?.close();
  await Promise.all((sims ?? []).map((s) => s.sim.close()));
});

interface HlsStatus {
  streamId: string;
  content: { value: string };
  engineId: string | null;
  clients: number;
  peakClients: number;
}

const manifest = (id: string): string => `${proxy.url}/ace/manifest.m3u8?id=${id}`;

/** The proxy's view of the HLS session of content `id`. */
async function hlsSession(id: string): Promise<HlsStatus | undefined> {
  const { hls } = (await (await fetch(`${proxy.url}/api/streams`)).json()) as { hls: HlsStatus[] };
  return hls.find((s) => s.content.value === id);
}

async function poll(id: string, player = 'player-1'): Promise<{ ok: boolean; segments: string[] }> {
  const res = await fetch(manifest(id), {
    headers: { 'user-agent': player },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { ok: res.ok, segments: text.split('\n').filter((l) => l.startsWith('/ace/hls/')) };
}

function of<T>(subject: string, streamId: string): T[] {
  return events.events
    .filter(
      (e) => subjectMatches(subject, e.subject) && (e.data as { streamId: string }).streamId === streamId,
    )
    .map((e) => e.data as T);
}

async function fetchSegment(path: string): Promise<Buffer> {
  const res = await fetch(`${proxy.url}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`segment ${path}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const isTs = (b: Buffer): boolean => b.length > 0 && b.length % 188 === 0 && b[0] === 0x47;

test.serial(
  'proxy - HLS counts the distinct players polling within the idle window and reports the peak',
  async (t) => {
    const id = 'a1'.repeat(20);
    for (let round = 0; round < 3; round++) {
      const polls = await Promise.all(['vlc', 'kodi', 'tv'].map((p) => poll(id, p)));
      t.true(polls.every((p) => p.ok));
    }
    const session = await hlsSession(id);
    t.like(session, { clients: 3, peakClients: 3 });
    const viewers = await waitFor(
      () => of<StreamViewers>(streamEventsOf('viewers'), session!.streamId).at(-1) ?? false,
      20_000,
    );
    t.is(viewers.viewers, 3);
    // Nobody polls any more: the session ends after the idle window and reports its peak.
    const ended = await waitFor(
      () => of<StreamEnded>(streamEventsOf('ended'), session!.streamId)[0] ?? false,
      30_000,
    );
    t.like(ended, { reason: 'linger_expired', peakClients: 3 });
  },
);

test.serial(
  'proxy - HLS session on a drained engine moves to another one while its players keep polling',
  async (t) => {
    const id = 'b2'.repeat(20);
    t.true((await poll(id)).ok);
    const session = await hlsSession(id);
    const drained = session!.engineId!;
    await announceDraining(nc, drained, 30_000);
    let failed = 0;
    const moved = await waitFor(
      async () => {
        if (!(await poll(id)).ok) failed++;
        return of<StreamMoved>(streamEventsOf('moved'), session!.streamId)[0] ?? false;
      },
      30_000,
      300,
    );
    t.like(moved, { previousEngineId: drained, reason: 'drain', proxyId: PROXY_UNDER_TEST });
    t.not(moved.engineId, drained);
    t.is(failed, 0, 'no poll failed during the drain');
    const after = await poll(id);
    t.true(after.ok);
    t.true(isTs(await fetchSegment(after.segments.at(-1)!)));
    t.is((await hlsSession(id))?.engineId, moved.engineId);
    t.true(moved.statUrl.startsWith(moved.engineId.replace(/^static:/, '')), moved.statUrl);
  },
);

test.serial(
  'proxy - HLS engine killed: the next polls succeed from another engine and stream.moved tells the gap',
  async (t) => {
    const id = 'c3'.repeat(20);
    t.true((await poll(id)).ok);
    const session = await hlsSession(id);
    const victim = sims.find((s) => `static:${s.url}` === session!.engineId)!;
    const killedAt = Date.now();
    await victim.sim.close(); // the engine process is gone: connections refused
    const results: boolean[] = [];
    let last: { ok: boolean; segments: string[] } | undefined;
    for (let i = 0; i < 10; i++) {
      last = await poll(id);
      results.push(last.ok);
    }
    const failed = results.filter((ok) => !ok).length;
    t.log(`polls after the kill: ${results.map((ok) => (ok ? 'ok' : 'FAIL')).join(' ')}`);
    t.true(failed <= 2, `${failed} failed polls`);
    t.true(results.slice(-5).every(Boolean), 'the last polls all succeed');
    t.true(isTs(await fetchSegment(last!.segments.at(-1)!)), 'segments of the new playlist are fetchable');
    const moved = await waitFor(
      () => of<StreamMoved>(streamEventsOf('moved'), session!.streamId)[0] ?? false,
      20_000,
    );
    t.log(`moved after ${Date.parse(moved.at) - killedAt} ms, gap ${moved.gapMs} ms`);
    t.like(moved, { previousEngineId: `static:${victim.url}`, reason: 'failover' });
    t.not(moved.engineId, moved.previousEngineId);
    t.true(moved.gapMs > 0 && moved.gapMs < 60_000, `gap ${moved.gapMs} ms`);
    t.is(of(streamEventsOf('ended'), session!.streamId).length, 0, 'the session did not end');
    // Players go on past one EXT-X-DISCONTINUITY, into segments from the new engine.
    const withBreak = await waitFor(
      async () => {
        const text = await (await fetch(manifest(id), { headers: { 'user-agent': 'player-1' } })).text();
        const lines = text.split('\n');
        const at = lines.indexOf('#EXT-X-DISCONTINUITY');
        const next = lines.slice(at).find((l) => l.startsWith('/ace/hls/'));
        return at >= 0 && next
          ? { breaks: lines.filter((l) => l === '#EXT-X-DISCONTINUITY').length, next }
          : false;
      },
      20_000,
      300,
    );
    t.is(withBreak.breaks, 1, 'one EXT-X-DISCONTINUITY');
    t.true(isTs(await fetchSegment(withBreak.next)), 'the segment after the break is fetchable');
  },
);
