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
