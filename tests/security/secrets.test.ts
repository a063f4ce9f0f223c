import test from 'ava';
import { Subjects } from '@acefleet/contracts';
import {
  collectEvents,
  Player,
  putEngineRecord,
  readyEngine,
  startGluetunSim,
  startStack,
  waitFor,
} from '@acefleet/testkit';
import { call } from './helpers.ts';

const CONTENT = 'c1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SECRET = 's3cret';
/** Nothing listens on port 1 (tcpmux) here; a port from freePort could be handed to a service meanwhile. */
const CLOSED = 1;

/** Open a stream that cannot play; resolves with the status and whole body the player received. */
/**
 * A failed start answers its error status only if it fails before the proxy sends a waiting player its head
 * (WAIT_HEAD_MS); on a loaded machine the failing start can take longer, so the head is held back here.
 */
const WAIT_FOR_STATUS = { WAIT_HEAD_MS: '10000' };

async function failedPlay(proxyUrl: string): Promise<{ status: number; body: string }> {
  const player = await Player.open(`${proxyUrl}/ace/getstream?id=${CONTENT}`);
  await player.closed;
  return { status: player.status, body: player.head.toString() };
}

test('Gluetun credentials in GLUETUN_CONTROL_URL reach no reply, metric or log line', async (t) => {
  const stack = await startStack({
    services: ['manager', 'proxy'],
    env: {
      manager: {
        GLUETUN_CONTROL_URL: `http://user:${SECRET}@127.0.0.1:${CLOSED}`,
        GLUETUN_API_KEY: `key-${SECRET}`,
        GLUETUN_POLL_INTERVAL_MS: '200',
      },
      proxy: WAIT_FOR_STATUS,
    },
  });
  t.teardown(() => stack.stop());
  const manager = stack.services.manager!;
  const proxy = stack.services.proxy!;

  const played = await failedPlay(stack.proxyUrl());
  t.is(played.status, 503, played.body);
  t.regex(played.body, /"code":"[a-z_]+"/);
  const status = await call(`${manager.url}/api/status`);
  t.is(status.json.vpn.up, false);
  t.regex(status.json.vpn.reason, /gluetun control server unreachable/);
  const views = [
    played.body,
    status.text,
    (await call(`${manager.url}/metrics`)).text,
    (await call(`${proxy.url}/metrics`)).text,
    (await call(`${manager.url}/api/engines`)).text,
  ];
  for (const view of views) t.false(view.includes(SECRET), view.slice(0, 300));
  t.regex(manager.output(), /engine manager started/);
  t.false(manager.output().includes(SECRET), 'manager log');
  t.false(proxy.output().includes(SECRET), 'proxy log');
});

test('an engine address with credentials reaches no reply, event, metric or log line', async (t) => {
  const baseUrl = `http://user:${SECRET}@127.0.0.1:${CLOSED}`;
  const stack = await startStack({
    services: ['proxy'],
    env: { proxy: { ...WAIT_FOR_STATUS, STATIC_ENGINES: baseUrl } },
  });
  t.teardown(() => stack.stop());
  const nc = await stack.nats.connect();
  t.teardown(() => nc.close());
  const health = await collectEvents<{ detail: string }>(nc, Subjects.engineHealth);
  t.teardown(() => health.stop());
  await putEngineRecord(nc, readyEngine('engine-with-credentials', baseUrl));
  const monitor = await stack.start('monitor');
  const proxy = stack.services.proxy!;

  const played = await failedPlay(stack.proxyUrl());
  t.true(played.status >= 500, `${played.status} ${played.body}`);
  await waitFor(() => health.events.length > 0, 15_000);
  t.regex(health.events[0]!.data.detail, /get_status/);
  const views = [
    played.body,
    JSON.stringify(health.events),
    (await call(`${monitor.url}/api/health`)).text,
    (await call(`${monitor.url}/metrics`)).text,
    (await call(`${proxy.url}/api/streams`)).text,
    (await call(`${proxy.url}/metrics`)).text,
  ];
  for (const view of views) t.false(view.includes(SECRET), view.slice(0, 300));
  t.false(monitor.output().includes(SECRET), 'monitor log');
  t.false(proxy.output().includes(SECRET), 'proxy log');
});

test('a Gluetun that wants an API key is reached with GLUETUN_API_KEY and reported refused without', async (t) => {
  const apiKey = `gk-${SECRET}-${Math.random().toString(36).slice(2)}`;
  const gluetun = await startGluetunSim({ forwardedPort: 0, apiKey });
  t.teardown(() => gluetun.close());
  const env = { GLUETUN_CONTROL_URL: gluetun.url, GLUETUN_POLL_INTERVAL_MS: '200' };
  const stack = await startStack({ services: [] });
  t.teardown(() => stack.stop());
  const vpnOf = async (url: string): Promise<{ up: boolean; reason?: string }> => {
    const { json } = await call(`${url}/api/status`);
    return { up: json.vpn.up === true, reason: String(json.vpn.reason ?? '') };
  };

  const keyed = await stack.start('manager', { ...env, GLUETUN_API_KEY: apiKey });
  await waitFor(async () => (await vpnOf(keyed.url)).up, 10_000);
  t.false(keyed.output().includes(apiKey), 'the key is never logged');
  await keyed.stop();

  const keyless = await stack.start('manager', env);
  const vpn = await waitFor(async () => {
    const v = await vpnOf(keyless.url);
    return v.reason !== 'not checked yet' && v;
  }, 10_000);
  t.false(vpn.up, 'without the key the tunnel counts as down');
  t.regex(vpn.reason ?? '', /refused by Gluetun \(HTTP 401\)/);
});
