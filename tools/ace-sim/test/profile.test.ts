import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Player, waitFor } from '@acefleet/testkit';
import { ConfigError, parseConfig } from '../src/config.ts';
import { buildSimulator, ProfileError } from '../src/index.ts';
import { buildProfile } from '../src/profile.ts';
import { CONTENT_ID, getJson, start, startSim, type Ace, type Stat } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

test('profile field - warm-ups of 5 to 25 s, most near 15 s, one sequence per seed', (t) => {
  const draws = (seed: number): number[] => {
    const profile = buildProfile('field', seed);
    return Array.from({ length: 2000 }, () => profile.nextWarmupMs());
  };
  const a = draws(42);
  t.deepEqual(draws(42), a, 'the same seed, the same starts');
  t.notDeepEqual(draws(43), a);
  t.true(a.every((ms) => ms >= 5000 && ms <= 25_000));
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  t.true(Math.abs(mean - 15_000) < 500, `mean ${mean}`);
  t.true(a.filter((ms) => ms < 7000).length < a.filter((ms) => ms > 13_000 && ms < 17_000).length / 3);
  t.is(buildProfile('default', 42).nextWarmupMs(), 0);
});

test('profile - chosen by --profile or ACE_SIM_PROFILE, seeded by --seed or ACE_SIM_SEED; unknown names are refused', (t) => {
  t.like(parseConfig(['--profile', 'field', '--seed', '7'], {}).sim, { profile: 'field', seed: 7 });
  t.like(parseConfig([], { ACE_SIM_PROFILE: 'field', ACE_SIM_SEED: '8' }).sim, { profile: 'field', seed: 8 });
  t.like(parseConfig([], { ACE_SIM_CLOCK_OFFSET_MS: '-3600000' }).sim, { clockOffsetMs: -3_600_000 });
  t.throws(() => parseConfig([], { ACE_SIM_PROFILE: 'slow' }), {
    instanceOf: ConfigError,
    message: 'unknown profile "slow" (known: default, field)',
  });
  t.throws(() => parseConfig(['--seed', '-1'], {}), { message: /seed must be an integer/ });
  t.throws(() => buildSimulator({ profile: 'slow' }), {
    instanceOf: ProfileError,
    message: /unknown profile "slow"/,
  });
});

test('profile - the process refuses an unknown profile at start-up, naming it', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--http-port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ACE_SIM_PROFILE: 'fields' },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 2);
  t.regex(stderr, /unknown profile "fields"/);
});

/** The seed below 500 whose first field warm-up is the shortest, so the test waits as little as it can. */
function quickSeed(): { seed: number; warmupMs: number } {
  let best = { seed: 0, warmupMs: Infinity };
  for (let seed = 0; seed < 500; seed++) {
    const warmupMs = buildProfile('field', seed).nextWarmupMs();
    if (warmupMs < best.warmupMs) best = { seed, warmupMs };
  }
  return best;
}

test('profile field - stat says prebuf with rising progress and peers, the playback answer comes after the warm-up, then dl', async (t) => {
  const { seed, warmupMs } = quickSeed();
  const { sim, url } = await startSim({ profile: 'field', seed, burstSeconds: 0.5 });
  t.teardown(() => sim.close());
  const startedAt = performance.now();
  const r = await start(url, `id=${CONTENT_ID}`);
  const stat = async (): Promise<Stat & { total_progress: number }> =>
    (await getJson<Ace<Stat & { total_progress: number }>>(r.stat_url)).response!;
  const early = await stat();
  t.like(early, { status: 'prebuf' });
  t.true(early.total_progress < 20, `progress ${early.total_progress}`);
  const playing = Player.open(r.playback_url, 0);
  const half = await waitFor(async () => {
    const s = await stat();
    return s.total_progress >= 50 && s;
  }, warmupMs + 5000);
  t.like(half, { status: 'prebuf' });
  t.true(half.peers > early.peers, `peers ${early.peers} -> ${half.peers}`);
  const player = await playing;
  t.teardown(() => player.close());
  const headMs = performance.now() - startedAt;
  t.true(headMs >= warmupMs - 100, `head after ${headMs} ms, warm-up ${warmupMs} ms`);
  t.true(headMs < warmupMs + 3000, `head after ${headMs} ms, warm-up ${warmupMs} ms`);
  await waitFor(() => player.bytes > 0, 5000);
  t.like(await stat(), { status: 'dl', peers: 8 });
  t.like(sim.settings, { profile: 'field', seed });
});

test('profile default - sessions start at once, and stat says prebuf only until the first byte', async (t) => {
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  t.like(await getJson(r.stat_url), { response: { status: 'prebuf', total_progress: 100 } });
  const player = await Player.open(r.playback_url, 0);
  t.teardown(() => player.close());
  await waitFor(() => player.bytes > 0, 5000);
  t.like(await getJson(r.stat_url), { response: { status: 'dl' } });
  t.is(sim.settings.profile, 'default');
});
