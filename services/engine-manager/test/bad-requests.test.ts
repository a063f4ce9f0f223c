import test from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsUsers, Subjects, proxyCallSubject } from '@acefleet/contracts';
import { connectNats, createLogger, loadConfig } from '@acefleet/platform';
import { startNatsServer, type NatsServer } from '@acefleet/testkit';
import { buildEngineManager, type EngineManager } from '../src/app.ts';
import { ManagerConfig } from '../src/config.ts';

let nats: NatsServer;
let manager: EngineManager;
let managerNc: NatsConnection;
let nc: NatsConnection;

test.before(async () => {
  nats = await startNatsServer();
  const config = loadConfig(ManagerConfig, {
    ...nats.env(NatsUsers.engineManager),
    ENGINE_RUNTIME: 'process',
    MIN_REPLICAS: '0',
    HOST_ID: 'bad-requests',
    MIN_FREE_REPLICAS: '0',
    INSTANCE_ID: 'manager-under-test',
  });
  const log = createLogger('engine-manager-test', 'silent');
  managerNc = await connectNats(config.natsUrl, 'engine-manager-test', log, {
    user: config.natsUser,
    password: config.natsPassword,
  });
  manager = await buildEngineManager(config, managerNc, log);
  await manager.serve('http://127.0.0.1:0');
  nc = await nats.connect();
});
test.after.always(async () => {
  await nc?.close();
  await manager?.close();
  await managerNc?.close();
  await nats?.destroy();
});

const malformed: [string, string, string][] = [
  ['not JSON', proxyCallSubject('acquire', 'p'), 'this is not json'],
  [
    'a content id that is not 40 hex',
    proxyCallSubject('acquire', 'p'),
    '{"content":{"kind":"id","value":"xyz"},"proxyId":"p"}',
  ],
  [
    'an unknown content kind',
    proxyCallSubject('acquire', 'p'),
    `{"content":{"kind":"url","value":"${'a'.repeat(40)}"},"proxyId":"p"}`,
  ],
  ['no proxy id', proxyCallSubject('acquire', 'p'), `{"content":{"kind":"id","value":"${'a'.repeat(40)}"}}`],
  ['a release without claim id', proxyCallSubject('release', 'p'), '{"engineId":"e1"}'],
  ['a release of a proxy without all: true', proxyCallSubject('release', 'p'), '{"proxyId":"p","all":false}'],
];

for (const [what, subject, payload] of malformed) {
  test(`manager - ${what} gets a service error with code invalid_message`, async (t) => {
    const msg = await nc.request(subject, payload, { timeout: 5000 });
    t.is(msg.headers?.get('Nats-Service-Error-Code'), '400');
    t.regex(msg.headers?.get('Nats-Service-Error') ?? '', /^invalid_message: /);
    const body = msg.json<{ error: { code: string; message: string } }>();
    t.is(body.error.code, 'invalid_message');
  });
}

test('manager - releasing a claim it does not know is answered, not an error', async (t) => {
  const msg = await nc.request(proxyCallSubject('release', 'p'), '{"engineId":"nope","claimId":"nope"}', {
    timeout: 5000,
  });
  t.is(msg.headers?.get('Nats-Service-Error-Code'), undefined);
  t.deepEqual(msg.json(), { released: false, count: 0 });
});

// Found by the bus fuzz (npm run fuzz): an engine id that cannot be a bucket key answered `internal`.
test('manager - a drain or remove of an engine id no bucket key can have is not_found, not internal', async (t) => {
  for (const [subject, body] of [
    [Subjects.engineDrain, { engineId: '\u0000\ud800\u202e' }],
    [Subjects.engineRemove, { engineId: 'a b', force: true }],
    [Subjects.engineDrain, { engineId: '.hidden' }],
  ] as const) {
    const msg = await nc.request(subject, JSON.stringify(body), { timeout: 5000 });
    t.is(
      msg.json<{ error: { code: string } }>().error.code,
      'not_found',
      `${subject} ${JSON.stringify(body)}`,
    );
  }
});
