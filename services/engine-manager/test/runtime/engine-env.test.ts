import test from 'ava';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import {
  dockerAvailable,
  entries,
  freePort,
  removeContainersWithLabels,
  repoRoot,
  spawnNode,
  startNatsServer,
  startService,
  waitFor,
} from '@acefleet/testkit';
import { engineEnvOf, type ManagerConfig } from '../../src/config.ts';
import { loggableEngineEnv } from '../../src/runtime/presets.ts';
import { dockerRuntimeFor, listEngines, newHostId, testEnv } from '../helpers.ts';

const run = promisify(execFile);
const withDocker = (await dockerAvailable()) ? test : test.skip;

/** Field-like engines with a slow first byte, and one variable whose value must never reach a log. */
const ENGINE_ENV =
  'ACE_SIM_PROFILE=field,ACE_SIM_SEED=7,ACE_SIM_FAULT_FIRST_BYTE_DELAY_MS=4000,NOTE_TOKEN=hunter2';

const parse = (engineEnv: string, enginePreset: ManagerConfig['enginePreset'] = 'ace-sim') =>
  engineEnvOf({ engineEnv, enginePreset });

test('ENGINE_ENV - KEY=VALUE entries, a value may hold "=" and spaces; empty is none', (t) => {
  t.deepEqual(parse('A=1, B_2=x=y ,EXTRA_FLAGS=--live-cache-size 100'), {
    A: '1',
    B_2: 'x=y ',
    EXTRA_FLAGS: '--live-cache-size 100',
  });
  t.deepEqual(parse(''), {});
});

test('ENGINE_ENV - a bad entry is named by its place and key, never by its value', (t) => {
  const refused = (text: string, preset?: ManagerConfig['enginePreset']): string =>
    t.throws(() => parse(text, preset), { name: 'ConfigError' }).message;
  t.is(refused('A=1,hunter2'), 'ENGINE_ENV entry 2: KEY=VALUE expected (no "=" in it)');
  t.is(refused('1A=hunter2'), 'ENGINE_ENV entry 1: "1A" is not a variable name');
  t.is(refused('A=1,A=hunter2'), 'ENGINE_ENV entry 2: A is given twice');
  t.regex(refused('HTTP_PORT=1', 'krinkuto11'), /entry 1: HTTP_PORT is set by the krinkuto11 preset/);
  t.regex(refused('ALLOW_REMOTE_ACCESS=yes', 'acestream-http-proxy'), /ALLOW_REMOTE_ACCESS is set by/);
});

test('ENGINE_ENV - goes into every container Env; flag lists are appended to the preset’s flags', (t) => {
  const jopsis = dockerRuntimeFor('host', 'jopsis', {
    ENGINE_ENV: 'ACESTREAM_ARGS=--live-cache-size 1,TZ=UTC',
  });
  const env = jopsis.containerSpec({ engineId: 'e1', httpPort: 6878, p2pPort: 8621 }).Env!;
  t.deepEqual(env, [
    // The preset's flags, its cache bound (ENGINE_CACHE_MB, 256 MiB by default), then ENGINE_ENV's flags.
    'ACESTREAM_ARGS=--client-console --live-cache-type memory --http-port 6878 --https-port 6879 --port 8621 ' +
      '--cache-dir /acestream-cache --live-cache-size 268435456 --vod-cache-type memory --vod-cache-size 268435456 ' +
      '--disk-cache-limit 268435456 --live-cache-size 1',
    'TZ=UTC',
  ]);
  const sim = dockerRuntimeFor('host', 'ace-sim', { ENGINE_ENV: 'ACE_SIM_PROFILE=field' });
  t.deepEqual(sim.containerSpec({ engineId: 'e1', httpPort: 6878, p2pPort: 8621 }).Env, [
    'ACE_SIM_PROFILE=field',
  ]);
  t.not(
    sim.configHash,
    dockerRuntimeFor('host').configHash,
    'engines made with other variables are replaced',
  );
});

