import test from 'ava';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Type } from '@sinclair/typebox';
import {
  CHANNELS_BUCKET,
  ENGINES_KV_STREAM,
  EVENTS_STREAM,
  LEADERS_KV_STREAM,
  NatsUsers,
  SAMPLES_STREAM,
  TOKENS_KV_STREAM,
  ObservabilitySubjects,
} from '@acefleet/contracts';
import { openChannelsKv } from '@acefleet/channels';
import { openTokensKv } from '@acefleet/player-tokens';
import {
  applyJetStreamBounds,
  CommonConfig,
  createLogger,
  defaultJetStreamBounds,
  ensureJetStream,
  loadConfig,
  openLeadersKv,
} from '@acefleet/platform';
import { startNatsServer } from '@acefleet/testkit';

// Issue 21: the events stream kept 7 days with no byte bound, the buckets had none, and the samples (one per
// stream every 5 s) shared the events' 7 days.

const Common = Type.Object(CommonConfig);
const log = createLogger('bounds-test', 'silent');
const HOUR_NS = 3600e9;

test('jetstream - every stream and bucket is made with a byte bound; samples are kept hours, events days', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.destroy());
  const nc = await nats.connect(NatsUsers.engineManager);
  t.teardown(() => nc.close());
  await ensureJetStream(nc, 1, defaultJetStreamBounds);
  await openLeadersKv(nc);
  const operator = await nats.connect();
  t.teardown(() => operator.close());
  await openChannelsKv(operator);
  await openTokensKv(operator);
  const jsm = await jetstreamManager(operator);
  const configs = new Map<string, { max_bytes: number; max_age: number }>();
  for await (const info of jsm.streams.list()) configs.set(info.config.name, info.config);
  t.deepEqual(
    [...configs.keys()].sort(),
    [
      EVENTS_STREAM,
      SAMPLES_STREAM,
      `KV_${CHANNELS_BUCKET}`,
      ENGINES_KV_STREAM,
      LEADERS_KV_STREAM,
      TOKENS_KV_STREAM,
    ].sort(),
  );
  for (const [name, config] of configs) t.true(config.max_bytes > 0, `${name} has a byte bound`);
  t.is(configs.get(EVENTS_STREAM)!.max_age, 7 * 24 * HOUR_NS);
  t.true(configs.get(SAMPLES_STREAM)!.max_age <= 24 * HOUR_NS, 'samples kept 24 h at most by default');
  // A sample lands in the samples stream, not among the lifecycle events.
  const ack = await jetstream(operator).publish(ObservabilitySubjects.streamStats, '{}');
  t.is(ack.stream, SAMPLES_STREAM);
});

test('jetstream - engine-manager holds streams made without bounds (an older version) to the settings', async (t) => {
  const nats = await startNatsServer();
  t.teardown(() => nats.destroy());
  const operator = await nats.connect();
  t.teardown(() => operator.close());
  const jsm = await jetstreamManager(operator);
  // As the previous version made it: 7 days, no byte bound.
  await jsm.streams.add({
    name: EVENTS_STREAM,
    subjects: ['acefleet.events.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 7 * 24 * HOUR_NS,
  });
  const manager = await nats.connect(NatsUsers.engineManager);
  t.teardown(() => manager.close());
  const bounds = { ...defaultJetStreamBounds, eventsMaxBytes: 8 * 1024 * 1024, eventsMaxAgeMs: 2 * 3600_000 };
  await ensureJetStream(manager, 1, bounds);
  await applyJetStreamBounds(manager, bounds, log);
  const events = (await jsm.streams.info(EVENTS_STREAM)).config;
  t.is(events.max_bytes, 8 * 1024 * 1024);
  t.is(events.max_age, 2 * HOUR_NS);
  t.is((await jsm.streams.info(ENGINES_KV_STREAM)).config.max_bytes, bounds.kvMaxBytes);
});

test('config - a retention or size of JetStream that is zero, negative or absurd is refused, naming it', (t) => {
  for (const [name, value] of [
    ['EVENTS_MAX_AGE_MS', '0'],
    ['EVENTS_MAX_BYTES', '-1'],
    ['SAMPLES_MAX_AGE_MS', '99999999999999'],
    ['SAMPLES_MAX_BYTES', '10'],
    ['KV_MAX_BYTES', 'lots'],
    ['LOG_REPEAT_WINDOW_MS', '0'],
  ]) {
    t.throws(() => loadConfig(Common, { [name!]: value }), { message: new RegExp(`${name} \\(`) }, name);
  }
});
