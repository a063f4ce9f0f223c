import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { freePort, waitFor } from '@acefleet/testkit';
import { getJson } from './helpers.ts';

// Long enough that the refusal is checked inside it, however late a loaded machine gets to the check.
const STARTUP_DELAY_MS = 3000;
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

test('the process refuses connections during its startup delay, then serves, and exits 0 on SIGTERM', async (t) => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      MAIN,
      '--client-console',
      '--http-port',
      String(port),
      '--startup-delay-ms',
      String(STARTUP_DELAY_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ACE_SIM_FAULT_PEERS: '5' } },
  );
  t.teardown(() => child.kill('SIGKILL'));
  const statusUrl = `http://127.0.0.1:${port}/server/api?api_version=3&method=get_status`;
  // The process says when its startup delay begins: from then on, nothing listens until it ends.
  for await (const line of createInterface({ input: child.stdout })) if (line.includes('booting')) break;
  child.stdout.resume();
  await t.throwsAsync(fetch(statusUrl));
  const answer = await waitFor(() => getJson(statusUrl), 30_000, 250);
  t.like(answer, { result: { playlist_loaded: true } });
  t.like(await getJson(`http://127.0.0.1:${port}/__sim/faults`), { global: { peers: 5 } });
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 0);
});

test('the process fails with a clear message when its media file is missing', async (t) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--media', '/nonexistent.ts', '--http-port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  t.is(code, 2);
  t.regex(stderr, /make-media\.sh/);
});
