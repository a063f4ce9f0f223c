import test from 'ava';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { Type } from '@sinclair/typebox';
import {
  ENGINES_BUCKET,
  ENGINES_KV_STREAM,
  EVENTS_STREAM,
  NatsUsers,
  type NatsUser,
  streamEventSubject,
  proxyIdOf,
} from '@acefleet/contracts';
import {
  CommonConfig,
  EventPublisher,
  applyJetStreamReplicas,
  connectNats,
  createLogger,
  ensureJetStream,
  loadConfig,
  openEnginesKv,
} from '@acefleet/platform';
import {
  portBlock,
  startAcefleetService,
  startNatsCluster,
  streamStarted,
  waitFor,
  type NatsCluster,
} from '@acefleet/testkit';

const log = createLogger('nats-cluster-test', 'silent');

/** A client the way a service makes one: its config read from the environment, NATS_URL listing every node. */
async function serviceClient(cluster: NatsCluster, user: NatsUser, replicas: number) {
  const config = loadConfig(Type.Object(CommonConfig), {
    ...cluster.env(user),
    JS_REPLICAS: String(replicas),
  });
  const nc = await connectNats(config.natsUrl, user, log, {
    user: config.natsUser,
    password: config.natsPassword,
  });
  return { nc, config };
}

/** Publish `count` stream.started events through the real outbox, as proxy `edge-proxy`; their stream ids, in order. */
function publishEvents(publisher: EventPublisher, prefix: string, count: number): string[] {
  const proxyId = proxyIdOf(NatsUsers.edgeProxy, 'cluster-test');
  return Array.from({ length: count }, (_, i) => {
    const event = streamStarted(`${prefix}-${i}`, { proxyId });
    publisher.publish(streamEventSubject('started', proxyId), event, `started-${event.streamId}`);
    return event.streamId;
  });
}

/**
 * The stream ids stored in the events stream, in order, read back message by message (retried while `nc`
 * rides a reconnect or the stream elects a leader).
 */
function storedStreamIds(nc: NatsConnection): Promise<string[]> {
  return waitFor(() => readStreamIds(nc), 30_000, 250);
}

async function readStreamIds(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(EVENTS_STREAM);
  const ids: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (!msg) throw new Error(`message ${seq} missing`);
    ids.push(msg.json<{ streamId: string }>().streamId);
  }
  return ids;
}

/** Whether the stream has its two followers on a three-node cluster, both caught up with the leader. */
function allReplicasCurrent(info: StreamInfo): boolean {
  return info.cluster?.replicas?.length === 2 && info.cluster.replicas.every((r) => r.current);
}

/** Move the events stream's leadership (operator step-downs) until it sits on the node `nc` is connected to. */
async function leadEventsFrom(cluster: NatsCluster, operator: NatsConnection, nc: NatsConnection) {
  return waitFor(
    async () => {
      const leader = await cluster.leaderOf(EVENTS_STREAM);
      if (leader.name === nc.info?.server_name) return leader;
      await operator.request(`$JS.API.STREAM.LEADER.STEPDOWN.${EVENTS_STREAM}`, undefined, { timeout: 5000 });
      return false;
    },
    60_000,
    500,
  );
}

