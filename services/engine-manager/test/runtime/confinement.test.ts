import test from 'ava';
import Docker from 'dockerode';
import { dockerAvailable, startNatsServer } from '@acefleet/testkit';
import { acquire, contentOf, listEngines, newHostId, startManager } from '../helpers.ts';

// Decided at load: without a Docker daemon these tests are reported as skipped, never as passed.
const dockerTest = (await dockerAvailable()) ? test : test.skip;
const docker = new Docker();

/** The first `min` bytes of an engine's MPEG-TS stream. */
async function readStream(baseUrl: string, n: number, min: number): Promise<Buffer> {
  const res = await fetch(`${baseUrl}/ace/getstream?id=${contentOf(n).value}`, {
    signal: AbortSignal.timeout(20_000),
  });
  const reader = res.body!.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < min) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    size += value.length;
  }
  await reader.cancel();
  return Buffer.concat(chunks);
}

dockerTest(
  'confinement - an engine runs confined, as nobody, labelled with its fleet, and still streams',
  async (t) => {
    t.timeout(90_000);
    const nats = await startNatsServer();
    const m = await startManager(nats, {
      ENGINE_MEMORY_MB: '256',
      ENGINE_CPUS: '0.5',
      ENGINE_PIDS_LIMIT: '128',
      ENGINE_LOG_MAX_SIZE: '5m',
      ENGINE_LOG_MAX_FILES: '2',
      ENGINE_CACHE_MB: '64',
    });
    t.teardown(async () => {
      await m.close();
      await nats.destroy();
    });
    const { engine } = await acquire(m.client, 1);
    const container = docker.getContainer(engine.containerId!);
    const info = await container.inspect();
    const h = info.HostConfig;
    t.deepEqual(h.SecurityOpt, ['no-new-privileges:true']);
    t.deepEqual(h.CapDrop, ['ALL']);
    t.deepEqual(h.CapAdd ?? [], [], 'ace-sim gets no capability back');
    t.is(h.Memory, 256 * 1024 * 1024);
    t.is(h.NanoCpus, 0.5e9);
    t.is(h.PidsLimit, 128);
    t.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '2' } });
    t.true(h.ReadonlyRootfs);
    // Issue 21: the engine's cache is a bounded tmpfs (ENGINE_CACHE_MB), never the host's disk.
    t.deepEqual(h.Tmpfs, {
      '/tmp': 'rw,noexec,nosuid,size=16m',
      '/cache': 'rw,noexec,nosuid,nodev,mode=1777,size=64m',
    });
    t.is(info.Config.User, '65534:65534');
    t.is(info.Config.Labels['io.acefleet.fleet'], m.hostId, 'the test stack sets FLEET_ID to its host id');
    const top = (await container.top({ ps_args: '-o pid,uid' })) as { Processes: string[][] };
    const uids = top.Processes.map((p) => p[1]);
    t.true(uids.length > 0);
    t.deepEqual(
      uids,
      uids.map(() => '65534'),
      'every process of the engine runs as nobody',
    );

    const bytes = await readStream(engine.baseUrl, 1, 16 * 1024);
    t.true(bytes.length >= 16 * 1024, `read ${bytes.length} bytes`);
    t.is(bytes[0], 0x47, 'MPEG-TS sync byte');
  },
);

dockerTest(
  'fleets - two stacks with the same host id on one daemon never see or remove each other’s engines',
  async (t) => {
    t.timeout(90_000);
    const hostId = newHostId('fleet');
    const [natsA, natsB] = await Promise.all([startNatsServer(), startNatsServer()]);
    const a = await startManager(natsA, { FLEET_ID: `${hostId}-a` }, hostId);
    t.teardown(async () => {
      await a.close();
      await natsA.destroy();
    });
    const { engine: engineA } = await acquire(a.client, 1);

    const b = await startManager(natsB, { FLEET_ID: `${hostId}-b`, MIN_REPLICAS: '0' }, hostId);
    t.teardown(async () => {
      await b.close();
      await natsB.destroy();
    });
    await b.manager.reconciler.reconcile();
    t.deepEqual(await b.manager.runtime.list(), [], "B's Docker view holds none of A's containers");
    t.deepEqual(await listEngines(b.client), [], 'B adopted nothing');
    await b.manager.runtime.remove(engineA.containerId!);
    await b.manager.removeAll();
    t.true((await docker.getContainer(engineA.containerId!).inspect()).State.Running, "A's engine untouched");

    const { engine: engineB } = await acquire(b.client, 2);
    await a.manager.reconciler.reconcile();
    t.deepEqual(
      (await a.manager.runtime.list()).map((e) => e.containerId),
      [engineA.containerId],
      'A lists only its own container',
    );
    t.deepEqual(
      (await listEngines(a.client)).map((e) => e.id),
      [engineA.id],
      "A's records hold only its own engine",
    );
    t.true((await docker.getContainer(engineB.containerId!).inspect()).State.Running, "B's engine untouched");
  },
);
