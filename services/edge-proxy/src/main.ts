import { ServiceNames } from '@acefleet/contracts';
import { announcedAddress, bootService, onShutdown, orExitOnConfigError } from '@acefleet/platform';
import { acexyEnv } from './acexy-env.ts';
import { buildEdgeProxy } from './app.ts';
import { ProxyConfig } from './config.ts';

const { config, log, link } = bootService(ProxyConfig, ServiceNames.edgeProxy, process.env, acexyEnv);
const proxy = orExitOnConfigError(() => buildEdgeProxy(config, link, log));
const address = await proxy.http.listen({ host: config.httpHost, port: config.httpPort });
proxy.serve(announcedAddress(config.httpHost, Number(new URL(address).port), config.publicUrl));
link.start();
log.info({ address }, 'edge proxy started');

onShutdown(log, [
  { name: 'close proxy', run: () => proxy.close() },
  { name: 'close nats', run: () => link.close() },
]);
