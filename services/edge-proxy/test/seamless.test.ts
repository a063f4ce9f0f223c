import test, { type ExecutionContext } from 'ava';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { streamEventsOf, type StreamEnded, type StreamMoved } from '@acefleet/contracts';
import { inspectTs, PACKET_SIZE } from '@acefleet/mpegts';
import { subjectMatches } from '@acefleet/platform';
import {
  Player,
  announceDraining,
  collectEvents,
  ffmpegDecodeErrors,
  metric,
  waitFor,
  type EventCollector,
} from '@acefleet/testkit';
import type { Stream } from '../src/session/stream.ts';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 20: seamless moves. A planned move (a drain) is make-before-break: the stream plays on from the
 * drained engine until the new one, which here takes 4 s to its first byte as a warming real engine does,
 * reaches a key frame; players see no gap and a transport stream a decoder takes without an error. With
 * HOT_STANDBY_VIEWERS, a channel keeps a second session ready, and an engine that dies, stalls, sends noise
 * or freezes its picture is replaced by it within a second. Two ace-sims over HTTP per proxy.
 */
const WARM_UP_MS = 4000;

interface Rig {
  sims: Simulator[];
  urls: string[];
  proxy: ProxyUnderTest;
  nc: NatsConnection;
  events: EventCollector;
}

async function rig(env: Record<string, string>): Promise<Rig> {
  const sims = [buildSimulator({ burstSeconds: 1 }), buildSimulator({ burstSeconds: 1 })];
  const urls = await Promise.all(sims.map(async (s) => (await s.listen()).url));
  const proxy = await startProxy({ STATIC_ENGINES: urls.join(','), ENGINE_COOLDOWN_MS: '0', ...env });
  const nc = await proxy.nats.connect();
  const events = await collectEvents(nc, 'acefleet.events.stream.>');
  return { sims, urls, proxy, nc, events };
}

async function close(r: Rig | undefined): Promise<void> {
  await r?.events.stop();
  await r?.nc.close();
  await r?.proxy.close();
  await Promise.all((r?.sims ?? []).map((s) => s.close()));
}

let plain: Rig;
let standby: Rig;

test.before(async () => {
  plain = await rig({});
  standby = await rig({ HOT_STANDBY_VIEWERS: '1' });
});
test.after.always(async () => {
  await close(plain);
  await close(standby);
});

function of<T>(r: Rig, subject: string, streamId: string): T[] {
  return r.events.events
    .filter(
      (e) => subjectMatches(subject, e.subject) && (e.data as { streamId: string }).streamId === streamId,
    )
    .map((e) => e.data as T);
}

function simOf(r: Rig, engineId: string | undefined): Simulator {
  const i = r.urls.findIndex((u) => engineId?.endsWith(u));
  if (i < 0) throw new Error(`no simulator for engine ${engineId}`);
  return r.sims[i]!;
}

/** A player of content `id` that keeps what it gets, once it plays; the stream it plays. */
async function playing(r: Rig, id: string): Promise<{ player: Player; stream: Stream }> {
  const player = await Player.open(`${r.proxy.url}/ace/getstream?id=${id}`, 64 * 1024 * 1024);
  await waitFor(() => player.bytes > 300_000, 15_000);
  return { player, stream: r.proxy.proxy.hub.all().find((s) => s.content.value === id)! };
}

async function moreBytes(player: Player, bytes: number): Promise<void> {
  const before = player.bytes;
  await waitFor(() => player.bytes > before + bytes, 20_000);
}

/**
 * What a player got decodes as one transport stream: no continuity break a discontinuity_indicator does not
 * announce, and ffmpeg decodes it with no error line. The bytes are cut at their last key frame, so the
 * sample ends on a whole picture.
 */
async function decodesCleanly(t: ExecutionContext, player: Player): Promise<void> {
  const whole = player.head.subarray(0, player.head.length - (player.head.length % PACKET_SIZE));
  const report = inspectTs(whole);
  t.deepEqual(report.continuityErrors, [], 'no unannounced continuity break');
  t.is(report.syncErrors, 0);
  const end = report.keyFrames.at(-1) ?? whole.length;
  const errors = await ffmpegDecodeErrors(whole.subarray(0, end));
  t.deepEqual(errors, [], 'ffmpeg decodes through the move without an error');
}

test.serial(
  'proxy - a drained engine: the stream moves make-before-break to an engine that warms up 4 s, and players see no gap',
  async (t) => {
    const id = 'd1'.repeat(20);
    const { player, stream } = await playing(plain, id);
    const from = stream.engineId!;
    const next = plain.sims.find((s) => s !== simOf(plain, from))!;
    next.faults.setContent(id, { firstByteDelayMs: WARM_UP_MS });
    player.resetGaps();
    const drainedAt = performance.now();
    await announceDraining(plain.nc, from);
    const moved = await waitFor(
      () => of<StreamMoved>(plain, streamEventsOf('moved'), stream.id)[0] ?? false,
      30_000,
    );
    const tookMs = performance.now() - drainedAt;
    await moreBytes(player, 300_000);
    t.log(
      `moved after ${tookMs.toFixed(0)} ms; longest gap ${player.longestGapMs.toFixed(0)} ms; event gap ${moved.gapMs} ms`,
    );
    t.true(tookMs >= WARM_UP_MS, 'the new engine warmed up while the old one played');
    t.like(moved, { previousEngineId: from, reason: 'drain' });
    t.not(moved.engineId, from);
    t.true(player.longestGapMs <= 300, `longest gap ${player.longestGapMs.toFixed(0)} ms`);
    t.true(moved.gapMs <= 300, `event gap ${moved.gapMs} ms`);
    t.false(player.ended);
    t.is(simOf(plain, from).stats().activeSessions, 0, 'the drained engine session was stopped');
    await decodesCleanly(t, player);
    player.close();
  },
);

