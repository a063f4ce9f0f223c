import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  CHANNELS_BUCKET,
  NatsUsers,
  TOKENS_BUCKET,
  playerEventSubject,
  proxyIdOf,
  proxyUserOf,
  type NatsUser,
} from '@acefleet/contracts';
import { openChannelsKv } from '@acefleet/channels';
import { openTokensKv } from '@acefleet/player-tokens';
import { ensureEventsStream } from '@acefleet/platform';
import { startNatsServer, waitFor, type NatsServer } from '@acefleet/testkit';

let nats: NatsServer;
const clients = new Map<NatsUser, NatsConnection>();

test.before(async () => {
  nats = await startNatsServer();
  for (const user of Object.values(NatsUsers)) clients.set(user, await nats.connect(user));
  // The buckets and the events stream exist, as the first proxy makes them.
  await ensureEventsStream(as(NatsUsers.edgeProxy));
  await openChannelsKv(as(NatsUsers.edgeProxy));
  await openTokensKv(as(NatsUsers.edgeProxy));
});
test.after.always(async () => {
  for (const nc of clients.values()) await nc.close();
  await nats?.destroy();
});

function as(user: NatsUser): NatsConnection {
  return clients.get(user)!;
}

async function denied(t: ExecutionContext, attempt: Promise<unknown>, what: string): Promise<void> {
  const err = await t.throwsAsync(attempt, undefined, what);
  t.regex(String(err?.message), /Permissions Violation/, what);
}

const bucket = async (user: NatsUser, name: string) => new Kvm(as(user)).open(name);

test('nats - the proxy reads and writes channels and player tokens, and publishes player sessions', async (t) => {
  const channels = await bucket(NatsUsers.edgeProxy, CHANNELS_BUCKET);
  await channels.put('ch.id.probe', '{}');
  t.truthy(await channels.get('ch.id.probe'));
  const tokens = await bucket(NatsUsers.edgeProxy, TOKENS_BUCKET);
  await tokens.put('probe', '{}');
  await tokens.delete('probe');
  const own = playerEventSubject('started', proxyIdOf(NatsUsers.edgeProxy, 'run'));
  const ack = await jetstream(as(NatsUsers.edgeProxy)).publish(own, '{}');
  t.true(ack.seq > 0, 'the events stream keeps its player session');
  await denied(
    t,
    jetstream(as(NatsUsers.edgeProxy)).publish(
      playerEventSubject('started', proxyIdOf(proxyUserOf(1), 'run')),
      '{}',
    ),
    "a proxy publishes a player session in another proxy's name",
  );
  await denied(t, jetstream(as(NatsUsers.stats)).publish(own, '{}'), 'stats publishes a player session');
});

test('nats - stats reads channel names but cannot change them, and cannot see player tokens', async (t) => {
  const channels = await bucket(NatsUsers.stats, CHANNELS_BUCKET);
  t.is(await channels.get('ch.id.none'), null, 'stats reads the channels bucket');
  await denied(t, channels.put('ch.id.forged', '{}'), 'stats writes a channel');
  await denied(
    t,
    bucket(NatsUsers.stats, TOKENS_BUCKET).then((kv) => kv.get('any')),
    'stats reads tokens',
  );
});

test('nats - the manager and the monitor touch neither bucket; no service may delete one', async (t) => {
  for (const user of [NatsUsers.engineManager, NatsUsers.healthMonitor]) {
    for (const name of [CHANNELS_BUCKET, TOKENS_BUCKET]) {
      await denied(
        t,
        bucket(user, name).then((kv) => kv.get('x')),
        `${user} reads ${name}`,
      );
    }
    // A plain publish onto a key's subject is dropped by the server (and logged as a violation).
    as(user).publish(`$KV.${TOKENS_BUCKET}.forged-by-${user}`, '{}');
    await as(user).flush();
  }
  await waitFor(
    async () => (await readFile(nats.logFile, 'utf8')).includes(`$KV.${TOKENS_BUCKET}.forged-by-`),
    5000,
  );
  const tokens = await bucket(NatsUsers.operator, TOKENS_BUCKET);
  for (const user of [NatsUsers.engineManager, NatsUsers.healthMonitor]) {
    t.is(await tokens.get(`forged-by-${user}`), null, `${user} wrote no token`);
  }
  for (const user of [NatsUsers.edgeProxy, NatsUsers.stats]) {
    const jsm = await jetstreamManager(as(user));
    for (const name of [CHANNELS_BUCKET, TOKENS_BUCKET]) {
      await denied(t, jsm.streams.delete(`KV_${name}`), `${user} deletes ${name}`);
    }
  }
});