test('nats cluster - with JS_REPLICAS=3, killing the node that leads the events stream loses no event, the bucket still works and clients reconnect to another node', async (t) => {
  t.timeout(120_000);
  const cluster = await startNatsCluster({ size: 3 });
  t.teardown(() => cluster.destroy());
  const operator = await cluster.connect();
  t.teardown(() => operator.close());

  // What engine-manager does on connect: the boot step every service runs, then its own resize step.
  const manager = await serviceClient(cluster, NatsUsers.engineManager, 3);
  t.teardown(() => manager.nc.close());
  t.is(manager.config.natsUrl.split(',').length, 3, 'NATS_URL lists the three nodes');
  await ensureJetStream(manager.nc, manager.config.jsReplicas);
  await applyJetStreamReplicas(manager.nc, manager.config.jsReplicas, log);
  const jsm = await jetstreamManager(operator);
  for (const stream of [EVENTS_STREAM, ENGINES_KV_STREAM]) {
    t.is((await jsm.streams.info(stream)).config.num_replicas, 3, `${stream} has three replicas`);
  }
  const kv = await openEnginesKv(manager.nc);
  await kv.put('engine-before', 'ready');

  const proxy = await serviceClient(cluster, NatsUsers.edgeProxy, 3);
  t.teardown(() => proxy.nc.close());
  const publisher = new EventPublisher(proxy.nc, log, { retryMs: 200, timeoutMs: 2000 });
  const before = publishEvents(publisher, 'before', 30);
  t.is(await publisher.drain(20_000), 0, 'events before the kill are stored');

  const leader = await leadEventsFrom(cluster, operator, proxy.nc);
  t.log(`events stream led by ${leader.name}, which the proxy client is connected to: killing it`);
  await leader.stop();
  const killedAt = Date.now();
  const after = publishEvents(publisher, 'after', 30);
  t.is(await publisher.drain(30_000), 0, 'events published after the kill are stored within 30 s');
  t.log(`all events stored ${Date.now() - killedAt} ms after the kill`);

  const newLeader = await waitFor(() => cluster.leaderOf(EVENTS_STREAM), 30_000, 250);
  t.not(newLeader.name, leader.name, 'another node leads the events stream');
  t.deepEqual(await storedStreamIds(operator), [...before, ...after], 'every event stored once, in order');
  t.not(proxy.nc.info?.server_name, leader.name, 'the proxy client reconnected to another node');

  t.is((await kv.get('engine-before'))?.string(), 'ready', 'the bucket still reads what was written before');
  await waitFor(() => kv.put('engine-after', 'ready').then(() => true), 30_000, 250);
  const proxyKv = await new Kvm(proxy.nc).open(ENGINES_BUCKET);
  t.is((await proxyKv.get('engine-after'))?.string(), 'ready', 'and takes writes, which other clients read');

  await leader.start();
  await cluster.ready();
  const caughtUp = await waitFor(
    async () => allReplicasCurrent(await jsm.streams.info(EVENTS_STREAM)),
    30_000,
    250,
  );
  t.true(caughtUp, 'the killed node rejoins on the same ports and catches up');
});

test('nats cluster - engine-manager with JS_REPLICAS=3 grows streams made with one replica to three in place, keeping their messages', async (t) => {
  t.timeout(120_000);
  const cluster = await startNatsCluster({ size: 3 });
  t.teardown(() => cluster.destroy());
  const operator = await cluster.connect();
  t.teardown(() => operator.close());

  const small = await serviceClient(cluster, NatsUsers.engineManager, 1);
  t.teardown(() => small.nc.close());
  await ensureJetStream(small.nc, small.config.jsReplicas);
  // engine-manager may not publish stream events: the operator stands in for a proxy here.
  const publisher = new EventPublisher(operator, log);
  const sent = publishEvents(publisher, 'single', 10);
  t.is(await publisher.drain(20_000), 0);

  const jsm = await jetstreamManager(operator);
  const proxy = await serviceClient(cluster, NatsUsers.edgeProxy, 3);
  t.teardown(() => proxy.nc.close());
  await ensureJetStream(proxy.nc, proxy.config.jsReplicas);
  t.is(
    (await jsm.streams.info(EVENTS_STREAM)).config.num_replicas,
    1,
    'the boot step leaves an existing stream alone',
  );

  // The real engine-manager process, on the cluster with JS_REPLICAS=3, resizes both streams when it connects.
  const ports = portBlock();
  const manager = await startAcefleetService('manager', {
    ...cluster.env(NatsUsers.engineManager),
    JS_REPLICAS: '3',
    HOST_ID: 'cluster-test',
    ENGINE_RUNTIME: 'process',
    MIN_REPLICAS: '0',
    MIN_FREE_REPLICAS: '0',
    HTTP_PORT_RANGE_START: String(ports.start),
    HTTP_PORT_RANGE_END: String(ports.end),
    P2P_PORT_RANGE_START: String(ports.p2pStart),
  });
  t.teardown(() => manager.stop());

  for (const stream of [EVENTS_STREAM, ENGINES_KV_STREAM]) {
    const info = await waitFor(
      async () => {
        const i = await jsm.streams.info(stream);
        return allReplicasCurrent(i) && i;
      },
      30_000,
      250,
    );
    t.is(info.config.num_replicas, 3, `${stream} has three replicas, all current`);
  }
  t.deepEqual(await storedStreamIds(operator), sent, 'the messages are kept');

  // The copies are real: the stream outlives the node that led it when it had one replica.
  const leader = await cluster.leaderOf(EVENTS_STREAM);
  await leader.stop();
  await waitFor(() => cluster.leaderOf(EVENTS_STREAM), 30_000, 250);
  t.deepEqual(await storedStreamIds(operator), sent, 'and survive the loss of the node that led the stream');
});
