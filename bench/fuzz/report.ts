/** The fuzz results as markdown (bench/results/fuzz.md) and the pass/fail verdict both runs share. */
import type { CampaignResult } from './campaign.ts';

const COLUMNS = ['2xx', '3xx', '4xx', '5xx', 'closed', 'reset', 'timeout', 'hung-up'];

/** Every criterion that failed, in words; empty when the run passed. */
export function failures(r: CampaignResult): string[] {
  const out: string[] = [];
  const nonPlay5xx = r.tally.findings.filter((f) => f.category !== 'valid-id play');
  if (nonPlay5xx.length > 0) out.push(`${nonPlay5xx.length} answers with 5xx`);
  for (const [k, ok] of Object.entries(r.alive)) if (!ok) out.push(`${k} is not alive`);
  const left = Object.entries(r.sessionsLeft).filter(([, n]) => n !== 0);
  if (left.length > 0) out.push(`sessions left: ${left.map(([k, n]) => `${k}=${n}`).join(', ')}`);
  if (!r.memoryBack) out.push('RSS did not come back within 10 % of the baseline');
  if (r.tally.cutShort) out.push('the time bound cut the run short');
  if (r.bus.findings.length > 0) out.push(`${r.bus.findings.length} faulty bus answers`);
  if (!r.fleetUnchanged) out.push('the bus cases changed the fleet');
  if (!r.busServicesAlive) out.push('engine-manager or health-monitor is not alive');
  return out;
}

const row = (name: string, counts: Record<string, number>) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return `| ${name} | ${COLUMNS.map((c) => counts[c] ?? 0).join(' | ')} | ${total} |`;
};

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

export function markdown(r: CampaignResult, meta: { seed: number; cores: string; command: string }): string {
  const t = r.tally;
  const fails = failures(r);
  const plays = t.byCategory['valid-id play'] ?? {};
  const mem = (k: 'proxy' | 'stats') => {
    const m = r.memory[k];
    return `| ${k} | ${m.startMiB} | ${m.baselineMiB} | ${m.maxMiB} | ${m.afterMiB} | ${Math.round((m.afterMiB / m.baselineMiB - 1) * 1000) / 10} % |`;
  };
  return [
    '# Fuzz run: edge proxy and stats',
    '',
    `Run ${new Date().toISOString()} on ${meta.cores} cores, Node ${process.version}, engines as ${r.runtime}; ` +
      `\`${meta.command}\`, seed ${meta.seed}.`,
    '',
    `**Verdict: ${fails.length === 0 ? 'pass' : `FAIL: ${fails.join('; ')}`}.**`,
    '',
    `- ${t.cases} connections, ${t.requests} requests (pipelined ones counted singly) in ${(t.durationMs / 1000).toFixed(1)} s, plus a warm-up of ${r.warmup.requests} requests before the RSS baseline.`,
    `- 5xx answers: ${t.byClass['5xx'] ?? 0} (of them on valid-id plays: ${t.findings.filter((f) => f.category === 'valid-id play').length}).`,
    `- Crashes: ${Object.values(r.alive).filter((a) => !a).length} (proxy alive: ${r.alive.proxy}, stats alive: ${r.alive.stats}).`,
    `- Sessions left after the linger: proxy streams ${r.sessionsLeft.proxyStreams}, proxy HLS ${r.sessionsLeft.proxyHls}, /ace/status ${r.sessionsLeft.statusStreams}, stats active ${r.sessionsLeft.statsActive}.`,
    `- Valid-id plays: ${Object.entries(plays)
      .map(([k, n]) => `${n} × ${k}`)
      .join(', ')}.`,
    `- Settled (sessions gone, RSS back) ${(r.settleMs / 1000).toFixed(1)} s after the last request; RSS back within 10 %: ${r.memoryBack}.`,
    '',
    '## Answers per category',
    '',
    'One count per answer (status class) or per connection left without an answer: `closed` (the server hung up',
    'without a status line), `reset`, `timeout` (no answer within 5 s; the connection stayed open), `hung-up` (the',
    'client left on purpose before any answer: silent, stalled and aborted connections).',
    '',
    `| category | ${COLUMNS.join(' | ')} | total |`,
    `| --- | ${COLUMNS.map(() => '---:').join(' | ')} | ---: |`,
    ...Object.entries(t.byCategory)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => row(k, v)),
    row('**all**', t.byClass),
    '',
    '## Bus endpoints',
    '',
    `${r.bus.cases} messages to the NATS micro-service endpoints of the four services in ${(r.bus.durationMs / 1000).toFixed(1)} s ` +
      '(bench/fuzz/bus-cases.ts), each with the credentials of a service that may call it: malformed and hostile ' +
      "payloads, shapes the endpoint refuses, calls under another proxy's name, and JetStream-shaped deliveries " +
      `(reply \`$JS.ACK.…\`). Fleet unchanged afterwards: ${r.fleetUnchanged}; engine-manager and health-monitor alive: ${r.busServicesAlive}.`,
    '',
    '| category | outcomes |',
    '| --- | --- |',
    ...Object.entries(r.bus.byCategory)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, v]) =>
          `| ${k} | ${Object.entries(v)
            .map(([o, n]) => `${n} × ${o}`)
            .join(', ')} |`,
      ),
    '',
    ...(r.bus.findings.length === 0
      ? ['Faulty answers (no answer, `internal`, an answered delivery, a publish not denied): none.']
      : r.bus.findings.map((f) => `- ${f.category} on ${code(f.subject)}: ${f.outcome}`)),
    '',
    '## Memory (VmRSS, MiB)',
    '',
    'Baseline: after the warm-up and its sessions ended. After: once within 10 % of the baseline, or at the settle timeout.',
    '',
    '| process | at start | baseline | max during run | after | after vs baseline |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    mem('proxy'),
    mem('stats'),
    '',
    '## 5xx answers',
    '',
    ...(t.findings.length === 0
      ? ['None.']
      : t.findings.map((f) => `- ${f.target}, ${f.category}, ${f.statuses.join('/')}: ${code(f.request)}`)),
    '',
    '## Connections without an answer (samples)',
    '',
    ...Object.entries(t.unanswered)
      .filter(([, xs]) => xs.length > 0)
      .flatMap(([k, xs]) => [`- ${k}:`, ...xs.map((x) => `  - ${code(x)}`)]),
    '',
  ].join('\n');
}
