import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsUsers, proxyIdOf } from '@acefleet/contracts';
import { createLogger, createNatsLink, loadConfig } from '@acefleet/platform';
import { startNatsServer, type NatsServer } from '@acefleet/testkit';
import { buildEdgeProxy, type EdgeProxy } from '../src/app.ts';
import { ProxyConfig } from '../src/config.ts';

export interface ProxyUnderTest {
  url: string;
  proxy: EdgeProxy;
  nats: NatsServer;
  close(): Promise<void>;
}

/** The proxy id of a proxy startProxy started: its NATS user and INSTANCE_ID. */
export const PROXY_UNDER_TEST = proxyIdOf(NatsUsers.edgeProxy, 'proxy-under-test');

/** The edge proxy in-process on a free port, with a real nats-server of its own and `env` as its config. */
export async function startProxy(env: Record<string, string> = {}): Promise<ProxyUnderTest> {
  const nats = await startNatsServer();
  const config = loadConfig(ProxyConfig, {
    ...nats.env(NatsUsers.edgeProxy),
    INSTANCE_ID: 'proxy-under-test',
    LINGER_MS: '0',
    ACQUIRE_TIMEOUT_MS: '1000',
    // One simulator stands for many engines and every test player comes from 127.0.0.1: tests of these
    // limits set them themselves.
    STATIC_ENGINE_CAPACITY: '100',
    MAX_STREAMS_PER_CLIENT: '100',
    ENGINE_CACHE_FILE: path.join(tmpdir(), `acefleet-proxy-test-${process.pid}-${Date.now()}.json`),
    // One outbox file per process: proxies of one test file must not share one (memory only here).
    OUTBOX_DIR: '',
    INSTANCE_FILE: '',
    ...env,
  });
  const log = createLogger('edge-proxy-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  const link = createNatsLink(config.natsUrl, 'edge-proxy-test', log, {
    user: config.natsUser,
    password: config.natsPassword,
  });
  const proxy = buildEdgeProxy(config, link, log);
  const url = await proxy.http.listen({ host: '127.0.0.1', port: 0 });
  proxy.serve(url);
  link.start();
  await link.ready();
  return {
    url,
    proxy,
    nats,
    async close() {
      await proxy.close();
      await link.close();
      await nats.destroy();
    },
  };
}
