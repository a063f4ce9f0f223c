import test, { type ExecutionContext } from 'ava';
import { createServer, type Server } from 'node:http';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm } from '@nats-io/services';
import { startSession, stopSession } from '@acefleet/engine-client';
import {
  AcquireReply,
  ENGINES_BUCKET,
  ENGINES_KV_STREAM,
  EVENTS_STREAM,
  NatsUsers,
  ObservabilitySubjects,
  ReleaseReply,
  ServiceNames,
  RenewReply,
  Subjects,
  proxyCallSubject,
  proxyIdOf,
  proxySubject,
  proxyUserOf,
  staticEngineId,
  streamEventSubject,
  streamEventsOf,
  type EngineRecord,
  type NatsUser,
} from '@acefleet/contracts';
import { encodeJson, requestJson } from '@acefleet/platform';
import {
  listEngines,
  randomContentId,
  readEvents,
  startStack,
  streamStarted,
  waitFor,
  type Stack,
} from '@acefleet/testkit';

// Issue 22: each attack below broke through with a service's own generated credentials before the fix: the
// monitor's consumer into remove removed a live engine, the proxy's consumer into provision grew the fleet
// from 1 to 4 engines, 1000 forged claims put an engine at 1000 claims (capacity 2), stats stored a
// stream.ended, and a foreign statUrl was fetched (docs/security.md, "Threats and the tests that cover them").

let stack: Stack;
const clients = new Map<NatsUser, NatsConnection>();
const proxyA = proxyUserOf(0); // edge-proxy
const proxyB = proxyUserOf(1); // edge-proxy-1
test.before(async () => {
  stack = await startStack({
    services: ['manager', 'monitor'],
    env: { manager: { MIN_REPLICAS: '1' }, monitor: { STAT_INTERVAL_MS: '200' } },
  });
  for (const user of [proxyA, proxyB, NatsUsers.healthMonitor, NatsUsers.stats, NatsUsers.operator])
    clients.set(user, await stack.nats.connect(user));
});
test.after.always(async () => {
  for (const nc of clients.values()) await nc.close();
  await stack?.stop();
});

const as = (user: NatsUser): NatsConnection => clients.get(user)!;

/** The attempt fails with the server's permission error. */
async function denied(t: ExecutionContext, attempt: Promise<unknown>, what: string): Promise<void> {
  const err = await t.throwsAsync(attempt, undefined, what);
  t.regex(String(err?.message), /Permissions Violation for (Publish|Subscription) to/, what);
}

async function readyEngine(): Promise<EngineRecord> {
  return waitFor(
    async () => (await listEngines(stack.nats)).find((e) => e.state === 'ready') ?? false,
    60_000,
  );
}

/**
 * How many messages the manager's endpoint `name` refused as no request (JetStream deliveries, republished
 * copies): its error count in $SRV.STATS, with the refusal as its last error.
 */
async function refusedBy(name: string): Promise<number> {
  const client = new Svcm(as(NatsUsers.operator)).client({ strategy: 'timer', maxWait: 1000 });
  let refused = 0;
  for await (const s of await client.stats(ServiceNames.engineManager)) {
    const endpoint = s.endpoints?.find((e) => e.name === name);
    if (endpoint?.last_error?.startsWith('refused')) refused += endpoint.num_errors;
  }
  return refused;
}

/** A push consumer made with `user`'s credentials; 'denied' when its permissions refuse the create. */
async function pushConsumer(
  user: NatsUser,
  stream: string,
  name: string,
  filter: string,
  deliverTo: string,
): Promise<'created' | 'denied'> {
  const jsm = await jetstreamManager(as(user));
  return jsm.consumers
    .add(stream, {
      name,
      filter_subject: filter,
      deliver_subject: deliverTo,
      deliver_group: 'engine-manager',
      ack_policy: AckPolicy.None,
    })
    .then(
      () => 'created' as const,
      (err: unknown) => {
        if (/Permissions Violation/.test(String(err))) return 'denied' as const;
        throw err;
      },
    );
}

