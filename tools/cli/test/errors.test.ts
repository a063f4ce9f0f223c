import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startNatsServer } from '@acefleet/testkit';
import { acefleet, wideLines } from './helpers.ts';

/** Nothing listens on port 1 (tcpmux) here. */
const CLOSED = 1;
const SECRET = 'not-the-password-s3cret';

let cwd: string;
test.before(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'acefleet-cli-errors-'));
});
test.after.always(() => rm(cwd, { recursive: true, force: true }));

function oneLine(t: { is(a: unknown, b: unknown, m?: string): void }, stderr: string): void {
  t.is(stderr.trimEnd().split('\n').length, 1, `one line on stderr: ${stderr}`);
}

test('cli - --help prints the commands within 80 columns and exits 0', async (t) => {
  const run = await acefleet(['--help'], cwd);
  t.is(run.code, 0);
  for (const command of [
    'status',
    'engines',
    'streams',
    'events',
    'drain',
    'remove',
    'stop',
    'provision',
    'micro',
  ])
    t.regex(run.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  t.deepEqual(wideLines(run.stdout), []);
});

test('cli - usage errors exit 2 with one line on stderr and nothing on stdout', async (t) => {
  const cases = [
    [],
    ['frobnicate'],
    ['drain'],
    ['status', '--force'],
    ['engines', '--bogus'],
    ['engines', 'frobnicate'],
    ['engines', '--image', 'acefleet/ace-sim:2'],
    ['provision', '0'],
    ['provision', 'many'],
    ['micro', 'rm'],
    ['events', '--limit', '-3'],
    ['stop', 'a', 'b'],
  ];
  for (const args of cases) {
    const run = await acefleet(args, cwd);
    t.is(run.code, 2, `acefleet ${args.join(' ')}: ${run.stderr}`);
    if (args.length) {
      oneLine(t, run.stderr);
      t.is(run.stdout, '');
    }
  }
});

test('cli - unreachable NATS exits 3 quickly with one line that keeps the password out', async (t) => {
  // Quickly: within a few seconds of what starting the CLI takes on this machine right now.
  const startup = await acefleet(['status', '--nats', 'nats://127.0.0.1:1', '--bogus'], cwd);
  const run = await acefleet(['status', '--nats', `nats://operator:${SECRET}@127.0.0.1:${CLOSED}`], cwd);
  t.is(run.code, 3);
  oneLine(t, run.stderr);
  t.regex(run.stderr, /^acefleet: cannot reach NATS at 127\.0\.0\.1:1: connection refused$/m);
  t.false(run.stderr.includes(SECRET));
  t.true(run.ms < startup.ms + 5000, `took ${Math.round(run.ms)} ms, starting ${Math.round(startup.ms)} ms`);
});

test('cli - a refused login exits 3 and names the user, never the password', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.destroy());
  const creds = path.join(cwd, 'wrong.creds');
  await writeFile(
    creds,
    `# wrong password\nNATS_URL=nats://127.0.0.1:${nats.port}\nNATS_USER=operator\nNATS_PASSWORD=${SECRET}\n`,
  );
  const run = await acefleet(['engines', '--creds', creds], cwd);
  t.is(run.code, 3);
  oneLine(t, run.stderr);
  t.regex(run.stderr, /refused the login as operator/);
  t.false(run.stderr.includes(SECRET));
});

test('cli - with no credentials anywhere it exits 3 and says how to get them', async (t) => {
  const run = await acefleet(['engines'], cwd);
  t.is(run.code, 3);
  oneLine(t, run.stderr);
  t.regex(run.stderr, /npm start/);
});
