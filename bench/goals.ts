import type { StormResult } from './start-storm.ts';
import type { Row } from './summary.ts';

/** One goal of issue 11 against this run: what was asked, what was measured, and whether it was met. */
export interface Verdict {
  goal: string;
  measured: string;
  met: boolean;
}

const rowOf = (rows: Row[], who: string, s: number, p: number): Row | undefined =>
  rows.find((r) => r.scenario === `${who}, ${s} × ${p}`);

/** The goals of issue 11 for the scenarios that ran (a scenario not run gives no verdict). */
export function verdicts(rows: Row[], storm: StormResult | undefined): Verdict[] {
  const out: Verdict[] = [];
  const add = (goal: string, measured: string, met: boolean): void => void out.push({ goal, measured, met });
  const shapes: [number, number][] = [
    [1, 1000],
    [1, 3000],
    [50, 20],
    [200, 5],
    [500, 2],
  ];
  for (const [s, p] of shapes) {
    const a = rowOf(rows, 'acefleet', s, p);
    if (!a) continue;
    const plain = rowOf(rows, 'plain fan-out', s, p);
    const name = `${s} × ${p}`;
    add(
      `${name}: all ${a.clients} players smooth (≥ 99 % of the rate)`,
      `${a.full} / ${a.clients}`,
      a.full === a.clients,
    );
    if (s > 1 || p === 1000) {
      const cap = s === 1 ? 25 : s === 50 ? 40 : Infinity;
      const vsPlain = plain ? Number(a.cpuPercent) <= Number(plain.cpuPercent) : true;
      const capText = cap === Infinity ? '' : ` and ≤ ${cap} %`;
      const plainText = plain ? `, plain ${plain.cpuPercent} %` : '';
      add(
        `${name}: CPU ≤ the plain fan-out's${capText}`,
        `${a.cpuPercent} %${plainText}`,
        vsPlain && Number(a.cpuPercent) <= cap,
      );
    }
    if (s > 1 && s !== 50) {
      const limit = 64 + 1.5 * s;
      add(
        `${name}: RSS ≤ 64 MiB + 1.5 MiB per stream (${limit} MiB)`,
        `${a.rssMiB} MiB (${a.rssPerStreamMiB} MiB per stream added)`,
        Number(a.rssMiB) <= limit,
      );
    }
    if (s === 50) {
      const limit = 64 + 1.5 * s;
      add(
        `${name}: RSS ≤ 64 MiB + 1.5 MiB per stream (${limit} MiB)`,
        `${a.rssMiB} MiB`,
        Number(a.rssMiB) <= limit,
      );
    }
    add(`${name}: late joiner first byte p99 ≤ 50 ms`, `${a.lateP99} ms`, Number(a.lateP99) <= 50);
  }
  if (storm) {
    add('start storm: acquire p99 ≤ 50 ms', `${storm.acquireP99.toFixed(1)} ms`, storm.acquireP99 <= 50);
    add(
      "start storm: first byte p99 ≤ the engine's own start p99 + 50 ms",
      `${storm.firstP99.toFixed(0)} ms vs engine ${storm.engineP99.toFixed(0)} ms (+${(storm.firstP99 - storm.engineP99).toFixed(0)} ms; engines during the storm p99 ${storm.engineInStormP99.toFixed(0)} ms)`,
      storm.firstP99 <= storm.engineP99 + 50,
    );
    add(
      'start storm: every channel served',
      `${storm.served} / ${storm.channels}`,
      storm.served === storm.channels,
    );
  }
  return out;
}
