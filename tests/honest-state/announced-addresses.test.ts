import test from 'ava';
import { networkInterfaces } from 'node:os';
import { Svcm } from '@nats-io/services';
import { ServiceNames } from '@acefleet/contracts';
import { startAcefleetService, startStack } from '@acefleet/testkit';

// Issue 21: a proxy bound to 0.0.0.0 announced 127.0.0.1 in $SRV.INFO, the other services 0.0.0.0: neither
// reaches the service from another host.

const primary = Object.values(networkInterfaces())
  .flatMap((list) => list ?? [])
  .find((a) => !a.internal && a.family === 'IPv4')?.address;

test('addresses - bound to 0.0.0.0, every service announces the host address, never 0.0.0.0 or 127.0.0.1', async (t) => {
  if (!primary) return t.pass('this host has no non-loopback IPv4 address to announce');
  t.timeout(120_000);
  const anywhere = { HTTP_HOST: '0.0.0.0' };
  const stack = await startStack({
    env: { manager: anywhere, monitor: anywhere, stats: anywhere, proxy: anywhere },
  });
  t.teardown(() => stack.stop());
  const nc = await stack.nats.connect();
  t.teardown(() => nc.close());
  const client = new Svcm(nc).client({ strategy: 'timer', maxWait: 1500 });
  const announced = new Map<string, string>();
  for await (const info of await client.info()) announced.set(info.name, info.metadata?.http ?? '');
  t.deepEqual([...announced.keys()].sort(), Object.values(ServiceNames).sort());
  const ports = {
    [ServiceNames.engineManager]: stack.services.manager!.url,
    [ServiceNames.healthMonitor]: stack.services.monitor!.url,
    [ServiceNames.stats]: stack.services.stats!.url,
    [ServiceNames.edgeProxy]: stack.services.proxy!.url,
  };
  for (const [name, http] of announced) {
    t.not(http, '', name);
    const url = new URL(http);
    t.false(['0.0.0.0', '127.0.0.1', '[::]'].includes(url.hostname), `${name} announces ${http}`);
    t.is(url.hostname, primary, name);
    t.is(url.port, new URL(ports[name as keyof typeof ports]).port, name);
  }
});

test('addresses - PUBLIC_URL is announced as given; one that is not http(s) is refused at start, naming it', async (t) => {
  t.timeout(120_000);
  const stack = await startStack({
    services: ['stats'],
    env: { stats: { PUBLIC_URL: 'https://stats.example.com' } },
  });
  t.teardown(() => stack.stop());
  const nc = await stack.nats.connect();
  t.teardown(() => nc.close());
  const client = new Svcm(nc).client({ strategy: 'timer', maxWait: 1500 });
  const infos = [];
  for await (const info of await client.info(ServiceNames.stats)) infos.push(info);
  t.is(infos[0]?.metadata?.http, 'https://stats.example.com');
  for (const key of ['stats', 'monitor', 'manager', 'proxy'] as const) {
    const err = await t.throwsAsync(
      startAcefleetService(key, { ...stack.nats.env('operator'), PUBLIC_URL: 'ftp://files.example.com' }),
    );
    t.regex(err?.message ?? '', /PUBLIC_URL/, key);
  }
});
