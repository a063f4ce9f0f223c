import test from 'ava';
import { ConfigError, loadConfig } from '@acefleet/platform';
import { ProxyConfig, checkProxyConfig } from '../../src/config.ts';

const configOf = (env: Record<string, string>): ProxyConfig => loadConfig(ProxyConfig, env);

test('proxy config - the stall limit must be below the empty timeout', (t) => {
  t.notThrows(() => checkProxyConfig(configOf({})), 'the defaults (4 s, 20 s) agree');
  const err = t.throws(() => checkProxyConfig(configOf({ EMPTY_TIMEOUT_MS: '3000' })), {
    instanceOf: ConfigError,
  });
  t.regex(err.message, /STALL_FAILOVER_MS \(4000\) must be below EMPTY_TIMEOUT_MS \(3000\)/);
  t.throws(() => checkProxyConfig(configOf({ STALL_FAILOVER_MS: '5000', EMPTY_TIMEOUT_MS: '5000' })), {
    instanceOf: ConfigError,
  });
});

test('proxy config - a stall limit of 0 turns the stall detector off, whatever the empty timeout', (t) => {
  t.notThrows(() => checkProxyConfig(configOf({ STALL_FAILOVER_MS: '0', EMPTY_TIMEOUT_MS: '500' })));
});

test('proxy config - PUBLIC_URL, TRUSTED_PROXIES, HDHR_DEVICE_ID and PLAYER_AUTH are checked, each named', (t) => {
  t.notThrows(() =>
    checkProxyConfig(
      configOf({
        PUBLIC_URL: 'https://tv.example.com/',
        TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,::1,fd00::/8',
        HDHR_DEVICE_ID: '12345674',
      }),
    ),
  );
  const bad = (env: Record<string, string>, message: RegExp): void => {
    const err = t.throws(() => checkProxyConfig(configOf(env)), { instanceOf: ConfigError });
    t.regex(err.message, message);
  };
  bad({ PUBLIC_URL: 'tv.example.com' }, /PUBLIC_URL \("tv.example.com"\): an http\(s\) URL/);
  bad({ PUBLIC_URL: 'https://user:pw@tv.example.com' }, /without query or credentials/);
  bad(
    { TRUSTED_PROXIES: '10.0.0.0/33,proxy.lan' },
    /TRUSTED_PROXIES: not an address or CIDR: "10.0.0.0\/33", "proxy.lan"/,
  );
  bad(
    { HDHR_DEVICE_ID: '12345678' },
    /HDHR_DEVICE_ID \("12345678"\): its last hex digit is not the check digit/,
  );
  t.throws(() => configOf({ PLAYER_AUTH: 'sometimes' }), { instanceOf: ConfigError, message: /PLAYER_AUTH/ });
});
