import test from 'ava';
import { ConfigError } from '@acefleet/platform';
import { legacyConfigOf } from '@acefleet/testkit';
import { acexyEnv } from '../src/acexy-env.ts';
import { checkProxyConfig, ProxyConfig } from '../src/config.ts';

const configOf = legacyConfigOf(ProxyConfig, acexyEnv);

test("acexy - the environment of Acexy's compose file configures the proxy", (t) => {
  const config = configOf({
    ACEXY_LISTEN_ADDR: ':8080',
    ACEXY_SCHEME: 'http',
    ACEXY_HOST: 'acestream',
    ACEXY_PORT: '6878',
    ACEXY_M3U8_STREAM_TIMEOUT: '60s',
    ACEXY_M3U8: 'false',
    ACEXY_EMPTY_TIMEOUT: '1m',
    ACEXY_BUFFER_SIZE: '4.2MiB',
    ACEXY_NO_RESPONSE_TIMEOUT: '1m30s',
    ACEXY_LOG_LEVEL: 'DEBUG',
  });
  t.like(config, {
    httpHost: '0.0.0.0',
    httpPort: 8080,
    staticEngines: 'http://acestream:6878',
    hlsIdleMs: 60_000,
    emptyTimeoutMs: 60_000,
    ringBytes: 4_404_019,
    firstByteTimeoutMs: 90_000,
    logLevel: 'debug',
  });
});

test('acexy - the stall detector fires before a short Acexy empty timeout, so the proxy still starts', (t) => {
  const short = configOf({ ACEXY_EMPTY_TIMEOUT: '3s' });
  t.like(short, { emptyTimeoutMs: 3_000, stallFailoverMs: 1_500 });
  t.notThrows(() => checkProxyConfig(short));
  t.like(configOf({ ACEXY_EMPTY_TIMEOUT: '1m' }), { emptyTimeoutMs: 60_000, stallFailoverMs: 4_000 });
  t.like(
    configOf({ ACEXY_EMPTY_TIMEOUT: '3s', STALL_FAILOVER_MS: '0' }),
    { stallFailoverMs: 0 },
    'explicit wins',
  );
});

test('acexy - listen addresses and engine addresses in the forms Go accepts', (t) => {
  t.like(configOf({ ACEXY_LISTEN_ADDR: '[::1]:9000' }), { httpHost: '::1', httpPort: 9000 });
  t.like(configOf({ ACEXY_LISTEN_ADDR: '0.0.0.0:0' }), { httpHost: '0.0.0.0', httpPort: 0 });
  t.is(
    configOf({ ACEXY_SCHEME: 'https' }).staticEngines,
    'https://localhost:6878',
    "Acexy's defaults fill in",
  );
  t.is(configOf({ ACEXY_HOST: '::1', ACEXY_PORT: '7000' }).staticEngines, 'http://[::1]:7000');
});

test('acexy - explicit acefleet variables win over Acexy ones', (t) => {
  const config = configOf({
    ACEXY_LISTEN_ADDR: ':8080',
    HTTP_PORT: '9090',
    ACEXY_HOST: 'a',
    STATIC_ENGINES: 'http://b:1',
  });
  t.like(config, { httpHost: '0.0.0.0', httpPort: 9090, staticEngines: 'http://b:1' });
});

test('acexy - each unreadable Acexy value is named', (t) => {
  const err = t.throws(
    () =>
      configOf({ ACEXY_LISTEN_ADDR: '8080', ACEXY_SCHEME: 'ftp', ACEXY_BUFFER_SIZE: 'big', ACEXY_PORT: 'x' }),
    { instanceOf: ConfigError },
  );
  for (const name of ['ACEXY_LISTEN_ADDR ("8080")', 'ACEXY_SCHEME ("ftp")', 'ACEXY_BUFFER_SIZE ("big")']) {
    t.true(err.message.includes(name), name);
  }
});
