/**
 * What a hot standby costs (issue 20): the same load through the edge proxy without standbys and with
 * HOT_STANDBY_VIEWERS=1, in the same run. Two simulated engine processes (a standby goes to the engine the
 * channel does not play on); S channels × P players, ramped and counted as the fan-out bench does. Writes
 * bench/results/standby.md.
 *
 *   npm run bench:standby                      # 50 channels × 2 players
 *   STANDBY_SHAPE=20x5 npm run bench:standby
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProxyStreamsReply } from '@acefleet/contracts';
import { repoRoot } from '@acefleet/testkit';
import { method } from './shapes.ts';
import { runLoad } from './processes.ts';
import { RATE_BPS, startAcefleet, startSim } from './servers.ts';
import { summarize, type Row } from './summary.ts';

const [streams, players] = (process.env.STANDBY_SHAPE ?? '50x2').split('x').map(Number) as [number, number];

interface Measured {
  row: Row;
  standbys: number;
}

async function measure(standby: boolean): Promise<Measured> {
  const sims = [await startSim(), await startSim()];
  try {
    const server = await startAcefleet(sims.map((s) => s.url).join(','), {
      HOT_STANDBY_VIEWERS: standby ? '1' : '0',
    });
    try {
      let standbys = 0;
      const r = await runLoad(server.pid, `${server.url}/ace/getstream?id={i}`, {
        clients: streams * players,
        rampMs: method.rampMs,
        windowMs: method.windowMs,
        streams,
        lateJoiners: 0,
        onWindow: async () => {
          const view = (await (await fetch(`${server.url}/api/streams`)).json()) as ProxyStreamsReply;
          standbys = view.streams.filter((s) => s.standbyEngineId).length;
        },
      });
      const label = standby ? 'HOT_STANDBY_VIEWERS=1' : 'no standby';
      return { row: summarize(`${label}, ${streams} × ${players}`, r, RATE_BPS, streams), standbys };
    } finally {
      await server.stop();
    }
  } finally {
    await Promise.all(sims.map((s) => s.proc.stop()));
  }
}

execFileSync('bash', ['scripts/build-services.sh'], { cwd: repoRoot, stdio: 'inherit' });
const without = await measure(false);
const withStandby = await measure(true);
const cpu = (m: Measured): number => Number(m.row.cpuPercent);
const rss = (m: Measured): number => Number(m.row.rssMiB);
const per = (n: number): string => (withStandby.standbys > 0 ? (n / withStandby.standbys).toFixed(2) : '–');
const lines = [
  `Run ${new Date().toISOString()} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (shared with other work), Node ${process.version}. ${streams} channels × ${players} players at ${RATE_BPS / 1e6} Mbit/s from two simulated engine processes; clients ramped over ${method.rampMs / 1000} s, counted over ${method.windowMs / 1000} s. \`npm run bench:standby\` (bench/standby-cost.ts).`,
  '',
  '| proxy | standby sessions | clients at ≥99 % rate | median rate | proxy CPU (% of a core) | proxy RSS | first byte p50 / p99 |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...[without, withStandby].map(
    (m) =>
      `| ${m.row.scenario} | ${m.standbys} | ${m.row.full} / ${m.row.clients} | ${m.row.medianMbps} Mbit/s | ${m.row.cpuPercent} % | ${m.row.rssMiB} MiB | ${m.row.firstP50} / ${m.row.firstP99} ms |`,
  ),
  '',
  `Per standby: ${per(cpu(withStandby) - cpu(without))} % of a core and ${per(rss(withStandby) - rss(without))} MiB of proxy RSS, plus one engine session (a claim of its own) and the engine's bandwidth for the channel.`,
  '',
];
writeFileSync(path.join(repoRoot, 'bench', 'results', 'standby.md'), lines.join('\n'));
console.log(lines.join('\n'));
