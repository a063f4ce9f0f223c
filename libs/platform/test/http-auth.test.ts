import test from 'ava';
import { bearerOf, hostAllowed, isLoopbackHost, secretsEqual } from '@acefleet/platform';

// Different lengths must not throw (timingSafeEqual does on unequal buffers): both sides are digested first.
test('secretsEqual - equal keys match, different ones do not, whatever their lengths', (t) => {
  t.true(secretsEqual('k3y-of-some-length', 'k3y-of-some-length'));
  t.false(secretsEqual('k3y-of-some-length', 'k3y-of-some-lengtH'));
  t.false(secretsEqual('short', 'a much longer key than the other one'));
  t.false(secretsEqual('', 'key'));
});

const loopback = ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'];
const exposed = ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.org', '128.0.0.1', '::ffff:10.0.0.1'];
test('isLoopbackHost - only 127.0.0.0/8, ::1 and localhost count as loopback', (t) => {
  for (const h of loopback) t.true(isLoopbackHost(h), h);
  for (const h of exposed) t.false(isLoopbackHost(h), h);
});

// RFC 6750 2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 9110 11.1).
test('bearerOf - takes exactly one b64token after the scheme and one or more spaces', (t) => {
  for (const [header, key] of [
    ['Bearer abc-._~+/9==', 'abc-._~+/9=='],
    ['bearer abc', 'abc'],
    ['BEARER  abc', 'abc'],
  ] as const)
    t.is(bearerOf(header), key, header);
  for (const header of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearerabc',
    'Bearer\tabc',
    'Bearer abc def',
    'Bearer "abc"',
    'Bearer abc,realm=x',
    'Bearer =abc',
    'Bearer ab=c',
    'Basic abc',
    'Bearer a\nb',
  ])
    t.is(bearerOf(header), undefined, JSON.stringify(header));
});

test('hostAllowed - IP literals, localhost and the configured names, with or without a port', (t) => {
  const names = new Set(['fleet.lan']);
  for (const host of [
    '127.0.0.1',
    '127.0.0.1:8080',
    '[::1]:8080',
    '[::1]',
    '192.168.1.5:80',
    'localhost',
    'LocalHost:1',
    'fleet.lan',
    'FLEET.lan:8083',
    undefined,
  ])
    t.true(hostAllowed(host, names), String(host));
  for (const host of [
    'attacker.example',
    'fleet.lan.attacker.example',
    'localhost.attacker.example',
    '127.0.0.1.nip.io',
    'lan',
  ])
    t.false(hostAllowed(host, names), host);
});