test.serial(
  "bus - with health-monitor's credentials, a push consumer into engines.remove removes nothing",
  async (t) => {
    const engine = await readyEngine();
    // The attack as found: a consumer on the monitor's own events, delivered to the manager's queue group.
    t.is(
      await pushConsumer(
        NatsUsers.healthMonitor,
        EVENTS_STREAM,
        'own-events',
        ObservabilitySubjects.streamStarved,
        Subjects.engineRemove,
      ),
      'denied',
      'no consumer on a subject the monitor publishes itself',
    );
    // On the proxies' events it may make one (it follows them); it carries a proxy's event to remove.
    t.is(
      await pushConsumer(
        NatsUsers.healthMonitor,
        EVENTS_STREAM,
        'proxy-events',
        streamEventsOf('started'),
        Subjects.engineRemove,
      ),
      'created',
    );
    const before = await refusedBy('remove');
    const proxyId = proxyIdOf(proxyA, 'remover');
    const event = { ...streamStarted('remove-me', { proxyId }), engineId: engine.id, force: true };
    await jetstream(as(proxyA)).publish(streamEventSubject('started', proxyId), encodeJson(event));
    await waitFor(async () => (await refusedBy('remove')) > before, 20_000);
    t.true(
      (await listEngines(stack.nats)).some((e) => e.id === engine.id),
      'the engine is still there: the delivery was refused, not taken as a remove request',
    );
    t.regex(stack.services.manager!.output(), /refused a message not sent to this subject/);
  },
);

test.serial(
  "bus - with edge-proxy's credentials, a push consumer into engines.provision starts nothing",
  async (t) => {
    await readyEngine();
    const before = (await listEngines(stack.nats)).length;
    const refused = await refusedBy('provision');
    t.is(
      await pushConsumer(
        proxyA,
        ENGINES_KV_STREAM,
        'replay-records',
        `$KV.${ENGINES_BUCKET}.>`,
        Subjects.engineProvision,
      ),
      'created',
      'the proxy reads the engines bucket with consumers like this one',
    );
    await waitFor(async () => (await refusedBy('provision')) > refused, 20_000);
    t.is((await listEngines(stack.nats)).length, before, 'no engine was provisioned');
  },
);

test.serial(
  'bus - a message a stream republishes (no reply, Nats-Stream header) is no request either',
  async (t) => {
    const engine = await readyEngine();
    const jsm = await jetstreamManager(as(NatsUsers.operator));
    const name = `SEC_REPUBLISH_${Date.now()}`;
    await jsm.streams.add({
      name,
      subjects: [`security.republish.${name}`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
      republish: { src: `security.republish.${name}`, dest: Subjects.engineRemove },
    });
    t.teardown(() => jsm.streams.delete(name).then(() => undefined));
    const before = await refusedBy('remove');
    await jetstream(as(NatsUsers.operator)).publish(
      `security.republish.${name}`,
      encodeJson({ engineId: engine.id, force: true }),
    );
    await waitFor(async () => (await refusedBy('remove')) > before, 20_000);
    t.true((await listEngines(stack.nats)).some((e) => e.id === engine.id));
  },
);

test.serial('bus - 1000 forged claims in one renew put no engine over its capacity', async (t) => {
  const engine = await readyEngine();
  const proxyId = proxyIdOf(proxyA, 'forger');
  const claims = Array.from({ length: 1000 }, (_, i) => ({
    engineId: engine.id,
    claimId: `forged-${i}`,
    contentKey: `id:${String(i).padStart(40, '0')}`,
  }));
  const reply = await requestJson(
    as(proxyA),
    proxyCallSubject('renew', proxyId),
    { proxyId, claims },
    RenewReply,
    20_000,
  );
  t.true(reply.renewed.length <= engine.capacity, `${reply.renewed.length} adopted`);
  t.true(reply.lost.length >= 1000 - engine.capacity, 'the excess comes back as lost');
  for (const e of await listEngines(stack.nats)) t.true(e.claims.length <= e.capacity, e.id);
  // The manager's log line travels through a pipe: it may land just after the reply.
  await waitFor(() => /refused adoption offers/.test(stack.services.manager!.output()), 5000);

  // Another proxy still gets an engine (the fleet grows to its next engine).
  const other = proxyIdOf(proxyB, 'player');
  const granted = await requestJson(
    as(proxyB),
    proxyCallSubject('acquire', other),
    { content: { kind: 'id', value: randomContentId() }, proxyId: other },
    AcquireReply,
    60_000,
  );
  t.truthy(granted.claimId);
  await requestJson(
    as(proxyA),
    proxyCallSubject('release', proxyId),
    { proxyId, all: true },
    ReleaseReply,
    10_000,
  );
});

test.serial(
  "bus - a proxy can neither act for another proxy's id nor call the manager in its name",
  async (t) => {
    const victim = proxyIdOf(proxyA, 'victim');
    const held = await requestJson(
      as(proxyA),
      proxyCallSubject('acquire', victim),
      { content: { kind: 'id', value: randomContentId() }, proxyId: victim },
      AcquireReply,
      60_000,
    );
    // Under its own name, for the victim's id: refused by the manager.
    for (const [call, body] of [
      ['release', { proxyId: victim, all: true }],
      ['release', { engineId: held.engine.id, claimId: held.claimId }],
      ['renew', { proxyId: victim, claims: [] }],
      ['acquire', { content: { kind: 'id', value: randomContentId() }, proxyId: victim }],
    ] as const) {
      const msg = await as(proxyB).request(proxyCallSubject(call, proxyB), encodeJson(body), {
        timeout: 10_000,
      });
      const answer = msg.json<{ error?: { code: string }; released?: boolean }>();
      t.true(answer.error?.code === 'forbidden' || answer.released === false, `${call}: ${msg.string()}`);
    }
    // In the victim's name: refused by nats-server.
    await denied(
      t,
      as(proxyB).request(proxyCallSubject('release', victim), encodeJson({ proxyId: victim, all: true })),
      'release under the victim proxy name',
    );
    const still = (await listEngines(stack.nats))
      .flatMap((e) => e.claims)
      .filter((c) => c.proxyId === victim);
    t.is(still.length, 1, "the victim's claim is still held");
    await requestJson(
      as(proxyA),
      proxyCallSubject('release', victim),
      { proxyId: victim, all: true },
      ReleaseReply,
      10_000,
    );
  },
);

test.serial(
  'bus - events name their sender: nobody publishes stream events for another proxy, stats none at all',
  async (t) => {
    const js = (user: NatsUser) => jetstream(as(user));
    const ofA = proxyIdOf(proxyA, 'run');
    const ended = streamEventSubject('ended', ofA);
    await denied(t, js(NatsUsers.stats).publish(ended, encodeJson({ streamId: 'x' })), 'stats ends a stream');
    await denied(
      t,
      js(NatsUsers.stats).publish(streamEventSubject('ended', proxyIdOf(NatsUsers.stats, 'x')), '{}'),
      'stats publishes a stream event under its own name',
    );
    await denied(
      t,
      js(proxyB).publish(ended, encodeJson({ streamId: 'x' })),
      "a proxy publishes another proxy's end",
    );
    await denied(t, js(NatsUsers.healthMonitor).publish(ended, '{}'), 'the monitor ends a stream');
    await denied(
      t,
      as(proxyB).request(proxySubject(ofA, 'stop'), encodeJson({ streamId: 'x' })),
      "a proxy calls another proxy's stop",
    );
    const sub = as(proxyB).subscribe(proxySubject(ofA, 'stop'));
    t.regex(
      String(await sub.closed),
      /Permissions Violation for Subscription/,
      "a proxy serves another proxy's stop",
    );
  },
);

/** A server that counts the requests it gets: where no acefleet service must ever go. */
async function sentinel(t: ExecutionContext): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits };
}

