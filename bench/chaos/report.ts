import type { ChaosOptions, ChaosResult, ScenarioResult } from './campaign.ts';
import { chaosEnv } from './campaign.ts';
import { DECODER_LINES_ALLOWED } from './goals.ts';
import { DROP_SILENCE_MS } from './viewers.ts';

const cell = (v: number | undefined, unit = ''): string => (v === undefined ? '–' : `${v}${unit}`);

/** Streams moved in the window; for an engine fault, how many of the hit engines' streams moved off them. */
const movedCell = (r: ScenarioResult): string =>
  r.hitStreams === undefined
    ? cell(r.moved)
    : `${cell(r.movedOffHit)} of ${r.hitStreams} off the hit engine${r.moved !== r.movedOffHit ? ` (${cell(r.moved)} in all)` : ''}`;

const endedCell = (r: ScenarioResult): string =>
  r.ended ? `${r.ended} (${r.endReasons ?? ''})` : cell(r.ended);

/** Stale alerts in the window; those about an engine the stream had already left are false. */
const staleCell = (r: ScenarioResult): string =>
  r.staleAlerts ? `${r.staleAlerts} (${cell(r.falseStale)} false)` : cell(r.staleAlerts);

/** `met`, or what was missed (an error by its first line). */
function goalCell(r: ScenarioResult): string {
  if (r.met) return 'met';
  const why = (r.missed ?? []).map((m) => (m === 'error' && r.error ? r.error.split('\n')[0]! : m));
  return `**missed**${why.length > 0 ? `: ${why.join('; ')}` : ''}`;
}

export function scenarioRow(r: ScenarioResult): string {
  if (r.skipped) return `| ${r.name} | not run: ${r.skipped} | | | | | | | | | | |`;
  const dropped = `${cell(r.dropped)} / ${r.players}${r.onlyCopy ? ' (only copy)' : ''}`;
  const result = goalCell(r);
  return `| ${r.name} | ${dropped} | ${cell(r.maxGapMs, ' ms')} | ${cell(r.recoveryMs, ' ms')} | ${cell(r.eventsLost)} | ${cell(r.duplicates)} | ${cell(r.claimsLeftOver)} | ${cell(r.claimsMissing)} | ${movedCell(r)} | ${endedCell(r)} | ${staleCell(r)} | ${result} |`;
}

