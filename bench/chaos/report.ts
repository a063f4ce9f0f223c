import type { ChaosOptions, ChaosResult, ScenarioResult } from './campaign.ts';
import { chaosEnv } from './campaign.ts';
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

export function scenarioRow(r: ScenarioResult): string {
  if (r.skipped) return `| ${r.name} | not run: ${r.skipped} | | | | | | | | | | |`;
  const dropped = `${cell(r.dropped)} / ${r.players}${r.onlyCopy ? ' (only copy)' : ''}`;
  const result = r.met ? 'met' : `**missed**${r.error ? `: ${r.error.split('\n')[0]}` : ''}`;
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

/** bench/results/chaos.md: the table, the settings, the method. */
export function chaosReport(opts: ChaosOptions, result: ChaosResult, header: string): string {
  const settings = settingsLine(chaosEnv(opts.streams));
  return [
    '# Chaos run',
    '',
    header,
    '',
    `${opts.streams} streams × ${opts.playersPerStream} players through the real stack (${result.runtime} engines, ${result.engines} ready at the end); all playing ${(result.startupMs / 1000).toFixed(1)} s after start. Pauses (SIGSTOP) last ${opts.pauseMs / 1000} s.`,
    '',
    ...tableHead,
    ...result.scenarios.map(scenarioRow),
    '',
    `Goal per fault: 0 players dropped (where the fault kills the only copy, the players' connection to the proxy, every gap ≤ ${DROP_SILENCE_MS / 1000} s instead), 0 events lost, 0 duplicates, 0 claims left over or missing; and where a fault hits engines (docker kill, ace-sim faults but hung health), every stream they carried moved off them: the proof the fault was felt; 0 false stale alerts.`,
    '',
    '## Method',
    '',
    '`npm run chaos` (bench/chaos.ts; `CHAOS_STREAMS`, `CHAOS_PLAYERS`, `CHAOS_PAUSE_MS`, `CHAOS_DOCKERD=1`, `CHAOS_FAULTS`, `CHAOS_LOG_DIR`). The short version, 6 × 2 with five faults, runs inside `npm test` (tests/chaos/chaos-short.test.ts) and asserts the same goals.',
    '',
    '- **Stack**: libs/testkit `startStack`: nats-server with users and permissions, engine-manager (engines in Docker, `acefleet/ace-sim:local`, when Docker runs; else as processes), health-monitor, stats and the edge proxy, each a real process.',
    `- **Settings**: ${settings}. Stats sees a restarted proxy at its address at once; claims of a killed proxy expire with CLAIM_TTL_MS.`,
    '- **Players** (bench/chaos/viewers.ts) are testkit `Player`s on `/ace/getstream?id=<40 hex>`. Like real players they reconnect (every 0.5 s) when their connection ends or stays silent for 15 s; either counts as a drop. Byte arrival is sampled every 100 ms: the longest gap is the longest time any player went without a byte, across reconnects.',
    '- **Recovery**: from the start of the fault to the end of the last gap longer than 1 s any player saw (0: no player noticed). For pauses it includes the pause.',
    '- **Each fault** (bench/chaos/faults.ts) runs alone: inject, hold, undo (restart at the same address, SIGCONT, fault off), then watch for at least the observation time until every player received bytes within the last 2 s.',
    "- **Events and claims** (bench/chaos/audit.ts), polled once a second until they agree (at most the audit time): the proxy's own streams (`GET /api/streams`) against JetStream's stored `stream.started`/`stream.ended`, counted by streamId, and stats' `/api/totals`. Lost: a playing stream without a stored start, a stored start of a stream the proxy no longer has without a stored end, stats short of the distinct stored starts or ends. Duplicates: a streamId stored twice. Claims (manager, `engines.list`) per engine against the proxy's streams on it: left over (more claims) and missing (fewer).",
    "- **ace-sim faults** go to the busiest engine's `/__sim/faults` for 15 s, then are switched off (`?mode=replace {}`).",
    "- **Moves and ends** (bench/chaos/moves.ts): `stream.moved` and `stream.ended` events JetStream stored since the fault began. For a fault that hits engines, the streams they carried (the manager's claims on them at injection) against the moves whose previous engine is one of them. `stream.stale` alerts (health-monitor) in the same time: false when the stream had already moved off the engine the alert names (the monitor missed the move).",
    '- **dockerd**: only with `CHAOS_DOCKERD=1`. There is no systemd here and dockerd was started by scripts/setup.sh in the background, so "stopped" is played by SIGSTOP of the dockerd pid (`pgrep -xo dockerd`) for the pause, then SIGCONT: the API stops answering while the containers (under containerd) keep running.',
    '',
  ].join('\n');
}
