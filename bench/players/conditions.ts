// The conditions a player meets through acefleet, each on a stack of its own: a steady channel, a join
// while others play, a lag that the proxy skips forward, an engine killed mid-stream, an engine that warms
// up for 20 s, and a picture that freezes while the sound goes on.
import { PACKET_SIZE, hasPayloadAt, inspectTs, pidAt } from '@acefleet/mpegts';
import { staticEngineId, type ProxyStreamsReply } from '@acefleet/contracts';
import { Player, announceDraining, metric, waitFor } from '@acefleet/testkit';
import type { PlayerName } from './classify.ts';
import { playFor, type PlayerRun } from './run-player.ts';
import { startPausingRelay, startStack, type PlayersStack, type StackOptions } from './stack.ts';

export const conditionNames = [
  'steady',
  'hls',
  'join',
  'lagging',
  'failover',
  'slow-start',
  'frozen-video',
  'drain',
  'standby-kill',
] as const;
export type ConditionName = (typeof conditionNames)[number];

export interface ConditionResult {
  name: ConditionName;
  runs: PlayerRun[];
  /** What the condition measured of the proxy itself (a move's reason and gap, skips). */
  measured: Record<string, string | number>;
}

export interface ConditionOptions {
  players: readonly PlayerName[];
  /** Seconds each player plays (conditions add their own warm-up). */
  seconds: Partial<Record<PlayerName, number>>;
}

const channel = (n: number): string => n.toString(16).padStart(2, '0').repeat(20);
const tsUrl = (stack: PlayersStack, id: string): string => `${stack.proxyUrl}/ace/getstream?id=${id}`;

