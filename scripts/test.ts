/**
 * `npm test` after set-up: the gates (format, lint, typecheck) and the whole ava suite, counted together.
 * Ends with the line `N passed, N failed` that CI reads, and exits non-zero on any failure.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

interface Outcome {
  passed: number;
  failed: number;
}

function run(cmd: string, args: string[], onLine?: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', onLine ? 'pipe' : 'inherit', 'inherit'] });
    if (onLine && child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        process.stdout.write(`${line}\n`);
        onLine(line);
      });
    }
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function gates(): Promise<Outcome> {
  const outcome = { passed: 0, failed: 0 };
  for (const script of ['format:check', 'lint', 'typecheck']) {
    process.stdout.write(`\n== ${script}\n`);
    const code = await run('npm', ['run', '--silent', script]);
    if (code === 0) outcome.passed++;
    else {
      outcome.failed++;
      process.stdout.write(`not ok - ${script} failed\n`);
    }
  }
  return outcome;
}

async function suite(extraArgs: string[]): Promise<Outcome> {
  process.stdout.write('\n== ava\n');
  let passed = 0;
  let failed = 0;
  let reported: Outcome | undefined;
  const code = await run('npx', ['ava', '--tap', ...extraArgs], (line) => {
    if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line)) failed++;
    const pass = /^# pass (\d+)/.exec(line);
    const fail = /^# fail (\d+)/.exec(line);
    if (pass) reported = { passed: Number(pass[1]), failed: reported?.failed ?? 0 };
    if (fail) reported = { passed: reported?.passed ?? passed, failed: Number(fail[1]) };
  });
  const outcome = reported ?? { passed, failed };
  // A crash or timeout that TAP did not count still fails the run. Ava's TAP says nothing when a test file's
  // process outlives its tests (a handle left open) until the inactivity timeout: name that case at least.
  if (code !== 0 && outcome.failed === 0) {
    outcome.failed = 1;
    process.stdout.write(
      `not ok - ava exited with ${code} although every test it reported passed: a test file's process ` +
        'stayed alive after its tests (an open handle) until the inactivity timeout, or ava crashed\n',
    );
  }
  return outcome;
}

const args = process.argv.slice(2);
const checks = args.includes('--no-gates') ? { passed: 0, failed: 0 } : await gates();
const tests = await suite(args.filter((a) => a !== '--no-gates'));
const passed = checks.passed + tests.passed;
const failed = checks.failed + tests.failed;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