test('ENGINE_ENV - logged with the values of ACE_SIM_* only', (t) => {
  t.deepEqual(loggableEngineEnv(parse(ENGINE_ENV)), {
    ACE_SIM_PROFILE: 'field',
    ACE_SIM_SEED: '7',
    ACE_SIM_FAULT_FIRST_BYTE_DELAY_MS: '4000',
    NOTE_TOKEN: '(set)',
  });
});

test('ENGINE_ENV - a bad entry stops the manager at start-up, naming it', async (t) => {
  const proc = spawnNode(['--import', 'tsx', entries.manager], {
    ENGINE_ENV: 'ACE_SIM_PROFILE=field,hunter2',
    HTTP_PORT: String(await freePort()),
  });
  const [code] = (await once(proc.child, 'exit')) as [number | null];
  t.is(code, 2);
  t.regex(proc.output(), /ENGINE_ENV entry 2: KEY=VALUE expected/);
  t.false(proc.output().includes('hunter2'));
});

/** What an engine of the fleet says about itself: its settings and its faults. */
async function engineSettings(baseUrl: string): Promise<{ config: unknown; faults: unknown }> {
  const get = async (path: string): Promise<unknown> => (await fetch(`${baseUrl}${path}`)).json();
  return { config: await get('/__sim/config'), faults: await get('/__sim/faults') };
}

/** A manager process with ENGINE_ENV set and one engine kept running: that engine, once ready. */
async function managerWithEngine(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string>,
): Promise<{ baseUrl: string; containerId: string | undefined; output: () => string }> {
  const nats = await startNatsServer();
  const hostId = newHostId('engine-env');
  const port = await freePort();
  const manager = await startService('engine-manager', {
    entry: entries.manager,
    port,
    env: {
      ...testEnv(nats, hostId),
      HTTP_PORT: String(port),
      MIN_REPLICAS: '1',
      LOG_LEVEL: 'info',
      // Engine processes are the manager's children: they go when it stops, not on into other tests.
      REMOVE_ENGINES_ON_EXIT: 'true',
      ...env,
    },
  });
  const client = await nats.connect();
  t.teardown(async () => {
    await client.close();
    await manager.stop();
    await removeContainersWithLabels([`io.acefleet.host=${hostId}`]);
    await nats.destroy();
  });
  const [engine] = await waitFor(async () => {
    const engines = await listEngines(client, hostId);
    return engines[0]?.state === 'ready' && engines;
  }, 60_000);
  return { baseUrl: engine!.baseUrl, containerId: engine!.containerId, output: () => manager.output() };
}

const expected = {
  config: { profile: 'field', seed: 7 },
  faults: { global: { firstByteDelayMs: 4000 } },
};

withDocker(
  'ENGINE_ENV - an engine container gets the variables; the manager logs no value outside ACE_SIM_*',
  async (t) => {
    t.timeout(120_000);
    // The image of this checkout, by its content tag: `local` may be retagged by another checkout meanwhile.
    const { stdout } = await run('bash', ['scripts/build-engine-image.sh'], { cwd: repoRoot });
    const hash = /\(([0-9a-f]{16})\)/.exec(stdout)?.[1];
    t.truthy(hash, stdout);
    const engine = await managerWithEngine(t, { ENGINE_ENV, ENGINE_IMAGE: `acefleet/ace-sim:${hash}` });
    t.like(await engineSettings(engine.baseUrl), expected);
    const info = await new Docker().getContainer(engine.containerId!).inspect();
    t.true(info.Config.Env.includes('NOTE_TOKEN=hunter2'), 'every variable reaches the container');
    t.regex(engine.output(), /"engineEnv":\{[^}]*"ACE_SIM_PROFILE":"field"[^}]*"NOTE_TOKEN":"\(set\)"/);
    t.false(engine.output().includes('hunter2'), 'no value outside the allow-list in any log line');
  },
);

test('ENGINE_ENV - an engine process gets the variables too', async (t) => {
  t.timeout(120_000);
  const engine = await managerWithEngine(t, { ENGINE_ENV, ENGINE_RUNTIME: 'process' });
  t.like(await engineSettings(engine.baseUrl), expected);
  t.regex(engine.output(), /"msg":"engine processes"/);
  t.false(engine.output().includes('hunter2'));
});
