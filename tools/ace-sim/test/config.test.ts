import test from 'ava';
import { ConfigError, parseConfig } from '../src/config.ts';

test('config defaults to the engine port on loopback', (t) => {
  t.like(parseConfig([], {}), { httpPort: 6878, host: '127.0.0.1', startupDelayMs: 0 });
});

test('config takes the real engine flags and ignores the ones it does not simulate', (t) => {
  const c = parseConfig(
    [
      '--client-console',
      '--bind-all',
      '--live-cache-type',
      'memory',
      '--http-port',
      '7001',
      '--port',
      '8621',
    ],
    {},
  );
  t.like(c, { httpPort: 7001, host: '0.0.0.0', sim: { p2pPort: 8621 } });
});

test('config reads ACESTREAM_ARGS and HTTP_PORT, command-line flags win', (t) => {
  const env = { ACESTREAM_ARGS: '--client-console --http-port 7002 --https-port 7003', HTTP_PORT: '7000' };
  t.is(parseConfig([], env).httpPort, 7002);
  t.is(parseConfig(['--http-port=7004'], env).httpPort, 7004);
  t.is(parseConfig([], { HTTP_PORT: '7005', ALLOW_REMOTE_ACCESS: 'yes' }).host, '0.0.0.0');
});

test('config reads simulation settings and fault defaults from ACE_SIM_* and --fault', (t) => {
  const c = parseConfig(['--fault', 'offline', '--fault=stallAfterMs=1500', '--startup-delay-ms', '300'], {
    ACE_SIM_BITRATE_BPS: '2000000',
    ACE_SIM_BURST_SECONDS: '4',
    ACE_SIM_MEDIA: '/m.ts',
    ACE_SIM_FAULT_START_DELAY_MS: '2500',
    ACE_SIM_FAULT_HANG_HEALTH: 'true',
  });
  t.like(c, { startupDelayMs: 300, sim: { bitrateBps: 2_000_000, burstSeconds: 4, mediaPath: '/m.ts' } });
  t.deepEqual(c.sim.faults, { startDelayMs: 2500, hangHealth: true, offline: true, stallAfterMs: 1500 });
});

test('config refuses bad values with a message naming the field', (t) => {
  t.throws(() => parseConfig(['--http-port', 'x'], {}), { instanceOf: ConfigError, message: /http port/ });
  t.throws(() => parseConfig(['--http-port'], {}), { message: /needs a value/ });
  t.throws(() => parseConfig(['--fault', 'nope=1'], {}), { message: /unknown fault nope/ });
  t.throws(() => parseConfig([], { ACE_SIM_FAULT_PEERS: '-1' }), { message: /peers/ });
});
