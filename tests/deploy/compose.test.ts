import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { natsUsers } from '@acefleet/contracts';
import { composeNatsServerConfig, natsPasswordEnv } from '@acefleet/platform';
import { repoRoot } from '@acefleet/testkit';

const run = promisify(execFile);
const composeFile = path.join(repoRoot, 'deploy/compose.yml');
/** Stand-ins for what `npm run compose:secrets` writes to deploy/.env (the environment wins over that file). */
const secrets = Object.fromEntries(natsUsers.map((u) => [natsPasswordEnv(u), `test-${u}`]));
const compose = (args: string[], env: Record<string, string> = secrets) =>
  run('docker-compose', ['-f', composeFile, ...args], { env: { ...process.env, ...env } });

/** `docker-compose config`, one block of lines per service (the output is YAML with two-space indents). */
async function servicesConfig(): Promise<Map<string, string[]>> {
  const { stdout } = await compose(['config']);
  const blocks = new Map<string, string[]>();
  let inServices = false;
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (/^\S/.test(line)) inServices = line === 'services:';
    const service = inServices ? /^ {2}([a-z-]+):$/.exec(line) : null;
    if (service) blocks.set(service[1]!, (current = []));
    else if (inServices) current?.push(line);
  }
  return blocks;
}

function networksOf(lines: string[]): string[] {
  const start = lines.indexOf('    networks:');
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^ {6}([a-z-]+):/.exec(line);
    if (!m) break;
    out.push(m[1]!);
  }
  return out.sort();
}

function envOf(lines: string[], name: string): string | undefined {
  return lines.map((l) => new RegExp(`^ {6}${name}: (.*)$`).exec(l)?.[1]).find((v) => v !== undefined);
}

test('deploy - compose file is valid and mounts the Docker socket only into engine-manager', async (t) => {
  const { stdout: services } = await compose(['config', '--services']);
  t.deepEqual(services.split('\n').filter(Boolean).sort(), [
    'ace-sim-image',
    'edge-proxy',
    'engine-manager',
    'health-monitor',
    'nats',
    'stats',
  ]);
  const socketUsers = [...(await servicesConfig())].filter(([, lines]) =>
    lines.some((l) => l.includes('/var/run/docker.sock')),
  );
  t.deepEqual(
    socketUsers.map(([name]) => name),
    ['engine-manager'],
  );
});

test('deploy - engines get a network of their own that nats is not on', async (t) => {
  const services = await servicesConfig();
  const networks = (name: string) => networksOf(services.get(name) ?? []);
  t.deepEqual(networks('nats'), ['acefleet'], 'nats only on the control network');
  for (const name of ['engine-manager', 'edge-proxy', 'health-monitor'])
    t.deepEqual(networks(name), ['acefleet', 'acefleet-engines'], `${name} reaches nats and the engines`);
  t.deepEqual(networks('stats'), ['acefleet']);
  t.is(envOf(services.get('engine-manager')!, 'NETWORK_MODE'), 'acefleet-engines', 'engines start there');
});

test('deploy - nats runs the generated access rules and each service logs in as its own user', async (t) => {
  const services = await servicesConfig();
  t.is(
    await readFile(path.join(repoRoot, 'deploy/nats.conf'), 'utf8'),
    composeNatsServerConfig(),
    'deploy/nats.conf is what `npm run compose:secrets` generates from the permission table',
  );
  t.true(services.get('nats')!.some((l) => l.includes('/etc/nats/nats.conf')));
  for (const user of ['edge-proxy', 'engine-manager', 'health-monitor', 'stats']) {
    const lines = services.get(user)!;
    t.is(envOf(lines, 'NATS_USER'), user);
    t.is(envOf(lines, 'NATS_PASSWORD'), `test-${user}`);
  }
});

test('deploy - without the NATS passwords compose refuses and says how to make them', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-compose-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const emptyEnvFile = path.join(dir, 'empty.env');
  await writeFile(emptyEnvFile, '');
  const unset = Object.fromEntries(Object.keys(secrets).map((k) => [k, '']));
  const err = await t.throwsAsync(compose(['--env-file', emptyEnvFile, 'config'], unset));
  t.regex(String((err as Error & { stderr?: string }).stderr), /npm run compose:secrets/);
});

// Gluetun cannot run here (no image, no tunnel): the overlay is checked as docker-compose resolves it.
test('deploy - the VPN overlay puts engines in the Gluetun namespace and gives engine-manager its API key', async (t) => {
  const vpnConfig = (key: string) =>
    run(
      'docker-compose',
      ['-f', composeFile, '-f', path.join(repoRoot, 'deploy/compose.vpn.yml'), 'config'],
      {
        env: { ...process.env, ...secrets, VPN_SERVICE_PROVIDER: 'mullvad', GLUETUN_API_KEY: key },
      },
    );
  const { stdout } = await vpnConfig('test-key');
  t.regex(stdout, /NETWORK_MODE: container:acefleet-gluetun/);
  t.regex(stdout, /GLUETUN_CONTROL_URL: http:\/\/gluetun:8000/);
  t.regex(stdout, /GLUETUN_API_KEY: test-key/);
  t.regex(stdout, /HTTP_CONTROL_SERVER_AUTH_CONFIG_FILEPATH: \/gluetun\/auth\/config.toml/);
  const err = await t.throwsAsync(vpnConfig(''));
  t.regex(String((err as Error & { stderr?: string }).stderr), /GLUETUN_API_KEY/, 'no key, no VPN stack');
});

test('deploy - every service has a bounded, rotated log and engine-manager keeps a warm engine', async (t) => {
  const services = await servicesConfig();
  for (const [name, lines] of services) {
    const text = lines.join('\n');
    t.regex(text, /\n {4}logging:\n {6}driver: json-file\n/, `${name} has logging limits`);
    t.regex(text, /max-size: 10m/, `${name} rotates at 10 MiB`);
    t.regex(text, /max-file: '?3'?/, `${name} keeps 3 files`);
  }
  t.is(envOf(services.get('engine-manager')!, 'MIN_FREE_REPLICAS'), "'1'");
});
