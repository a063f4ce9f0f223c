import type { ScenarioResult } from './campaign.ts';
import { DROP_SILENCE_MS } from './viewers.ts';

/**
 * Decoder lines an engine fault may cost with a standby ready: none. A switch is a flagged discontinuity with
 * counters, versions and clock run on, which ffmpeg decodes through without a word.
 */
export const DECODER_LINES_ALLOWED = 0;

/** The goals a fault's result missed, each told short; none: met. */
export function missedGoals(r: Omit<ScenarioResult, 'met'>): string[] {
  const gap = r.maxGapMs ?? Infinity;
  const checks: [boolean, string][] = [
    [!r.error, 'error'],
    [r.gapGoalMs === undefined || gap <= r.gapGoalMs, `longest gap ${gap} ms > ${r.gapGoalMs} ms`],
    [
      r.decoderGoal === undefined || (r.decoderErrors ?? Infinity) <= r.decoderGoal,
      `${r.decoderErrors} decoder lines > ${r.decoderGoal}`,
    ],
    r.onlyCopy
      ? [gap <= DROP_SILENCE_MS, `longest gap ${gap} ms > ${DROP_SILENCE_MS} ms`]
      : [r.dropped === 0, `${r.dropped} players dropped`],
    [r.eventsLost === 0, `${r.eventsLost} events lost`],
    [r.duplicates === 0, `${r.duplicates} duplicates`],
    [r.claimsLeftOver === 0, `${r.claimsLeftOver} claims left over`],
    [r.claimsMissing === 0, `${r.claimsMissing} claims missing`],
    [r.falseStale === 0, `${r.falseStale} false stale alerts`],
    [
      !r.mustMove || (r.hitStreams !== undefined && (r.movedOffHit ?? 0) >= r.hitStreams),
      `${r.movedOffHit} of ${r.hitStreams} moved`,
    ],
  ];
  return checks.filter(([ok]) => !ok).map(([, why]) => why);
}
