import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@acefleet/platform';
import { takeOverInstanceFile } from '../../src/engines/predecessor.ts';

const log = createLogger('test', 'silent');

async function instanceFile(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-instance-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'state', 'proxy-id.json');
}

test('instance file - the first start has no predecessor and leaves its own id for the next', async (t) => {
  const file = await instanceFile(t);
  t.is(takeOverInstanceFile(file, 'first', log), undefined);
  t.like(JSON.parse(await readFile(file, 'utf8')), { instanceId: 'first', pid: process.pid });
  t.is(takeOverInstanceFile(file, 'second', log), 'first');
  t.like(JSON.parse(await readFile(file, 'utf8')), { instanceId: 'second' });
});

test('instance file - the same id (a configured INSTANCE_ID) is no predecessor to release', async (t) => {
  const file = await instanceFile(t);
  takeOverInstanceFile(file, 'fixed', log);
  t.is(takeOverInstanceFile(file, 'fixed', log), undefined);
});

test('instance file - a predecessor whose process still runs is not released (a shared file)', async (t) => {
  const file = await instanceFile(t);
  const sibling = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  t.teardown(() => void sibling.kill('SIGKILL'));
  takeOverInstanceFile(file, 'unused', log);
  await writeFile(file, JSON.stringify({ instanceId: 'sibling', pid: sibling.pid }));
  t.is(takeOverInstanceFile(file, 'me', log), undefined);
});

test('instance file - a malformed file means no predecessor, and is replaced', async (t) => {
  const file = await instanceFile(t);
  takeOverInstanceFile(file, 'unused', log);
  await writeFile(file, '{"instanceId": 42');
  t.is(takeOverInstanceFile(file, 'me', log), undefined);
  t.is(takeOverInstanceFile(file, 'next', log), 'me');
});
