import test from 'ava';
import { startGluetunSim, waitFor } from '@acefleet/testkit';
import { isolatedManager } from './helpers.ts';

test('manager - GET /api/vpn and GET /api/status follow the tunnel: up with its port, then down with why', async (t) => {
  t.timeout(60_000);
  const gluetun = await startGluetunSim({ forwardedPort: 51_413 });
  t.teardown(() => gluetun.close());
  const m = await isolatedManager(t, {
    GLUETUN_CONTROL_URL: gluetun.url,
    GLUETUN_POLL_INTERVAL_MS: '200',
  });
  const get = async (url: string) => (await m.manager.http.inject({ url })).json();

  t.deepEqual(await get('/api/vpn'), { enabled: true, up: true, forwardedPort: 51_413 });
  t.true((await get('/api/status')).canProvision);

  gluetun.setTunnelUp(false);
  const down = await waitFor(async () => {
    const vpn = await get('/api/vpn');
    return vpn.up === false ? vpn : false;
  }, 10_000);
  t.regex(down.reason, /no public IP/);
  const status = await get('/api/status');
  t.false(status.canProvision);
  t.regex(status.reason, /^VPN down: tunnel down/);
  t.is(status.vpn.up, false);
});
