import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Player, waitFor } from '@acefleet/testkit';
import { startAcefleet, startPlain, startSim, type Server } from './servers.ts';
import { percentile } from './summary.ts';

/** A burst of new channels, as curl saw it: first response byte per transfer. */
export interface BurstRow {
  server: string;
  flowing: number;
  transfers: number;
  /** Transfers that got a first byte within the limit. */
  served: number;
  p50Ms: number;
  p99Ms: number;
}

const channelId = (prefix: string, i: number): string => `${prefix}${String(i).padStart(39, '0')}`;

/**
 * `channels` new channels × `perChannel` transfers started at once by curl (`--parallel --parallel-immediate`,
 * a client this project did not write), each cut after 3 s; its `%{time_starttransfer}` per transfer.
 */
async function curlBurst(url: string, channels: number, perChannel: number): Promise<number[]> {
  const lines: string[] = [];
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < perChannel; p++) {
      lines.push(`url = "${url}/ace/getstream?id=${channelId('b', c)}"`, 'output = "/dev/null"');
    }
  }
  const config = path.join(tmpdir(), `acefleet-burst-${process.pid}.curl`);
  writeFileSync(config, lines.join('\n'));
  const args = ['-s', '--parallel', '--parallel-immediate', '--parallel-max', String(channels * perChannel)];
  args.push('--max-time', '3', '-w', '%{time_starttransfer}\\n', '-K', config);
  // Every transfer ends at --max-time (exit 28): live streams do not end by themselves.
  const out = await promisify(execFile)('curl', args, { maxBuffer: 1 << 20 }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((s) => Number(s) * 1000);
}

/**
 * One server, with `flowing` channels already playing (one player each, read by this process) or none,
 * then the curl burst. The proxy's WAIT_HEAD_MS is raised so its first byte is the first media byte, as the
 * plain fan-out's is (otherwise a waiting player gets its head and null packets after 500 ms).
 */
async function one(
  name: string,
  start: (sim: string) => Promise<Server>,
  flowing: number,
): Promise<BurstRow> {
  const sim = await startSim();
  const players: Player[] = [];
  try {
    const server = await start(sim.url);
    try {
      for (let i = 0; i < flowing; i++) {
        players.push(await Player.open(`${server.url}/ace/getstream?id=${channelId('f', i)}`, 0));
      }
      await waitFor(() => players.every((p) => p.bytes > 0), 60_000, 100);
      await sleep(2000);
      const times = await curlBurst(server.url, 150, 2);
      const served = times.filter((t) => t > 0);
      return {
        server: name,
        flowing,
        transfers: times.length,
        served: served.length,
        p50Ms: percentile(served, 0.5),
        p99Ms: percentile(served, 0.99),
      };
    } finally {
      for (const p of players) p.close();
      await server.stop();
    }
  } finally {
    await sim.proc.stop();
  }
}

/** The burst through acefleet and the plain fan-out, with no load and with `flowing` channels playing. */
export async function startBurst(flowing: number): Promise<BurstRow[]> {
  const acefleet = (sim: string): Promise<Server> => startAcefleet(sim, { WAIT_HEAD_MS: '10000' });
  const rows: BurstRow[] = [];
  for (const n of [0, flowing]) {
    rows.push(await one('acefleet', acefleet, n));
    rows.push(await one('plain fan-out', startPlain, n));
  }
  for (const r of rows) console.log(JSON.stringify(r));
  return rows;
}
