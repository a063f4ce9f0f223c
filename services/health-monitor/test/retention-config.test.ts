import test from 'ava';
import { loadConfig } from '@acefleet/platform';
import { MonitorConfig } from '../src/config.ts';

// Issue 21 (bad input): a log, retention or age setting that is zero, negative or absurd, and a PUBLIC_URL that
// is not http(s), are refused at start with a message naming the setting (the service exits with code 2).

const cases: [string, string[]][] = [
  ['SAMPLES_MAX_AGE_MS', ['0', '99999999999999']],
  ['SAMPLES_MAX_BYTES', ['0', '-1']],
  ['PUBLIC_URL', ['file:///etc/passwd']],
];

test('config - zero, negative or absurd retention, age and log settings are refused, naming the setting', (t) => {
  for (const [name, values] of cases) {
    for (const value of values) {
      t.throws(
        () => loadConfig(MonitorConfig, { [name]: value }),
        { message: new RegExp(`\\b${name} \\(`) },
        `${name}=${value}`,
      );
    }
  }
  t.true(loadConfig(MonitorConfig, {}).samplesMaxAgeMs <= 24 * 3600_000, 'samples kept 24 h at most');
});
