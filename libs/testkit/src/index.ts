export { type NatsServer, startNatsServer } from './nats-server.ts';
export { type NatsClusterNode, type NatsCluster, startNatsCluster } from './nats-cluster.ts';
export { waitFor } from './wait.ts';
export { ffprobeBytes, ffprobe, encodeClip } from './media.ts';
export { freePort, portBlock } from './ports.ts';
export { seededRandom } from './random.ts';
export { type RawHttpAnswer, rawHttp } from './raw-http.ts';
export {
  repoRoot,
  type NodeProcess,
  type ServiceProcess,
  spawnNode,
  startService,
  unhandledRejections,
} from './processes.ts';
export {
  dockerAvailable,
  containersWithLabels,
  inspectContainer,
  removeContainersWithLabels,
} from './docker.ts';
export {
  entries,
  type ServiceKey,
  serviceUserOf,
  startAcefleetService,
  type StackNats,
  type StackProcess,
  type Stack,
  startStack,
} from './stack.ts';
export { type EventCollector, collectEvents, readEvents, putEngineRecord, readyEngine } from './events.ts';
export { startGluetunSim } from './gluetun.ts';
export { startSocketRelay } from './socket-relay.ts';
export { storedEvents } from './stored-events.ts';
export { Player, metric } from './player.ts';
export { randomContentId, streamStarted, streamEnded, publishStreamEvent } from './stream-events.ts';
export { type TlsRelay, startTlsRelay } from './tls-relay.ts';
export { type CliRun, acefleet, cliJson, operatorDir } from './cli.ts';
export { listEngines } from './fleet.ts';
export { legacyConfigOf } from './legacy-config.ts';
export { channelId, scrapedPlaylist, xmltvGuide, type WebServer, startWebServer } from './playlists.ts';
