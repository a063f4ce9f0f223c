import test from 'ava';
import {
  AcefleetError,
  AcquireReply,
  EngineDraining,
  ProvisionReply,
  ReleaseReply,
  Subjects,
  UpgradeReply,
  decodeMessage,
  hostSubject,
  proxyCallSubject,
} from '@acefleet/contracts';
import { startNatsServer } from '@acefleet/testkit';
import { acquire, call, listEngines, newHostId, startManager } from './helpers.ts';
import { ContainerCount, ImageMemoryRuntime } from './memory-runtime.ts';

// Rolling upgrades (issue 20) as logic: real nats-server, KV bucket, manager, endpoints and HTTP routes; the
// container runtime is the in-memory fake with images (ImageMemoryRuntime). upgrade-docker.test.ts runs the
// same against dockerd.

const OLD = 'acefleet/ace-sim:old';
const NEW = 'acefleet/ace-sim:new';
const MISSING = 'acefleet/does-not-exist:1';
const API_KEY = 'upgrade-test-key';

type Manager = Awaited<ReturnType<typeof startManager>>;

async function upgradeFleet(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
): Promise<{ m: Manager; runtime: ImageMemoryRuntime; containers: ContainerCount }> {
  const nats = await startNatsServer();
  const hostId = newHostId('upg');
  const containers = new ContainerCount();
  const runtime = new ImageMemoryRuntime(hostId, containers, OLD, new Set([OLD, NEW]));
  // A resync every 100 ms: engines of the image being replaced must not look foreign-config meanwhile.
  const settings = {
    MAX_REPLICAS: '3',
    MAX_STREAMS_PER_ENGINE: '2',
    RESYNC_INTERVAL_MS: '100',
    API_KEY,
    ...env,
  };
  const m = await startManager(nats, settings, hostId, runtime);
  t.teardown(async () => {
    await m.close();
    await runtime.removeAll();
    await nats.destroy();
  });
  return { m, runtime, containers };
}

function upgrade(m: Manager, body: object): Promise<UpgradeReply> {
  return call(m.client, Subjects.engineUpgrade, body, UpgradeReply, 60_000);
}

async function provision(m: Manager, count: number): Promise<string[]> {
  const reply = await call(m.client, Subjects.engineProvision, { count }, ProvisionReply);
  return reply.engines.map((e) => e.id);
}

/** What a proxy does on engine.draining: acquire elsewhere first, then release the old claim. */
function movingProxy(m: Manager, proxyId: string): { moves: number; reasons: string[] } {
  const seen = { moves: 0, reasons: [] as string[] };
  m.client.subscribe(Subjects.engineDraining, {
    callback: (_err, msg) => {
      const event = decodeMessage(EngineDraining, msg.data, 'engine draining');
      seen.reasons.push(event.reason);
      for (const claim of event.claims.filter((c) => c.proxyId === proxyId)) {
        const content = { kind: 'id' as const, value: claim.contentKey.slice(3) };
        const req = { content, proxyId, excludeEngineIds: [event.engineId] };
        void call(m.client, proxyCallSubject('acquire', proxyId), req, AcquireReply)
          .then(() =>
            call(
              m.client,
              proxyCallSubject('release', proxyId),
              { engineId: event.engineId, claimId: claim.claimId },
              ReleaseReply,
            ),
          )
          .then(() => seen.moves++);
      }
    },
  });
  return seen;
}

test('upgrade - replaces every engine one at a time, make-before-break, and a re-run skips them', async (t) => {
  t.timeout(60_000);
  const { m, runtime, containers } = await upgradeFleet(t);
  const old = await provision(m, 3);
  const playing = await acquire(m.client, 1, 'proxy-a');
  const proxy = movingProxy(m, 'proxy-a');

  const reply = await upgrade(m, { image: NEW });
  t.is(reply.error, undefined);
  t.is(reply.image, NEW);
  t.deepEqual(reply.hosts, [m.hostId]);
  t.deepEqual(reply.replaced.map((r) => r.from).sort(), [...old].sort(), 'every engine replaced');
  t.is(reply.replaced.at(-1)?.from, playing.engine.id, 'the busy engine last: least loaded first');
  t.is(proxy.moves, 1, 'its stream moved before it went');
  t.deepEqual(proxy.reasons, ['upgrade', 'upgrade', 'upgrade'], 'drained by the upgrade only');
  t.is(containers.peakPerHost, 4, 'one successor at a time, one over MAX_REPLICAS at most');

  const engines = await listEngines(m.client, m.hostId);
  t.deepEqual(engines.map((e) => e.id).sort(), reply.replaced.map((r) => r.to).sort());
  for (const e of engines) t.like(e, { state: 'ready', image: NEW });
  t.is(runtime.image, NEW, 'new engines get the new image from now on');
  const claims = engines.flatMap((e) => e.claims).filter((c) => c.proxyId === 'proxy-a');
  t.is(claims.length, 1, 'the stream plays on a new engine');

  const again = await upgrade(m, { image: NEW });
  t.deepEqual(again.replaced, []);
  t.deepEqual(again.skipped.sort(), engines.map((e) => e.id).sort(), 'already on the image: skipped');
});

