import test from 'ava';
import { startSocketRelay, waitFor } from '@acefleet/testkit';
import { acquire, acquireError, isolatedManager, status } from '../helpers.ts';

test('manager - Docker made unavailable opens the breaker (503 + retry hint, status ETA) and it recovers', async (t) => {
  t.timeout(60_000);
  const relay = await startSocketRelay('/var/run/docker.sock');
  t.teardown(() => relay.close());
  const m = await isolatedManager(t, {
    DOCKER_SOCKET: relay.path,
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_RECOVERY_MS: '2000',
    MAX_REPLICAS: '3',
  });
  relay.setAvailable(false);
  for (let i = 0; i < 2; i++) {
    const err = await acquireError(m.client, i);
    t.is(err.code, 'runtime_unavailable');
  }
  const open = await status(m.client, m.hostId);
  t.is(open.breaker.state, 'open');
  t.false(open.canProvision);
  t.true((open.breaker.retryAfterMs ?? 0) > 0 && (open.breaker.retryAfterMs ?? 0) <= 2000);
  const tries = relay.connections();
  const refused = await acquireError(m.client, 3);
  t.is(relay.connections(), tries, 'refused at once, no call to Docker');
  t.is(refused.code, 'runtime_unavailable');
  t.true((refused.retryAfterMs ?? 0) > 0, 'carries the recovery ETA');
  t.regex(refused.message, /circuit breaker open/);

  relay.setAvailable(true);
  const recovered = Date.now();
  await waitFor(async () => (await status(m.client, m.hostId)).breaker.state === 'closed', 10_000);
  t.log(`breaker closed ${Date.now() - recovered} ms after Docker came back`);
  const claim = await acquire(m.client, 4);
  t.is(claim.engine.state, 'ready');
});
