import test from 'ava';
import http from 'node:http';
import net from 'node:net';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  metric,
  waitFor,
  type ServiceProcess,
  randomContentId,
  publishStreamEvent,
  streamStarted,
} from '@acefleet/testkit';
import { startStatsWorld, type StatsWorld } from './helpers.ts';

let world: StatsWorld;
let nc: NatsConnection;
let stats: ServiceProcess;

test.before(async () => {
  world = await startStatsWorld({ LIVE_MAX_CLIENTS: '3', LIVE_MAX_BACKLOG_BYTES: String(64 * 1024) });
  ({ nc, stats } = world);
});
test.after.always(async () => {
  await world?.close();
});

/** A dashboard that reads the feed and counts the bytes it got. */
interface Follower {
  status: number;
  bytes(): number;
  closed: boolean;
  close(): void;
}

function follow(): Promise<Follower> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${stats.url}/api/live`, { agent: false }, (res) => {
      let bytes = 0;
      const follower: Follower = {
        status: res.statusCode ?? 0,
        bytes: () => bytes,
        closed: false,
        close: () => req.destroy(),
      };
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('close', () => (follower.closed = true));
      resolve(follower);
    });
    req.on('error', reject);
  });
}

async function liveClients(): Promise<number> {
  const text = await fetch(`${stats.url}/metrics`).then((r) => r.text());
  return metric(text, 'acefleet_stats_live_clients');
}

test.serial(
  'stats - the live feed over its client cap answers 503 too_many_live_clients with Retry-After',
  async (t) => {
    const followers = await Promise.all([0, 1, 2].map(() => follow()));
    t.teardown(() => followers.forEach((f) => f.close()));
    t.deepEqual(
      followers.map((f) => f.status),
      [200, 200, 200],
    );
    const res = await fetch(`${stats.url}/api/live`, { signal: AbortSignal.timeout(10_000) });
    t.is(res.status, 503);
    t.truthy(res.headers.get('retry-after'));
    t.like(await res.json(), { error: { code: 'too_many_live_clients' } });

    followers[0]!.close();
    const admitted = await waitFor(async () => {
      const next = await follow();
      if (next.status === 200) followers.push(next);
      else next.close();
      return next.status === 200;
    }, 10_000);
    t.true(admitted, 'a place frees when a dashboard leaves');
  },
);

test.serial('stats - a live client that never reads is dropped; a reading one keeps its feed', async (t) => {
  await waitFor(async () => (await liveClients()) === 0, 10_000);
  const reader = await follow();
  t.teardown(() => reader.close());
  const { hostname, port } = new URL(stats.url);
  // A real connection that asks for the feed and then never reads a byte.
  const stuck = net.connect(Number(port), hostname, () => {
    stuck.write(`GET /api/live HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    stuck.pause();
  });
  t.teardown(() => stuck.destroy());
  await waitFor(async () => (await liveClients()) === 2, 10_000);

  let published = 0;
  while ((await liveClients()) === 2) {
    if (published >= 50_000) return t.fail(`still following after ${published} events`);
    await Promise.all(
      Array.from({ length: 200 }, () => publishStreamEvent(nc, streamStarted(randomContentId()))),
    );
    published += 200;
  }
  t.is(await liveClients(), 1, 'only the stuck client was dropped');
  t.false(reader.closed);
  await waitFor(() => reader.bytes() > published * 100, 20_000);
  t.true(stats.output().includes('dropping a live client that does not read'));
  t.log(`dropped after ${published} events`);
});
