import test from 'ava';
import { isLoopbackHost, secretsEqual } from '@acefleet/platform';

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
