import test from 'ava';
import {
  ConfigError,
  legacyValues,
  mapLegacyEnv,
  parseGoDuration,
  parseHumanBytes,
  renamed,
  type LegacyRule,
} from '@acefleet/platform';

test('Go durations read as time.ParseDuration does, in milliseconds', (t) => {
  const cases: [string, number][] = [
    ['1m', 60_000],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h2m3s', 3_723_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['250ms', 250],
    ['1500us', 2],
    ['2000000ns', 2],
    ['1µs', 0],
    ['0', 0],
    ['+2s', 2000],
  ];
  for (const [text, ms] of cases) t.is(parseGoDuration(text), ms, text);
});

test('what Go would refuse, or a negative duration, is not a duration', (t) => {
  for (const text of ['', '30', '1x', 's', '1m 30s', '-1s', '1.2.3s', '1S', 'ms']) {
    t.is(parseGoDuration(text), undefined, text);
  }
});

test('humanized sizes read as go-humanize ParseBytes does: SI for kB/MB, IEC for KiB/MiB', (t) => {
  const cases: [string, number][] = [
    ['4.2MiB', 4_404_019],
    ['5MB', 5_000_000],
    ['4MB', 4_000_000],
    ['4mb', 4_000_000],
    ['4 MiB', 4_194_304],
    ['4194304', 4_194_304],
    ['512KiB', 524_288],
    ['512k', 512_000],
    ['2Mi', 2_097_152],
    ['1,000kB', 1_000_000],
    ['1GB', 1_000_000_000],
    ['100B', 100],
  ];
  for (const [text, bytes] of cases) t.is(parseHumanBytes(text), bytes, text);
});

test('what go-humanize would refuse is not a size', (t) => {
  for (const text of ['', 'MB', '-5MB', '5XB', '5 M B', 'lots']) t.is(parseHumanBytes(text), undefined, text);
});

const listen: LegacyRule = {
  from: ['OLD_ADDR'],
  to: ['NEW_HOST', 'NEW_PORT'],
  convert: (v) => {
    const [host, port] = (v.OLD_ADDR ?? '').split(':');
    return { NEW_HOST: host ?? '', NEW_PORT: port ?? '' };
  },
};
const rules = [listen, renamed('OLD_TIMEOUT', 'NEW_TIMEOUT_MS', legacyValues.goDurationMs)];

test('legacy variables become acefleet ones, each noted once without its value', (t) => {
  const { env, notes } = mapLegacyEnv({ OLD_ADDR: 'h:1', OLD_TIMEOUT: '1m30s', OTHER: 'x' }, rules);
  t.like(env, { NEW_HOST: 'h', NEW_PORT: '1', NEW_TIMEOUT_MS: '90000', OTHER: 'x', OLD_ADDR: 'h:1' });
  t.deepEqual(notes, ['read OLD_ADDR as NEW_HOST, NEW_PORT', 'read OLD_TIMEOUT as NEW_TIMEOUT_MS']);
});

test('an explicit acefleet variable wins over the legacy one', (t) => {
  const { env, notes } = mapLegacyEnv(
    { OLD_ADDR: 'h:1', NEW_PORT: '2', OLD_TIMEOUT: '1s', NEW_TIMEOUT_MS: '5' },
    rules,
  );
  t.like(env, { NEW_HOST: 'h', NEW_PORT: '2', NEW_TIMEOUT_MS: '5' });
  t.deepEqual(notes, ['read OLD_ADDR as NEW_HOST', 'ignored OLD_TIMEOUT: NEW_TIMEOUT_MS already set']);
});

test('unset and empty legacy variables change nothing', (t) => {
  const { env, notes } = mapLegacyEnv({ OLD_TIMEOUT: '' }, rules);
  t.deepEqual(env, { OLD_TIMEOUT: '' });
  t.deepEqual(notes, []);
});

test('a legacy value that cannot be read is a config error naming the variable', (t) => {
  const err = t.throws(() => mapLegacyEnv({ OLD_TIMEOUT: '90' }, rules), { instanceOf: ConfigError });
  t.regex(err.message, /OLD_TIMEOUT \("90"\): expected a Go duration/);
});
