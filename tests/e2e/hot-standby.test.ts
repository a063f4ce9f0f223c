import test from 'ava';
import {
  AcquireReply,
  Subjects,
  proxyCallSubject,
  proxyIdOf,
  proxyUserOf,
  type ListReply,
  type ProxyStreamsReply,
  type StreamMoved,
} from '@acefleet/contracts';
import { requestJson } from '@acefleet/platform';
import { Player, startStack, storedEvents, waitFor, type Stack } from '@acefleet/testkit';

/**
 * Issue 20: a hot standby through the whole stack. The proxy asks the manager for a standby claim, the
 * manager places it on another engine (marked `standby`), and when the playing engine is removed at once
 * (its container gone) the stream switches to the standby with its player connected, and claims that engine
 * as a stream's from then on.
 */
async function request<T>(stack: Stack, subject: string, body: unknown): Promise<T> {
  const nc = await stack.nats.connect();
  try {
    return (await nc.request(subject, JSON.stringify(body), { timeout: 20_000 })).json<T>();
  } finally {
    await nc.close();
  }
}

const engines = async (stack: Stack): Promise<ListReply['engines']> =>
  (await request<ListReply>(stack, Subjects.engineList, {})).engines;

const firstStream = async (stack: Stack): Promise<ProxyStreamsReply['streams'][number] | undefined> =>
  ((await (await fetch(`${stack.proxyUrl()}/api/streams`)).json()) as ProxyStreamsReply).streams[0];

test('proxy - with HOT_STANDBY_VIEWERS=1 the manager places a standby claim, and it takes over a removed engine', async (t) => {
  t.timeout(120_000);
  const stack = await startStack({
    env: { manager: { MIN_REPLICAS: '2' }, proxy: { HOT_STANDBY_VIEWERS: '1', RENEW_INTERVAL_MS: '1000' } },
  });
  t.teardown(() => stack.stop());
  await waitFor(async () => (await engines(stack)).filter((e) => e.state === 'ready').length >= 2, 60_000);
  const id = '5b'.repeat(20);
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${id}`, 0);
  await waitFor(() => player.bytes > 200_000, 30_000);
  const stream = async (): Promise<ProxyStreamsReply['streams'][number] | undefined> =>
    ((await (await fetch(`${stack.proxyUrl()}/api/streams`)).json()) as ProxyStreamsReply).streams[0];
  const before = await waitFor(async () => {
    const s = await stream();
    return s?.standbyEngineId ? s : false;
  }, 30_000);
  t.not(before.standbyEngineId, before.engineId);
  const standbyClaim = (await engines(stack))
    .find((e) => e.id === before.standbyEngineId)
    ?.claims.find((c) => c.claimId === before.standbyClaimId);
  t.is(standbyClaim?.standby, true, 'the manager holds the standby claim as one');
  // A few seconds for the standby to hold a key frame, then its engine goes at once.
  await waitFor(async () => player.bytes > 600_000, 30_000);
  player.resetGaps();
  await request(stack, Subjects.engineRemove, { engineId: before.engineId, force: true });
  const after = await waitFor(async () => {
    const s = await stream();
    return s && s.engineId === before.standbyEngineId && s.state === 'playing' ? s : false;
  }, 20_000);
  const bytes = player.bytes;
  await waitFor(() => player.bytes > bytes + 300_000, 20_000);
  t.log(`longest gap through the removal: ${player.longestGapMs.toFixed(0)} ms`);
  t.false(player.ended, 'the player kept its connection');
  t.true(player.longestGapMs <= 1000, `longest gap ${player.longestGapMs.toFixed(0)} ms`);
  // The engine the standby was on holds the stream's claim now, as a stream's.
  await waitFor(async () => {
    const claim = (await engines(stack))
      .find((e) => e.id === after.engineId)
      ?.claims.find((c) => c.claimId === after.claimId);
    return claim !== undefined && claim.standby !== true;
  }, 20_000);
  player.close();
});

test('proxy - a stream that switches onto a standby whose room the manager just gave to another channel moves to an engine with room, make-before-break, instead of playing unclaimed', async (t) => {
  t.timeout(180_000);
  // One stream per engine, and renewals far apart: the proxy does not learn that its standby claim was given
  // up before the switch (the race the chaos run met as a claim missing).
  const stack = await startStack({
    env: {
      manager: { MIN_REPLICAS: '2', MAX_REPLICAS: '3', MIN_FREE_REPLICAS: '0', MAX_STREAMS_PER_ENGINE: '1' },
      proxy: { HOT_STANDBY_VIEWERS: '1', RENEW_INTERVAL_MS: '60000' },
    },
  });
  t.teardown(() => stack.stop());
  await waitFor(async () => (await engines(stack)).filter((e) => e.state === 'ready').length >= 2, 60_000);
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${'6d'.repeat(20)}`, 0);
  t.teardown(() => player.close());
  const before = await waitFor(async () => {
    const s = await firstStream(stack);
    return s?.standbyEngineId && s.engineId ? { ...s, standbyEngineId: s.standbyEngineId } : false;
  }, 30_000);
  // The standby holds a key frame a few seconds in.
  await waitFor(() => player.bytes > 800_000, 30_000);

  // Another proxy's new channel: the only room is the standby's, which the manager gives up for it.
  const other = proxyUserOf(1);
  const nc = await stack.nats.connect(other);
  t.teardown(() => nc.close());
  const body = { content: { kind: 'id', value: '6e'.repeat(20) }, proxyId: proxyIdOf(other, 'race') };
  const granted = await requestJson(nc, proxyCallSubject('acquire', other), body, AcquireReply, 60_000);
  t.is(granted.engine.id, before.standbyEngineId, "the new channel took the standby claim's room");

  // The playing engine goes at once: the stream switches onto the standby, whose engine is now full.
  player.resetGaps();
  await request(stack, Subjects.engineRemove, { engineId: before.engineId, force: true });
  const after = await waitFor(async () => {
    const s = await firstStream(stack);
    const moved = s?.engineId !== before.engineId && s?.engineId !== before.standbyEngineId;
    return s && moved && s.state === 'playing' ? s : false;
  }, 60_000);
  // It holds a stream's claim on the engine it plays on, and no engine holds more claims than its room.
  await waitFor(async () => {
    const fleet = await engines(stack);
    const claim = fleet.find((e) => e.id === after.engineId)?.claims.find((c) => c.claimId === after.claimId);
    return claim !== undefined && claim.standby !== true && fleet.every((e) => e.claims.length <= e.capacity);
  }, 20_000);
  const moves = await storedEvents<StreamMoved>(stack.nats, 'acefleet.events.stream.moved.>');
  t.true(
    moves.some((m) => m.data.streamId === after.streamId && m.data.reason === 'no_room'),
    'the move off the full engine is published as no_room',
  );
  const bytes = player.bytes;
  await waitFor(() => player.bytes > bytes + 300_000, 20_000);
  t.log(`longest gap through the switch and the move: ${player.longestGapMs.toFixed(0)} ms`);
  t.false(player.ended, 'the player kept its connection');
  t.true(player.longestGapMs <= 2000, `longest gap ${player.longestGapMs.toFixed(0)} ms`);
});
