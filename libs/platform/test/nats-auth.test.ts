import test from 'ava';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsUsers } from '@acefleet/contracts';
import { loadOrCreateNatsPasswords, natsServerConfig } from '../src/nats/nats-auth.ts';

test('nats auth - passwords are made once in a 0700 directory and a 0600 file, then reused', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const state = path.join(dir, 'nats');
  const first = loadOrCreateNatsPasswords(state);
  t.deepEqual(Object.keys(first).sort(), [...natsUsers].sort());
  t.is(new Set(Object.values(first)).size, natsUsers.length, 'one password per user');
  for (const pw of Object.values(first)) t.regex(pw!, /^p[0-9a-f]{48}$/);
  t.is((await stat(state)).mode & 0o777, 0o700);
  t.is((await stat(path.join(state, 'nats-credentials.json'))).mode & 0o777, 0o600);
  t.deepEqual(loadOrCreateNatsPasswords(state), first, 'the next start reuses them');
});

test('nats auth - a damaged credentials file is reported without quoting it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'nats-credentials.json'), '{"operator": "psecret-value"');
  const err = t.throws(() => loadOrCreateNatsPasswords(dir));
  t.false(String(err?.message).includes('psecret-value'));
});

test('nats auth - the server config names password variables and holds no password', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-auth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const passwords = loadOrCreateNatsPasswords(dir);
  const config = natsServerConfig({ storeDir: '/data' });
  for (const pw of Object.values(passwords)) t.false(config.includes(pw!));
  t.regex(config, /password: \$NATS_PASSWORD_EDGE_PROXY/);
});
