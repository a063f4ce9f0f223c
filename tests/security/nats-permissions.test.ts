import test, { type ExecutionContext } from 'ava';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  AcquireReply,
  ENGINES_BUCKET,
  EVENTS_STREAM,
  ListReply,
  NatsUsers,
  ReleaseReply,
  STATS_CONSUMER,
  Subjects,
  type EngineRecord,
  type NatsUser,
  proxySubject,
  proxyCallSubject,
  proxyIdOf,
} from '@acefleet/contracts';
import { encodeJson, requestJson } from '@acefleet/platform';
import { startStack, waitFor, type Stack } from '@acefleet/testkit';

const services: NatsUser[] = [
  NatsUsers.edgeProxy,
  NatsUsers.engineManager,
  NatsUsers.healthMonitor,
  NatsUsers.stats,
];

/** A real nats-server with the generated access rules, and a real engine-manager logged in as its own user. */
let stack: Stack;
const clients = new Map<NatsUser, NatsConnection>();
test.before(async () => {
  stack = await startStack({ services: ['manager'] });
  for (const user of [...services, NatsUsers.operator]) clients.set(user, await stack.nats.connect(user));
});
test.after.always(async () => {
  for (const nc of clients.values()) await nc.close();
  await stack?.stop();
});

function as(user: NatsUser): NatsConnection {
  return clients.get(user)!;
}

/** The attempt fails with the server's permission error (not a timeout or a missing responder). */
async function denied(t: ExecutionContext, attempt: Promise<unknown>, what: string): Promise<void> {
  const err = await t.throwsAsync(attempt, undefined, what);
  t.regex(String(err?.message), /Permissions Violation for (Publish|Subscription) to/, what);
}

function ask(user: NatsUser, subject: string, body: unknown = {}): Promise<unknown> {
  return as(user).request(subject, encodeJson(body), { timeout: 5000 });
}

async function putEngine(user: NatsUser, record: Partial<EngineRecord> & { id: string }): Promise<number> {
  const kv = await new Kvm(as(user)).open(ENGINES_BUCKET);
  return kv.put(record.id, encodeJson(record));
}

// engine-manager (DELETE /api/streams/:id) and stats (the dashboard's stop action) forward an operator's
// request that their HTTP access policy checked; the proxy and the monitor have no business stopping streams.
test('nats - neither the proxy nor the monitor may stop a stream through a proxy endpoint', async (t) => {
  for (const user of [NatsUsers.edgeProxy, NatsUsers.healthMonitor]) {
    await denied(
      t,
      ask(user, proxySubject('any-proxy', 'stop'), { streamId: 's1' }),
      `${user} stops a stream`,
    );
  }
});

test('nats - anonymous clients are refused', async (t) => {
  const err = await t.throwsAsync(connect({ servers: stack.nats.url }));
  t.regex(String(err?.message), /Authorization Violation/);
});

test('nats - a wrong password is refused', async (t) => {
  const err = await t.throwsAsync(
    connect({ servers: stack.nats.url, user: NatsUsers.edgeProxy, pass: 'not-the-password' }),
  );
  t.regex(String(err?.message), /Authorization Violation/);
});

test('nats - edge-proxy reaches the manager but cannot write engines or call provision, remove, drain', async (t) => {
  const reply = await requestJson(
    as(NatsUsers.edgeProxy),
    proxyCallSubject('release', NatsUsers.edgeProxy),
    { engineId: 'nobody', claimId: 'nothing' },
    ReleaseReply,
    10_000,
  );
  t.false(reply.released, 'a release request is answered by the engine-manager');
  const kv = await new Kvm(as(NatsUsers.edgeProxy)).open(ENGINES_BUCKET);
  t.is(await kv.get('no-such-engine'), null, 'the proxy reads the engines bucket');
  await denied(t, putEngine(NatsUsers.edgeProxy, { id: 'forged' }), 'write the engines bucket');
  await denied(t, ask(NatsUsers.edgeProxy, Subjects.engineProvision), 'provision');
  await denied(t, ask(NatsUsers.edgeProxy, Subjects.engineRemove, { engineId: 'x' }), 'remove');
  await denied(t, ask(NatsUsers.edgeProxy, Subjects.engineDrain, { engineId: 'x' }), 'drain');
  await denied(
    t,
    ask(NatsUsers.edgeProxy, `${Subjects.engineHostPrefix}.${stack.hostId}.provision`),
    'host provision',
  );
});

