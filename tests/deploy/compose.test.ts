import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@acefleet/testkit';

const run = promisify(execFile);
const composeFile = path.join(repoRoot, 'deploy/compose.yml');

test('deploy - compose file is valid and mounts the Docker socket only into engine-manager', async (t) => {
  const { stdout: services } = await run('docker-compose', ['-f', composeFile, 'config', '--services']);
  t.deepEqual(services.split('\n').filter(Boolean).sort(), [
    'ace-sim-image',
    'edge-proxy',
    'engine-manager',
    'health-monitor',
    'nats',
    'stats',
  ]);
  const { stdout } = await run('docker-compose', ['-f', composeFile, 'config']);
  const socketUsers = new Set<string>();
  let current = '';
  for (const line of stdout.split('\n')) {
    const service = /^ {2}([a-z-]+):$/.exec(line);
    if (service) current = service[1]!;
    if (line.includes('/var/run/docker.sock')) socketUsers.add(current);
  }
  t.deepEqual([...socketUsers], ['engine-manager']);
});
