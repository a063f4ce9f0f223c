import { randomUUID } from 'node:crypto';
import { ServiceNames } from '@acefleet/contracts';
import {
  connectNats,
  createLogger,
  ensureEventsStream,
  loadConfigOrExit,
  onShutdown,
} from '@acefleet/platform';
import { buildEdgeProxy } from './app.ts';
import { ProxyConfig } from './config.ts';

const config = loadConfigOrExit(ProxyConfig, process.env);
const instanceId = config.instanceId || randomUUID();
const log = createLogger(ServiceNames.edgeProxy, config.logLevel);
const nc = await connectNats(config.natsUrl, ServiceNames.edgeProxy, log);
await ensureEventsStream(nc);
const proxy = await buildEdgeProxy({ ...config, instanceId }, nc, log);
const address = await proxy.http.listen({ host: config.httpHost, port: config.httpPort });
await proxy.serve(address);
log.info({ address }, 'edge proxy started');

onShutdown(log, [
  { name: 'close proxy', run: () => proxy.close() },
  { name: 'drain nats', run: () => nc.drain() },
]);