/** The head of the table scenarioRow fills. */
export const tableHead = [
  '| fault | players dropped | longest gap | recovery | events lost | duplicates | claims left over | claims missing | streams moved | streams ended | stale alerts | goal |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

/** A stack's per-service settings as one line for a report: `manager: A=1 B=2; proxy: C=3`. */
export function settingsLine(env: Partial<Record<string, Record<string, string>>> | undefined): string {
  return Object.entries(env ?? {})
    .map(
      ([svc, vars]) =>
        `${svc}: ${Object.entries(vars ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    )
    .join('; ');
}

const side = (a: string, b: string): string => `${a} / ${b}`;

/** One fault, without and with standby: what players and decoders went through, and the goals. */
function comparisonRow(name: string, plain?: ScenarioResult, standby?: ScenarioResult): string {
  const of = (r: ScenarioResult | undefined, f: (r: ScenarioResult) => string): string =>
    !r ? 'not run' : r.skipped ? 'skipped' : f(r);
  const gapGoal = [plain?.gapGoalMs, standby?.gapGoalMs].map((g) => cell(g, ' ms')).join(' / ');
  return `| ${name} | ${side(
    of(plain, (r) => cell(r.dropped)),
    of(standby, (r) => cell(r.dropped)),
  )} | ${side(
    of(plain, (r) => cell(r.maxGapMs, ' ms')),
    of(standby, (r) => cell(r.maxGapMs, ' ms')),
  )} | ${gapGoal} | ${side(
    of(plain, (r) => cell(r.decoderErrors)),
    of(standby, (r) => cell(r.decoderErrors)),
  )} | ${side(
    of(plain, (r) => (r.met ? 'met' : '**missed**')),
    of(standby, (r) => (r.met ? 'met' : '**missed**')),
  )} |`;
}

const comparisonHead = [
  '| fault | players dropped | longest gap | gap goal | decoder lines | goal |',
  '| --- | --- | --- | --- | --- | --- |',
];

/** What each run cost while everything played: engines, standbys, the proxy process. */
function costLine(r: ChaosResult): string {
  const proxy = r.proxy
    ? `proxy ${r.proxy.cpuPercent} % of a core, ${r.proxy.rssMiB} MiB RSS (over ${(r.proxy.windowMs / 1000).toFixed(0)} s)`
    : 'proxy not read';
  const standbys = r.standbysOpen === undefined ? '' : `, ${r.standbysOpen} standby sessions open`;
  return `- **${r.standby ? 'With standby' : 'Without standby'}**: ${r.enginesAtStart} engines ready before the first fault${standbys}, ${r.engines} at the end; all playing ${(r.startupMs / 1000).toFixed(1)} s after start; ${proxy}.`;
}

/** The distinct lines the decoders printed, per fault (the first few of each). */
function decoderLines(results: ChaosResult[]): string[] {
  const lines = results.flatMap((run) =>
    run.scenarios
      .filter((s) => (s.decoderMessages ?? []).length > 0)
      .map(
        (s) =>
          `- ${run.standby ? 'with' : 'without'} standby, ${s.name}: ${s
            .decoderMessages!.slice(0, 4)
            .map((m) => `\`${m.slice(0, 160)}\``)
            .join(
              '; ',
            )}${s.decoderMessages!.length > 4 ? `; and ${s.decoderMessages!.length - 4} more` : ''}`,
      ),
  );
  return lines.length > 0 ? lines : ['- none: the decoders printed nothing in any fault window.'];
}

/** bench/results/chaos.md: the comparison, each run's full table, the settings, the method. */
export function chaosReport(opts: ChaosOptions, results: ChaosResult[], header: string): string {
  const plain = results.find((r) => !r.standby);
  const standby = results.find((r) => r.standby);
  const names = [...new Set(results.flatMap((r) => r.scenarios.map((s) => s.name)))];
  const runTable = (r: ChaosResult): string[] => [
    `### ${r.standby ? 'With standby (HOT_STANDBY_VIEWERS=1)' : 'Without standby'}`,
    '',
    ...tableHead,
    ...r.scenarios.map(scenarioRow),
    '',
  ];
  const settings = results.map(
    (r) =>
      `  - ${r.standby ? 'with' : 'without'} standby: ${settingsLine(chaosEnv({ ...opts, standby: r.standby }))}`,
  );
  const decoders = opts.decoders ?? 0;
  return [
    '# Chaos run',
    '',
    header,
    '',
    `${opts.streams} streams × ${opts.playersPerStream} players through the real stack (${results[0]?.runtime ?? '?'} engines), plus ${decoders} decoding players (ffmpeg \`-v ${opts.decoderLevel ?? 'warning'}\`); engines send their first bytes ${opts.engineDelayMs ?? 0} ms late (a real engine's warm-up). Pauses (SIGSTOP) last ${opts.pauseMs / 1000} s. Each fault ran twice: in a stack without hot standby, and in one where every channel keeps a standby (HOT_STANDBY_VIEWERS=1).`,
    '',
    '## Without / with standby',
    '',
    ...comparisonHead,
    ...names.map((n) =>
      comparisonRow(
        n,
        plain?.scenarios.find((s) => s.name === n),
        standby?.scenarios.find((s) => s.name === n),
      ),
    ),
    '',
    ...results.map(costLine),
    '',
    `Goal per fault: 0 players dropped (where the fault kills the only copy, the players' connection to the proxy, every gap ≤ ${DROP_SILENCE_MS / 1000} s instead), 0 events lost, 0 duplicates, 0 claims left over or missing; where a fault hits engines (docker kill, ace-sim faults but hung health, drain, upgrade), every stream they carried moved off them: the proof the fault was felt; 0 false stale alerts. Longest gap: a drain ≤ 300 ms and a rolling upgrade ≤ 500 ms in both runs (make-before-break either way); with standby, docker kill, stall, random bytes and frozen video ≤ 1 s, and every engine fault costs the decoders at most ${DECODER_LINES_ALLOWED} lines. An upgrade also needs its reply without error and every engine of the fleet replaced.`,
    '',
    '## Each run in full',
    '',
    ...results.flatMap(runTable),
    '## What the decoders printed',
    '',
    ...decoderLines(results),
    '',
    '## Method',
    '',
    '`npm run chaos` (bench/chaos.ts; `CHAOS_STREAMS`, `CHAOS_PLAYERS`, `CHAOS_PAUSE_MS`, `CHAOS_DOCKERD=1`, `CHAOS_FAULTS`, `CHAOS_LOG_DIR`, `CHAOS_ENGINE_DELAY_MS`, `CHAOS_STANDBY` (`both`, `off`, `on`), `CHAOS_DECODERS`, `CHAOS_DECODER_LEVEL`). The short version, 6 × 2 with six faults, runs inside `npm test` (tests/chaos/chaos-short.test.ts) and asserts the same goals.',
    '',
    '- **Stack**: libs/testkit `startStack`: nats-server with users and permissions, engine-manager (engines in Docker, `acefleet/ace-sim:local`, when Docker runs; else as processes), health-monitor, stats and the edge proxy, each a real process. A fresh stack per run (without, then with standby).',
    '- **Settings**:',
    ...settings,
    '  Stats sees a restarted proxy at its address at once; claims of a killed proxy expire with CLAIM_TTL_MS. With standby the manager keeps engines for two sessions per channel (standbys never make it start engines). `ENGINE_ENV=ACE_SIM_FAULT_FIRST_BYTE_DELAY_MS` reaches every engine container, successors of a drain or an upgrade included.',
    '- **Players** (bench/chaos/viewers.ts) are testkit `Player`s on `/ace/getstream?id=<40 hex>`. Like real players they reconnect (every 0.5 s) when their connection ends or stays silent for 15 s; either counts as a drop. Byte arrival is sampled every 100 ms: the longest gap is the longest time any player went without a byte, across reconnects.',
    `- **Decoders** (bench/chaos/decoders.ts): ${decoders} more players on channels spread over the streams, each \`ffmpeg -nostdin -v ${opts.decoderLevel ?? 'warning'} -i <proxy URL> -f null -\` (it decodes every frame), reconnecting when its input ends. Every stderr line (and every exit) from the fault's injection to the end of its observation counts. A fault aimed at the busiest engine picks, among engines equally busy, one carrying a decoder's channel.`,
    '- **Standby**: before each fault the run waits (at most 30 s) until every channel has its standby session open again (`acefleet_proxy_standby_sessions`). Standby claims are not streams: the audit leaves them out of claims left over and missing.',
    '- **Cost**: before the first fault, CPU time and RSS of the proxy pid from /proc over 15 s, everything playing.',
    '- **Recovery**: from the start of the fault to the end of the last gap longer than 1 s any player saw (0: no player noticed). For pauses it includes the pause.',
    '- **Each fault** (bench/chaos/faults.ts) runs alone: inject, hold, undo (restart at the same address, SIGCONT, fault off), then watch for at least the observation time until every player received bytes within the last 2 s.',
    "- **Events and claims** (bench/chaos/audit.ts), polled once a second until they agree (at most the audit time): the proxy's own streams (`GET /api/streams`) against JetStream's stored `stream.started`/`stream.ended`, counted by streamId, and stats' `/api/totals`. Lost: a playing stream without a stored start, a stored start of a stream the proxy no longer has without a stored end, stats short of the distinct stored starts or ends. Duplicates: a streamId stored twice. Claims (manager, `engines.list`) per engine against the proxy's streams on it: left over (more claims) and missing (fewer).",
    "- **ace-sim faults** go to the busiest engine's `/__sim/faults` for 15 s, then are switched off (`?mode=replace {}`). Frozen video: `frozenVideo: true` (the video PID carries no payload, audio and PCR go on).",
    "- **Drain**: `acefleet.engines.drain {engineId}` of the busiest engine, then waiting until the manager removed it. **Upgrade**: `acefleet.engines.upgrade {}` (a rolling restart from the image in force), its reply awaited (30 min at most); the engines before it against the reply's `replaced`.",
    "- **Moves and ends** (bench/chaos/moves.ts): `stream.moved` and `stream.ended` events JetStream stored since the fault began. For a fault that hits engines, the streams they carried (the manager's claims on them at injection, standbys left out) against the moves whose previous engine is one of them. `stream.stale` alerts (health-monitor) in the same time: false when the stream had already moved off the engine the alert names (the monitor missed the move).",
    '- **dockerd**: only with `CHAOS_DOCKERD=1`. There is no systemd here and dockerd was started by scripts/setup.sh in the background, so "stopped" is played by SIGSTOP of the dockerd pid (`pgrep -xo dockerd`) for the pause, then SIGCONT: the API stops answering while the containers (under containerd) keep running.',
    '',
  ].join('\n');
}
