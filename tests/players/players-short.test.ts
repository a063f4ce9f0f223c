import test from 'ava';
import { execFileSync } from 'node:child_process';
import { playFor, type PlayerRun } from '../../bench/players/run-player.ts';
import { startStack } from '../../bench/players/stack.ts';

/**
 * The short run of the players matrix (`npm run players` runs it all): ffprobe, ffmpeg and VLC play through
 * the proxy from a steady channel and from an engine that warms up for 15 s, and log no discontinuity, no
 * timestamp error and no decode error.
 */
const have = (bin: string): boolean => {
  try {
    execFileSync('which', [bin], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const players = (['ffprobe', 'ffmpeg', 'vlc'] as const).filter((p) => have(p === 'vlc' ? 'cvlc' : p));

function clean(t: import('ava').ExecutionContext, run: PlayerRun): void {
  t.log(
    `${run.player}: ${JSON.stringify(run.counts)}${run.endedEarly ? ' ended early' : ''} ${Object.keys(run.lines).join(' | ')}`,
  );
  t.false(run.endedEarly, `${run.player} ended early`);
  t.deepEqual(
    { discontinuity: run.counts.discontinuity, timestamp: run.counts.timestamp, decode: run.counts.decode },
    { discontinuity: 0, timestamp: 0, decode: 0 },
    `${run.player}: ${Object.keys(run.lines).join(' | ')}`,
  );
  if (run.player === 'ffprobe') t.is(run.dtsBack, 0, 'ffprobe: video DTS never go back');
}

test('players - ffprobe, ffmpeg and VLC play a steady channel with no discontinuity, timestamp or decode error', async (t) => {
  t.deepEqual(
    players,
    ['ffprobe', 'ffmpeg', 'vlc'],
    'every player of the short run is installed (npm test sets them up)',
  );
  const stack = await startStack();
  t.teardown(() => stack.stop());
  const runs = await Promise.all(
    players.map((p, i) =>
      playFor(p, `${stack.proxyUrl}/ace/getstream?id=${(0xd0 + i).toString(16).repeat(20)}`, 20),
    ),
  );
  for (const run of runs) clean(t, run);
});

test('players - ffprobe, ffmpeg and VLC stay through a 15 s engine warm-up and play it cleanly', async (t) => {
  const stack = await startStack({ engines: 1, sim: { faults: { firstByteDelayMs: 15_000 } } });
  t.teardown(() => stack.stop());
  const url = `${stack.proxyUrl}/ace/getstream?id=${'de'.repeat(20)}`;
  const runs = await Promise.all(players.map((p) => playFor(p, url, p === 'ffprobe' ? 10 : 25)));
  for (const run of runs) clean(t, run);
});