test('upgrade - an image that does not exist fails at the first engine and leaves the old engines serving', async (t) => {
  t.timeout(60_000);
  const { m, runtime, containers } = await upgradeFleet(t);
  const old = await provision(m, 2);

  const res = await m.manager.http.inject({
    method: 'POST',
    url: '/api/engines/upgrade',
    headers: { authorization: `Bearer ${API_KEY}` },
    payload: { image: MISSING },
  });
  t.is(res.statusCode, 503);
  const failed = res.json<UpgradeReply>();
  t.deepEqual(failed.replaced, []);
  t.like(failed.error, { code: 'runtime_unavailable' });
  t.regex(failed.error?.message ?? '', /does-not-exist:1.*first engine.*No such image/);

  const engines = await listEngines(m.client, m.hostId);
  t.deepEqual(engines.map((e) => e.id).sort(), [...old].sort(), 'the failed successor is gone');
  for (const e of engines) t.like(e, { state: 'ready', image: OLD });
  t.is((await runtime.list()).length, 2, 'its container too');
  t.is(runtime.image, OLD, 'the image in force is switched back');
  t.is(containers.peakPerHost, 2);

  const rerun = await upgrade(m, { image: NEW });
  t.is(rerun.error, undefined);
  t.is(rerun.replaced.length, 2, 're-run after the failure goes through');
});

test('upgrade - refuses an image that is not pinned with a 400 that explains, and asks for the key', async (t) => {
  t.timeout(30_000);
  const { m } = await upgradeFleet(t);
  for (const image of ['acefleet/ace-sim', 'acefleet/ace-sim:latest']) {
    const err = await upgrade(m, { image }).catch((e: unknown) => e);
    t.true(err instanceof AcefleetError, image);
    t.like(err, { code: 'bad_request', status: 400 });
    t.regex((err as Error).message, /not pinned: name a tag other than latest/);
  }
  const res = await m.manager.http.inject({
    method: 'POST',
    url: '/api/engines/upgrade',
    payload: { image: NEW },
  });
  t.is(res.statusCode, 401, 'key-guarded like every admin write');
});

test('upgrade - without an image replaces every engine from the image in force (a rolling restart)', async (t) => {
  t.timeout(60_000);
  const { m } = await upgradeFleet(t);
  const old = await provision(m, 2);
  const reply = await upgrade(m, {});
  t.is(reply.error, undefined);
  t.is(reply.image, OLD);
  t.deepEqual(reply.replaced.map((r) => r.from).sort(), [...old].sort());
  const engines = await listEngines(m.client, m.hostId);
  t.is(engines.length, 2);
  for (const e of engines) t.like(e, { state: 'ready', image: OLD });
  t.false(
    engines.some((e) => old.includes(e.id)),
    'all new engines',
  );
});

test('upgrade - without a host, every host is upgraded in turn, each by its own manager', async (t) => {
  t.timeout(60_000);
  const nats = await startNatsServer();
  const hosts = [newHostId('upa'), newHostId('upb')];
  const runtimes = hosts.map(
    (h) => new ImageMemoryRuntime(h, new ContainerCount(), OLD, new Set([OLD, NEW])),
  );
  const managers = await Promise.all(
    hosts.map((h, i) => startManager(nats, { MAX_REPLICAS: '2' }, h, runtimes[i])),
  );
  t.teardown(async () => {
    for (const m of managers) await m.close();
    for (const r of runtimes) await r.removeAll();
    await nats.destroy();
  });
  const [a, b] = managers as [Manager, Manager];
  for (const host of hosts) {
    await call(a.client, hostSubject(host, 'provision'), { count: 1 }, ProvisionReply);
  }
  const reply = await upgrade(a, { image: NEW });
  t.is(reply.error, undefined);
  t.deepEqual([...reply.hosts].sort(), [...hosts].sort());
  t.deepEqual(reply.replaced.map((r) => r.hostId).sort(), [...hosts].sort(), 'one engine on each host');
  const engines = await listEngines(b.client);
  t.is(engines.length, 2);
  for (const e of engines) t.like(e, { state: 'ready', image: NEW });
  t.true(
    engines.every((e) => e.id.startsWith(e.hostId)),
    'each made by its own host',
  );
  for (const r of runtimes) t.is(r.image, NEW);
});
