import test from 'ava';
import type { StatusReply, VpnReply } from '@acefleet/contracts';
import { startGluetunSim, waitFor } from '@acefleet/testkit';
import { isolatedManager } from '../helpers.ts';

test('manager - GET /api/vpn and GET /api/status follow the tunnel: up with its port, then down with why', async (t) => {
  t.timeout(60_000);
  const gluetun = await startGluetunSim({ forwardedPort: 51_413 });
  t.teardown(() => gluetun.close());
  const m = await isolatedManager(t, {
    GLUETUN_CONTROL_URL: gluetun.url,
    GLUETUN_POLL_INTERVAL_MS: '200',
  });
  const get = async <T>(url: string): Promise<T> => (await m.manager.http.inject({ url })).json<T>();
  const vpn = () => get<VpnReply>('/api/vpn');
  const status = () => get<StatusReply>('/api/status');

  t.deepEqual(await vpn(), { enabled: true, up: true, forwardedPort: 51_413 });
  t.true((await status()).canProvision);

  gluetun.setTunnelUp(false);
  const down = await waitFor(async () => {
    const now = await vpn();
    return now.up === false ? now : false;
  }, 10_000);
  t.regex(down.reason ?? '', /no public IP/);
  const refused = await status();
  t.false(refused.canProvision);
  t.regex(refused.reason ?? '', /^VPN down: tunnel down/);
  t.is(refused.vpn?.up, false);
});
