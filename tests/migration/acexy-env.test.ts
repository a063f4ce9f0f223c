import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import {
  entries,
  ffprobe,
  freePort,
  repoRoot,
  serviceUserOf,
  startNatsServer,
  startService,
  startTlsRelay,
  type NatsServer,
  type TlsRelay,
} from '@acefleet/testkit';

const run = promisify(execFile);

let nats: NatsServer;
let sim: Simulator;
let simPort: number;
let tlsEngine: TlsRelay;

test.before(async () => {
  nats = await startNatsServer();
  sim = buildSimulator();
  simPort = (await sim.listen()).port;
  tlsEngine = await startTlsRelay(simPort);
});
test.after.always(async () => {
  await tlsEngine?.close();
  await sim?.close();
  await nats?.destroy();
});

/** The proxy with an Acexy compose file's environment moved over unchanged (plus where NATS is). */
async function startWithAcexyEnv(acexy: Record<string, string>, extra: Record<string, string> = {}) {
  const port = await freePort();
  const env = {
    ...nats.env(serviceUserOf('proxy')),
    ...extra,
    ACEXY_LISTEN_ADDR: `127.0.0.1:${port}`,
    ...acexy,
  };
  return startService('proxy', { entry: entries.proxy, port, env });
}

test('migration - an Acexy environment starts the proxy, which plays from the Acexy engine', async (t) => {
  const proxy = await startWithAcexyEnv({
    ACEXY_HOST: '127.0.0.1',
    ACEXY_PORT: String(simPort),
    ACEXY_SCHEME: 'http',
    ACEXY_EMPTY_TIMEOUT: '1m',
    ACEXY_NO_RESPONSE_TIMEOUT: '30s',
    ACEXY_BUFFER_SIZE: '4.2MiB',
    ACEXY_M3U8: 'false',
  });
  try {
    const probe = await ffprobe(`${proxy.url}/ace/getstream?id=${'a'.repeat(40)}`);
    t.is(probe.formatName, 'mpegts');
    t.true(probe.streams.some((s) => s.codec_type === 'video'));
    const status = (await (await fetch(`${proxy.url}/ace/status`)).json()) as Record<string, unknown>;
    t.true('streams' in status, 'Acexy status route answers');
    const lines = proxy.output();
    for (const note of [
      'read ACEXY_LISTEN_ADDR as HTTP_HOST, HTTP_PORT',
      'read ACEXY_SCHEME, ACEXY_HOST, ACEXY_PORT as STATIC_ENGINES',
      'read ACEXY_EMPTY_TIMEOUT as EMPTY_TIMEOUT_MS',
      'read ACEXY_NO_RESPONSE_TIMEOUT as FIRST_BYTE_TIMEOUT_MS',
      'read ACEXY_BUFFER_SIZE as RING_BYTES',
    ]) {
      t.is(lines.split(note).length - 1, 1, `logged once: ${note}`);
    }
  } finally {
    await proxy.stop();
  }
});

test('migration - ACEXY_SCHEME=https plays from an engine behind TLS', async (t) => {
  const proxy = await startWithAcexyEnv(
    { ACEXY_SCHEME: 'https', ACEXY_HOST: '127.0.0.1', ACEXY_PORT: new URL(tlsEngine.url).port },
    { NODE_EXTRA_CA_CERTS: tlsEngine.caPath },
  );
  try {
    const probe = await ffprobe(`${proxy.url}/ace/getstream?id=${'b'.repeat(40)}`);
    t.is(probe.formatName, 'mpegts');
  } finally {
    await proxy.stop();
  }
});

test('migration - an unreadable Acexy value stops the proxy with exit code 2, naming the variable', async (t) => {
  const err = await t.throwsAsync(
    run(process.execPath, ['--import', 'tsx', entries.proxy], {
      cwd: repoRoot,
      timeout: 30_000,
      env: { ...process.env, ...nats.env(serviceUserOf('proxy')), ACEXY_EMPTY_TIMEOUT: '30' },
    }),
  );
  const failed = err as Error & { code?: number; stderr?: string };
  t.is(failed.code, 2);
  t.regex(failed.stderr ?? '', /ACEXY_EMPTY_TIMEOUT \("30"\): expected a Go duration/);
});
