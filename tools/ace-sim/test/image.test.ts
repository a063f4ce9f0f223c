import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, waitFor } from '@acefleet/testkit';
import { getJson } from './helpers.ts';

const run = promisify(execFile);
const BUILD = fileURLToPath(new URL('../../../scripts/build-engine-image.sh', import.meta.url));
const IMAGE = 'acefleet/ace-sim:local';

const dockerWorks = await run('docker', ['info']).then(
  () => true,
  () => false,
);

// Without a Docker engine the test is reported as skipped, not passed.
(dockerWorks ? test : test.skip)(
  'the engine image serves get_status on the port it is given, bound to 127.0.0.1, and stops with 0',
  async (t) => {
    await run('bash', [BUILD]);
    const port = await freePort();
    const { stdout } = await run('docker', [
      'run',
      '-d',
      '--network',
      'host',
      IMAGE,
      '--client-console',
      '--http-port',
      String(port),
    ]);
    const id = stdout.trim();
    t.teardown(() => run('docker', ['rm', '-f', id]).then(() => undefined));
    const answer = await waitFor(
      () => getJson(`http://127.0.0.1:${port}/server/api?api_version=3&method=get_status`),
      30_000,
      250,
    );
    t.like(answer, { result: { playlist_loaded: true }, error: null });
    const { stdout: logs } = await run('docker', ['logs', id]);
    t.regex(logs, /"host":"127\.0\.0\.1"/);
    await run('docker', ['stop', '-t', '10', id]);
    const { stdout: code } = await run('docker', ['inspect', '-f', '{{.State.ExitCode}}', id]);
    t.is(code.trim(), '0');
  },
);
