import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import type { StreamEnded } from '@acefleet/contracts';
import { Player, storedEvents, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  const { url } = await sim.listen();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    ENGINE_START_TIMEOUT_MS: '500',
    FIRST_BYTE_TIMEOUT_MS: '500',
    // Above the proxy's FLOWING_MS (1 s) plus the gap between audio PES (360 ms in ace-sim's channel): below
    // it, a whole stream going silent can be taken for audio_frozen when its audio happened to stop first.
    EMPTY_TIMEOUT_MS: '2500',
    STALL_FAILOVER_MS: '2000',
    FAILOVER_DEADLINE_MS: '0',
    // Waiting players get their error status here: their head is not sent early (waiting-start covers that).
    WAIT_HEAD_MS: '10000',
  });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

async function endReason(id: string): Promise<string> {
  const ended = await waitFor(async () => {
    const events = await storedEvents<StreamEnded>(proxy.nats, 'acefleet.events.stream.ended');
    return events.find((e) => e.data.content.value === id) ?? false;
  }, 5000);
  return ended.data.reason;
}

test('proxy - an engine slow to answer the start gives 504 engine_timeout', async (t) => {
  const id = 'b'.repeat(40);
  sim.faults.setContent(id, { startDelayMs: 3000 });
  const res = await fetch(`${proxy.url}/ace/getstream?id=${id}`);
  t.is(res.status, 504);
  t.like(await res.json(), { error: { code: 'engine_timeout' } });
  t.is(await endReason(id), 'engine_timeout');
});

test('proxy - no first media byte in time gives 504 and ends with first_byte_timeout', async (t) => {
  const id = 'c'.repeat(40);
  sim.faults.setContent(id, { firstByteDelayMs: 3000 });
  const res = await fetch(`${proxy.url}/ace/getstream?id=${id}`);
  t.is(res.status, 504);
  t.like(await res.json(), { error: { code: 'engine_timeout' } });
  t.is(await endReason(id), 'first_byte_timeout');
});

test('proxy - an upstream that goes silent ends every client cleanly with empty_timeout', async (t) => {
  const id = 'd'.repeat(40);
  sim.faults.setContent(id, { stallAfterMs: 300 });
  const players = await Promise.all([0, 1].map(() => Player.open(`${proxy.url}/ace/getstream?id=${id}`)));
  await Promise.all(players.map((p) => p.closed));
  for (const p of players) t.true(p.ended, 'a clean end of body');
  t.is(await endReason(id), 'empty_timeout');
});

test('proxy - an upstream that ends early ends every client cleanly with engine_eof', async (t) => {
  const id = 'e'.repeat(40);
  sim.faults.setContent(id, { eofAfterMs: 300 });
  const p = await Player.open(`${proxy.url}/ace/getstream?id=${id}`);
  await p.closed;
  t.true(p.ended);
  t.true(p.bytes > 0);
  t.is(await endReason(id), 'engine_eof');
});
