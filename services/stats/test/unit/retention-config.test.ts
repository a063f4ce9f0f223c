import test from 'ava';
import { loadConfig } from '@acefleet/platform';
import { StatsConfig } from '../../src/config.ts';

// Issue 21 (bad input): a log, retention or age setting that is zero, negative or absurd, and a PUBLIC_URL that
// is not http(s), are refused at start with a message naming the setting (the service exits with code 2).

const cases: [string, string[]][] = [
  ['STATS_RETENTION_DAYS', ['0', '-1', '100000', 'forever']],
  ['SAMPLE_RETENTION_MS', ['0', '-5', '99999999999999']],
  ['EVENT_RETENTION_MS', ['0', '1e20']],
  ['COMPACT_INTERVAL_MS', ['0', '99999999999999']],
  ['EVENTS_MAX_AGE_MS', ['0']],
  ['PUBLIC_URL', ['ftp://stats.example.com', 'stats.example.com', 'http://u:p@h:1']],
];

test('config - zero, negative or absurd retention, age and log settings are refused, naming the setting', (t) => {
  for (const [name, values] of cases) {
    for (const value of values) {
      t.throws(
        () => loadConfig(StatsConfig, { [name]: value }),
        { message: new RegExp(`\\b${name} \\(`) },
        `${name}=${value}`,
      );
    }
  }
  t.is(loadConfig(StatsConfig, {}).statsRetentionDays, 90);
});
