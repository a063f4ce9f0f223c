import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Labels, ServiceNames } from '@acefleet/contracts';
import {
  acefleet,
  cliJson,
  containersWithLabels,
  dockerAvailable,
  ffprobe,
  freePort,
  Player,
  portBlock,
  repoRoot,
  waitFor,
} from '@acefleet/testkit';

const run = promisify(execFile);
const composeRuns = await run('docker-compose', ['version']).then(
  () => dockerAvailable(),
  () => false,
);
/** Needs dockerd and docker-compose; builds and starts the real stack. */
const composeTest = composeRuns ? test : test.skip;

/** A project, host and fleet of its own, so that neither a user's stack nor another test run is touched. */
const project = `acefleet-test-${process.pid}`;

async function script(name: string, env: Record<string, string>): Promise<void> {
  await run('node', ['--import', 'tsx', `scripts/${name}.ts`], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`${name} failed: ${err.stderr?.slice(-2000) ?? ''}\n${err.stdout?.slice(-2000) ?? ''}`, {
      cause: err,
    });
  });
}

/** Networks or volumes whose name contains the project's, or that carry its compose label. */
async function projectObjects(what: 'network' | 'volume', filter: 'name' | 'label'): Promise<string[]> {
  const value = filter === 'name' ? project : `com.docker.compose.project=${project}`;
  const args = [what, 'ls', '-q', '--filter', `${filter}=${value}`];
  return (await run('docker', args)).stdout.split('\n').filter(Boolean);
}

composeTest(
  'compose - compose:up starts a healthy stack that plays a stream and the CLI reaches, compose:down leaves nothing',
  async (t) => {
    t.timeout(240_000);
    const [proxyPort, statsPort, natsPort] = [await freePort(), await freePort(), await freePort()];
    const p2pStart = portBlock(4).p2pStart;
    const env = {
      COMPOSE_PROJECT_NAME: project,
      HOST_ID: project,
      FLEET_ID: project,
      PROXY_BIND: '127.0.0.1',
      PROXY_PORT: String(proxyPort),
      STATS_PORT: String(statsPort),
      NATS_PORT: String(natsPort),
      P2P_PORT_RANGE_START: String(p2pStart),
      MIN_REPLICAS: '1',
    };
    const engineLabels = [`${Labels.host}=${project}`, `${Labels.fleet}=${project}`];
    t.teardown(() => script('compose-down', env).catch(() => undefined));

    let started = Date.now();
    await script('compose-up', env);
    t.log(`compose:up (builds included) took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const ids = (
      await run('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`])
    ).stdout
      .split('\n')
      .filter(Boolean);
    const states = (
      await run('docker', [
        'inspect',
        '--format',
        '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Health.Status}}',
        ...ids,
      ])
    ).stdout
      .split('\n')
      .filter(Boolean)
      .sort();
    t.deepEqual(states, [
      'edge-proxy healthy',
      'engine-manager healthy',
      'health-monitor healthy',
      'nats healthy',
      'stats healthy',
    ]);

    const probe = await ffprobe(
      `http://127.0.0.1:${proxyPort}/ace/getstream?id=${'c0ffee'.padEnd(40, '0')}`,
      60_000,
    );
    t.is(probe.formatName, 'mpegts');
    t.true(probe.streams.some((s) => s.codec_type === 'video'));

    const [engine] = await containersWithLabels(engineLabels);
    t.truthy(engine, 'engine-manager started an engine through the socket');
    await waitFor(
      async () =>
        (await run('docker', ['inspect', '--format', '{{.State.Health.Status}}', engine!])).stdout.trim() ===
        'healthy',
      60_000,
      500,
    );
    // Compose keeps a warm engine beside the playing one (MIN_FREE_REPLICAS=1): each has its own P2P port.
    const { stdout: label } = await run('docker', [
      'inspect',
      '--format',
      `{{index .Config.Labels "${Labels.p2pPort}"}}`,
      engine!,
    ]);
    const p2pPort = Number(label.trim());
    t.true(p2pPort >= p2pStart && p2pPort < p2pStart + 4, `P2P port ${p2pPort} from P2P_PORT_RANGE_START`);
    const { stdout: published } = await run('docker', ['port', engine!]);
    t.regex(
      published,
      new RegExp(`^${p2pPort}/tcp -> 0\\.0\\.0\\.0:${p2pPort}$`, 'm'),
      'its P2P port is published',
    );
    const { stdout: networks } = await run('docker', [
      'inspect',
      '--format',
      '{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}',
      engine!,
    ]);
    t.is(networks.trim(), `${project}-engines`);

    // The CLI from the host, with the operator file compose:up wrote, on NATS published on loopback only.
    const creds = `.run/compose-${project}.operator.nats-url`;
    t.is(
      (await stat(path.join(repoRoot, creds))).mode & 0o777,
      0o600,
      'only the owner reads the operator URL',
    );
    const operator = new URL((await readFile(path.join(repoRoot, creds), 'utf8')).trim());
    t.is(operator.host, `127.0.0.1:${natsPort}`);
    const [nats] = await containersWithLabels([
      `com.docker.compose.project=${project}`,
      'com.docker.compose.service=nats',
    ]);
    const { stdout: natsPublished } = await run('docker', ['port', nats!]);
    t.is(natsPublished.trim(), `4222/tcp -> 127.0.0.1:${natsPort}`, 'NATS is published on loopback only');
    const cli = (...args: string[]) => acefleet([...args, '--creds', creds], repoRoot);
    const player = await Player.open(
      `http://127.0.0.1:${proxyPort}/ace/getstream?id=${'c0ffee'.padEnd(40, '1')}`,
    );
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 0, 30_000);
    const engines = await cli('engines', '--json');
    t.is(engines.code, 0, engines.stderr);
    const engineIds = cliJson<{ engines: { id: string }[] }>(engines).engines.map((e) => e.id);
    t.true(engineIds.length >= 1, engines.stdout);
    const streams = await cli('streams', '--json');
    t.is(streams.code, 0, streams.stderr);
    const listed = cliJson<{ streams: { clients: number; engineId: string | null }[] }>(streams).streams;
    t.true(
      listed.some((s) => s.clients >= 1 && engineIds.includes(s.engineId!)),
      streams.stdout,
    );
    player.close();
    const micro = await cli('micro', 'ls', '--wait-ms', '2000');
    t.is(micro.code, 0, micro.stderr);
    for (const name of Object.values(ServiceNames)) t.regex(micro.stdout, new RegExp(`^${name} `, 'm'));
    for (const r of [engines, streams, micro]) t.false(`${r.stdout}${r.stderr}`.includes(operator.password));

    started = Date.now();
    await script('compose-down', env);
    t.log(`compose:down took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.false(existsSync(path.join(repoRoot, creds)), 'the operator file goes with the stack');
    t.deepEqual(
      await containersWithLabels([`com.docker.compose.project=${project}`]),
      [],
      'no service container',
    );
    t.deepEqual(await containersWithLabels(engineLabels), [], 'no engine');
    for (const what of ['network', 'volume'] as const)
      for (const filter of ['name', 'label'] as const)
        t.deepEqual(await projectObjects(what, filter), [], `no ${what} by ${filter}`);
  },
);