test.serial('bus - a stream.started with a foreign statUrl is never fetched', async (t) => {
  const engine = await readyEngine();
  const target = await sentinel(t);
  const proxyId = proxyIdOf(proxyA, 'ssrf');
  const monitorLog = (): string => stack.services.monitor!.output();
  for (const [i, statUrl] of [
    `${target.url}/secret`,
    // On the engine's host and port, but as a prefix trick, and on another engine's address.
    `${engine.baseUrl}@127.0.0.1:${new URL(target.url).port}/x`,
  ].entries()) {
    const started = streamStarted(`ssrf-${i}`, { proxyId, engineId: engine.id, statUrl });
    await jetstream(as(proxyA)).publish(streamEventSubject('started', proxyId), encodeJson(started));
  }
  await waitFor(
    () => (monitorLog().match(/stat URL not on its engine's base URL/g) ?? []).length >= 2,
    20_000,
  );
  // A static engine (no record: its id names its base URL) where no engine may be.
  const asStatic = streamStarted('ssrf-static', {
    proxyId,
    engineId: staticEngineId(target.url),
    statUrl: `${target.url}/ace/stat/x/y`,
  });
  await jetstream(as(proxyA)).publish(streamEventSubject('started', proxyId), encodeJson(asStatic));
  await waitFor(() => monitorLog().includes(`"engineId":"${staticEngineId(target.url)}"`), 20_000);
  // The monitor reads stat URLs every 200 ms: rounds have passed once a real session was read twice.
  const content = { kind: 'id' as const, value: randomContentId() };
  const session = await startSession(engine.baseUrl, content, { timeoutMs: 10_000 });
  t.teardown(() => stopSession(session, 5000));
  const real = streamStarted('ssrf-control', {
    proxyId,
    content,
    engineId: engine.id,
    statUrl: session.statUrl,
  });
  await jetstream(as(proxyA)).publish(streamEventSubject('started', proxyId), encodeJson(real));
  const samples = async (): Promise<number> => {
    const stats = await readEvents<{ streamId: string }>(
      as(NatsUsers.operator),
      ObservabilitySubjects.streamStats,
    );
    return stats.filter((e) => e.data.streamId === 'ssrf-control').length;
  };
  await waitFor(async () => (await samples()) >= 2, 20_000);
  t.is(target.hits(), 0, 'the foreign stat URL was never fetched');
});
