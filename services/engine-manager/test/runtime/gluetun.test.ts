import test from 'ava';
import { hostSubject, ProvisionReply } from '@acefleet/contracts';
import { containersWithLabels, inspectContainer, startGluetunSim, waitFor } from '@acefleet/testkit';
import { call, isolatedManager, listEngines, status } from '../helpers.ts';

for (const legacyOnly of [false, true]) {
  const api = legacyOnly ? '/v1/openvpn/portforwarded' : '/v1/portforward';
  test(`manager - Gluetun mode (${api}) gives the forwarded port to exactly one engine and moves it`, async (t) => {
    t.timeout(60_000);
    const base = 40_000 + Math.floor(Math.random() * 5000) * 2;
    const gluetun = await startGluetunSim({ forwardedPort: base, legacyOnly });
    t.teardown(() => gluetun.close());
    const m = await isolatedManager(t, {
      GLUETUN_CONTROL_URL: gluetun.url,
      GLUETUN_POLL_INTERVAL_MS: '200',
      MIN_REPLICAS: '2',
      MAX_REPLICAS: '4',
    });
    const holders = async (port: number) =>
      (await listEngines(m.client, m.hostId)).filter((e) => e.p2pPort === port && e.state === 'ready');
    await waitFor(
      async () => (await listEngines(m.client, m.hostId)).filter((e) => e.state === 'ready').length === 2,
      20_000,
    );
    const [holder] = await holders(base);
    t.is((await holders(base)).length, 1, 'exactly one engine has the forwarded port');
    const [containerId] = await containersWithLabels([`io.acefleet.engine-id=${holder!.id}`]);
    t.is((await inspectContainer(containerId!)).Config.Labels['io.acefleet.p2p-port'], String(base));

    gluetun.setForwardedPort(base + 1);
    const started = Date.now();
    await waitFor(
      async () =>
        (await holders(base + 1)).length === 1 &&
        (await listEngines(m.client, m.hostId)).every((e) => e.id !== holder!.id),
      20_000,
    );
    t.log(`forwarded port moved to a new engine in ${Date.now() - started} ms`);
    t.is((await holders(base)).length, 0, 'the old holder was drained and removed');

    gluetun.setTunnelUp(false);
    await waitFor(async () => (await status(m.client, m.hostId)).vpn?.up === false, 5000);
    const down = await status(m.client, m.hostId);
    t.false(down.canProvision);
    t.regex(down.reason ?? '', /VPN down/);
    const refused = await t.throwsAsync(
      call(m.client, hostSubject(m.hostId, 'provision'), {}, ProvisionReply),
    );
    t.like(refused, { code: 'runtime_unavailable' });
  });
}