test('nats - health-monitor cannot write engines or remove one', async (t) => {
  await denied(t, putEngine(NatsUsers.healthMonitor, { id: 'forged' }), 'write the engines bucket');
  await denied(t, ask(NatsUsers.healthMonitor, Subjects.engineRemove, { engineId: 'x' }), 'remove');
  await denied(
    t,
    jetstreamManager(as(NatsUsers.healthMonitor)).then((jsm) =>
      jsm.consumers.delete(EVENTS_STREAM, STATS_CONSUMER),
    ),
    'delete the stats consumer',
  );
});

test('nats - stats (dashboard actions: drain, remove, stop) cannot delete the events stream, ask for or provision an engine', async (t) => {
  const jsm = await jetstreamManager(as(NatsUsers.stats));
  t.is((await jsm.streams.info(EVENTS_STREAM)).config.name, EVENTS_STREAM, 'stats looks the stream up');
  await denied(t, jsm.streams.delete(EVENTS_STREAM), 'delete the events stream');
  await denied(t, ask(NatsUsers.stats, proxyCallSubject('acquire', NatsUsers.stats)), 'acquire');
  await denied(
    t,
    ask(NatsUsers.stats, proxyCallSubject('acquire', NatsUsers.edgeProxy)),
    'acquire as the proxy',
  );
  await denied(t, ask(NatsUsers.stats, Subjects.engineProvision), 'provision');
});

test('nats - no service may delete or purge the events stream or the engines bucket stream, none but engine-manager (JS_REPLICAS) change them', async (t) => {
  for (const user of services) {
    const jsm = await jetstreamManager(as(user));
    for (const stream of [EVENTS_STREAM, `KV_${ENGINES_BUCKET}`]) {
      await denied(t, jsm.streams.delete(stream), `${user} deletes ${stream}`);
      await denied(t, jsm.streams.purge(stream), `${user} purges ${stream}`);
      if (user === NatsUsers.engineManager) continue;
      await denied(t, jsm.streams.update(stream, { max_msgs: 1 }), `${user} changes ${stream}`);
    }
  }
});

test('nats - a service cannot subscribe to the replies of another service or the operator', async (t) => {
  for (const [user, inbox] of [
    [NatsUsers.edgeProxy, '_INBOX_stats.>'],
    [NatsUsers.stats, '_INBOX_edge-proxy.>'],
    [NatsUsers.healthMonitor, '_INBOX.>'],
  ] as const) {
    const closed = await as(user).subscribe(inbox).closed;
    t.regex(String(closed), /Permissions Violation for Subscription to/, `${user} on ${inbox}`);
  }
});

test('manager - a forged engine record in the bucket is never handed out', async (t) => {
  t.timeout(90_000);
  const now = new Date().toISOString();
  const forged = (id: string, hostId: string, baseUrl: string): EngineRecord => ({
    id,
    hostId,
    baseUrl,
    state: 'ready',
    capacity: 1000,
    claims: [],
    createdAt: now,
    updatedAt: now,
  });
  const records = [
    forged('forged-here', stack.hostId, 'http://attacker.invalid:80'),
    forged('forged-elsewhere', 'elsewhere', 'http://attacker.invalid:80'),
  ];
  for (const r of records) await putEngine(NatsUsers.operator, r);
  await waitFor(async () => {
    const { engines } = await requestJson(as(NatsUsers.operator), Subjects.engineList, {}, ListReply, 5000);
    return records.every((r) => engines.some((e) => e.id === r.id));
  }, 10_000);
  const reply = await requestJson(
    as(NatsUsers.edgeProxy),
    proxyCallSubject('acquire', NatsUsers.edgeProxy),
    { content: { kind: 'id', value: 'f'.repeat(40) }, proxyId: proxyIdOf(NatsUsers.edgeProxy, 'security') },
    AcquireReply,
    60_000,
  );
  t.false(reply.engine.id.startsWith('forged'), reply.engine.id);
  t.false(reply.engine.baseUrl.includes('attacker'));
  t.is(reply.engine.hostId, stack.hostId);
});
