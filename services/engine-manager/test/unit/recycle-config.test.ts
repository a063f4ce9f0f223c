import test from 'ava';
import { loadConfig } from '@acefleet/platform';
import { ManagerConfig } from '../../src/config.ts';

// Issue 21 (bad input): a log, retention or age setting that is zero, negative or absurd, and a PUBLIC_URL that
// is not http(s), are refused at start with a message naming the setting (the service exits with code 2).

const cases: [string, string[]][] = [
  ['ENGINE_MAX_AGE_MS', ['0', '-1', '99999999999999']],
  ['ENGINE_CACHE_MB', ['0', '-16', '9999999']],
  ['ENGINE_USAGE_CHECK_MS', ['0']],
  ['LOG_REPEAT_WINDOW_MS', ['-1']],
  ['PUBLIC_URL', ['ftp://manager.example.com']],
];

test('config - zero, negative or absurd retention, age and log settings are refused, naming the setting', (t) => {
  for (const [name, values] of cases) {
    for (const value of values) {
      t.throws(
        () => loadConfig(ManagerConfig, { [name]: value }),
        { message: new RegExp(`\\b${name} \\(`) },
        `${name}=${value}`,
      );
    }
  }
  t.is(loadConfig(ManagerConfig, {}).engineMaxAgeMs, 24 * 3600_000);
  t.is(loadConfig(ManagerConfig, {}).minFreeReplicas, 1, 'a warm engine by default');
});
