// A failed start is tried again on another engine, and engine-manager is told which engine failed (issue #9).
// Real processes: nats-server, engine-manager running ace-sim engines as child processes (this checkout's
// simulator, with its badBody fault), and the proxy.
import test from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  Subjects,
  type AcquireRequest,
  type ErrorBody,
  type ListReply,
  type StreamEnded,
  proxyCallSubject,
  streamEventsOf,
} from '@acefleet/contracts';
import { Player, startStack, storedEvents, waitFor, type Stack } from '@acefleet/testkit';

let stack: Stack;
let nc: NatsConnection;
const acquires: AcquireRequest[] = [];

test.before(async () => {
  stack = await startStack({
    services: ['manager', 'proxy'],
    env: {
      manager: {
        ENGINE_RUNTIME: 'process',
        MIN_REPLICAS: '1',
        MAX_REPLICAS: '2',
        REMOVE_ENGINES_ON_EXIT: 'true',
      },
      // The engine failed in one test would otherwise be kept from the next (engine-cooldown.test.ts).
      // WAIT_HEAD_MS: the failure must come before the response head, however busy the machine (a head sent
      // at the default 500 ms would turn the 502 into a 200 whose body ends).
      proxy: { FIRST_BYTE_TIMEOUT_MS: '5000', ENGINE_COOLDOWN_MS: '0', WAIT_HEAD_MS: '10000' },
    },
  });
  nc = await stack.nats.connect();
  // A plain subscriber sees every acquire the proxy sends, beside the manager's queue group.
  nc.subscribe(proxyCallSubject('acquire', '*'), {
    callback: (_err, msg) => void acquires.push(msg.json<AcquireRequest>()),
  });
});
test.after.always(async () => {
  await nc?.close();
  await stack?.stop();
});

async function engines(): Promise<ListReply['engines']> {
  return (await nc.request(Subjects.engineList, '{}', { timeout: 5000 })).json<ListReply>().engines;
}

async function setFaults(baseUrl: string, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${baseUrl}/__sim/faults`, { method: 'PUT', body: JSON.stringify(faults) });
  if (!res.ok) throw new Error(`fault refused: ${await res.text()}`);
}

test.serial(
  'proxy - a start on an engine serving bad media is retried on another engine, and the manager is told which failed',
  async (t) => {
    t.timeout(90_000);
    const [bad] = await waitFor(async () => {
      const ready = (await engines()).filter((e) => e.state === 'ready');
      return ready.length === 1 ? ready : false;
    }, 45_000);
    await setFaults(bad!.baseUrl, { badBody: 'mkv' });
    const id = 'e'.repeat(40);
    const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${id}`, 0);
    t.teardown(() => player.close());
    t.is(player.status, 200);
    await waitFor(() => player.bytes > 100_000, 20_000);
    t.log(`first byte after ${player.timeToFirstByteMs?.toFixed(0)} ms`);
    const told = acquires.find((a) => a.content.value === id && a.failedEngineId !== undefined);
    t.like(told, { failedEngineId: bad!.id, failureReason: 'bad_media' });
    t.deepEqual(told?.excludeEngineIds, [bad!.id]);
    const records = await engines();
    const playing = records.find((e) => e.claims.some((c) => c.contentKey.endsWith(id)));
    t.truthy(playing, 'the stream holds a claim');
    t.not(playing?.id, bad!.id, 'on another engine');
    t.deepEqual(records.find((e) => e.id === bad!.id)?.claims, [], 'the failed engine was given back');
  },
);

test.serial(
  'proxy - when every engine serves bad media the player gets 502 bad_media and every claim is released',
  async (t) => {
    t.timeout(90_000);
    const all = await waitFor(async () => {
      const list = await engines();
      return list.length === 2 && list.every((e) => e.state === 'ready' && e.claims.length === 0)
        ? list
        : false;
    }, 30_000);
    await Promise.all(all.map((e) => setFaults(e.baseUrl, { badBody: 'html' })));
    const id = '9'.repeat(40);
    const t0 = performance.now();
    const res = await fetch(`${stack.proxyUrl()}/ace/getstream?id=${id}`, {
      signal: AbortSignal.timeout(45_000),
    });
    t.log(`answered after ${(performance.now() - t0).toFixed(0)} ms`);
    t.is(res.status, 502);
    t.like((await res.json()) as ErrorBody, { error: { code: 'bad_media' } });
    const tried = acquires.filter((a) => a.content.value === id);
    t.is(tried.length, 3, 'the first attempt and two retries');
    const ended = await waitFor(async () => {
      const events = await storedEvents<StreamEnded>(stack.nats, streamEventsOf('ended'));
      return events.find((e) => e.data.content.value === id)?.data ?? false;
    }, 10_000);
    t.is(ended.reason, 'bad_media');
    await waitFor(async () => (await engines()).every((e) => e.claims.length === 0), 10_000);
    const streams = (await (await fetch(`${stack.proxyUrl()}/api/streams`)).json()) as { streams: unknown[] };
    t.deepEqual(streams.streams, []);
  },
);
