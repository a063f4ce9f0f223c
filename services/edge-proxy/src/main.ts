import { ServiceNames } from '@acefleet/contracts';
import { bootService, onShutdown } from '@acefleet/platform';
import { acexyEnv } from './acexy-env.ts';
import { buildEdgeProxy } from './app.ts';
import { ProxyConfig } from './config.ts';

const { config, log, nc } = await bootService(ProxyConfig, ServiceNames.edgeProxy, process.env, acexyEnv);
const proxy = await buildEdgeProxy(config, nc, log);
const address = await proxy.http.listen({ host: config.httpHost, port: config.httpPort });
await proxy.serve(address);
log.info({ address }, 'edge proxy started');

onShutdown(log, [
  { name: 'close proxy', run: () => proxy.close() },
  { name: 'drain nats', run: () => nc.drain() },
]);
