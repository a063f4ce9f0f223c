// The matrix as a verdict per goal of issue 17 and a table per condition: what bench/results/players.json
// keeps and what docs/players.md shows between its markers.
import type { PlayerName } from './classify.ts';
import type { ConditionName, ConditionResult } from './conditions.ts';
import type { PlayerRun } from './run-player.ts';

export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

const STALL_FAILOVER_MS = 4000;

const runOf = (r: ConditionResult | undefined, p: PlayerName): PlayerRun | undefined =>
  r?.runs.find((run) => run.player === p);
const clean = (run: PlayerRun | undefined): boolean =>
  run !== undefined && run.counts.discontinuity + run.counts.timestamp + run.counts.decode === 0;
const maxPerPid = (run: PlayerRun): number => Math.max(0, ...Object.values(run.discontinuityPerPid));
const describe = (run: PlayerRun | undefined): string =>
  run === undefined
    ? 'not run'
    : `${run.counts.discontinuity} discontinuity, ${run.counts.timestamp} timestamp, ${run.counts.decode} decode` +
      (run.endedEarly ? ', ended early' : '');

export function goals(results: Partial<Record<ConditionName, ConditionResult>>): Goal[] {
  const out: Goal[] = [];
  const add = (goal: string, measured: string, met: boolean): void => void out.push({ goal, measured, met });
  const steady = results.steady;
  if (steady) {
    const vlc = runOf(steady, 'vlc');
    if (vlc) {
      add(
        `steady: VLC over ${vlc.seconds} s logs 0 discontinuity and 0 timestamp errors`,
        describe(vlc),
        vlc.counts.discontinuity === 0 && vlc.counts.timestamp === 0 && !vlc.endedEarly,
      );
    }
    const probe = runOf(steady, 'ffprobe');
    if (probe) {
      add(
        `steady: ffprobe sees video DTS that never go back over ${probe.seconds} s`,
        `${probe.packets ?? 0} packets, ${probe.dtsBack ?? 0} steps back${probe.endedEarly ? ', ended early' : ''}`,
        probe.dtsBack === 0 && !probe.endedEarly,
      );
    }
    const ffmpeg = runOf(steady, 'ffmpeg');
    if (ffmpeg) {
      add(
        `steady: ffmpeg decodes ${ffmpeg.seconds} s with no error`,
        `${describe(ffmpeg)}, ${ffmpeg.frames ?? 0} frames`,
        clean(ffmpeg) && !ffmpeg.endedEarly,
      );
    }
  }
  const mpvHls = runOf(results.hls, 'mpv');
  if (mpvHls)
    add(
      'HLS: mpv plays it with no decode error',
      describe(mpvHls),
      mpvHls.counts.decode === 0 && !mpvHls.endedEarly,
    );
  if (results.hls?.measured.segments !== undefined) {
    const { segments, keyFirst } = results.hls.measured;
    add(
      'HLS: every segment starts on a key frame',
      `${keyFirst} of ${segments} segments`,
      segments === keyFirst && Number(segments) > 0,
    );
  }
  const lagFfmpeg = runOf(results.lagging, 'ffmpeg');
  if (lagFfmpeg) {
    add(
      'lagging player skipped forward: ffmpeg decodes on, no error but the one flagged discontinuity',
      `${describe(lagFfmpeg)}; ${results.lagging!.measured.skips} skips`,
      lagFfmpeg.counts.decode + lagFfmpeg.counts.timestamp <= 1 &&
        !lagFfmpeg.endedEarly &&
        Number(results.lagging!.measured.skips) > 0,
    );
  }
  const failover = results.failover;
  if (failover) {
    const worst = failover.runs
      .map((r) => `${r.player} ${maxPerPid(r)}${r.endedEarly ? ' (ended)' : ''}`)
      .join(', ');
    add(
      'failover: every player plays on without reconnecting, at most one discontinuity per PID',
      `most per PID: ${worst}; ${failover.measured.moves} move(s)`,
      failover.runs.every((r) => !r.endedEarly && maxPerPid(r) <= 1),
    );
  }
  const slow = results['slow-start'];
  if (slow) {
    add(
      'a 20 s engine start: every player stays and plays',
      slow.runs.map((r) => `${r.player}${r.endedEarly ? ' ended early' : ' played'}`).join(', '),
      slow.runs.every((r) => !r.endedEarly),
    );
  }
  const frozen = results['frozen-video'];
  if (frozen) {
    const after = Number(frozen.measured.movedAfterMs);
    add(
      `frozen video: moved within STALL_FAILOVER_MS + 2 s (${STALL_FAILOVER_MS + 2000} ms), players stay connected`,
      `moved after ${after} ms (${frozen.measured.reasons}); ${frozen.runs.filter((r) => r.endedEarly).length} player(s) ended early`,
      after >= 0 &&
        after <= STALL_FAILOVER_MS + 2000 &&
        frozen.runs.every((r) => !r.endedEarly) &&
        String(frozen.measured.reasons).includes('video_frozen'),
    );
  }
  const drain = results.drain;
  if (drain) {
    add(
      `drain onto an engine that warms up ${Number(drain.measured.warmUpMs) / 1000} s: every player plays on, no decode or timestamp error, at most one discontinuity per PID`,
      `${drain.runs.map((r) => `${r.player}: ${describe(r)}`).join('; ')}; ${drain.measured.moves} move(s) (${drain.measured.reasons})`,
      drain.runs.every(
        (r) => !r.endedEarly && r.counts.decode + r.counts.timestamp === 0 && maxPerPid(r) <= 1,
      ) && String(drain.measured.reasons).includes('drain'),
    );
  }
  const standby = results['standby-kill'];
  if (standby) {
    add(
      'hot standby, engine killed: every player plays on, no decode error, at most one discontinuity per PID',
      `${standby.runs.map((r) => `${r.player}: ${describe(r)}`).join('; ')}; ${standby.measured.moves} move(s)`,
      standby.runs.every((r) => !r.endedEarly && r.counts.decode === 0 && maxPerPid(r) <= 1),
    );
  }
  return out;
}

const cell = (run: PlayerRun | undefined): string => {
  if (!run) return '';
  const c = run.counts;
  const flags = run.endedEarly ? ' ⚠ ended early' : '';
  return `${c.discontinuity} / ${c.timestamp} / ${c.decode}${c.other ? ` (+${c.other})` : ''}${flags}`;
};

export function markdown(
  results: Partial<Record<ConditionName, ConditionResult>>,
  players: readonly PlayerName[],
  at: Date,
): string {
  const verdicts = goals(results);
  const lines = [
    `Run on ${at.toISOString().slice(0, 16)}Z by \`npm run players\` (this machine: 2 cores). Each cell: discontinuity / timestamp / decode lines the player logged (+ other warnings); "ended early": the player lost its stream.`,
    '',
    `| condition | ${players.join(' | ')} | proxy |`,
    `| --- | ${players.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const r of Object.values(results)) {
    const measured = Object.entries(r.measured)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`| ${r.name} | ${players.map((p) => cell(runOf(r, p))).join(' | ')} | ${measured} |`);
  }
  lines.push('', '| goal | measured | met |', '| --- | --- | --- |');
  for (const g of verdicts) lines.push(`| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`);
  const notes = Object.values(results).flatMap((r) =>
    r.runs.flatMap((run) =>
      Object.entries(run.lines).map(([line, n]) => `- ${r.name}, ${run.player}: ${line} (×${n})`),
    ),
  );
  if (notes.length > 0)
    lines.push('', '<details><summary>Every line counted</summary>', '', ...notes, '', '</details>');
  return `${lines.join('\n')}\n`;
}
