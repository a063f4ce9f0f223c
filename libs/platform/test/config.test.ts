import test from 'ava';
import { Type } from '@sinclair/typebox';
import { ConfigError, envNameOf, loadConfig } from '../src/config/config.ts';

const Schema = Type.Object({
  natsUrl: Type.String({ default: 'nats://127.0.0.1:4222' }),
  healthIntervalMs: Type.Integer({ default: 5000, minimum: 100 }),
  publicRead: Type.Boolean({ default: false }),
  logLevel: Type.Union([Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
  hostId: Type.String({ minLength: 1 }),
});

test('config - every variable name is the key in upper snake case', (t) => {
  t.is(envNameOf('natsUrl'), 'NATS_URL');
  t.is(envNameOf('healthIntervalMs'), 'HEALTH_INTERVAL_MS');
  t.is(envNameOf('p2pPortRangeStart'), 'P2P_PORT_RANGE_START');
  t.is(envNameOf('maxStreamsPerClient'), 'MAX_STREAMS_PER_CLIENT');
  t.is(envNameOf('port'), 'PORT');
});

test('config - unset and empty variables take the defaults', (t) => {
  const config = loadConfig(Schema, { HOST_ID: 'h1', NATS_URL: '' });
  t.deepEqual(
    { ...config },
    {
      natsUrl: 'nats://127.0.0.1:4222',
      healthIntervalMs: 5000,
      publicRead: false,
      logLevel: 'info',
      hostId: 'h1',
    },
  );
});

test('config - values are converted to the schema’s types', (t) => {
  const config = loadConfig(Schema, {
    HOST_ID: 'h1',
    HEALTH_INTERVAL_MS: '250',
    PUBLIC_READ: 'true',
    LOG_LEVEL: 'debug',
  });
  t.is(config.healthIntervalMs, 250);
  t.is(config.publicRead, true);
  t.is(config.logLevel, 'debug');
});

test('config - variables that are not in the schema are ignored', (t) => {
  const config = loadConfig(Schema, { HOST_ID: 'h1', PATH: '/usr/bin', HEALTHINTERVALMS: '1' });
  t.false('path' in config);
  t.is(config.healthIntervalMs, 5000);
});

test('config - the result is frozen', (t) => {
  const config = loadConfig(Schema, { HOST_ID: 'h1' });
  t.true(Object.isFrozen(config));
  t.throws(() => {
    (config as { hostId: string }).hostId = 'other';
  });
});

test('config - every bad value is reported at once, by variable name and given value', (t) => {
  const err = t.throws(
    () =>
      loadConfig(Schema, {
        HEALTH_INTERVAL_MS: 'soon',
        LOG_LEVEL: 'loud',
      }),
    { instanceOf: ConfigError },
  );
  t.is(err.name, 'ConfigError');
  t.regex(err.message, /HEALTH_INTERVAL_MS \("soon"\)/);
  t.regex(err.message, /LOG_LEVEL \("loud"\)/);
  t.regex(err.message, /HOST_ID \(unset\)/, 'a missing required value says it is unset');
});

test('config - a number below its minimum is refused', (t) => {
  const err = t.throws(() => loadConfig(Schema, { HOST_ID: 'h1', HEALTH_INTERVAL_MS: '10' }), {
    instanceOf: ConfigError,
  });
  t.regex(err.message, /HEALTH_INTERVAL_MS \("?10"?\): .*100/);
  t.notRegex(err.message, /HOST_ID/);
});

test('loadConfig - a bad secret is named, never quoted', (t) => {
  const schema = Type.Object({ apiKey: Type.String({ pattern: '^[a-z]*$' }) });
  const err = t.throws(() => loadConfig(schema, { API_KEY: 'Secret!Value' }));
  t.regex(String(err?.message), /API_KEY \(value hidden\)/);
  t.false(String(err?.message).includes('Secret!Value'));
});
