import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '@acefleet/testkit';

const run = promisify(execFile);

interface LogLine {
  msg: string;
  config?: unknown;
  headers?: { authorization?: string };
  err?: { message: string };
}

// The root logger writes to stdout, so a child process logs and this test reads what it printed.
const script = `
import { createLogger } from '@acefleet/platform';
const log = createLogger('redaction-test', 'info');
const config = { apiKey: 'k-s3cret', natsPassword: 'n-s3cret', gluetunApiKey: 'g-s3cret', httpPort: 8080 };
log.info({ config }, 'config');
log.info({ apiKey: 'k-s3cret', headers: { authorization: 'Bearer k-s3cret', cookie: 'sid=s3cret' } }, 'request');
const cause = new TypeError('Request cannot be constructed from a URL that includes credentials: http://u:s3cret@h:1/x');
log.warn({ err: new Error('engine unreachable', { cause }) }, 'call failed http://u:s3cret@h:1/?token=s3cret');
`;

test('logger - secret fields, URL credentials and error causes never reach a log line', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
  });
  const lines = stdout.trim().split('\n');
  t.is(lines.length, 3, stdout);
  t.false(stdout.includes('s3cret'), stdout);
  const [config, request, failure] = lines.map((l) => JSON.parse(l) as LogLine);
  t.deepEqual(config!.config, {
    apiKey: '[Redacted]',
    natsPassword: '[Redacted]',
    gluetunApiKey: '[Redacted]',
    httpPort: 8080,
  });
  t.is(request!.headers?.authorization, '[Redacted]');
  t.regex(failure!.err?.message ?? '', /engine unreachable: Request cannot be .* http:\/\/\*\*\*@h:1\/x/);
  t.is(failure!.msg, 'call failed http://***@h:1/?token=***');
});

// Issue 21: one warning per player start while the manager was down grew the log without bound.
const repeats = `
import { createLogger } from '@acefleet/platform';
const log = createLogger('fold-test', 'info', 300);
const engine = log.child({ engineId: 'e1' });
for (let i = 0; i < 50; i++) engine.warn({ err: new Error('no responders') }, 'engine manager unavailable');
for (let i = 0; i < 3; i++) log.warn('another warning');
for (let i = 0; i < 5; i++) log.error({ n: 1 }, 'errors are never folded');
setTimeout(() => engine.warn({ err: new Error('no responders') }, 'engine manager unavailable'), 600);
`;

test('logger - identical warnings within the window fold into one line and a count; errors never', async (t) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', repeats], {
    cwd: repoRoot,
  });
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; level: number; repeated?: number; engineId?: string });
  const of = (msg: string) => lines.filter((l) => l.msg === msg);
  t.is(of('errors are never folded').length, 5);
  const unavailable = of('engine manager unavailable');
  // The first at once, the count of the 49 others when the window ends, then the next window's first.
  t.deepEqual(
    unavailable.map((l) => [l.repeated, l.engineId]),
    [
      [undefined, 'e1'],
      [49, 'e1'],
      [undefined, 'e1'],
    ],
    stdout,
  );
  t.deepEqual(
    of('another warning').map((l) => l.repeated),
    [undefined, 2],
  );
});
