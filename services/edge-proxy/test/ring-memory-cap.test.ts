import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Player, waitFor } from '@acefleet/testkit';
import { startProxy } from './helpers.ts';

let sim: Simulator;
let engineUrl: string;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 1 });
  engineUrl = (await sim.listen()).url;
});
test.after.always(async () => {
  await sim?.close();
});

const idOf = (i: number): string => i.toString(16).padStart(40, 'c');

test('proxy - at its ring memory cap a new stream gets 503 ring_memory_full with Retry-After; playing streams go on', async (t) => {
  const proxy = await startProxy({
    STATIC_ENGINES: engineUrl,
    RING_BYTES: String(256 * 1024),
    MAX_RING_MEMORY_BYTES: String(1024 * 1024),
  });
  t.teardown(() => proxy.close());
  const playing: Player[] = [];
  t.teardown(() => playing.forEach((p) => p.close()));
  let refused: Player | undefined;
  for (let i = 1; i <= 12 && !refused; i++) {
    const player = await Player.open(`${proxy.url}/ace/getstream?id=${idOf(i)}`, 4096);
    if (player.status !== 200) refused = player;
    else {
      playing.push(player);
      // Past the ring's capacity: its ring holds all it may.
      await waitFor(() => player.bytes > 400_000, 20_000);
    }
  }
  if (!refused) return t.fail('no stream was refused within 12');
  const answer = refused;
  await waitFor(() => answer.ended, 5000);
  refused.close();
  t.is(refused.status, 503);
  t.is(refused.headers['retry-after'], '5');
  t.is((JSON.parse(refused.head.toString()) as { error: { code: string } }).error.code, 'ring_memory_full');
  t.true(playing.length >= 2, `${playing.length} streams fit in 1 MiB of 256 KiB rings`);

  const before = playing.map((p) => p.bytes);
  await waitFor(() => playing.every((p, i) => p.bytes > before[i]! + 100_000), 10_000);
  t.pass('the streams that play go on');

  for (const p of playing.splice(0)) p.close();
  await waitFor(() => proxy.proxy.hub.all().length === 0, 10_000);
  const again = await Player.open(`${proxy.url}/ace/getstream?id=${idOf(99)}`, 0);
  t.teardown(() => again.close());
  t.is(again.status, 200, 'ended streams gave their ring memory back');
});
