import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, waitFor } from '@acefleet/testkit';
import { Supervisor } from '../../scripts/lib/supervisor.ts';

// Issue 21: npm start appended to .run/logs/*.log forever. With LOG_FILE_MAX_BYTES=200000 no file may pass
// twice that, whatever the traffic: a flood on stdout and stderr, lines longer than a file, and restarts.

const run = promisify(execFile);
const maxBytes = 200_000;

/** Writes `total` bytes of log lines (stdout and stderr, some lines larger than a file), then its last line. */
const flood = (total: number) => `
const line = (n) => JSON.stringify({ level: 40, n, msg: 'x'.repeat(n % 7 === 0 ? 300_000 : 180) }) + '\\n';
let written = 0;
for (let n = 0; written < ${total}; n++) {
  const text = line(n);
  (n % 2 ? process.stdout : process.stderr).write(text);
  written += text.length;
}
process.stdout.write('the last line\\n', () => process.exit(3));
`;

test('npm start - with LOG_FILE_MAX_BYTES=200000 no log file passes it, under a flood and restarts', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-logs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const logDir = path.join(dir, 'logs');
  const deaths: string[] = [];
  const supervisor = new Supervisor({
    cwd: repoRoot,
    logDir,
    pidDir: path.join(dir, 'pids'),
    say: (line) => deaths.push(line),
    onGiveUp: (name, why) => deaths.push(why),
    rules: { firstDelayMs: 10, maxDelayMs: 10, stableAfterMs: 60_000, maxDeaths: 3, withinMs: 120_000 },
    logRotation: { maxBytes, files: 3 },
  });
  await mkdir(logDir, { recursive: true });
  supervisor.start({
    name: 'flood',
    cmd: process.execPath,
    args: ['-e', flood(5_000_000)],
    env: process.env,
  });
  // It exits with code 3 each time: started again twice, then given up on (three deaths).
  await waitFor(() => deaths.some((d) => d.includes('died 3 times')), 60_000);
  await supervisor.stopAll([], () => {});
  const files = (await readdir(logDir)).sort();
  t.deepEqual(files, ['flood.log', 'flood.log.1', 'flood.log.2'], 'three files kept, the oldest dropped');
  for (const file of files) {
    const { size } = await stat(path.join(logDir, file));
    t.true(size <= maxBytes, `${file}: ${size} bytes`);
    t.true(size > 0, file);
  }
  // Not lost. (Not necessarily the very end of flood.log: the child's stdout and stderr are two pipes, read in
  // no fixed order, so a stderr line written before it may land after it, and even rotate it into .1.)
  const texts = await Promise.all(files.map((f) => readFile(path.join(logDir, f), 'utf8')));
  t.true(
    texts.some((text) => text.includes('the last line\n')),
    'the last line written is in the logs',
  );
});

test('npm start - a log setting that is zero, negative or absurd is refused at start, naming it', async (t) => {
  for (const [name, value] of [
    ['LOG_FILE_MAX_BYTES', '0'],
    ['LOG_FILE_MAX_BYTES', '-5'],
    ['LOG_FILE_MAX_BYTES', '99999999999'],
    ['LOG_FILES', '0'],
    ['LOG_FILES', 'many'],
  ] as const) {
    const err = await t.throwsAsync(
      run(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        cwd: repoRoot,
        env: { ...process.env, [name]: value, ACEFLEET_STATE_DIR: path.join(tmpdir(), 'never-made') },
      }),
    );
    const { code, stderr } = err as unknown as { code: number; stderr: string };
    t.is(code, 2, `${name}=${value}`);
    t.regex(stderr, new RegExp(`^ +${name} \\(.*${value}.*\\): `, 'm'));
  }
});
