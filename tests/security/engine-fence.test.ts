import test from 'ava';
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import {
  containersWithLabels,
  dockerAvailable,
  listEngines,
  Player,
  randomContentId,
  startStack,
  waitFor,
  type Stack,
} from '@acefleet/testkit';

// Issue 22: engines ran on the host's network, so from inside an engine container (a third-party image) the
// manager's /api/engines answered 200, NATS its INFO banner, and the stats and proxy read routes too. By
// default they now run on a bridge network of their own, their HTTP port published on 127.0.0.1 only.

const run = promisify(execFile);
const dockerTest = (await dockerAvailable()) ? test.serial : test.serial.skip;

let stack: Stack;
test.before(async () => {
  if (!(await dockerAvailable())) return;
  stack = await startStack({
    services: ['manager', 'stats', 'monitor', 'proxy'],
    env: { manager: { MIN_REPLICAS: '1' } },
  });
});
test.after.always(async () => stack?.stop());

/**
 * From inside container `id`: which of `targets` (host:port) accept a TCP connection within 2 s. Run with the
 * image's own node, as the engine's user.
 */
async function reachableFrom(id: string, targets: string[]): Promise<string[]> {
  const probe = `
    const net = require('node:net');
    const targets = ${JSON.stringify(targets)};
    Promise.all(targets.map((t) => new Promise((resolve) => {
      const i = t.lastIndexOf(':');
      const s = net.connect(Number(t.slice(i + 1)), t.slice(0, i));
      const done = (ok) => { s.destroy(); resolve(ok ? t : null); };
      s.setTimeout(2000, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    }))).then((r) => console.log(JSON.stringify(r.filter(Boolean))));
  `;
  const { stdout } = await run('docker', ['exec', id, '/usr/local/bin/node', '-e', probe]);
  return JSON.parse(stdout) as string[];
}

dockerTest('fence - from inside an engine container neither the services nor NATS answer', async (t) => {
  t.timeout(120_000);
  const engine = await waitFor(
    async () => (await listEngines(stack.nats)).find((e) => e.state === 'ready') ?? false,
    60_000,
  );
  const [id] = await containersWithLabels([`io.acefleet.engine-id=${engine.id}`]);
  const { stdout } = await run('docker', ['inspect', id!]);
  const [info] = JSON.parse(stdout) as [
    {
      HostConfig: { NetworkMode: string };
      NetworkSettings: { Networks: Record<string, { Gateway: string }>; Ports: Record<string, unknown> };
    },
  ];
  t.is(info.HostConfig.NetworkMode, 'acefleet-engines', 'the engines network, not the host');

  // Every address of this host, the engine network's gateway, and loopback, on every service port and NATS.
  const hostAddresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a?.family === 'IPv4')
    .map((a) => a.address);
  const gateways = Object.values(info.NetworkSettings.Networks).map((n) => n.Gateway);
  const ports = [
    stack.nats.port,
    ...[stack.services.manager!, stack.services.stats!, stack.services.monitor!, stack.services.proxy!].map(
      (s) => Number(new URL(s.url).port),
    ),
  ];
  const targets = [...new Set([...hostAddresses, ...gateways, '127.0.0.1'])].flatMap((a) =>
    ports.map((p) => `${a}:${p}`),
  );
  t.log(`${targets.length} targets tried from inside ${engine.id}`);
  t.deepEqual(await reachableFrom(id!, targets), [], 'nothing of the control plane answers');

  // The P2P port is published for peers, the HTTP port on the host's loopback only.
  const p2p = info.NetworkSettings.Ports[`${engine.p2pPort}/tcp`] as { HostIp: string }[] | undefined;
  t.truthy(p2p?.length, 'P2P port published');
  const http = info.NetworkSettings.Ports[`${new URL(engine.baseUrl).port}/tcp`] as { HostIp: string }[];
  t.deepEqual(
    http.map((b) => b.HostIp),
    ['127.0.0.1'],
  );

  // And it still plays, through the proxy.
  const player = await Player.open(`${stack.proxyUrl()}/ace/getstream?id=${randomContentId()}`);
  t.teardown(() => player.close());
  await waitFor(() => player.bytes > 50_000, 30_000);
});