/** A fault on the playing engine of a channel with a ready standby: players get bytes again within 1 s. */
async function standbyTakesOver(
  t: ExecutionContext,
  id: string,
  fault: (victim: Simulator) => Promise<void> | void,
  reasons: string[],
): Promise<void> {
  const { player, stream } = await playing(standby, id);
  await waitFor(() => stream.standbyEngineId !== undefined && stream.standbyReady, 20_000);
  const from = stream.engineId!;
  const to = stream.standbyEngineId!;
  t.not(to, from, 'the standby is on another engine');
  await moreBytes(player, 200_000);
  player.resetGaps();
  const switches = await standbySwitches(reasons);
  await fault(simOf(standby, from));
  const moved = await waitFor(
    () => of<StreamMoved>(standby, streamEventsOf('moved'), stream.id)[0] ?? false,
    20_000,
  );
  await moreBytes(player, 300_000);
  t.log(
    `${reasons.join('|')}: longest gap ${player.longestGapMs.toFixed(0)} ms; event gap ${moved.gapMs} ms`,
  );
  t.like(moved, { previousEngineId: from, engineId: to });
  t.true(moved.gapMs <= 1000, `event gap ${moved.gapMs} ms`);
  t.false(player.ended);
  t.deepEqual(of<StreamEnded>(standby, streamEventsOf('ended'), stream.id), []);
  t.is(await standbySwitches(reasons), switches + 1);
  return void player.close();
}

async function standbySwitches(reasons: string[]): Promise<number> {
  const text = await (await fetch(`${standby.proxy.url}/metrics`)).text();
  const counts = reasons.map((r) => metric(text, 'acefleet_proxy_standby_switches_total', `reason="${r}"`));
  return counts.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
}

test.serial('proxy - hot standby: a stalled engine is replaced by the standby within a second', async (t) => {
  await standbyTakesOver(
    t,
    'e1'.repeat(20),
    (victim) => void victim.faults.setContent('e1'.repeat(20), { stallAfterMs: 1 }),
    ['empty_timeout'],
  );
});

test.serial(
  'proxy - hot standby: an engine that sends noise is replaced by the standby within a second',
  async (t) => {
    await standbyTakesOver(
      t,
      'e2'.repeat(20),
      (victim) => void victim.faults.setContent('e2'.repeat(20), { badBody: 'random' }),
      ['empty_timeout'],
    );
  },
);

test.serial('proxy - hot standby: a frozen picture is replaced by the standby within a second', async (t) => {
  const id = 'e3'.repeat(20);
  await standbyTakesOver(t, id, (victim) => void victim.faults.setContent(id, { frozenVideo: true }), [
    'video_frozen',
  ]);
});

test.serial(
  'proxy - a standby never keeps a new channel from an engine: it gives its engine up',
  async (t) => {
    // One session per engine: channel A plays on one, its standby takes the other, and channel B needs it.
    const full = await rig({ HOT_STANDBY_VIEWERS: '1', STATIC_ENGINE_CAPACITY: '1' });
    try {
      const a = await playing(full, 'f1'.repeat(20));
      await waitFor(() => a.stream.standbyEngineId !== undefined, 20_000);
      const b = await playing(full, 'f2'.repeat(20));
      t.not(b.stream.engineId, a.stream.engineId);
      t.is(a.stream.standbyEngineId, undefined, 'the standby gave its engine up');
      t.is(a.stream.state, 'playing');
      a.player.close();
      b.player.close();
    } finally {
      await close(full);
    }
  },
);

test.serial(
  'proxy - a standby that fails is dropped quietly: the playing session never notices',
  async (t) => {
    const id = 'e5'.repeat(20);
    const { player, stream } = await playing(standby, id);
    await waitFor(() => stream.standbyEngineId !== undefined && stream.standbyReady, 20_000);
    const on = stream.engineId;
    const standbySim = simOf(standby, stream.standbyEngineId);
    player.resetGaps();
    // The standby's engine turns to noise for this channel: the standby stalls and goes.
    standbySim.faults.setContent(id, { badBody: 'random' });
    await waitFor(() => stream.standbyEngineId === undefined, 20_000);
    standbySim.faults.clearContent(id);
    await moreBytes(player, 300_000);
    t.is(stream.engineId, on, 'the stream stays where it plays');
    t.is(stream.state, 'playing');
    t.deepEqual(of<StreamMoved>(standby, streamEventsOf('moved'), stream.id), []);
    t.true(player.longestGapMs <= 300, `longest gap ${player.longestGapMs.toFixed(0)} ms`);
    // Another standby is tried later, and holds again once the engine is well.
    await waitFor(() => stream.standbyEngineId !== undefined && stream.standbyReady, 30_000);
    player.close();
  },
);

test.serial('proxy - hot standby: a killed engine is replaced by the standby within a second', async (t) => {
  await standbyTakesOver(t, 'e4'.repeat(20), (victim) => victim.close(), ['engine_error', 'engine_eof']);
});
