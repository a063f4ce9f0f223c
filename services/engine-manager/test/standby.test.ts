import test from 'ava';
import { Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  RenewReply,
  ServiceNames,
  StatusReply,
  type ManagerRole,
  proxyCallSubject,
} from '@acefleet/contracts';
import {
  containersWithLabels,
  dockerAvailable,
  startStack,
  waitFor,
  type ServiceProcess,
  type Stack,
} from '@acefleet/testkit';
import { acquire, call, listEngines } from './helpers.ts';

// Adoption after a crash needs engines that outlive their manager: containers, not child processes.
const withDocker = (await dockerAvailable()) ? test.serial : test.serial.skip;

const TTL_MS = 3000;
/** A busy 2-core machine: the takeover may also wait for the standby's next read and its reconciliation. */
const TAKEOVER_MARGIN_MS = 4000;

async function roleOf(manager: ServiceProcess): Promise<ManagerRole> {
  const res = await fetch(`${manager.url}/api/status`);
  return ((await res.json()) as StatusReply).role;
}

async function leaderGauge(manager: ServiceProcess): Promise<string | undefined> {
  const text = await (await fetch(`${manager.url}/metrics`)).text();
  return /^acefleet_manager_leader(?:{[^}]*})? (\d)/m.exec(text)?.[1];
}

/** Instance ids of the engine managers answering the micro-service ping. */
async function serving(nc: NatsConnection): Promise<string[]> {
  const ids: string[] = [];
  const client = new Svcm(nc).client({ strategy: 'timer', maxWait: 1000 });
  for await (const p of await client.ping(ServiceNames.engineManager)) ids.push(p.metadata?.instance ?? '?');
  return ids.sort();
}

/** A stack with no service yet, then managers `a` (started first: the leader) and `b` on its one HOST_ID. */
async function twoManagers(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
): Promise<{ stack: Stack; a: ServiceProcess; b: ServiceProcess; client: NatsConnection }> {
  const stack = await startStack({
    services: [],
    env: {
      manager: { LEADER_LEASE_TTL_MS: String(TTL_MS), MAINTENANCE_INTERVAL_MS: '200', ...env },
    },
  });
  t.teardown(() => stack.stop());
  // The stack keeps (and stops) only the manager started last.
  const a = await stack.start('manager', { INSTANCE_ID: 'manager-a' });
  t.teardown(async () => void (await a.stop()));
  const b = await stack.start('manager', { INSTANCE_ID: 'manager-b' });
  const client = await stack.nats.connect();
  t.teardown(() => client.close());
  return { stack, a, b, client };
}

withDocker(
  'standby - of two managers on one HOST_ID only the leader answers; killed, the standby takes over within the TTL with its engines and claims',
  async (t) => {
    t.timeout(120_000);
    const { stack, a, b, client } = await twoManagers(t);
    t.is(await roleOf(a), 'leader');
    t.is(await roleOf(b), 'standby');
    t.deepEqual([await leaderGauge(a), await leaderGauge(b)], ['1', '0']);
    t.deepEqual(await serving(client), ['manager-a'], 'the standby registers no endpoint');

    const claims = await Promise.all([1, 2, 3].map((n) => acquire(client, n, `proxy-${n}`)));
    const before = await listEngines(client, stack.hostId);
    t.true(before.length >= 1);

    const killedAt = Date.now();
    await a.kill();
    const tookMs = await waitFor(async () => (await roleOf(b)) === 'leader' && Date.now() - killedAt, 30_000);
    t.log(`takeover ${tookMs} ms after kill -9 (lease TTL ${TTL_MS} ms)`);
    t.true(tookMs <= TTL_MS + TAKEOVER_MARGIN_MS, `took ${tookMs} ms`);
    await waitFor(async () => (await serving(client)).join() === 'manager-b', 10_000);

    const after = await listEngines(client, stack.hostId);
    t.deepEqual(after.map((e) => e.id).sort(), before.map((e) => e.id).sort(), 'the same engines, adopted');
    t.deepEqual(
      after.flatMap((e) => e.claims.map((c) => c.claimId)).sort(),
      claims.map((c) => c.claimId).sort(),
      'claims kept',
    );
    const renewed = await call(
      client,
      proxyCallSubject('renew', 'proxy-1'),
      { proxyId: 'proxy-1', claims: [{ engineId: claims[0]!.engine.id, claimId: claims[0]!.claimId }] },
      RenewReply,
    );
    t.deepEqual(renewed.renewed, [claims[0]!.claimId], 'the new leader renews the old claims');
    const fresh = await acquire(client, 4, 'proxy-4');
    t.truthy(fresh.claimId, 'the new leader answers acquire');
    t.is(await leaderGauge(b), '1');
  },
);

withDocker(
  'standby - a leader paused past the TTL steps down on waking and nothing is provisioned twice',
  async (t) => {
    t.timeout(120_000);
    const { stack, a, b, client } = await twoManagers(t, { MIN_REPLICAS: '2' });
    const ready = async () =>
      (await listEngines(client, stack.hostId)).filter((e) => e.state === 'ready').length === 2;
    await waitFor(ready, 60_000);
    const ids = (await listEngines(client, stack.hostId)).map((e) => e.id).sort();

    a.child.kill('SIGSTOP');
    t.teardown(() => void a.child.kill('SIGCONT'));
    await waitFor(async () => (await roleOf(b)) === 'leader', TTL_MS + 10_000);
    a.child.kill('SIGCONT');
    await waitFor(async () => (await roleOf(a)) === 'standby', 10_000);
    t.regex(
      a.output(),
      /"role":"standby","why":"(lease ran out before a renewal landed|another manager took the lease)"/,
    );
    await waitFor(async () => (await serving(client)).join() === 'manager-b', 10_000);
    t.deepEqual([await leaderGauge(a), await leaderGauge(b)], ['0', '1']);

    // Both have had many maintenance passes (200 ms) as leader since the pause; the minimum was met all along.
    await waitFor(async () => (await acquire(client, 1, 'proxy-1')).claimId, 10_000);
    const engines = await listEngines(client, stack.hostId);
    t.deepEqual(engines.map((e) => e.id).sort(), ids, 'the same two engines: none added, none replaced');
    const containers = await containersWithLabels([`io.acefleet.host=${stack.hostId}`]);
    t.is(containers.length, 2, 'two containers on the host');
    t.is(await roleOf(a), 'standby', 'the old leader stays standing by');
  },
);

test.serial(
  'standby - refuses admin writes with not_leader, and takes over at once when the leader stops (SIGTERM)',
  async (t) => {
    t.timeout(90_000);
    const ttlMs = 20_000;
    const { a, b, stack } = await twoManagers(t, { LEADER_LEASE_TTL_MS: String(ttlMs) });
    const res = await fetch(`${b.url}/api/engines/provision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: '{"count":1}',
    });
    t.is(res.status, 503);
    t.like(await res.json(), { error: { code: 'not_leader', retryAfterMs: ttlMs } });

    const stoppedAt = Date.now();
    t.is(await a.stop(), 0);
    const tookMs = await waitFor(async () => (await roleOf(b)) === 'leader' && Date.now() - stoppedAt, ttlMs);
    t.log(`takeover ${tookMs} ms after SIGTERM (lease TTL ${ttlMs} ms)`);
    t.true(tookMs < ttlMs / 2, 'the lease was handed over, not waited out');
    t.regex(a.output(), /leader lease handed over/);
  },
);
