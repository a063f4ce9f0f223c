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