async function withStack<T>(opts: StackOptions, fn: (stack: PlayersStack) => Promise<T>): Promise<T> {
  const stack = await startStack(opts);
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

async function proxyMetric(stack: PlayersStack, name: string, labels = ''): Promise<number> {
  return metric(await (await fetch(`${stack.proxyUrl}/metrics`)).text(), name, labels);
}

/** Every player at once, each on `url(player)`, for its time plus `extra` seconds. */
function playAll(
  opts: ConditionOptions,
  url: (player: PlayerName, i: number) => string,
  extra = 0,
): Promise<PlayerRun[]> {
  return Promise.all(opts.players.map((p, i) => playFor(p, url(p, i), (opts.seconds[p] ?? 30) + extra)));
}

/** A stream's moves as the proxy counted them, and the last one's reason from its log. */
async function moves(stack: PlayersStack): Promise<Record<string, string | number>> {
  const ok = await proxyMetric(stack, 'acefleet_proxy_failovers_total', 'result="ok"');
  const moved = stack.proxy
    .output()
    .split('\n')
    .filter((l) => l.includes('"stream moved"'))
    .map((l) => JSON.parse(l) as { reason: string });
  return { moves: ok, reasons: moved.map((m) => m.reason).join(', ') || 'none' };
}

async function steady(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({}, async (stack) => ({
    name: 'steady',
    runs: await playAll(opts, (_p, i) => tsUrl(stack, channel(0x10 + i))),
    measured: {},
  }));
}

/**
 * The segments of the live playlist at `url` (a master playlist is followed): how many, and how many start
 * with a PAT and a PMT and carry no video or audio before their first key frame (null packets and PCR-only
 * packets may come between).
 */
async function segmentStarts(base: string, url: string): Promise<{ segments: number; keyFirst: number }> {
  let playlist = await (await fetch(url)).text();
  const variant = playlist.split('\n').find((l) => l.endsWith('.m3u8'));
  if (variant) playlist = await (await fetch(`${base}${variant}`)).text();
  const uris = playlist.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  let keyFirst = 0;
  for (const uri of uris) {
    const body = Buffer.from(
      await (await fetch(uri.startsWith('http') ? uri : `${base}${uri}`)).arrayBuffer(),
    );
    const report = inspectTs(body);
    const media = new Set(report.map?.streams.map((s) => s.pid));
    const key = report.keyFrames[0];
    let clean = pidAt(body, 0) === 0 && key !== undefined;
    // A packet with only a PCR on the video PID carries no picture.
    for (let at = 0; clean && at < key!; at += PACKET_SIZE) {
      if (media.has(pidAt(body, at)) && hasPayloadAt(body, at)) clean = false;
    }
    if (clean) keyFirst++;
  }
  return { segments: uris.length, keyFirst };
}

/** HLS, as the proxy serves it: the players that play HLS, each on a channel of its own. */
async function hls(opts: ConditionOptions): Promise<ConditionResult> {
  const hlsPlayers = opts.players.filter((p) => p !== 'ffprobe');
  return withStack({}, async (stack) => {
    const url = (i: number): string => `${stack.proxyUrl}/ace/manifest.m3u8?id=${channel(0x20 + i)}`;
    const playing = playAll({ ...opts, players: hlsPlayers }, (_p, i) => url(i));
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const starts = await segmentStarts(stack.proxyUrl, url(0));
    return { name: 'hls', runs: await playing, measured: starts };
  });
}

async function join(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({}, async (stack) => {
    const url = tsUrl(stack, channel(0x30));
    const first = await Player.playing(url, 200_000);
    // The others join a stream that has played for a while: they start from the proxy's ring.
    await waitFor(() => first.bytes > 1_500_000, 20_000);
    const runs = await playAll(opts, () => url);
    first.close();
    return { name: 'join', runs, measured: {} };
  });
}

/**
 * Each player behind a relay that stops reading from the proxy for a while: the proxy finds it behind its
 * ring and skips it forward. The engine's clip is padded to 13 times the bitrate (null packets), so the
 * socket buffers in between fill in seconds while the timestamps still run in real time.
 */
async function lagging(opts: ConditionOptions, paddedClip: string): Promise<ConditionResult> {
  // A ring of 2 s at the padded rate (the default RING_BYTES would hold less than one).
  const proxyEnv = { RING_BYTES: String(8 * 1024 * 1024) };
  return withStack({ sim: { mediaPath: paddedClip, burstSeconds: 0 }, proxyEnv }, async (stack) => {
    const relays = await Promise.all(opts.players.map(() => startPausingRelay(stack.proxyUrl)));
    const before = await proxyMetric(stack, 'acefleet_proxy_slow_client_skips_total');
    const id = channel(0x40);
    const playing = Promise.all(
      opts.players.map((p, i) =>
        // The player stops reading for 10 s itself: its own read timeout is not what is measured here.
        playFor(p, relays[i]!.url(`/ace/getstream?id=${id}`), (opts.seconds[p] ?? 30) + 10, {
          readTimeout: false,
        }),
      ),
    );
    // Ten seconds in, every player starves for ten: far more than the ring holds, so the proxy must skip them.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    relays.forEach((r) => r.pause());
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    relays.forEach((r) => r.resume());
    const runs = await playing;
    const skips = (await proxyMetric(stack, 'acefleet_proxy_slow_client_skips_total')) - before;
    await Promise.all(relays.map((r) => r.close()));
    return { name: 'lagging', runs, measured: { skips } };
  });
}

async function failover(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({}, async (stack) => {
    const url = tsUrl(stack, channel(0x50));
    const playing = playAll(opts, () => url, 10);
    const victim = await waitFor(() => stack.simPlaying() ?? false, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await stack.kill(victim);
    const runs = await playing;
    return { name: 'failover', runs, measured: await moves(stack) };
  });
}

const WARM_UP_MS = 20_000;

async function slowStart(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({ engines: 1, sim: { faults: { firstByteDelayMs: WARM_UP_MS } } }, async (stack) => {
    const url = tsUrl(stack, channel(0x60));
    const runs = await playAll(opts, () => url, WARM_UP_MS / 1000);
    return { name: 'slow-start', runs, measured: { warmUpMs: WARM_UP_MS } };
  });
}

async function frozenVideo(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({}, async (stack) => {
    const id = channel(0x70);
    const playing = playAll(opts, () => tsUrl(stack, id), 10);
    const victim = await waitFor(() => stack.simPlaying() ?? false, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const frozenAt = performance.now();
    victim.faults.setContent(id, { frozenVideo: true });
    const movedMs = await waitFor(async () => {
      const ok = await proxyMetric(stack, 'acefleet_proxy_failovers_total', 'result="ok"');
      return ok > 0 ? performance.now() - frozenAt : false;
    }, 30_000).catch(() => -1);
    const runs = await playing;
    return {
      name: 'frozen-video',
      runs,
      measured: { ...(await moves(stack)), movedAfterMs: Math.round(movedMs) },
    };
  });
}

/** How long the engine a drained stream moves to takes to its first byte: a real engine's warm-up. */
const DRAIN_WARM_UP_MS = 4000;

/**
 * A planned move: the engine the stream plays on is drained (engine.draining, as the manager publishes it)
 * while the other one takes DRAIN_WARM_UP_MS to its first byte. Make-before-break: the players should not
 * notice, nor their decoders.
 */
async function drain(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({}, async (stack) => {
    const id = channel(0x80);
    const playing = playAll(opts, () => tsUrl(stack, id), 10);
    const victim = await waitFor(() => stack.simPlaying() ?? false, 20_000);
    const other = stack.sims.find((s) => s !== victim)!;
    other.faults.setContent(id, { firstByteDelayMs: DRAIN_WARM_UP_MS });
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const engineId = staticEngineId(stack.simUrls[stack.sims.indexOf(victim)]!);
    const nc = await stack.nats.connect();
    await announceDraining(nc, engineId);
    await nc.close();
    const runs = await playing;
    return { name: 'drain', runs, measured: { ...(await moves(stack)), warmUpMs: DRAIN_WARM_UP_MS } };
  });
}

/** HOT_STANDBY_VIEWERS=1: the engine a stream plays on is killed while its standby is ready. */
async function standbyKill(opts: ConditionOptions): Promise<ConditionResult> {
  return withStack({ proxyEnv: { HOT_STANDBY_VIEWERS: '1' } }, async (stack) => {
    const url = tsUrl(stack, channel(0x90));
    const playing = playAll(opts, () => url, 10);
    // Both engines have a reader (the stream's and the standby's): the proxy says which one it plays on.
    const engineId = await waitFor(async () => {
      const { streams } = (await (await fetch(`${stack.proxyUrl}/api/streams`)).json()) as ProxyStreamsReply;
      const s = streams[0];
      return s?.standbyEngineId && s.engineId ? s.engineId : false;
    }, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await stack.kill(stack.sims[stack.simUrls.findIndex((u) => staticEngineId(u) === engineId)]!);
    const runs = await playing;
    return { name: 'standby-kill', runs, measured: await moves(stack) };
  });
}

export async function runCondition(
  name: ConditionName,
  opts: ConditionOptions,
  paddedClip: () => Promise<string>,
): Promise<ConditionResult> {
  switch (name) {
    case 'steady':
      return steady(opts);
    case 'hls':
      return hls(opts);
    case 'join':
      return join(opts);
    case 'lagging':
      return lagging(opts, await paddedClip());
    case 'failover':
      return failover(opts);
    case 'slow-start':
      return slowStart(opts);
    case 'frozen-video':
      return frozenVideo(opts);
    case 'drain':
      return drain(opts);
    case 'standby-kill':
      return standbyKill(opts);
  }
}
