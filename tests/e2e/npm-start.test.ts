import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Svcm } from '@nats-io/services';
import { ServiceNames } from '@acefleet/contracts';
import {
  acefleet,
  cliJson,
  containersWithLabels,
  dockerAvailable,
  ffprobe,
  freePort,
  Player,
  repoRoot,
  waitFor,
} from '@acefleet/testkit';

test.serial(
  'npm start - serves a stream ffprobe reads, all four services answer $SRV.PING, the CLI sees the fleet, Ctrl-C stops everything',
  async (t) => {
    t.timeout(120_000);
    const ports = {
      PROXY_PORT: await freePort(),
      STATS_PORT: await freePort(),
      MONITOR_PORT: await freePort(),
      MANAGER_PORT: await freePort(),
      NATS_PORT: await freePort(),
    };
    const hostId = `start-${randomBytes(3).toString('hex')}`;
    const env: Record<string, string> = { ...process.env, HOST_ID: hostId };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    delete env.NATS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: repoRoot, env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    const playUrl = await waitFor(() => /play:\s+(\S+)/.exec(out)?.[1] ?? false, 60_000).catch(
      (err: unknown) => {
        throw new Error(`npm start did not come up:\n${out}`, { cause: err });
      },
    );
    t.true(playUrl.startsWith(`http://127.0.0.1:${ports.PROXY_PORT}/ace/getstream?id=`));
    const probe = await ffprobe(playUrl);
    t.is(probe.formatName, 'mpegts');
    t.true(probe.streams.some((s) => s.codec_type === 'video'));

    const operatorFile = path.join(repoRoot, '.run/operator.nats-url');
    t.is((await stat(operatorFile)).mode & 0o777, 0o600, 'only the owner reads the operator URL');
    const operator = new URL((await readFile(operatorFile, 'utf8')).trim());
    t.is(operator.port, String(ports.NATS_PORT));
    t.false(out.includes(operator.password), 'the password is never printed');
    await t.throwsAsync(
      connect({ servers: `nats://127.0.0.1:${ports.NATS_PORT}` }),
      undefined,
      'anonymous refused',
    );
    const nc = await connect({
      servers: `nats://${operator.host}`,
      user: operator.username,
      pass: operator.password,
    });
    const keyFile = path.join(repoRoot, '.run/api-key');
    t.is((await stat(keyFile)).mode & 0o777, 0o600, 'only the owner reads the API key');
    const apiKey = (await readFile(keyFile, 'utf8')).trim();
    t.regex(out, /API key:\s+\.run\/api-key/);
    t.false(out.includes(apiKey), 'the key itself is never printed');
    const provisioned = await fetch(`http://127.0.0.1:${ports.MANAGER_PORT}/api/engines/provision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: '{"count":1}',
    });
    t.is(provisioned.status, 201, 'the services got the generated key');

    const names = new Set<string>();
    for await (const p of await new Svcm(nc).client({ strategy: 'timer', maxWait: 1000 }).ping())
      names.add(p.name);
    await nc.close();
    t.deepEqual([...names].sort(), Object.values(ServiceNames).sort());

    // The CLI run from the repository root, as a user would: it finds .run/operator.nats-url by itself.
    const player = await Player.open(playUrl);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 0, 30_000);
    const engines = await acefleet(['engines', '--json'], repoRoot, { npx: true });
    t.is(engines.code, 0, `npx acefleet runs the installed bin: ${engines.stderr}`);
    const engineIds = cliJson<{ engines: { id: string; state: string }[] }>(engines).engines.map((e) => e.id);
    t.true(engineIds.length >= 1, engines.stdout);
    const streams = await acefleet(['streams', '--json'], repoRoot);
    t.is(streams.code, 0, streams.stderr);
    const [stream] = cliJson<{ streams: { clients: number; engineId: string | null }[] }>(streams).streams;
    t.true(stream!.clients >= 1, 'the playing stream, with its player');
    t.true(engineIds.includes(stream!.engineId!), 'played by a listed engine');
    player.close();
    const microJson = await acefleet(['micro', 'ls', '--json', '--wait-ms', '2000'], repoRoot);
    t.is(microJson.code, 0, microJson.stderr);
    const listed = new Set(cliJson<{ name: string }[]>(microJson).map((s) => s.name));
    t.deepEqual([...listed].sort(), Object.values(ServiceNames).sort());
    const micro = await acefleet(['micro', 'ls', '--wait-ms', '2000'], repoRoot);
    t.is(micro.code, 0, micro.stderr);
    for (const name of Object.values(ServiceNames)) t.regex(micro.stdout, new RegExp(`^${name} `, 'm'));
    for (const run of [engines, streams, microJson, micro])
      t.false(run.stdout.includes(operator.password) || run.stderr.includes(operator.password));

    child.kill('SIGINT');
    t.is(await exited, 0, out);
    if (await dockerAvailable()) {
      t.deepEqual(
        await containersWithLabels([`io.acefleet.host=${hostId}`]),
        [],
        'engine containers removed',
      );
    }
  },
);

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Issue 22: a kill -9 of any one service stopped the whole stack, and a killed npm start left its services
// running, orphaned.
test.serial(
  "npm start - a service killed with -9 is back within 15 s while the stack plays on; the supervisor's own death takes every process with it",
  async (t) => {
    t.timeout(180_000);
    const state = await mkdtemp(path.join(tmpdir(), 'acefleet-start-'));
    t.teardown(() => rm(state, { recursive: true, force: true }));
    const ports = {
      PROXY_PORT: await freePort(),
      STATS_PORT: await freePort(),
      MONITOR_PORT: await freePort(),
      MANAGER_PORT: await freePort(),
      NATS_PORT: await freePort(),
    };
    const hostId = `supervise-${randomBytes(3).toString('hex')}`;
    const env: Record<string, string> = { ...process.env, HOST_ID: hostId, ACEFLEET_STATE_DIR: state };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    delete env.NATS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: repoRoot, env });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const playUrl = await waitFor(() => /play:\s+(\S+)/.exec(out)?.[1] ?? false, 60_000).catch(
      (err: unknown) => {
        throw new Error(`npm start did not come up:\n${out}`, { cause: err });
      },
    );
    const player = await Player.open(playUrl);
    t.teardown(() => player.close());
    await waitFor(() => player.bytes > 100_000, 30_000);

    const pidOf = async (name: string): Promise<number> =>
      Number(await readFile(path.join(state, 'pids', `${name}.pid`), 'utf8'));
    const killed = await pidOf('health-monitor');
    process.kill(killed, 'SIGKILL');
    const killedAt = Date.now();
    const monitorOk = async (): Promise<boolean> => {
      const res = await fetch(`http://127.0.0.1:${ports.MONITOR_PORT}/health`).catch(() => undefined);
      return res?.ok === true && ((await res.json()) as { status: string }).status === 'ok';
    };
    await waitFor(async () => (await pidOf('health-monitor')) !== killed && (await monitorOk()), 15_000);
    t.log(`health-monitor back ${Date.now() - killedAt} ms after its kill -9`);
    t.regex(out, /health-monitor exited \(SIGKILL\); starting it again in 1 s/);
    t.is(child.exitCode, null, 'npm start is still running');
    const before = player.bytes;
    await waitFor(() => player.bytes > before + 100_000, 10_000);

    const pids = await Promise.all(
      ['nats-server', 'engine-manager', 'health-monitor', 'stats', 'edge-proxy'].map(pidOf),
    );
    t.true(pids.every(alive));
    child.kill('SIGKILL');
    // Generous bounds: each process stops its own way (the manager removes its containers first), and Docker is
    // slow on a busy machine.
    await waitFor(() => pids.every((pid) => !alive(pid)), 60_000);
    if (await dockerAvailable()) {
      await waitFor(
        async () => (await containersWithLabels([`io.acefleet.host=${hostId}`])).length === 0,
        60_000,
      );
    }
    t.pass('every process it started died with it, and the manager removed its engines');
  },
);
