import test from 'ava';
import { AcefleetError } from '@acefleet/contracts';
import { CircuitBreaker } from '../../src/runtime/breaker.ts';
import { ProvisionLimiter } from '../../src/runtime/limiter.ts';

const fail = () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
const ok = () => Promise.resolve('ok');

test('breaker - opens after consecutive failures, refuses with the recovery ETA, a half-open trial closes it', async (t) => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 3, recoveryMs: 10_000 }, () => now);
  for (let i = 0; i < 2; i++) await t.throwsAsync(breaker.run(fail));
  t.is(breaker.state, 'closed');
  await t.throwsAsync(breaker.run(fail));
  t.is(breaker.state, 'open');
  now = 4000;
  const refused = await t.throwsAsync(breaker.run(ok), { instanceOf: AcefleetError });
  t.is(refused.code, 'runtime_unavailable');
  t.is(refused.retryAfterMs, 6000);
  t.like(breaker.snapshot(), { state: 'open', consecutiveFailures: 3, retryAfterMs: 6000 });
  now = 10_000;
  t.is(breaker.state, 'half_open');
  t.is(await breaker.run(ok), 'ok');
  t.is(breaker.state, 'closed');
});

test('breaker - a failed half-open trial opens it for another recovery period', async (t) => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 1, recoveryMs: 1000 }, () => now);
  await t.throwsAsync(breaker.run(fail));
  now = 1000;
  await t.throwsAsync(breaker.run(fail), { message: /ENOENT/ });
  t.is(breaker.state, 'open');
  t.is(breaker.retryAfterMs(), 1000);
});

test('limiter - provisioning beyond the rate is refused with the time to the next slot', (t) => {
  let now = 0;
  const limiter = new ProvisionLimiter({ concurrency: 1, ratePerMinute: 6, burst: 2 }, () => now);
  limiter.takeToken();
  limiter.takeToken();
  const err = t.throws(() => limiter.takeToken(), { instanceOf: AcefleetError });
  t.is(err.code, 'capacity_exhausted');
  t.is(err.retryAfterMs, 10_000);
  now = 10_000;
  t.notThrows(() => limiter.takeToken());
});

test('limiter - at most `concurrency` starts run at once', async (t) => {
  const limiter = new ProvisionLimiter({ concurrency: 2, ratePerMinute: 60, burst: 10 });
  let running = 0;
  let peak = 0;
  const start = () =>
    limiter.run(async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    });
  await Promise.all(Array.from({ length: 6 }, start));
  t.is(peak, 2);
});
