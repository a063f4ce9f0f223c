import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import { dockerAvailable, portBlock } from '@acefleet/testkit';
import { isPortConflict, PortAllocator } from '../../src/runtime/ports.ts';
import { acquire, isolatedManager, listEngines } from '../helpers.ts';

const withDocker = (await dockerAvailable()) ? test : test.skip;

function listenTcp(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => resolve(socket));
  });
}

test('PortAllocator - skips HTTP ports in use, P2P ports held over TCP or UDP, and refused ports', async (t) => {
  const block = portBlock();
  t.teardown(() => block.release());
  const p2pOf = (http: number): number => block.p2pStart + (http - block.start) / 2;
  const ports = new PortAllocator(block.start, block.end, { http: '127.0.0.1', p2p: true });
  const first = await ports.allocate([], p2pOf);
  t.is(first, block.start);
  ports.settle(first!);

  const http = await listenTcp(block.start, '127.0.0.1');
  const p2pTcp = await listenTcp(p2pOf(block.start + 2), '0.0.0.0');
  const p2pUdp = await bindUdp(p2pOf(block.start + 4));
  t.teardown(() => {
    http.close();
    p2pTcp.close();
    p2pUdp.close();
  });
  ports.refuse(block.start + 6);
  t.is(
    await ports.allocate([], p2pOf),
    block.start + 8,
    'HTTP held, P2P over TCP held, P2P over UDP held, refused',
  );
  t.is(
    await ports.allocate([], p2pOf),
    block.start + 10,
    'a port handed out and not settled is not handed out again',
  );
});

test('isPortConflict - the bind failures Docker and node report, and nothing else', (t) => {
  t.true(
    isPortConflict(
      new Error(
        '(HTTP code 500) server error - driver failed programming external connectivity on endpoint acefleet-engine-x: ' +
          'Error starting userland proxy: listen tcp4 0.0.0.0:35920: bind: address already in use',
      ),
    ),
  );
  t.true(isPortConflict(new Error('Bind for 0.0.0.0:19500 failed: port is already allocated')));
  t.true(
    isPortConflict(
      Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' }),
    ),
  );
  t.false(isPortConflict(new Error('(HTTP code 404) no such image: acestream:latest')));
});

withDocker(
  'provisioner - a P2P port another program holds is skipped: the engine starts on the next port',
  async (t) => {
    t.timeout(60_000);
    const block = portBlock();
    t.teardown(() => block.release());
    const held = await bindUdp(block.p2pStart);
    t.teardown(() => held.close());
    const m = await isolatedManager(t, {
      HTTP_PORT_RANGE_START: String(block.start),
      HTTP_PORT_RANGE_END: String(block.end),
      P2P_PORT_RANGE_START: String(block.p2pStart),
    });
    const reply = await acquire(m.client, 1);
    const [engine] = await listEngines(m.client, m.hostId);
    t.is(engine?.id, reply.engine.id);
    t.is(new URL(engine!.baseUrl).port, String(block.start + 2));
    t.is(engine!.p2pPort, block.p2pStart + 1);
  },
);
