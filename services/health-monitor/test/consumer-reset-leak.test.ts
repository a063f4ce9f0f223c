import test from 'ava';
import { EventEmitter } from 'node:events';
import { NatsUsers } from '@acefleet/contracts';
import { createLogger, ensureEventsStream } from '@acefleet/platform';
import { publishStreamEvent, startNatsServer, streamStarted, waitFor } from '@acefleet/testkit';
import { ActiveStreams } from '../src/active-streams.ts';

// Soak finding (bench/results/soak.md, health-monitor's memory): every run of a stream-events follower hung its
// abort listener on the one signal its supervisor had for life, so each nats-server restart (which resets all
// four consumers) kept the four closed consumers, about 5 kB each, and past ten restarts Node would have warned
// of a leak. That warning pins it here, at more than one abort listener on a signal instead of more than ten.
test('health-monitor - a nats-server restart leaves nothing of the reset consumers behind', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === 'MaxListenersExceededWarning' && w.message.includes('abort listeners'))
      warnings.push(w.message);
  };
  process.on('warning', onWarning);
  const maxListeners = EventEmitter.defaultMaxListeners;
  EventEmitter.defaultMaxListeners = 1;
  const nats = await startNatsServer();
  const reconnecting = { maxReconnectAttempts: -1, reconnectTimeWait: 200 };
  const proxy = await nats.connect(NatsUsers.operator, reconnecting);
  const nc = await nats.connect(NatsUsers.healthMonitor, reconnecting);
  const streams = new ActiveStreams(nc, createLogger('consumer-reset-test', 'silent'), 60_000);
  t.teardown(async () => {
    await streams.stop();
    await nc.close();
    await proxy.close();
    await nats.destroy();
    EventEmitter.defaultMaxListeners = maxListeners;
    process.off('warning', onWarning);
  });
  await ensureEventsStream(proxy);
  streams.start();
  const followed = (id: string): boolean => streams.all().some((s) => s.streamId === id);

  await publishStreamEvent(proxy, streamStarted('before-restart'));
  await waitFor(() => followed('before-restart'), 10_000);
  await nats.stop();
  await nats.start();
  const after = streamStarted('after-restart');
  await waitFor(
    () =>
      publishStreamEvent(proxy, after).then(
        () => true,
        () => false,
      ),
    30_000,
    200,
  );
  // Seen only by a new run of the stream.started follower: the reset one has ended by then.
  await waitFor(() => followed('after-restart'), 30_000);
  t.deepEqual(warnings, []);
});
