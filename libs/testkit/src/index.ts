export { type NatsServer, startNatsServer } from './nats/nats-server.ts';
export { type NatsClusterNode, type NatsCluster, startNatsCluster } from './nats/nats-cluster.ts';
export { explainTimeouts, waitFor } from './wait.ts';
export { ffprobeBytes, ffprobe, ffmpegDecodeErrors, encodeClip } from './media/media.ts';
export { freePort, portBlock, type PortBlock } from './ports.ts';
export { seededRandom } from './random.ts';
export { type RawHttpAnswer, rawHttp } from './media/raw-http.ts';
export {
  repoRoot,
  type NodeProcess,
  type ServiceProcess,
  spawnNode,
  startService,
  unhandledRejections,
} from './stack/processes.ts';
export {
  dockerAvailable,
  containersWithLabels,
  inspectContainer,
  removeContainersWithLabels,
} from './stack/docker.ts';
export {
  entries,
  type ServiceKey,
  serviceUserOf,
  startAcefleetService,
  type StackNats,
  type StackProcess,
  type Stack,
  startStack,
} from './stack/stack.ts';
export {
  type EventCollector,
  collectEvents,
  readEvents,
  putEngineRecord,
  readyEngine,
} from './nats/events.ts';
export { startGluetunSim } from './stack/gluetun.ts';
export { startSocketRelay } from './media/socket-relay.ts';
export { storedEvents } from './nats/stored-events.ts';
export { announceDraining } from './nats/engine-events.ts';
export { Player, metric } from './media/player.ts';
export { randomContentId, streamStarted, streamEnded, publishStreamEvent } from './nats/stream-events.ts';
export { type TlsRelay, startTlsRelay } from './media/tls-relay.ts';
export { type CliRun, acefleet, cliJson, operatorDir } from './stack/cli.ts';
export { listEngines } from './stack/fleet.ts';
export { legacyConfigOf } from './stack/legacy-config.ts';
export { channelId, scrapedPlaylist, xmltvGuide, type WebServer, startWebServer } from './media/playlists.ts';
