// Test plumbing: a simulator on 127.0.0.1:0, and JSON and body readers (ports, waits and ffprobe: testkit).
import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { promisify } from 'node:util';
import { buildSimulator, type Simulator, type SimulatorOptions } from '../src/index.ts';

export const CONTENT_ID = '0123456789abcdef0123456789abcdef01234567';

export interface Running {
  sim: Simulator;
  url: string;
}

export async function startSim(opts: SimulatorOptions = {}): Promise<Running> {
  const sim = buildSimulator(opts);
  const { url } = await sim.listen(0, '127.0.0.1');
  return { sim, url };
}

export interface Ace<T> {
  response: T | null;
  error: string | null;
}

export interface Started {
  playback_url: string;
  stat_url: string;
  command_url: string;
  infohash: string;
  playback_session_id: string;
  is_live: number;
  is_encrypted: number;
  client_session_id: number;
  bitrate: number;
}

export interface Stat {
  status: string;
  peers: number;
  speed_down: number;
  downloaded: number;
  playback_session_id: string;
  livepos: Record<string, string>;
}

export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  return (await res.json()) as T;
}

export const putJson = <T>(url: string, body: unknown): Promise<T> =>
  getJson<T>(url, { method: 'PUT', body: JSON.stringify(body) });

export const post = <T>(url: string): Promise<T> => getJson<T>(url, { method: 'POST' });

export async function start(url: string, query: string, kind = 'getstream'): Promise<Started> {
  const body = await getJson<Ace<Started>>(`${url}/ace/${kind}?${query}&format=json`);
  if (body.error !== null || body.response === null) throw new Error(`start failed: ${body.error}`);
  return body.response;
}

export interface Body {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  /** How the body ended: 'end' (EOF), 'error' (reset) or 'timeout' (still open when we gave up). */
  ended: 'end' | 'error' | 'timeout';
  firstByteMs: number | undefined;
}

/** Reads a body for at most `ms`; `during` runs once the response headers are in. */
export function readBody(url: string, ms: number, during?: () => Promise<void>): Promise<Body> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      const chunks: Buffer[] = [];
      let firstByteMs: number | undefined;
      const finish = (ended: Body['ended']): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          bytes: Buffer.concat(chunks),
          ended,
          firstByteMs,
        });
      };
      const timer = setTimeout(() => finish('timeout'), ms);
      res.on('data', (c: Buffer) => {
        firstByteMs ??= performance.now() - t0;
        chunks.push(c);
      });
      res.on('end', () => finish('end'));
      res.on('error', () => finish('error'));
      res.on('aborted', () => finish('error'));
      if (during) during().catch(reject);
    });
    req.on('error', reject);
  });
}

const run = promisify(execFile);

/** Video DTS (seconds, as the demuxer unwraps them) of what ffprobe, as a player, reads from `url`. */
export async function ffprobeVideoDts(url: string, seconds: number): Promise<number[]> {
  const { stdout } = await run(
    'ffprobe',
    [
      ...['-v', 'error', '-rw_timeout', '15000000', '-select_streams', 'v:0'],
      ...['-read_intervals', `%+${seconds}`, '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', url],
    ],
    { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .map((l) => l.split(',')[0]!.trim())
    .filter((l) => l !== '' && l !== 'N/A')
    .map(Number);
}

/** Places where a list of timestamps does not move forward. */
export function backwardSteps(times: number[]): { at: number; from: number; to: number }[] {
  const steps: { at: number; from: number; to: number }[] = [];
  for (let i = 1; i < times.length; i++) {
    if (times[i]! <= times[i - 1]!) steps.push({ at: i, from: times[i - 1]!, to: times[i]! });
  }
  return steps;
}
