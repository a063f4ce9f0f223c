import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openPlaybackBody, startSession } from '@acefleet/engine-client';
import {
  containersWithLabels,
  entries,
  freePort,
  inspectContainer,
  removeContainersWithLabels,
  startNatsServer,
  startService,
  waitFor,
} from '@acefleet/testkit';
import { acquire, contentOf, isolatedManager, listEngines, newHostId, testEnv } from './helpers.ts';

const run = promisify(execFile);

test('manager - kill -9 during play, then restart, adopts every container and claim; the stream plays on', async (t) => {
  t.timeout(90_000);
  const nats = await startNatsServer();
  const hostId = newHostId('restart');
  const env = {
    ...testEnv(nats, hostId),
    MAX_STREAMS_PER_ENGINE: '1',
    MAX_REPLICAS: '3',
    LOG_LEVEL: 'info',
  };
  const client = await nats.connect();
  t.teardown(async () => {
    await client.close();
    await removeContainersWithLabels([`io.acefleet.host=${hostId}`]);
    await nats.destroy();
  });
  const start = async () => {
    const port = await freePort();
    return startService('engine-manager', {
      entry: entries.manager,
      port,
      env: { ...env, HTTP_PORT: String(port) },
    });
  };
  const first = await start();
  const claims = await Promise.all([acquire(client, 1), acquire(client, 2)]);
  const session = await startSession(claims[0].engine.baseUrl, contentOf(1), { timeoutMs: 10_000 });
  let bytes = 0;
  let broken = false;
  const media = await openPlaybackBody(session.playbackUrl, 10_000, {
    data: (chunk) => (bytes += chunk.length),
    end: () => (broken = true),
    error: () => (broken = true),
  });
  t.teardown(() => void media.destroy());
  const before = await listEngines(client, hostId);
  const containersBefore = (await containersWithLabels([`io.acefleet.host=${hostId}`])).sort();

  await first.kill();
  const atKill = bytes;
  const second = await start();
  t.teardown(async () => void (await second.stop()));
  await waitFor(async () => (await listEngines(client, hostId)).every((e) => e.state === 'ready'), 10_000);
  const after = await listEngines(client, hostId);
  t.deepEqual(
    after.map((e) => [e.id, e.containerId, e.claims.map((c) => c.claimId)]).sort(),
    before.map((e) => [e.id, e.containerId, e.claims.map((c) => c.claimId)]).sort(),
    'same engines, same containers, same claims',
  );
  t.deepEqual((await containersWithLabels([`io.acefleet.host=${hostId}`])).sort(), containersBefore);
  await waitFor(() => bytes > atKill + 100_000, 10_000);
  t.false(broken, 'the stream kept playing through the restart');
});

test('manager - a container removed behind its back (docker rm -f) is noticed and replaced', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MIN_REPLICAS: '1', MAX_REPLICAS: '2' });
  const [engine] = await waitFor(async () => {
    const all = await listEngines(m.client, m.hostId);
    return all.length === 1 && all[0]!.state === 'ready' && all[0]!.containerId ? all : false;
  }, 20_000);
  const started = Date.now();
  await run('docker', ['rm', '-f', engine!.containerId!]);
  await waitFor(async () => !(await listEngines(m.client, m.hostId)).some((e) => e.id === engine!.id), 5000);
  const noticed = Date.now() - started;
  const [replacement] = await waitFor(async () => {
    const all = await listEngines(m.client, m.hostId);
    return all.length === 1 && all[0]!.state === 'ready' ? all : false;
  }, 20_000);
  t.log(`noticed in ${noticed} ms, replaced (ready) in ${Date.now() - started} ms`);
  t.not(replacement!.id, engine!.id);
});

test('manager - a container without our labels (or of another host) is never touched', async (t) => {
  t.timeout(60_000);
  const m = await isolatedManager(t, { MIN_REPLICAS: '1', MAX_REPLICAS: '2' });
  const port = await freePort();
  const names = [`acefleet-foreign-${m.hostId}`, `acefleet-otherhost-${m.hostId}`];
  t.teardown(async () => void (await run('docker', ['rm', '-f', ...names]).catch(() => {})));
  const image = 'acefleet/ace-sim:local';
  const plain = ['run', '-d', '--name', names[0]!, '--network', 'host', image, '--http-port', String(port)];
  const other = [
    'run',
    '-d',
    '--name',
    names[1]!,
    '--network',
    'none',
    '--label',
    'io.acefleet.managed=true',
    '--label',
    `io.acefleet.host=${m.hostId}-elsewhere`,
    '--label',
    'io.acefleet.engine-id=not-ours',
    '--label',
    'io.acefleet.http-port=1',
    image,
  ];
  const ids = [(await run('docker', plain)).stdout.trim(), (await run('docker', other)).stdout.trim()];
  await m.manager.reconciler.reconcile();
  await m.manager.removeAll();
  // One more full pass, which also waits out any pass the containers' Docker events started.
  await m.manager.reconciler.reconcile();
  for (const id of ids) t.true((await inspectContainer(id)).State.Running, `${id.slice(0, 12)} still runs`);
  t.false(
    (await listEngines(m.client)).some((e) => e.id === 'not-ours'),
    'never adopted',
  );
});
