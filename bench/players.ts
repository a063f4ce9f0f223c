/**
 * `npm run players`: real players (ffprobe, ffmpeg, mpv, VLC, GStreamer) play through the edge proxy in
 * front of simulated engines, under the conditions of bench/players/conditions.ts, and their logs are
 * counted (discontinuities, timestamp errors, decode errors). Writes bench/results/players.json and the
 * results section of docs/players.md. About 8 minutes.
 *
 *   npm run players                                       # the whole matrix
 *   npm run players -- --condition steady,failover --player ffmpeg,vlc --seconds 20
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@acefleet/testkit';
import { playerNames, type PlayerName } from './players/classify.ts';
import {
  conditionNames,
  runCondition,
  type ConditionName,
  type ConditionResult,
} from './players/conditions.ts';
import { goals, markdown } from './players/report.ts';

const { values } = parseArgs({
  options: {
    condition: { type: 'string', default: conditionNames.join(',') },
    player: { type: 'string', default: playerNames.join(',') },
    /** Seconds each player plays (default: the goals' 30 s for ffprobe, 60 s for ffmpeg, 40 s for the rest). */
    seconds: { type: 'string' },
  },
});

function pick<T extends string>(text: string, known: readonly T[], what: string): T[] {
  const chosen = text.split(',').filter(Boolean);
  const unknown = chosen.filter((c) => !known.includes(c as T));
  if (unknown.length > 0)
    throw new Error(`unknown ${what} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return chosen as T[];
}

const conditions = pick(values.condition, conditionNames, 'condition');
const players = pick(values.player, playerNames, 'player');
const fixed = values.seconds === undefined ? undefined : Number(values.seconds);
const seconds: Record<PlayerName, number> = {
  ffprobe: fixed ?? 30,
  ffmpeg: fixed ?? 60,
  mpv: fixed ?? 40,
  vlc: fixed ?? 40,
  gstreamer: fixed ?? 40,
};

const work = path.join(repoRoot, '.run', 'players');
mkdirSync(work, { recursive: true });

/** The clip padded with null packets to 13 times its bitrate: the lagging condition fills buffers fast. */
async function paddedClip(): Promise<string> {
  const out = path.join(work, 'padded-13x.mpegts');
  if (existsSync(out)) return out;
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=12'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=12'],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      '-b:v',
      '1200k',
      '-maxrate',
      '1200k',
    ],
    ...[
      '-bufsize',
      '600k',
      '-g',
      '25',
      '-keyint_min',
      '25',
      '-sc_threshold',
      '0',
      '-c:a',
      'mp2',
      '-b:a',
      '64k',
    ],
    ...['-f', 'mpegts', '-muxrate', String(1_504_000 * 13), out],
  ]);
  return out;
}

const results: Partial<Record<ConditionName, ConditionResult>> = {};
for (const name of conditions) {
  process.stdout.write(`== ${name}\n`);
  const result = await runCondition(name, { players, seconds }, paddedClip);
  results[name] = result;
  for (const run of result.runs) {
    const c = run.counts;
    process.stdout.write(
      `   ${run.player.padEnd(9)} ${c.discontinuity} discontinuity, ${c.timestamp} timestamp, ${c.decode} decode, ${c.other} other${run.endedEarly ? ', ENDED EARLY' : ''}\n`,
    );
  }
  if (Object.keys(result.measured).length > 0)
    process.stdout.write(`   proxy: ${JSON.stringify(result.measured)}\n`);
}

const at = new Date();
const verdicts = goals(results);
writeFileSync(
  path.join(repoRoot, 'bench/results/players.json'),
  `${JSON.stringify({ at: at.toISOString(), players, seconds, results, goals: verdicts }, null, 2)}\n`,
);
const docs = path.join(repoRoot, 'docs/players.md');
const START = '<!-- players-matrix:start -->';
const END = '<!-- players-matrix:end -->';
const section = `${START}\n${markdown(results, players, at)}${END}`;
const current = existsSync(docs) ? readFileSync(docs, 'utf8') : '';
const next =
  current.includes(START) && current.includes(END)
    ? current.slice(0, current.indexOf(START)) + section + current.slice(current.indexOf(END) + END.length)
    : `${current}${current ? '\n' : '# Players\n\n'}## What real players log through acefleet\n\n${section}\n`;
writeFileSync(docs, next);
execFileSync('npx', ['prettier', '--write', docs], { cwd: repoRoot, stdio: 'ignore' });
for (const g of verdicts) process.stdout.write(`${g.met ? 'met   ' : 'MISSED'} ${g.goal}: ${g.measured}\n`);
