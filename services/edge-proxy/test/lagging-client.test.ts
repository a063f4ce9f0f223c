import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import { Player, metric, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

let sim: Simulator;
let proxy: ProxyUnderTest;

test.before(async () => {
  // A fast stream and a small window, so a short pause leaves the client behind the window.
  sim = buildSimulator({ bitrateBps: 40_000_000, burstSeconds: 0 });
  const { url } = await sim.listen();
  proxy = await startProxy({
    STATIC_ENGINES: url,
    RING_BYTES: String(1024 * 1024),
    MAX_CLIENT_BACKLOG_BYTES: String(256 * 1024),
    SLOW_CLIENT_TIMEOUT_MS: '30000',
  });
});
test.after.always(async () => {
  await proxy?.close();
  await sim?.close();
});

test('proxy - a client that falls out of the window jumps to the live edge on a packet boundary', async (t) => {
  const url = `${proxy.url}/ace/getstream?id=3333333333333333333333333333333333333333`;
  const lagging = await Player.open(url, 0);
  await waitFor(() => lagging.bytes > 1_000_000, 5_000);
  lagging.pause();
  // Paused until the stream has run past it: the proxy counts the jump to the live edge.
  await waitFor(async () => {
    const text = await (await fetch(`${proxy.url}/metrics`)).text();
    return metric(text, 'acefleet_proxy_slow_client_skips_total') >= 1;
  }, 15_000);
  lagging.resume();
  const viewer = [...proxy.proxy.hub.all()[0]!.viewers][0]!;
  t.is(viewer.pos % 188, 0, 'resumed on a packet boundary');
  const after = lagging.bytes;
  await waitFor(() => lagging.bytes > after + 2_000_000, 5_000);
  t.false(lagging.ended, 'still connected');
  lagging.close();
});
