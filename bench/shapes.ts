import { Player, waitFor } from '@acefleet/testkit';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './processes.ts';
import { RATE_BPS, startAcefleet, startPlain, startSim, type Server } from './servers.ts';
import { percentile, summarize, type Row } from './summary.ts';

const RAMP_MS = Number(process.env.BENCH_RAMP_MS ?? 5000);
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const LATE_JOINERS = Number(process.env.BENCH_LATE_JOINERS ?? 50);

export const method = { rampMs: RAMP_MS, windowMs: WINDOW_MS, lateJoiners: LATE_JOINERS };

/** `streams` channels × `players` each through one server, on an engine process of its own. */
async function measure(
  label: string,
  start: (simUrl: string) => Promise<Server>,
  streams: number,
  players: number,
): Promise<Row> {
  console.error(`${streams} × ${players}: ${label}`);
  const sim = await startSim();
  try {
    const server = await start(sim.url);
    try {
      // Clients round-robin over the channels: `{i}` becomes the channel's 40-digit id.
      const r = await runLoad(server.pid, `${server.url}/ace/getstream?id={i}`, {
        clients: streams * players,
        rampMs: RAMP_MS,
        windowMs: WINDOW_MS,
        streams,
        lateJoiners: LATE_JOINERS,
        enginePid: sim.proc.child.pid!,
      });
      return summarize(`${label}, ${streams} × ${players}`, r, RATE_BPS, streams);
    } finally {
      await server.stop();
    }
  } finally {
    await sim.proc.stop();
  }
}

/** One shape through acefleet, then through the plain fan-out, in the same run. */
export async function shape(streams: number, players: number): Promise<Row[]> {
  const rows = [await measure('acefleet', (sim) => startAcefleet(sim), streams, players)];
  if (process.env.BENCH_SKIP_BASELINE !== '1')
    rows.push(await measure('plain fan-out', startPlain, streams, players));
  for (const r of rows) console.log(JSON.stringify(r));
  return rows;
}

/** Time to first byte when switching to a channel the proxy still lingers on. */
export async function channelSwitch(trials: number): Promise<{ p50: number; p99: number }> {
  const sim = await startSim();
  try {
    const proxy = await startAcefleet(sim.url, { LINGER_MS: '30000' });
    const ids = ['c1', 'c2'].map((c) => c.padEnd(40, '0'));
    for (const id of ids) {
      const p = await Player.open(`${proxy.url}/ace/getstream?id=${id}`, 0);
      await waitFor(() => p.bytes > 0, 10_000);
      p.close();
    }
    const times: number[] = [];
    let current: Player | undefined;
    for (let i = 0; i < trials; i++) {
      current?.close();
      const next = await Player.open(`${proxy.url}/ace/getstream?id=${ids[i % 2]!}`, 0);
      await waitFor(() => next.bytes > 0, 5000, 1);
      times.push(next.timeToFirstByteMs!);
      current = next;
      await sleep(100);
    }
    current?.close();
    await proxy.stop();
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    await sim.proc.stop();
  }
}
