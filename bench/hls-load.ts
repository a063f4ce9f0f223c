import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, rssBytes } from './processes.ts';
import { startAcefleet, startSim } from './servers.ts';

/** One channel's HLS, as many players poll it: did each get every segment before the playlist dropped it? */
export interface HlsResult {
  players: number;
  /** Segments the players fetched in the window, and those they missed (slid away, or not answered 200). */
  fetched: number;
  missed: number;
  /** Playlist polls that were not answered 200 in the window. */
  failedPolls: number;
  /** Players that missed none. */
  complete: number;
  serverCpuPercent: number;
  serverRssMiB: number;
  /** The proxy's segment cache of the channel at the end (GET /api/streams, hls[].bufferedBytes). */
  segmentCacheMiB: number;
  /** Engine sessions the simulator started for the channel (one expected). */
  engineSessions: number;
  seconds: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });

/** GET `url`: status and body length (segments) or text (playlists). */
function get(
  url: string,
  ua: string,
  text: boolean,
): Promise<{ status: number; body: string; bytes: number }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { 'user-agent': ua } }, (res) => {
      let bytes = 0;
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (text) parts.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), bytes }),
      );
      res.on('error', () => resolve({ status: 0, body: '', bytes }));
    });
    req.on('error', () => resolve({ status: 0, body: '', bytes: 0 }));
  });
}

/** One player: polls the live playlist every second and fetches each segment once, in order. */
async function player(
  ua: string,
  base: string,
  manifest: string,
  until: () => boolean,
  counting: () => boolean,
  tally: { fetched: number; missed: number; failedPolls: number },
): Promise<boolean> {
  let next: number | undefined;
  let url = manifest;
  let missedHere = 0;
  while (!until()) {
    const list = await get(url, ua, true);
    if (list.status !== 200 && counting()) tally.failedPolls++;
    if (list.status === 200) {
      const master = /^(\/ace\/hls\/[^\s]+\/live\.m3u8)$/m.exec(list.body);
      if (master) url = `${base}${master[1]}`;
      const first = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(list.body)?.[1] ?? NaN);
      const paths = list.body.split('\n').filter((l) => l.startsWith('/ace/hls/') && l.endsWith('.ts'));
      if (!Number.isNaN(first) && paths.length > 0) {
        // A player starts three segments from the live end, as players do.
        next ??= first + Math.max(0, paths.length - 3);
        if (first > next) {
          if (counting()) {
            tally.missed += first - next;
            missedHere += first - next;
          }
          next = first;
        }
        for (let seq = next; seq < first + paths.length; seq++) {
          const res = await get(`${base}${paths[seq - first]!}`, ua, false);
          if (!counting()) continue;
          if (res.status === 200) tally.fetched++;
          else {
            tally.missed++;
            missedHere++;
          }
        }
        next = first + paths.length;
      }
    }
    await sleep(800 + Math.random() * 400);
  }
  return missedHere === 0;
}

/** `players` HLS players of one channel, ramped over `rampMs`, counted over `windowMs`. */
export async function hlsLoad(players: number, rampMs: number, windowMs: number): Promise<HlsResult> {
  const sim = await startSim();
  try {
    // The simulator plays its 1.5 Mbit/s clip at 4 Mbit/s, 2.67 times real time: 5 s of its timestamps are
    // 1.9 s of wall time, so segments come as those of a real 4 Mbit/s channel cut every 2 s (1 MB each).
    const proxy = await startAcefleet(sim.url, { LINGER_MS: '10000', HLS_SEGMENT_SECONDS: '5' });
    try {
      const id = 'a'.repeat(40);
      const manifest = `${proxy.url}/ace/manifest.m3u8?id=${id}`;
      let stop = false;
      let count = false;
      const tally = { fetched: 0, missed: 0, failedPolls: 0 };
      const runs: Promise<boolean>[] = [];
      for (let i = 0; i < players; i++) {
        runs.push(
          player(
            `bench-${i}`,
            proxy.url,
            manifest,
            () => stop,
            () => count,
            tally,
          ),
        );
        await sleep(rampMs / players);
      }
      await sleep(2000);
      count = true;
      const cpu0 = cpuSeconds(proxy.pid);
      const t0 = performance.now();
      await sleep(windowMs);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(proxy.pid) - cpu0;
      count = false;
      const rss = rssBytes(proxy.pid);
      const view = (await (await fetch(`${proxy.url}/api/streams`)).json()) as {
        hls: { bufferedBytes?: number }[];
      };
      stop = true;
      const complete = (await Promise.all(runs)).filter(Boolean).length;
      const sessions = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { sessionsStarted: number };
      return {
        players,
        fetched: tally.fetched,
        missed: tally.missed,
        failedPolls: tally.failedPolls,
        complete,
        serverCpuPercent: Math.round((cpu / seconds) * 100),
        serverRssMiB: Math.round(rss / 2 ** 20),
        segmentCacheMiB: Number(((view.hls[0]?.bufferedBytes ?? 0) / 2 ** 20).toFixed(1)),
        engineSessions: sessions.sessionsStarted,
        seconds,
      };
    } finally {
      await proxy.stop();
    }
  } finally {
    await sim.proc.stop();
  }
}
